//! The soft-attention decoder (issue 14, "Where it looks: attention"): a tiny attention model
//! trained here on a slice of Flickr8k (grid cache, penalty, resume), its weights through the
//! captioner, beam search, `caption --json --attention`, the worker and the app; and the
//! Show-and-Tell models, which must load and behave as before.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use egui_kittest::kittest::Queryable;

use seesay::captioner::{CaptionOptions, Captioner, ModelSource};
use seesay::decode::{beam_search, greedy, BeamParams, StepDecoder};
use seesay::guided::GuidePolicy;
use seesay::inspect::LookMethod;
use seesay::model::{Decoder, DecoderConfig, DecoderKind, ModelConfig};
use seesay::speech::RecordingSpeaker;
use seesay::train::{train, TrainOptions};
use seesay::vocab;

mod harness;
use harness::{wait_for_harness, wait_for_speech};

fn flickr8k() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/flickr8k"
    ))
}

/// A Flickr8k test photo (a boxer dog).
fn dog() -> PathBuf {
    flickr8k().join("images/256085101_2c2617c5d0.jpg")
}

fn options(out: &Path, cache: &Path, epochs: usize) -> TrainOptions {
    let mut o = TrainOptions::new(out.to_path_buf(), cache.to_path_buf());
    o.epochs = epochs;
    o.batch_size = 16;
    o.embed_dim = 32;
    o.hidden_dim = 32;
    o.attention = true;
    o.attention_dim = 16;
    o.max_train_images = Some(24);
    o.max_dev_images = Some(6);
    o.min_count = 2;
    o.patience = 10;
    o.lr = 3e-3;
    o.seed = 11;
    o.ema_decay = 0.9;
    o
}

/// What the trained tiny model's run left: its folder and the losses of its epochs.
struct Trained {
    dir: PathBuf,
    losses: Vec<f64>,
}

/// One tiny attention model per test binary, trained for three epochs on 24 Flickr8k photos.
fn trained() -> &'static Trained {
    static MODEL: OnceLock<Trained> = OnceLock::new();
    MODEL.get_or_init(|| {
        // Under cargo's own scratch folder, replaced by each run, so that runs do not leave
        // one folder each in the system's temporary directory (a static is never dropped).
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("attention-model");
        let _ = std::fs::remove_dir_all(&root);
        let (data, _) = seesay::data::open(&flickr8k()).expect("Flickr8k is beside the repository");
        let dir = root.join("model");
        let report = train(&data, &options(&dir, &root.join("cache"), 3), &Device::Cpu)
            .expect("training an attention model");
        Trained {
            dir,
            losses: report.history.iter().map(|e| e.train_loss).collect(),
        }
    })
}

fn captioner() -> Captioner {
    Captioner::load(&ModelSource::Dir(trained().dir.clone()), &Device::Cpu)
        .expect("the trained attention model loads")
}

fn assert_weights(maps: &[Vec<f32>], words: usize) {
    assert_eq!(maps.len(), words);
    for m in maps {
        assert_eq!(m.len(), 49);
        let sum: f32 = m.iter().sum();
        assert!((sum - 1.0).abs() < 1e-4, "weights sum to {sum}");
        assert!(m.iter().all(|v| (0.0..=1.0).contains(v)));
    }
}

#[test]
fn an_attention_model_trains_resumes_exactly_and_keeps_its_config() {
    let t = trained();
    assert_eq!(t.losses.len(), 3);
    assert!(
        t.losses[2] < t.losses[0],
        "loss should fall: {:?}",
        t.losses
    );
    let text = std::fs::read_to_string(t.dir.join("config.json")).expect("config");
    let config: ModelConfig = serde_json::from_str(&text).expect("config parses");
    assert_eq!(config.decoder.kind, DecoderKind::Attention);
    assert_eq!(config.decoder.attention_dim, 16);
    assert!(
        text.contains("\"decoder\": \"attention\"") || text.contains("\"decoder\":\"attention\"")
    );
    // The grid has its own cache file; the pooled one is not made by an attention run.
    let cache = t.dir.parent().expect("root").join("cache");
    let files: Vec<String> = walk(&cache);
    assert!(files.iter().any(|f| f.contains("grid-")), "{files:?}");
    assert!(!files.iter().any(|f| f.contains("features-")), "{files:?}");

    // Killed after one epoch and resumed: the same weights as an uninterrupted run.
    let (data, _) = seesay::data::open(&flickr8k()).expect("Flickr8k");
    let tmp = tempfile::tempdir().expect("temp dir");
    let whole = tmp.path().join("whole");
    let split = tmp.path().join("split");
    let cache = t.dir.parent().expect("root").join("cache");
    train(&data, &options(&whole, &cache, 2), &Device::Cpu).expect("whole run");
    let mut first = options(&split, &cache, 2);
    first.stop_after = Some(1);
    train(&data, &first, &Device::Cpu).expect("first part");
    let mut rest = options(&split, &cache, 2);
    rest.resume = true;
    train(&data, &rest, &Device::Cpu).expect("resumed");
    let a = std::fs::read(whole.join("decoder.safetensors")).expect("weights");
    let b = std::fs::read(split.join("decoder.safetensors")).expect("weights");
    assert!(
        a == b,
        "resumed weights differ from the uninterrupted run's"
    );
    // Another penalty is another run: resuming with it is refused.
    let mut other = options(&split, &cache, 3);
    other.resume = true;
    other.attention_penalty = 0.5;
    let err = train(&data, &other, &Device::Cpu).unwrap_err();
    assert!(err.to_string().contains("other settings"), "{err}");
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}

