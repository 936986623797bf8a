//! Training on a slice of the real Flickr8k: the loss falls, and a killed run resumes exactly.

use std::path::{Path, PathBuf};

use candle_core::Device;
use seesay::train::{train, TrainOptions};

fn flickr8k() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/flickr8k"
    ))
}

fn options(out: &Path, cache: &Path, epochs: usize) -> TrainOptions {
    let mut o = TrainOptions::new(out.to_path_buf(), cache.to_path_buf());
    o.epochs = epochs;
    o.batch_size = 16;
    o.embed_dim = 32;
    o.hidden_dim = 32;
    o.max_train_images = Some(24);
    o.max_dev_images = Some(6);
    o.min_count = 2;
    o.patience = 10;
    o.lr = 3e-3;
    o.seed = 7;
    // The shipped recipe's parts, so resuming covers the image merge and the weight average,
    // and scheduled sampling, whose draws must also come back the same after a resume.
    o.merge_image = true;
    o.ema_decay = 0.9;
    o.scheduled_sampling = 0.25;
    o
}

#[test]
fn training_lowers_the_loss_and_a_resumed_run_ends_identically() {
    let (data, _) = seesay::data::open(&flickr8k()).expect("Flickr8k is beside the repository");
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let device = Device::Cpu;

    let whole = tmp.path().join("whole");
    let report = train(&data, &options(&whole, &cache, 3), &device).unwrap();
    assert_eq!(report.history.len(), 3);
    let first = report.history[0].train_loss;
    let last = report.history[2].train_loss;
    assert!(last < first, "loss should fall: {first} -> {last}");
    assert!(whole.join("decoder.safetensors").exists());

    // Killed after one epoch, then resumed: the same end, byte for byte.
    let split = tmp.path().join("split");
    let mut first_part = options(&split, &cache, 3);
    first_part.stop_after = Some(1);
    let partial = train(&data, &first_part, &device).unwrap();
    assert_eq!(partial.history.len(), 1);
    let mut rest = options(&split, &cache, 3);
    rest.resume = true;
    let resumed = train(&data, &rest, &device).unwrap();
    assert_eq!(resumed.history.len(), 3);
    for (a, b) in report.history.iter().zip(&resumed.history) {
        assert_eq!(a.train_loss, b.train_loss, "epoch {}", a.epoch);
        // Metrics sum over hash maps, so only the last bits of the float may differ.
        let (x, y) = (a.dev, b.dev);
        for (p, q) in x
            .bleu
            .iter()
            .chain([&x.rouge_l, &x.cider_d])
            .zip(y.bleu.iter().chain([&y.rouge_l, &y.cider_d]))
        {
            assert!((p - q).abs() < 1e-9, "epoch {}: {x:?} vs {y:?}", a.epoch);
        }
    }
    assert_eq!(report.best_epoch, resumed.best_epoch);
    let a = std::fs::read(whole.join("decoder.safetensors")).unwrap();
    let b = std::fs::read(split.join("decoder.safetensors")).unwrap();
    assert!(
        a == b,
        "resumed weights differ from the uninterrupted run's"
    );

    // The written model loads and captions.
    let captioner = seesay::captioner::Captioner::load(
        &seesay::captioner::ModelSource::Dir(whole.clone()),
        &device,
    )
    .unwrap();
    let img = image::open(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/examples/chelsea.jpg"
    ))
    .unwrap();
    let c = captioner.caption_image(&img, &Default::default()).unwrap();
    assert!(!c.candidates.is_empty());
}

#[test]
fn the_feature_cache_is_reused_and_a_changed_encoder_invalidates_it() {
    let (data, _) = seesay::data::open(&flickr8k()).expect("Flickr8k is beside the repository");
    let entry = data.split(seesay::data::Split::Test).next().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let files = seesay::model::ModelFiles::bundled().unwrap();
    let cfg = seesay::model::EncoderConfig::lite0();
    let device = Device::Cpu;

    // Plant a fake feature under the real encoder's cache file: a re-run must reuse it.
    let path = seesay::train::feature_cache::cache_path(
        &tmp.path().join(&data.name),
        &files.encoder_sha256(),
    );
    let mut planted = seesay::train::feature_cache::Features::new();
    let stamp = seesay::train::feature_cache::stamp(&entry.path).unwrap();
    planted.insert(
        seesay::train::feature_cache::key(&entry.id, &stamp),
        vec![0.5; 1280],
    );
    seesay::train::feature_cache::save(&path, &planted).unwrap();
    let got = seesay::train::feature_cache::cached(
        &files,
        &cfg,
        &data.name,
        std::iter::once(entry),
        tmp.path(),
        &device,
    )
    .unwrap();
    assert_eq!(got[&entry.id], vec![0.5; 1280]);

    // The same weights with one value nudged: a new hash, so the feature is computed afresh.
    let mut bytes = files.encoder.to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let changed = seesay::model::ModelFiles {
        encoder: bytes.into(),
        ..seesay::model::ModelFiles::bundled().unwrap()
    };
    assert_ne!(changed.encoder_sha256(), files.encoder_sha256());
    let fresh = seesay::train::feature_cache::cached(
        &changed,
        &cfg,
        &data.name,
        std::iter::once(entry),
        tmp.path(),
        &device,
    )
    .unwrap();
    assert_ne!(fresh[&entry.id], vec![0.5; 1280]);
    assert_eq!(fresh[&entry.id].len(), 1280);
}

