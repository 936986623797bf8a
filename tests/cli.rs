//! The `seesay caption` command line: bad files give one-line errors, good files still get captions.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn seesay(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seesay"))
        .args(args)
        .output()
        .expect("the seesay binary runs")
}

/// Runs seesay, expects success and one JSON object on stdout.
fn seesay_json(args: &[&str]) -> serde_json::Value {
    json_of(seesay(args))
}

/// Expects a successful run and one JSON object on its stdout.
fn json_of(out: Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn small_model(dir: &Path) -> PathBuf {
    let model = dir.join("model");
    seesay::model::write_untrained(&model, &["a", "dog", "runs", "on", "grass"], 16, "test")
        .expect("writes a model");
    model
}

fn photo(dir: &Path) -> PathBuf {
    let path = dir.join("photo.png");
    let img = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 90])
    });
    img.save(&path).expect("writes a png");
    path
}

/// A PNG whose header claims 100000 x 100000 pixels: a decompression bomb.
fn bomb(dir: &Path) -> PathBuf {
    let path = dir.join("bomb.png");
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    bytes.extend_from_slice(&13u32.to_be_bytes());
    bytes.extend_from_slice(&ihdr);
    bytes.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    std::fs::write(&path, bytes).expect("writes");
    path
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn bad_files_are_reported_and_good_ones_still_captioned() {
    let dir = tempfile::tempdir().unwrap();
    let model = small_model(dir.path());
    let good = photo(dir.path());
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "this is not an image").unwrap();
    let empty = dir.path().join("empty.jpg");
    std::fs::write(&empty, b"").unwrap();
    let truncated = dir.path().join("truncated.png");
    let full = std::fs::read(&good).unwrap();
    std::fs::write(&truncated, &full[..full.len() / 2]).unwrap();
    let bomb = bomb(dir.path());
    let missing = dir.path().join("missing.jpg");

    let paths = [&text, &empty, &good, &truncated, &bomb, &missing];
    let mut args = vec![
        "caption",
        "--model",
        model.to_str().unwrap(),
        "--device",
        "cpu",
    ];
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    let out = seesay(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);

    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        stdout.lines().count(),
        2,
        "the good file and the cut one are captioned: {stdout}"
    );
    assert!(
        stdout.starts_with(&format!("{}: ", good.display())),
        "{stdout}"
    );
    // Half a PNG still shows its top half: described, with the warning said first.
    assert!(
        stdout.contains(&format!(
            "{}: Warning: the picture file is incomplete. ",
            truncated.display()
        )),
        "{stdout}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 4, "one line per bad file: {stderr}");
    for (bad, expect) in [
        (&text, "not an image"),
        (&empty, "empty"),
        (&bomb, "too large"),
        (&missing, "no such file"),
    ] {
        let line = lines
            .iter()
            .find(|l| l.contains(&*bad.display().to_string()))
            .unwrap_or_else(|| panic!("no error line for {}: {stderr}", bad.display()));
        assert!(line.contains(expect), "{line}");
    }
}

#[test]
fn json_output_has_candidates_word_probabilities_and_timings() {
    let dir = tempfile::tempdir().unwrap();
    let model = small_model(dir.path());
    let good = photo(dir.path());
    let v = seesay_json(&[
        "caption",
        "--json",
        "--beam",
        "4",
        "--candidates",
        "3",
        "--device",
        "cpu",
        "--model",
        model.to_str().unwrap(),
        good.to_str().unwrap(),
    ]);
    let cands = v["candidates"].as_array().expect("candidates");
    assert_eq!(cands.len(), 3);
    // Guided candidates (when the objects guided the search) come first; each search's
    // candidates are sorted.
    for pair in cands.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if a["constraint"] == b["constraint"] {
            assert!(
                a["prob"].as_f64() >= b["prob"].as_f64(),
                "sorted: {cands:?}"
            );
        } else {
            assert!(!a["constraint"].is_null() && b["constraint"].is_null());
        }
    }
    for c in cands {
        let words = c["words"].as_array().unwrap();
        let text = c["text"].as_str().unwrap();
        assert_eq!(words.len(), text.split_whitespace().count());
        // The sentence probability is the product of its word probabilities and the end token's.
        let product: f64 = words
            .iter()
            .map(|w| w["prob"].as_f64().unwrap())
            .product::<f64>()
            * c["end_prob"].as_f64().unwrap();
        let prob = c["prob"].as_f64().unwrap();
        assert!(
            (product - prob).abs() <= 1e-4 * prob.max(1e-30) + 1e-9,
            "{product} vs {prob}"
        );
    }
    for key in ["decode_ms", "encode_ms", "beam_ms"] {
        assert!(v["timings_ms"][key].as_f64().unwrap() >= 0.0);
    }
}

