//! The trained model compiled into the binary: it loads from anywhere and describes photos.

use std::path::PathBuf;

use candle_core::Device;
use seesay::captioner::{CaptionOptions, Captioner, ModelSource};

fn flickr(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/flickr8k/images"
    ))
    .join(name)
}

#[test]
fn the_bundled_model_sees_the_dog_and_the_basketball_player() {
    let captioner = Captioner::load(&ModelSource::Bundled, &Device::Cpu).expect("bundled model");
    let opts = CaptionOptions::default();
    // Two test-split photos (never seen in training): a boxer dog, and a basketball game.
    let dog = captioner
        .caption_file(&flickr("256085101_2c2617c5d0.jpg"), &opts)
        .unwrap();
    let best = dog.best().unwrap();
    assert!(best.text.contains("dog"), "{}", best.text);
    let game = captioner
        .caption_file(&flickr("3072172967_630e9c69d0.jpg"), &opts)
        .unwrap();
    let text = &game.best().unwrap().text;
    assert!(
        ["basketball", "ball", "player", "men", "man", "team"]
            .iter()
            .any(|w| text.split(' ').any(|t| t == *w)),
        "{text}"
    );
}

#[test]
fn candidates_are_sorted_and_their_probabilities_multiply_out() {
    let captioner = Captioner::load(&ModelSource::Bundled, &Device::Cpu).expect("bundled model");
    let opts = CaptionOptions {
        beam_size: 5,
        candidates: 5,
        ..CaptionOptions::default()
    };
    let image = image::open(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/examples/chelsea.jpg"
    ))
    .unwrap();
    let c = captioner.caption_image(&image, &opts).unwrap();
    assert_eq!(c.candidates.len(), 5);
    // Guided candidates come first; within one search they are sorted.
    for pair in c.candidates.windows(2) {
        if pair[0].constraint == pair[1].constraint {
            assert!(pair[0].log_prob >= pair[1].log_prob);
        } else {
            assert!(pair[0].constraint.is_some() && pair[1].constraint.is_none());
        }
    }
    for cand in &c.candidates {
        let sum: f32 = cand.words.iter().map(|w| w.prob.ln()).sum::<f32>() + cand.end_prob.ln();
        assert!(
            (sum - cand.log_prob).abs() < 1e-3,
            "{sum} vs {}",
            cand.log_prob
        );
        assert!(!cand.text.is_empty());
    }
}

#[test]
fn the_bundled_model_tells_a_training_sentence_from_a_new_one() {
    let captioner = Captioner::load(&ModelSource::Bundled, &Device::Cpu).unwrap();
    let listed = captioner
        .model()
        .sentences
        .as_ref()
        .expect("the bundled model lists its training sentences");
    // Six Flickr8k training captions say exactly this (counted with a separate script).
    assert_eq!(listed.count("A dog runs through the grass."), 6);
    assert_eq!(
        listed.count("a purple elephant plays the violin on the moon"),
        0
    );
    // Every candidate of a real caption carries its count.
    let img = image::open(flickr("256085101_2c2617c5d0.jpg")).unwrap();
    let c = captioner
        .caption_image(&img, &CaptionOptions::default())
        .unwrap();
    for cand in &c.candidates {
        assert_eq!(cand.training_copies, Some(listed.count(&cand.text)));
    }
}
