//! Mutation tests of model-folder loading and dataset parsing (issue 13): the stable-Rust
//! stand-in for cargo-fuzz targets. With a fixed seed, a small model folder (config.json,
//! vocab.txt, decoder.safetensors) and the dataset fixtures (Flickr token files and split
//! lists, Karpathy and COCO JSON) are damaged one file at a time, by bytes and by structure
//! (a JSON value set to an extreme, a line dropped or doubled), and each result must load or
//! be refused with a message in words: no panic, no Rust debug output, nothing slow.
//!
//! CI runs each for 3 s. Longer: `SEESAY_FUZZ_SECS=600 cargo test --release --test fuzz --
//! --nocapture --test-threads 1` (`SEESAY_FUZZ_SEED` picks another sequence; failing inputs
//! are written to `SEESAY_FUZZ_OUT` when set).

use std::collections::{BTreeMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use candle_core::Device;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use seesay::model::files;

mod common;
use common::{debug_like, env_or, mutate};

/// A case slower than this is a failure: loading a small folder takes milliseconds.
const SLOW: Duration = Duration::from_secs(5);

/// The budget of one target, the seed, and where failing inputs go.
struct Budget {
    time: Duration,
    seed: u64,
    out: Option<PathBuf>,
}

impl Budget {
    fn from_env() -> Self {
        Self {
            time: Duration::from_secs_f64(env_or("SEESAY_FUZZ_SECS", 3.0)),
            seed: env_or("SEESAY_FUZZ_SEED", 13u64),
            out: std::env::var_os("SEESAY_FUZZ_OUT").map(PathBuf::from),
        }
    }
}

#[derive(Default)]
struct Tally {
    tried: usize,
    loaded: usize,
    errors: BTreeMap<String, usize>,
    failures: Vec<String>,
    slowest: (Duration, String),
}

impl Tally {
    /// Records one case: `outcome` is what the load gave (a caught panic is `Err`).
    fn record(
        &mut self,
        case: String,
        took: Duration,
        outcome: std::thread::Result<Result<(), String>>,
    ) -> bool {
        self.tried += 1;
        if took > self.slowest.0 {
            self.slowest = (took, case.clone());
        }
        let failure = match outcome {
            Ok(Ok(())) => {
                self.loaded += 1;
                None
            }
            Ok(Err(message)) => {
                *self.errors.entry(kind(&message)).or_default() += 1;
                if message.trim().is_empty() || debug_like(&message) {
                    Some(format!("{case}: unclear message: {message:?}"))
                } else {
                    None
                }
            }
            Err(panic) => {
                let text = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                Some(format!("{case}: panicked: {text}"))
            }
        };
        let failure = failure.or_else(|| (took > SLOW).then(|| format!("{case}: took {took:?}")));
        let failed = failure.is_some();
        self.failures.extend(failure);
        failed
    }

    fn finish(&self, target: &str, seed: u64, t0: Instant) {
        let errors: usize = self.errors.values().sum();
        eprintln!(
            "{target} (seed {seed}): {} cases in {:.1} s: {} loaded, {errors} refused with a \
             message, {} failures; slowest {:?} ({})",
            self.tried,
            t0.elapsed().as_secs_f64(),
            self.loaded,
            self.failures.len(),
            self.slowest.0,
            self.slowest.1,
        );
        for (kind, n) in &self.errors {
            eprintln!("  {n:7}  {kind}");
        }
        assert!(self.tried >= 20, "too few cases ran: {}", self.tried);
        assert!(
            self.failures.is_empty(),
            "{} of {} cases failed:\n{}",
            self.failures.len(),
            self.tried,
            self.failures.join("\n")
        );
    }
}

/// The message without its numbers, paths and quoted parts, to count kinds of error.
fn kind(message: &str) -> String {
    let mut words: Vec<&str> = message
        .split_whitespace()
        .filter(|w| !w.contains('/') && !w.contains(['`', '"', '\'']))
        .take(8)
        .collect();
    words.retain(|w| !w.chars().any(|c| c.is_ascii_digit()));
    words.join(" ")
}

/// Keeps a failing input for a rerun.
fn keep(out: &Option<PathBuf>, name: &str, bytes: &[u8]) {
    if let Some(dir) = out {
        let _ = std::fs::create_dir_all(dir);
        let _ = std::fs::write(dir.join(name), bytes);
    }
}

/// Replaces a random value inside a JSON document by an extreme one; `None` when the
/// document is not JSON (then only bytes are mutated).
fn mutate_json(rng: &mut StdRng, bytes: &[u8]) -> Option<Vec<u8>> {
    let mut value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let extremes = [
        serde_json::json!(0),
        serde_json::json!(-1),
        serde_json::json!(1e30),
        serde_json::json!(-1e308),
        serde_json::json!(u64::MAX),
        serde_json::json!(i64::MIN),
        serde_json::json!(0.5),
        serde_json::json!(""),
        serde_json::json!("x\u{0}y"),
        serde_json::json!(null),
        serde_json::json!([]),
        serde_json::json!({}),
        serde_json::json!(true),
        serde_json::json!([[1, 2], "a"]),
    ];
    for _ in 0..rng.random_range(1..=3) {
        // Walk down a random path (a JSON pointer); stop at a leaf or by chance.
        let mut pointer = String::new();
        let mut at = &value;
        loop {
            let next = match at {
                serde_json::Value::Object(map) if !map.is_empty() && rng.random_bool(0.8) => map
                    .iter()
                    .nth(rng.random_range(0..map.len()))
                    .map(|(k, v)| (k.replace('~', "~0").replace('/', "~1"), v)),
                serde_json::Value::Array(items) if !items.is_empty() && rng.random_bool(0.8) => {
                    let i = rng.random_range(0..items.len());
                    items.get(i).map(|v| (i.to_string(), v))
                }
                _ => None,
            };
            match next {
                Some((step, v)) => {
                    pointer.push('/');
                    pointer.push_str(&step);
                    at = v;
                }
                None => break,
            }
        }
        let Some(slot) = value.pointer_mut(&pointer) else {
            continue;
        };
        match rng.random_range(0..4) {
            // Drop the key or element instead of changing it.
            0 => *slot = serde_json::Value::Null,
            1 => {
                if let serde_json::Value::Array(items) = slot {
                    if let Some(first) = items.first().cloned() {
                        let n = rng.random_range(1..=3);
                        items.extend(std::iter::repeat_n(first, n));
                    }
                } else {
                    *slot = extremes[rng.random_range(0..extremes.len())].clone();
                }
            }
            _ => *slot = extremes[rng.random_range(0..extremes.len())].clone(),
        }
    }
    serde_json::to_vec_pretty(&value).ok()
}

/// Drops, doubles, swaps or blanks lines, or cuts the last one short.
fn mutate_lines(rng: &mut StdRng, bytes: &[u8]) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    for _ in 0..rng.random_range(1..=3) {
        let n = lines.len();
        let i = rng.random_range(0..n.max(1));
        match rng.random_range(0..7) {
            0 if n > 1 => {
                lines.remove(i);
            }
            1 => {
                let line = lines.get(i).cloned().unwrap_or_default();
                lines.insert(i, line);
            }
            2 if n > 1 => {
                let j = rng.random_range(0..n);
                lines.swap(i, j);
            }
            3 => lines.insert(i, Vec::new()),
            4 => {
                if let Some(line) = lines.get_mut(i) {
                    line.extend_from_slice(b"\r");
                }
            }
            5 => {
                if let Some(line) = lines.get_mut(i) {
                    let keep = rng.random_range(0..=line.len());
                    line.truncate(keep);
                }
            }
            _ => {
                let junk: &[&[u8]] = &[
                    b"\xff\xfe",
                    b"\t",
                    b"#",
                    b"##",
                    b" ",
                    b"\0",
                    b"#99999999999999999999",
                ];
                if let Some(line) = lines.get_mut(i) {
                    let at = rng.random_range(0..=line.len());
                    let piece = junk[rng.random_range(0..junk.len())];
                    line.splice(at..at, piece.iter().copied());
                }
            }
        }
    }
    lines.join(&b'\n')
}