#[test]
fn every_word_of_every_candidate_has_49_weights_summing_to_one() {
    let c = captioner();
    let picture = image::open(dog()).expect("photo");
    let opts = CaptionOptions {
        beam_size: 3,
        candidates: 3,
        ..CaptionOptions::default()
    };
    let out = c.caption_image(&picture, &opts).expect("captions");
    assert!(!out.candidates.is_empty());
    for cand in &out.candidates {
        let maps = cand
            .attention
            .as_ref()
            .expect("an attention model's weights");
        assert_weights(maps, cand.words.len());
    }
    // The window's maps: the model's own weights for the best caption, on its 7×7 grid.
    let best = out.best().expect("best").text.clone();
    let looks = c.where_it_looks(&picture, &best, 4).expect("maps");
    assert_eq!(looks.method, LookMethod::Attention);
    assert_eq!(looks.grid, 7);
    assert_eq!(looks.words.len(), out.best().expect("best").words.len());
    let maps: Vec<Vec<f32>> = looks
        .words
        .iter()
        .map(|w| w.map.iter().flatten().copied().collect())
        .collect();
    assert_weights(&maps, looks.words.len());
    for (w, p) in looks.words.iter().zip(&out.best().expect("best").words) {
        assert_eq!(w.word, p.word);
        assert!(
            (w.prob - p.prob).abs() < 1e-3,
            "{} {} {}",
            w.word,
            w.prob,
            p.prob
        );
        assert!(w.description.starts_with("looking at the "));
    }
    // Occlusion still works on an attention model, and says it is occlusion.
    let occluded = c.occlusion(&picture, &best, 2).expect("occlusion");
    assert_eq!(occluded.method, LookMethod::Occlusion);
}

/// An attention decoder on random weights, over a random grid, as beam search drives it.
fn random_attention_decoder() -> (Decoder, Tensor) {
    let dev = Device::Cpu;
    let cfg = DecoderConfig {
        feature_dim: 32,
        embed_dim: 24,
        hidden_dim: 24,
        attention_dim: 16,
        ..DecoderConfig::attention(30)
    };
    let vm = VarMap::new();
    let dec = Decoder::new(cfg, VarBuilder::from_varmap(&vm, DType::F32, &dev)).expect("decoder");
    // Some layers start at zero (a uniform attention): random weights make every part count.
    for v in vm.all_vars() {
        v.set(&Tensor::randn(0f32, 0.5, v.shape(), &dev).expect("randn"))
            .expect("set");
    }
    let grid = Tensor::randn(0f32, 1.0, (1, 49, 32), &dev).expect("grid");
    (dec, grid)
}

#[test]
fn beam_search_of_width_one_is_greedy_decoding_and_replays_give_the_searched_numbers() {
    let dev = Device::Cpu;
    for _ in 0..5 {
        let (dec, grid) = random_attention_decoder();
        let stepper = dec.stepper(&dev);
        let banned = [vocab::PAD_ID, vocab::UNK_ID];
        let g = greedy(
            &stepper,
            dec.image_state(&grid).expect("state"),
            vocab::START_ID,
            vocab::END_ID,
            12,
            &banned,
        )
        .expect("greedy");
        let params = BeamParams {
            beam_size: 1,
            max_len: 12,
            banned: banned.to_vec(),
            ..BeamParams::default()
        };
        let b = beam_search(
            &stepper,
            dec.image_state(&grid).expect("state"),
            vocab::START_ID,
            vocab::END_ID,
            &params,
        )
        .expect("beam");
        assert_eq!(b.first().map(|h| &h.tokens), Some(&g.tokens));
        // Each candidate of a wider search, replayed, has the probabilities the search gave it
        // and one map per word.
        let params = BeamParams {
            beam_size: 3,
            n_best: 3,
            ..params
        };
        let hyps = beam_search(
            &stepper,
            dec.image_state(&grid).expect("state"),
            vocab::START_ID,
            vocab::END_ID,
            &params,
        )
        .expect("beam");
        for h in &hyps {
            let r = dec.replay(&grid, &h.tokens).expect("replay");
            for (a, b) in r.log_probs.iter().zip(&h.token_log_probs) {
                assert!((a - b).abs() < 1e-4, "{a} vs {b}");
            }
            assert_weights(&r.attention.expect("weights"), h.tokens.len());
        }
        assert_eq!(stepper.vocab_size(), 30);
    }
}