#[test]
fn cuda_on_a_cpu_build_is_a_clear_error() {
    if seesay::device::CUDA_BUILT {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let good = photo(dir.path());
    let out = seesay(&["caption", "--device", "cuda", good.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("without GPU support"), "{stderr}");
}

#[test]
fn a_broken_model_directory_says_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let model = small_model(dir.path());
    let good = photo(dir.path());
    // One word too many in the vocabulary.
    let vocab = model.join("vocab.txt");
    let original = std::fs::read_to_string(&vocab).unwrap();
    let text = format!("{original}extra\n");
    std::fs::write(&vocab, text).unwrap();
    let out = seesay(&[
        "caption",
        "--model",
        model.to_str().unwrap(),
        good.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("vocab_size"), "{stderr}");

    // A decoder file that is not safetensors at all.
    std::fs::write(&vocab, original).unwrap();
    std::fs::write(model.join("decoder.safetensors"), b"garbage").unwrap();
    let out = seesay(&[
        "caption",
        "--model",
        model.to_str().unwrap(),
        good.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("decoder.safetensors") && stderr.contains("not a readable safetensors"),
        "{stderr}"
    );
}

#[test]
fn bench_times_every_stage_and_refuses_a_bad_file() {
    let tmp = tempfile::tempdir().unwrap();
    let model = small_model(tmp.path());
    let good = photo(tmp.path());
    let report = seesay_json(&[
        "bench",
        "--json",
        "--reps",
        "1",
        "--warmup",
        "0",
        "--model",
        model.to_str().unwrap(),
        good.to_str().unwrap(),
    ]);
    for stage in ["preprocess_ms", "encoder_ms", "beam_ms", "end_to_end_ms"] {
        let ms = report[stage].as_f64().unwrap_or(-1.0);
        assert!(ms > 0.0, "{stage}: {ms}");
    }
    assert_eq!(report["files"], 1);

    let text = tmp.path().join("notes.txt");
    std::fs::write(&text, "not a picture").unwrap();
    let out = seesay(&[
        "bench",
        "--model",
        model.to_str().unwrap(),
        text.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("notes.txt"), "{err}");
}

#[test]
fn eval_scores_a_split_and_an_ensemble_needs_one_vocabulary_and_encoder() {
    let dir = tempfile::tempdir().unwrap();
    let model = small_model(dir.path());
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/flickr8k");
    let cache = dir.path().join("cache");
    let eval = |extra: &[&str]| {
        let mut args = vec![
            "eval",
            "--data",
            data,
            "--split",
            "test",
            "--max-images",
            "3",
            "--json",
            "--cache",
            cache.to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        seesay(&args)
    };
    let alone = json_of(eval(&[]));
    assert_eq!(alone["model"]["images"], 3);
    assert_eq!(alone["human"]["images"], 3);

    // A model averaged with itself is the same model.
    let twice = json_of(eval(&["--with", model.to_str().unwrap()]));
    assert_eq!(alone["model"], twice["model"]);
    assert_eq!(alone["examples"], twice["examples"]);

    let other = dir.path().join("other");
    seesay::model::write_untrained(&other, &["a", "cat", "sits"], 16, "other").unwrap();
    let out = eval(&["--with", other.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("another vocabulary"), "{stderr}");

    // Same vocabulary, but its decoder learned from another encoder's features.
    let moved = dir.path().join("moved");
    std::fs::create_dir(&moved).unwrap();
    for f in [
        "config.json",
        "vocab.txt",
        "decoder.safetensors",
        "encoder.safetensors",
    ] {
        std::fs::copy(model.join(f), moved.join(f)).unwrap();
    }
    let mut enc = std::fs::read(moved.join("encoder.safetensors")).unwrap();
    let last = enc.len() - 1;
    enc[last] ^= 1;
    std::fs::write(moved.join("encoder.safetensors"), enc).unwrap();
    let out = eval(&["--with", moved.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("another encoder"), "{stderr}");
}

#[test]
fn without_tesseract_photos_are_still_captioned_and_one_line_says_what_to_install() {
    let root = env!("CARGO_MANIFEST_DIR");
    let photo = format!("{root}/assets/examples/chelsea.jpg");
    let screen = format!("{root}/tests/fixtures/screens/dialog.png");
    let out = Command::new(env!("CARGO_BIN_EXE_seesay"))
        .args(["caption", &photo, &screen])
        .env(
            seesay::ocr::LIBRARY_ENV,
            "/nonexistent/libtesseract-for-this-test.so",
        )
        .output()
        .expect("the seesay binary runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut lines = stdout.lines();
    let cat = lines.next().expect("the photo's line");
    assert!(
        cat.contains("chelsea.jpg: ") && cat.contains("cat"),
        "{stdout}"
    );
    let dialog = lines.next().expect("the screen's line");
    assert!(
        dialog.contains("Screenshot.") && dialog.contains("apt install"),
        "{dialog}"
    );
    let told: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("apt install"))
        .collect();
    assert_eq!(told.len(), 1, "one line says what to install: {stderr}");
}

#[test]
fn train_refuses_impossible_options_before_reading_anything() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, b"x").unwrap();
    let file = file.to_str().unwrap().to_owned();
    for (option, value) in [
        ("--lr", "NaN"),
        ("--lr", "-1"),
        ("--dropout", "2"),
        ("--label-smoothing", "2"),
        ("--clip", "-5"),
        ("--epochs", "0"),
        ("--hidden", "0"),
        ("--out", file.as_str()),
    ] {
        // The dataset does not exist: an option check that came after reading it would say so.
        let arg = format!("{option}={value}");
        let out = seesay(&["train", "--data", "/nonexistent-dataset", &arg]);
        assert!(!out.status.success(), "{option} {value} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(option), "{option} {value}: {err}");
        assert!(
            !err.contains("nonexistent-dataset"),
            "{option} {value}: {err}"
        );
    }
}