/// A mutation of `bytes` of one of three kinds, chosen at random (structural ones fall back
/// to byte edits when the file has no such structure).
fn mutated(rng: &mut StdRng, bytes: &[u8], other: &[u8]) -> (Vec<u8>, &'static str) {
    match rng.random_range(0..3) {
        0 => {
            if let Some(m) = mutate_json(rng, bytes) {
                return (m, "json");
            }
        }
        1 => return (mutate_lines(rng, bytes), "lines"),
        _ => {}
    }
    let mut m = bytes.to_vec();
    mutate(rng, &mut m, other);
    (m, "bytes")
}

/// Features that a decoder is run on after a damaged model loads.
fn feature() -> Vec<f32> {
    (0..1280).map(|i| ((i % 17) as f32 - 8.0) / 8.0).collect()
}

#[test]
fn damaged_model_folders_load_or_are_refused_in_words() {
    let budget = Budget::from_env();
    let dir = tempfile::tempdir().expect("dir");
    let model = dir.path().join("model");
    seesay::model::write_untrained(
        &model,
        &["a", "dog", "runs", "on", "the", "grass"],
        16,
        "fuzz",
    )
    .expect("writes a model");
    let names = [files::CONFIG_FILE, files::VOCAB_FILE, files::DECODER_FILE];
    let originals: Vec<Vec<u8>> = names
        .iter()
        .map(|n| std::fs::read(model.join(n)).expect("model file"))
        .collect();
    let device = Device::Cpu;
    let features = feature();
    let mut rng = StdRng::seed_from_u64(budget.seed);
    let mut tally = Tally::default();
    let t0 = Instant::now();
    while t0.elapsed() < budget.time {
        let which = rng.random_range(0..names.len());
        let other = &originals[rng.random_range(0..originals.len())];
        let (bytes, how) = mutated(&mut rng, &originals[which], other);
        std::fs::write(model.join(names[which]), &bytes).expect("write");
        let case = format!("case {} ({how} on {})", tally.tried, names[which]);
        let started = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<(), String> {
            let loaded = files::ModelFiles::read_dir(&model).map_err(|e| e.to_string())?;
            if names[which] == files::CONFIG_FILE {
                // The encoder half of the config (its normalisation) is read only here.
                seesay::model::Model::load(&loaded, &device).map_err(|e| e.to_string())?;
            }
            let (_, vocab, decoder) =
                seesay::model::load_decoder(&loaded, &device).map_err(|e| e.to_string())?;
            seesay::train::eval::caption_features(
                &[&decoder],
                None,
                &vocab,
                &[features.as_slice()],
                2,
                8,
                &seesay::guided::GuidePolicy::off(),
                &device,
            )
            .map_err(|e| e.to_string())?;
            Ok(())
        }));
        let took = started.elapsed();
        if tally.record(case, took, outcome) {
            keep(
                &budget.out,
                &format!("model-{}-{}", tally.tried - 1, names[which]),
                &bytes,
            );
        }
        std::fs::write(model.join(names[which]), &originals[which]).expect("restore");
    }
    tally.finish("model folders", budget.seed, t0);
}