#[test]
fn configs_round_trip_and_older_files_are_show_and_tell() {
    let att = DecoderConfig::attention(100);
    let json = serde_json::to_string(&att).expect("json");
    assert!(json.contains("\"decoder\":\"attention\""), "{json}");
    assert!(json.contains("\"attention_dim\":512"), "{json}");
    assert_eq!(
        serde_json::from_str::<DecoderConfig>(&json).expect("parses"),
        att
    );
    // A Show-and-Tell config is written as before (no new keys) and read back as one.
    let nic = DecoderConfig::nic(100);
    let json = serde_json::to_string(&nic).expect("json");
    assert!(!json.contains("attention"), "{json}");
    assert!(!json.contains("\"decoder\""), "{json}");
    let back: DecoderConfig = serde_json::from_str(&json).expect("parses");
    assert_eq!(back, nic);
    assert_eq!(back.kind, DecoderKind::Nic);
    // The bundled model's config has neither key and loads as Show and Tell.
    let bundled = Captioner::load(&ModelSource::Bundled, &Device::Cpu).expect("bundled");
    assert_eq!(bundled.model().config.decoder.kind, DecoderKind::Nic);
    assert!(!bundled.model().decoder.attends());
    let out = bundled
        .caption_file(
            &dog(),
            &CaptionOptions {
                guide: GuidePolicy::off(),
                ..CaptionOptions::default()
            },
        )
        .expect("captions");
    assert!(out.candidates.iter().all(|c| c.attention.is_none()));
}

fn seesay(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seesay"))
        .args(args)
        .output()
        .expect("the seesay binary runs")
}

#[test]
fn caption_json_attention_prints_each_words_weights_and_refuses_models_without_attention() {
    let dir = trained().dir.to_str().expect("path").to_owned();
    let dog = dog();
    let out = seesay(&[
        "caption",
        "--json",
        "--attention",
        "--model",
        &dir,
        dog.to_str().expect("path"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let candidates = v["attention"].as_array().expect("attention per candidate");
    assert_eq!(
        candidates.len(),
        v["candidates"].as_array().expect("candidates").len()
    );
    for (c, plain) in candidates
        .iter()
        .zip(v["candidates"].as_array().expect("c"))
    {
        assert_eq!(c["text"], plain["text"]);
        assert_eq!(c["grid"].as_u64(), Some(7));
        let words = c["words"].as_array().expect("words");
        assert_eq!(words.len(), plain["words"].as_array().expect("w").len());
        for w in words {
            let weights: Vec<f64> = w["weights"]
                .as_array()
                .expect("weights")
                .iter()
                .map(|x| x.as_f64().expect("number"))
                .collect();
            assert_eq!(weights.len(), 49, "{w}");
            assert!((weights.iter().sum::<f64>() - 1.0).abs() < 1e-3, "{w}");
        }
    }
    // Without the flag, no weights.
    let plain = seesay(&[
        "caption",
        "--json",
        "--model",
        &dir,
        dog.to_str().expect("p"),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&plain.stdout).expect("JSON");
    assert!(v.get("attention").is_none());

    // The bundled (Show-and-Tell) model has no attention: a clear error naming it and the
    // occlusion view.
    let nic = seesay(&["caption", "--json", "--attention", dog.to_str().expect("p")]);
    assert!(!nic.status.success());
    let err = String::from_utf8_lossy(&nic.stderr);
    assert!(err.contains("the bundled model"), "{err}");
    assert!(err.contains("has no attention"), "{err}");
    assert!(err.contains("seesay inspect where"), "{err}");
    assert!(nic.stdout.is_empty());
}

#[test]
fn the_app_says_the_maps_come_from_the_models_attention() {
    let dir = tempfile::tempdir().expect("temp dir");
    let picture = dir.path().join("dog.jpg");
    std::fs::copy(dog(), &picture).expect("copy");
    let speaker = RecordingSpeaker::new();
    let (mut h, words) =
        harness::captioned_app(picture, ModelSource::Dir(trained().dir.clone()), &speaker);
    assert!(!words.is_empty());
    let spoken_before = speaker.recording().spoken.len();

    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::L);
    wait_for_harness(&mut h, "the heat map", |h| {
        h.query_by(|n| {
            n.label()
                .is_some_and(|l| l.starts_with("Heat map of where the model looks for"))
        })
        .is_some()
    });
    assert!(
        h.query_by_label("Found by the model's attention, on a 7 by 7 grid.")
            .is_some(),
        "the window says where the maps come from"
    );
    let said = wait_for_speech(&mut h, &speaker, "the summary", |r| {
        r.spoken[spoken_before..]
            .iter()
            .any(|s| s.starts_with("Where it looks."))
    });
    let summary = said.spoken[spoken_before..]
        .iter()
        .find(|s| s.starts_with("Where it looks."))
        .expect("summary");
    assert!(
        summary.starts_with("Where it looks. Found by the model's attention, on a 7 by 7 grid."),
        "{summary}"
    );
    // The same keys move through the words and say where each looks.
    if words.len() > 1 {
        let second = format!("{}: looking at the ", words[1]);
        h.key_press_modifiers(egui::Modifiers::ALT, egui::Key::ArrowRight);
        wait_for_speech(&mut h, &speaker, "the next word", |r| {
            r.spoken.last().is_some_and(|s| s.starts_with(&second))
        });
    }
}