#[test]
fn a_replaced_image_is_encoded_again_not_served_from_the_cache() {
    use seesay::data::{ImageEntry, Split};
    use seesay::train::feature_cache::cached;
    let tmp = tempfile::tempdir().unwrap();
    let files = seesay::model::ModelFiles::bundled().unwrap();
    let cfg = seesay::model::EncoderConfig::lite0();
    let device = Device::Cpu;
    let examples = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/examples"));
    let entry = ImageEntry {
        id: "photo.jpg".into(),
        path: tmp.path().join("photo.jpg"),
        split: Split::Test,
        captions: vec!["a photo".into()],
    };
    let features = |cache: &Path| {
        cached(
            &files,
            &cfg,
            "replaced",
            std::iter::once(&entry),
            cache,
            &device,
        )
        .unwrap()[&entry.id]
            .clone()
    };
    let cache = tmp.path().join("cache");
    std::fs::copy(examples.join("chelsea.jpg"), &entry.path).unwrap();
    let cat = features(&cache);
    // The same name, another picture: the cat's features must not come back.
    std::fs::copy(examples.join("rocket.jpg"), &entry.path).unwrap();
    let rocket = features(&cache);
    assert_ne!(
        cat, rocket,
        "the replaced image was scored with stale features"
    );
    assert_eq!(rocket, features(&tmp.path().join("fresh-cache")));
    // The cache keeps only the image's current version.
    let file = std::fs::read_dir(cache.join("replaced"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let stored = seesay::train::feature_cache::load(&file).unwrap();
    assert_eq!(stored.len(), 1, "{:?}", stored.keys().collect::<Vec<_>>());
}

#[test]
fn a_run_whose_loss_stops_being_a_number_stops_and_writes_no_model() {
    let (data, _) = seesay::data::open(&flickr8k()).expect("Flickr8k is beside the repository");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("model");
    let mut opts = options(&out, &tmp.path().join("cache"), 2);
    // Adam moves each weight by about the learning rate: 1e30 overflows f32 within a few steps.
    opts.lr = 1e30;
    let err = train(&data, &opts, &Device::Cpu).unwrap_err().to_string();
    assert!(err.starts_with("training diverged: the "), "{err}");
    if let Some(at) = err.split("at epoch 1, batch ").nth(1) {
        let numbers: Vec<usize> = at
            .split([' ', ';'])
            .filter_map(|w| w.parse().ok())
            .take(2)
            .collect();
        assert!(numbers.len() == 2 && numbers[0] <= numbers[1], "{err}");
    } else {
        assert!(err.contains("during epoch 1"), "{err}");
    }
    assert!(err.contains("no model was written"), "{err}");
    assert!(!out.join("decoder.safetensors").exists());

    opts.lr = 3e-3;
    opts.epochs = 0;
    let err = train(&data, &opts, &Device::Cpu).unwrap_err().to_string();
    assert!(err.contains("0 epochs would write no model"), "{err}");
}

#[test]
fn self_critical_tuning_raises_the_training_reward_and_a_resumed_run_ends_identically() {
    use seesay::train::self_critical::{fine_tune, SelfCriticalOptions};
    let (data, _) = seesay::data::open(&flickr8k()).expect("Flickr8k is beside the repository");
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let device = Device::Cpu;
    let base = tmp.path().join("base");
    train(&data, &options(&base, &cache, 8), &device).unwrap();

    let tune_options = |out: &Path| {
        let mut o = SelfCriticalOptions::new(out.to_path_buf(), cache.clone());
        o.init = Some(base.clone());
        o.epochs = 3;
        o.images_per_batch = 8;
        o.samples = 4;
        o.lr = 3e-3;
        o.max_train_images = Some(24);
        o.max_dev_images = Some(6);
        o.patience = 10;
        o.seed = 3;
        o
    };
    let whole = tmp.path().join("whole");
    let report = fine_tune(&data, &tune_options(&whole), &device).unwrap();
    // Epoch 0 is the starting model, scored on dev before any step.
    assert_eq!(report.history.len(), 4);
    assert_eq!(report.history[0].epoch, 0);
    let rewards: Vec<f64> = report.history[1..]
        .iter()
        .map(|e| e.train_reward.expect("a reward"))
        .collect();
    assert!(
        rewards[2] > rewards[0],
        "the greedy captions' CIDEr-D on the training images should rise: {rewards:?}"
    );

    let split = tmp.path().join("split");
    let mut first = tune_options(&split);
    first.stop_after = Some(1);
    assert_eq!(fine_tune(&data, &first, &device).unwrap().history.len(), 2);
    let mut rest = tune_options(&split);
    rest.resume = true;
    let resumed = fine_tune(&data, &rest, &device).unwrap();
    for (a, b) in report.history.iter().zip(&resumed.history) {
        assert_eq!(a.train_reward, b.train_reward, "epoch {}", a.epoch);
        assert_eq!(a.train_loss, b.train_loss, "epoch {}", a.epoch);
    }
    let weights = |dir: &Path| {
        candle_core::safetensors::load(dir.join("checkpoint/state.safetensors"), &device)
            .unwrap()
            .into_iter()
            .filter(|(k, _)| k.starts_with("param."))
            .map(|(k, t)| (k, t.flatten_all().unwrap().to_vec1::<f32>().unwrap()))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    assert!(
        weights(&whole) == weights(&split),
        "resumed weights differ from the uninterrupted run's"
    );
}