/// The dataset fixtures: where each is opened from, and its text files.
fn dataset_seeds(root: &Path) -> Vec<(PathBuf, Vec<PathBuf>)> {
    let flickr = root.join("flickr_small");
    let broken = root.join("flickr_broken");
    vec![
        (
            flickr.clone(),
            vec![
                flickr.join("Flickr8k.token.txt"),
                flickr.join("splits/Flickr_8k.trainImages.txt"),
                flickr.join("splits/Flickr_8k.devImages.txt"),
                flickr.join("splits/Flickr_8k.testImages.txt"),
            ],
        ),
        (
            broken.clone(),
            vec![
                broken.join("Flickr8k.token.txt"),
                broken.join("Flickr_8k.trainImages.txt"),
                broken.join("Flickr_8k.testImages.txt"),
            ],
        ),
        (
            root.join("karpathy/dataset_flickr8k.json"),
            vec![root.join("karpathy/dataset_flickr8k.json")],
        ),
        (
            root.join("karpathy_coco/dataset_coco.json"),
            vec![root.join("karpathy_coco/dataset_coco.json")],
        ),
        (
            root.join("coco/annotations/captions_val2014.json"),
            vec![root.join("coco/annotations/captions_val2014.json")],
        ),
    ]
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("fixture folder") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[test]
fn damaged_datasets_load_or_are_refused_in_words() {
    let budget = Budget::from_env();
    let dir = tempfile::tempdir().expect("dir");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/datasets");
    copy_tree(&fixtures, dir.path());
    let seeds = dataset_seeds(dir.path());
    let texts: Vec<Vec<u8>> = seeds
        .iter()
        .flat_map(|(_, files)| files.iter().map(|f| std::fs::read(f).expect("fixture")))
        .collect();
    let mut rng = StdRng::seed_from_u64(budget.seed);
    let mut tally = Tally::default();
    let t0 = Instant::now();
    while t0.elapsed() < budget.time {
        let (open, files) = &seeds[rng.random_range(0..seeds.len())];
        let file = &files[rng.random_range(0..files.len())];
        let original = std::fs::read(file).expect("fixture");
        let other = &texts[rng.random_range(0..texts.len())];
        let (bytes, how) = mutated(&mut rng, &original, other);
        std::fs::write(file, &bytes).expect("write");
        let name = file
            .strip_prefix(dir.path())
            .unwrap_or(file)
            .display()
            .to_string();
        let case = format!("case {} ({how} on {name})", tally.tried);
        let started = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<(), String> {
            let (data, report) = seesay::data::open(open).map_err(|e| e.to_string())?;
            // What a reader returns must hold together: unique ids, each with captions and a
            // file, and a report that prints.
            let mut ids = HashSet::new();
            for image in &data.images {
                assert!(ids.insert(&image.id), "{} appears twice", image.id);
                assert!(!image.captions.is_empty(), "{} has no captions", image.id);
                assert!(image.path.is_file(), "{} has no file", image.id);
            }
            let text = report.to_string();
            assert!(!debug_like(&text), "report: {text}");
            for split in seesay::data::Split::ALL {
                let message = report.empty_split(split);
                assert!(!debug_like(&message), "{message}");
            }
            Ok(())
        }));
        let took = started.elapsed();
        if tally.record(case, took, outcome) {
            keep(
                &budget.out,
                &format!("dataset-{}-{}", tally.tried - 1, name.replace('/', "_")),
                &bytes,
            );
        }
        std::fs::write(file, &original).expect("restore");
    }
    tally.finish("datasets", budget.seed, t0);
}

#[test]
fn the_debug_output_check_tells_rust_structs_from_odd_names() {
    assert!(debug_like(
        "bad chunk ChunkType { type: IHDR, critical: true }"
    ));
    assert!(debug_like("config.json has format_version Some(2)"));
    assert!(debug_like("Os { code: 2, kind: NotFound }"));
    // Found by the long run: a split list naming the files "{" and "x.jp},".
    assert!(!debug_like(
        "Flickr_8k.trainImages.txt:4: { is listed for train but has no captions"
    ));
    assert!(!debug_like("expected `,` or `}` at line 1 column 5"));
}
