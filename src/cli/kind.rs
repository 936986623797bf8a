//! `seesay kind-train`: fits the photo / screen / document / chart classifier and measures it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use serde::Deserialize;

use seesay::data::{ImageEntry, Split};
use seesay::kind::{KindModel, PictureKind};
use seesay::train::feature_cache::Features;

use super::ModelArgs;

/// Arguments of `seesay kind-train`.
#[derive(Debug, Args)]
pub struct KindTrainArgs {
    /// Flickr8k folder: its train photos teach `photo`, its test photos measure it.
    #[arg(long, value_name = "DIR")]
    flickr: PathBuf,
    /// A set made by tools/screens/build.sh (labels.jsonl + PNGs) to train on.
    #[arg(long, value_name = "DIR")]
    screens_train: PathBuf,
    /// A separately seeded set that, with Flickr8k's dev photos, chooses the photo threshold.
    #[arg(long, value_name = "DIR")]
    screens_dev: PathBuf,
    /// A third, separately seeded set to measure on (with Flickr8k's test photos).
    #[arg(long, value_name = "DIR")]
    screens_test: PathBuf,
    /// The share of dev photos that must stay photos when choosing the threshold.
    #[arg(long, default_value_t = 0.998)]
    keep_photos: f64,
    /// Where to write the weights.
    #[arg(long, default_value = "assets/kind.json")]
    out: PathBuf,
    /// How many Flickr8k train photos to use.
    #[arg(long, default_value_t = 6000)]
    photos: usize,
    /// L2 penalty.
    #[arg(long, default_value_t = 1e-3)]
    l2: f32,
    /// Gradient-descent epochs.
    #[arg(long, default_value_t = 300)]
    epochs: usize,
    /// Where to cache image features (default: ~/.cache/seesay).
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(Deserialize)]
struct Label {
    file: String,
    kind: String,
}

