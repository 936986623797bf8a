//! The candle port of EfficientNet-Lite0 against an independent numpy forward pass.
//!
//! tests/fixtures/encoder/reference.json was produced by `python3 tools/encoder_reference.py
//! --fixtures`, which runs tools/efficientnet_numpy.py (float64) on the same weights.

use std::path::PathBuf;

use candle_core::{Device, D};
use seesay::model::{self, ModelFiles};
use seesay::preprocess::{self, Normalization};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn reference() -> Value {
    let text = std::fs::read_to_string(root().join("tests/fixtures/encoder/reference.json"))
        .expect("reference.json");
    serde_json::from_str(&text).expect("valid JSON")
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect()
}

#[test]
fn encoder_matches_the_numpy_reference_on_real_photos() {
    let reference = reference();
    let norm_v = &reference["normalization"];
    let norm = Normalization {
        mean: floats(&norm_v["mean"]).try_into().unwrap(),
        std: floats(&norm_v["std"]).try_into().unwrap(),
    };
    // The model config's normalisation must be the one the reference was made with.
    let configured = seesay::model::EncoderConfig::lite0().normalization;
    for c in 0..3 {
        assert!((configured.mean[c] - norm.mean[c]).abs() < 1e-6);
        assert!((configured.std[c] - norm.std[c]).abs() < 1e-6);
    }
    let device = Device::Cpu;
    let files = ModelFiles::bundled().unwrap();
    assert_eq!(
        files.encoder_sha256(),
        reference["weights_sha256"].as_str().unwrap(),
        "the bundled encoder is the file the reference was computed on"
    );
    let encoder = model::load_encoder(&files, &device).unwrap();
    let mut checked = 0;
    for entry in reference["images"].as_array().unwrap() {
        let name = entry["name"].as_str().unwrap();
        let path = root().join(entry["path"].as_str().unwrap());
        if !path.exists() {
            // The Flickr8k photos live in ../shared, which every CI run has; say so if not.
            eprintln!("skipping {name}: {} not found", path.display());
            continue;
        }
        let image = preprocess::load_image(&path).unwrap();
        let prepared = preprocess::prepare(&image);
        let x = preprocess::to_tensor(&[prepared], &norm, &device).unwrap();
        let out = encoder.forward(&x).unwrap();
        let logits = encoder.classify(&out.features).unwrap();
        let probs = candle_nn::ops::softmax(&logits, D::Minus1)
            .unwrap()
            .squeeze(0)
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let want = floats(&entry["probs"]);
        let tol = entry["tolerance"].as_f64().unwrap() as f32;
        let worst = probs
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(worst <= tol, "{name}: max |p - ref| = {worst} > {tol}");
        let top1 = probs
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        assert_eq!(
            top1 as u64,
            entry["top5"][0]["index"].as_u64().unwrap(),
            "{name}"
        );

        let feature = out.features.squeeze(0).unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(feature.len(), 1280);
        let ftol = entry["feature_tolerance"].as_f64().unwrap() as f32;
        for (a, b) in feature.iter().zip(floats(&entry["feature_first8"])) {
            assert!(
                (a - b).abs() <= ftol * b.abs().max(1.0),
                "{name}: feature {a} vs {b}"
            );
        }
        let l2 = feature.iter().map(|v| v * v).sum::<f32>().sqrt();
        let want_l2 = entry["feature_l2"].as_f64().unwrap() as f32;
        assert!(
            (l2 - want_l2).abs() <= ftol * want_l2,
            "{name}: l2 {l2} vs {want_l2}"
        );
        // The grid an attention decoder reads (kept before pooling, from the blocked layers
        // or, under SEESAY_ISA=portable, the NCHW ones): its mean over the 7 x 7 cells of
        // each channel is that channel's feature.
        let grid = encoder
            .forward_grid(&x)
            .unwrap()
            .grid
            .expect("forward_grid keeps the grid");
        assert_eq!(grid.dims(), &[1, 1280, 7, 7]);
        let pooled = grid
            .mean(D::Minus1)
            .unwrap()
            .mean(D::Minus1)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        for (ch, (a, b)) in pooled.iter().zip(&feature).enumerate() {
            assert!(
                (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                "{name}: channel {ch}: grid mean {a} vs feature {b}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 4, "at least the four bundled photos are checked");
}

/// Every kernel set must match the reference, not only this CPU's best: a machine without
/// AVX-512 runs the AVX2 kernels, and an aarch64 one the portable ones. The kernel set is
/// chosen once per process, so each runs the test above in a child process.
#[test]
fn every_kernel_set_matches_the_reference() {
    for isa in ["avx2", "portable"] {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "encoder_matches_the_numpy_reference_on_real_photos",
                "--nocapture",
            ])
            .env("SEESAY_ISA", isa)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("1 passed"),
            "with SEESAY_ISA={isa}:\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_cup_of_espresso_is_espresso() {
    let labels = std::fs::read_to_string(root().join("assets/imagenet_classes.txt")).unwrap();
    let labels: Vec<&str> = labels.lines().collect();
    assert_eq!(labels.len(), 1000);
    let device = Device::Cpu;
    let files = ModelFiles::bundled().unwrap();
    let encoder = model::load_encoder(&files, &device).unwrap();
    // The full-size JPEG, through the same preprocessing the CLI and app use.
    let image = preprocess::load_image(&root().join("assets/examples/coffee.jpg")).unwrap();
    let x = preprocess::to_tensor(
        &[preprocess::prepare(&image)],
        &seesay::model::EncoderConfig::lite0().normalization,
        &device,
    )
    .unwrap();
    let features = encoder.forward(&x).unwrap().features;
    let logits = encoder.classify(&features).unwrap().squeeze(0).unwrap();
    let top = logits.argmax(0).unwrap().to_scalar::<u32>().unwrap();
    assert_eq!(labels[top as usize], "espresso");
}

#[test]
fn a_truncated_encoder_file_is_a_clear_error() {
    let files = ModelFiles::bundled().unwrap();
    let broken = ModelFiles {
        location: "test".into(),
        config: None,
        vocab: "".into(),
        encoder: files.encoder[..1000].to_vec().into(),
        decoder: None,
        sentences: None,
    };
    let err = match model::load_encoder(&broken, &Device::Cpu) {
        Ok(_) => panic!("a truncated file must not load"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("safetensors"), "{err}");
}