/// Trains on the train sets, reports on the test sets, writes the weights.
pub fn run(args: &KindTrainArgs) -> Result<ExitCode> {
    let device = args.model.device()?;
    let files = args.model.files()?;
    let cache = args.cache.clone().unwrap_or_else(super::default_cache);
    let (data, _) = super::open_dataset(&args.flickr)?;
    let config = seesay::model::load_decoder(&files, &device)
        .context("cannot load the captioning model")?
        .0;
    let features = |name: &str, entries: &[ImageEntry]| -> Result<Features> {
        Ok(seesay::train::feature_cache::cached(
            &files,
            &config.encoder,
            name,
            entries.iter(),
            &cache,
            &device,
        )?)
    };

    let photos_train: Vec<ImageEntry> = data
        .split(Split::Train)
        .take(args.photos)
        .cloned()
        .collect();
    let photos_dev: Vec<ImageEntry> = data.split(Split::Dev).cloned().collect();
    let photos_test: Vec<ImageEntry> = data.split(Split::Test).cloned().collect();
    let screens_train = screen_entries(&args.screens_train)?;
    let screens_dev = screen_entries(&args.screens_dev)?;
    let screens_test = screen_entries(&args.screens_test)?;

    let f_photos_train = features(&data.name, &photos_train)?;
    let f_photos_dev = features(&data.name, &photos_dev)?;
    let f_photos_test = features(&data.name, &photos_test)?;
    let f_screens_train = features(&set_name(&args.screens_train), &screens_train.0)?;
    let f_screens_dev = features(&set_name(&args.screens_dev), &screens_dev.0)?;
    let f_screens_test = features(&set_name(&args.screens_test), &screens_test.0)?;

    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for e in &photos_train {
        if let Some(f) = f_photos_train.get(&e.id) {
            xs.push(f.clone());
            ys.push(0);
        }
    }
    for (e, kind) in screens_train.0.iter().zip(&screens_train.1) {
        if let Some(f) = f_screens_train.get(&e.id) {
            xs.push(f.clone());
            ys.push(index_of(*kind));
        }
    }
    eprintln!("training on {} pictures", xs.len());
    let mut model = KindModel::fit(&xs, &ys, args.l2, args.epochs);

    // The threshold: the highest photo probability that keeps `keep_photos` of the dev
    // photos as photos (never above an even split).
    let mut dev_p: Vec<f32> = photos_dev
        .iter()
        .filter_map(|e| f_photos_dev.get(&e.id))
        .map(|f| model.classify(f).probs[0])
        .collect();
    dev_p.sort_by(f32::total_cmp);
    let drop = ((1.0 - args.keep_photos) * dev_p.len() as f64).floor() as usize;
    model.photo_min = dev_p.get(drop).copied().unwrap_or(0.5).min(0.5);
    let dev_stay = dev_p.iter().filter(|&&p| p >= model.photo_min).count();
    let dev_screens: Vec<PictureKind> = screens_dev
        .0
        .iter()
        .filter_map(|e| f_screens_dev.get(&e.id))
        .map(|f| model.classify(f).kind)
        .collect();
    let dev_not_photo = dev_screens
        .iter()
        .filter(|&&k| k != PictureKind::Photo)
        .count();
    outln!(
        "dev: photo threshold {:.4}; Flickr8k dev photos kept {dev_stay}/{}; generated dev \
         pictures not called photo {dev_not_photo}/{}",
        model.photo_min,
        dev_p.len(),
        dev_screens.len()
    )?;
    model.source = format!(
        "seesay kind-train: softmax regression on EfficientNet-Lite0 pooled features of {} \
         Flickr8k train photos and {} pictures of {} (tools/screens/build.sh); l2 {}, {} epochs; \
         photo threshold {:.4} chosen on Flickr8k dev and {}",
        photos_train.len(),
        screens_train.0.len(),
        set_name(&args.screens_train),
        args.l2,
        args.epochs,
        model.photo_min,
        set_name(&args.screens_dev)
    );

    let photo_kinds: Vec<PictureKind> = photos_test
        .iter()
        .filter_map(|e| f_photos_test.get(&e.id))
        .map(|f| model.classify(f).kind)
        .collect();
    let stay = photo_kinds
        .iter()
        .filter(|&&k| k == PictureKind::Photo)
        .count();
    outln!(
        "Flickr8k test photos kept as photo: {stay}/{} ({:.2}%)",
        photo_kinds.len(),
        100.0 * stay as f64 / photo_kinds.len().max(1) as f64
    )?;
    let mut confusion: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut not_photo = 0;
    let mut total = 0;
    for (e, truth) in screens_test.0.iter().zip(&screens_test.1) {
        let Some(f) = f_screens_test.get(&e.id) else {
            continue;
        };
        let got = model.classify(f).kind;
        total += 1;
        not_photo += usize::from(got != PictureKind::Photo);
        *confusion
            .entry((truth.name().to_owned(), got.name().to_owned()))
            .or_default() += 1;
        if got == PictureKind::Photo {
            outln!("  called a photo: {}", e.path.display())?;
        }
    }
    outln!(
        "Generated test pictures not called photo: {not_photo}/{total} ({:.2}%)",
        100.0 * not_photo as f64 / total.max(1) as f64
    )?;
    outln!("truth -> predicted: count")?;
    for ((t, p), n) in &confusion {
        outln!("  {t} -> {p}: {n}")?;
    }
    let text = serde_json::to_string(&model)?;
    std::fs::write(&args.out, text + "\n")
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    eprintln!("wrote {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}

fn index_of(kind: PictureKind) -> usize {
    PictureKind::ALL
        .iter()
        .position(|&k| k == kind)
        .unwrap_or(0)
}

fn set_name(dir: &Path) -> String {
    format!(
        "screens-{}",
        dir.file_name()
            .map_or_else(|| "set".into(), |n| n.to_string_lossy().into_owned())
    )
}

/// The pictures of a generated set with their kinds.
fn screen_entries(dir: &Path) -> Result<(Vec<ImageEntry>, Vec<PictureKind>)> {
    let labels = dir.join("labels.jsonl");
    let bytes = seesay::open::read_limited(&labels, seesay::open::TEXT_LIMIT, "label files")
        .with_context(|| format!("cannot read {}", labels.display()))?;
    let text = String::from_utf8(bytes)
        .with_context(|| format!("{} is not UTF-8 text", labels.display()))?;
    let mut entries = Vec::new();
    let mut kinds = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let label: Label = serde_json::from_str(line)
            .with_context(|| format!("{} line {}", labels.display(), n + 1))?;
        let kind = PictureKind::parse(&label.kind).with_context(|| {
            format!(
                "{} line {}: unknown kind {}",
                labels.display(),
                n + 1,
                label.kind
            )
        })?;
        entries.push(ImageEntry {
            id: label.file.clone(),
            path: dir.join(&label.file),
            split: Split::Train,
            captions: Vec::new(),
        });
        kinds.push(kind);
    }
    Ok((entries, kinds))
}
