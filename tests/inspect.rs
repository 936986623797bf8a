//! Looking inside the bundled model: word neighbours from its embedding, and where it looks
//! for each word (occlusion) in the library, the CLI, the worker and the app.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant};

use candle_core::Device;
use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable};
use image::{imageops, DynamicImage, RgbImage};

use seesay::captioner::{CaptionOptions, Captioner, ModelSource};
use seesay::device::DeviceChoice;
use seesay::inspect::{Occlusion, Region};
use seesay::speech::RecordingSpeaker;
use seesay::worker::{Event, LookJob, Request, Worker};

mod harness;
use harness::{wait_for_harness, wait_for_speech};

fn flickr(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/flickr8k/images")
        .join(name)
}

/// A test-split photo of a boxer dog (the bundled model calls it a dog), and one of a
/// basketball game with no dog.
const DOG: &str = "256085101_2c2617c5d0.jpg";
const GAME: &str = "3072172967_630e9c69d0.jpg";

fn load(name: &str) -> RgbImage {
    image::open(flickr(name))
        .expect("a Flickr8k photo")
        .to_rgb8()
}

/// The basketball photo, 448×448, with the dog photo shrunk into its upper-right quadrant.
/// Upper right, not upper left: a map read with rows and columns swapped would point at the
/// lower left, and the test would fail.
fn dog_in_upper_right() -> DynamicImage {
    let mut canvas = imageops::resize(&load(GAME), 448, 448, imageops::FilterType::Triangle);
    let dog = imageops::resize(&load(DOG), 224, 224, imageops::FilterType::Triangle);
    imageops::replace(&mut canvas, &dog, 224, 0);
    DynamicImage::ImageRgb8(canvas)
}

fn bundled() -> Captioner {
    Captioner::load(&ModelSource::Bundled, &Device::Cpu).expect("the bundled model")
}

fn assert_maps_sum_to_one(o: &Occlusion) {
    for w in &o.words {
        assert_eq!(w.map.len(), o.grid, "{}", w.word);
        assert_eq!(w.drops.len(), o.grid, "{}", w.word);
        let sum: f32 = w.map.iter().flatten().sum();
        assert!((sum - 1.0).abs() < 1e-4, "{}: map sums to {sum}", w.word);
        assert!(w.map.iter().flatten().all(|v| (0.0..=1.0).contains(v)));
    }
}

#[test]
fn hiding_the_dog_lowers_dog_more_than_hiding_the_rest_of_the_picture() {
    let captioner = bundled();
    let picture = dog_in_upper_right();
    let found = captioner
        .occlusion(&picture, "a dog is playing basketball", 4)
        .expect("occlusion");
    assert_eq!(found.grid, 4);
    assert_maps_sum_to_one(&found);
    let dog = found.words.iter().find(|w| w.word == "dog").expect("dog");
    // Rows 0-1, columns 2-3 hold the dog; the other twelve cells hold the game.
    let in_dog = |r: usize, c: usize| r < 2 && c >= 2;
    let (mut on, mut off) = (Vec::new(), Vec::new());
    for (r, row) in dog.drops.iter().enumerate() {
        for (c, &d) in row.iter().enumerate() {
            if in_dog(r, c) {
                on.push(d)
            } else {
                off.push(d)
            }
        }
    }
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    let best_off = off.iter().copied().fold(f32::MIN, f32::max);
    eprintln!(
        "dog p {:.3}; drops over the dog {on:?}; elsewhere {off:?}",
        dog.prob
    );
    assert!(
        mean(&on) > 3.0 * mean(&off).max(0.0) && mean(&on) > best_off,
        "hiding the dog: mean drop {:.4}; hiding the game: mean {:.4}, largest {best_off:.4}",
        mean(&on),
        mean(&off)
    );
    let share: f32 = dog
        .map
        .iter()
        .enumerate()
        .flat_map(|(r, row)| row.iter().enumerate().map(move |(c, &v)| (r, c, v)))
        .filter(|&(r, c, _)| in_dog(r, c))
        .map(|(_, _, v)| v)
        .sum();
    assert!(share > 0.5, "the dog's cells hold {share:.2} of its map");
    assert_eq!(dog.region, Region::UpperRight, "{:?}", dog.map);
    assert_eq!(dog.description, "looking at the upper right");
}

#[test]
fn with_nothing_hidden_each_word_has_the_probability_the_beam_search_gave_it() {
    let captioner = bundled();
    let picture = image::open(flickr(DOG)).expect("photo");
    let captioned = captioner
        .caption_image(&picture, &CaptionOptions::default())
        .expect("caption");
    let best = captioned.best().expect("a caption");
    let found = captioner
        .occlusion(&picture, &best.text, 2)
        .expect("occlusion");
    assert_maps_sum_to_one(&found);
    let words: Vec<&str> = found.words.iter().map(|w| w.word.as_str()).collect();
    let said: Vec<&str> = best.words.iter().map(|w| w.word.as_str()).collect();
    assert_eq!(words, said);
    // Teacher forcing and the beam's step-by-step decoding are two code paths to one number.
    for (look, beam) in found.words.iter().zip(&best.words) {
        assert!(
            (look.prob - beam.prob).abs() < 2e-3,
            "{}: {} by teacher forcing, {} in the beam",
            look.word,
            look.prob,
            beam.prob
        );
    }
}

#[test]
fn occlusion_refuses_unknown_words_empty_captions_and_bad_grids() {
    let captioner = bundled();
    let picture = image::open(flickr(DOG)).expect("photo");
    let unknown = captioner.occlusion(&picture, "a zzyzx dog", 4).unwrap_err();
    assert!(
        unknown.to_string().contains("\"zzyzx\" is not a word"),
        "{unknown}"
    );
    let empty = captioner.occlusion(&picture, " ... ", 4).unwrap_err();
    assert!(empty.to_string().contains("no words"), "{empty}");
    for grid in [0, 17] {
        let bad = captioner.occlusion(&picture, "a dog", grid).unwrap_err();
        assert!(bad.to_string().contains("grid must have 1 to 16"), "{bad}");
    }
}

#[test]
fn caption_json_where_gives_each_word_of_the_best_caption_a_map() {
    let dog = flickr(DOG);
    let out = seesay(&[
        "caption",
        "--json",
        "--where",
        "--grid",
        "3",
        dog.to_str().expect("path"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let looks = &v["where"];
    assert_eq!(looks["grid"].as_u64(), Some(3));
    let words = looks["words"].as_array().expect("words");
    let best: Vec<&str> = v["best"].as_str().expect("best").split(' ').collect();
    assert_eq!(words.len(), best.len(), "{v}");
    for (w, b) in words.iter().zip(&best) {
        assert_eq!(w["word"].as_str(), Some(*b));
        let map = w["map"].as_array().expect("map");
        assert_eq!(map.len(), 3);
        let sum: f64 = map
            .iter()
            .flat_map(|row| row.as_array().expect("row").iter())
            .map(|x| x.as_f64().expect("number"))
            .sum();
        assert!((sum - 1.0).abs() < 1e-3, "{w}");
        assert!(w["description"]
            .as_str()
            .expect("words")
            .starts_with("looking at the "));
    }
    // Without the flag there is no map, and the flag needs --json.
    let plain = seesay(&["caption", "--json", dog.to_str().expect("path")]);
    let v: serde_json::Value = serde_json::from_slice(&plain.stdout).expect("JSON");
    assert!(v.get("where").is_none());
    let refused = seesay(&["caption", "--where", dog.to_str().expect("path")]);
    assert!(!refused.status.success());
}

#[test]
fn inspect_where_says_where_each_word_looks_and_names_bad_input() {
    let picture = std::env::temp_dir().join(format!("seesay-where-{}.png", std::process::id()));
    dog_in_upper_right().save(&picture).expect("png");
    let path = picture.to_str().expect("path");
    let out = seesay(&[
        "inspect",
        "where",
        path,
        "--caption",
        "a dog is playing basketball",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some("a dog is playing basketball"),
        "{text}"
    );
    assert_eq!(lines.len(), 6, "{text}");
    let dog = lines
        .iter()
        .find(|l| l.trim_start().starts_with("dog "))
        .expect("dog line");
    assert!(dog.ends_with("looking at the upper right"), "{text}");

    let unknown = seesay(&["inspect", "where", path, "--caption", "a zzyzx"]);
    assert!(!unknown.status.success());
    let err = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        err.contains("\"zzyzx\" is not a word of the model's vocabulary"),
        "{err}"
    );
    let missing = seesay(&["inspect", "where", "/nonexistent/picture.jpg"]);
    assert!(!missing.status.success());
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(err.contains("/nonexistent/picture.jpg"), "{err}");
    let _ = std::fs::remove_file(&picture);
}

#[test]
fn the_worker_answers_a_look_request_with_the_maps() {
    let worker =
        Worker::spawn(ModelSource::Bundled, DeviceChoice::Cpu, Arc::new(|| {})).expect("worker");
    let image = Arc::new(dog_in_upper_right());
    for id in [1, 2] {
        assert!(worker.send(Request::Look(LookJob {
            id,
            image: image.clone(),
            caption: if id == 1 {
                "a zzyzx".into()
            } else {
                "a dog".into()
            },
            grid: 4,
        })));
    }
    let start = Instant::now();
    let mut answers = Vec::new();
    // The newest request (id 2) is answered last, whether or not the older one ran.
    while answers.last().is_none_or(|(id, _)| *id != 2) {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no answer to the look request"
        );
        if let Some(Event::Looked { id, result }) = worker.recv_timeout(Duration::from_secs(1)) {
            answers.push((id, result));
        }
    }
    // Both may run, or the newer may supersede the older; the newest is always answered.
    let (id, result) = answers.pop().expect("an answer");
    assert_eq!(id, 2);
    let o = result.expect("maps");
    assert_maps_sum_to_one(&o);
    assert_eq!(o.words[1].region, Region::UpperRight, "{:?}", o.words[1]);
    if let Some((1, first)) = answers.pop() {
        assert!(first.unwrap_err().contains("zzyzx"));
    }
}

#[test]
fn the_app_shows_and_says_where_each_word_looks() {
    // A folder of two pictures: Alt+Right must move through the words, not the folder.
    let dir = tempfile::tempdir().expect("temp dir");
    dog_in_upper_right()
        .save(dir.path().join("1-dog-in-a-game.png"))
        .expect("png");
    load(GAME).save(dir.path().join("2-game.png")).expect("png");
    let picture = dir.path().to_path_buf();
    let speaker = RecordingSpeaker::new();
    let (mut h, words) = harness::captioned_app(picture, ModelSource::Bundled, &speaker);
    let spoken_before = speaker.recording().spoken.len();

    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::L);
    wait_for_harness(&mut h, "the heat map", |h| {
        h.query_by(|n| {
            n.label()
                .is_some_and(|l| l.starts_with("Heat map of where the model looks for"))
        })
        .is_some()
    });
    let map = h
        .query_by(|n| n.label().is_some_and(|l| l.starts_with("Heat map")))
        .expect("heat map");
    assert_eq!(map.accesskit_node().role(), Role::Image);
    let first = format!(
        "Heat map of where the model looks for {}: looking at the ",
        words[0]
    );
    let label = map.accesskit_node().label().unwrap_or_default();
    assert!(label.starts_with(&first), "{label}");
    // One button per word, each naming where it looks.
    for w in &words {
        let prefix = format!("{w}: the ");
        assert!(
            h.query_by(
                |n| n.role() == Role::Button && n.label().is_some_and(|l| l.starts_with(&prefix))
            )
            .is_some(),
            "no button for {w}"
        );
    }
    // Speech runs on its own thread, after the caption's own utterance: wait for what is
    // expected (a timeout prints everything that was said instead).
    wait_for_speech(&mut h, &speaker, "the summary", |r| {
        r.spoken[spoken_before..]
            .iter()
            .any(|s| s.starts_with("Where it looks."))
    });

    // Alt+Right: the next word is selected, drawn and said.
    let second_said = format!("{}: looking at the ", words[1]);
    h.key_press_modifiers(egui::Modifiers::ALT, egui::Key::ArrowRight);
    wait_for_speech(&mut h, &speaker, "the next word", |r| {
        r.spoken.last().is_some_and(|s| s.starts_with(&second_said))
    });
    h.step();
    h.step();
    let second = format!("Heat map of where the model looks for {}: ", words[1]);
    assert!(h
        .query_by(|n| n.label().is_some_and(|l| l.starts_with(&second)))
        .is_some());
    let folder = h.state().state().folder.as_ref().expect("a folder");
    assert_eq!((folder.images.len(), folder.index), (2, 0));

    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::L);
    h.step();
    h.step();
    assert!(h
        .query_by(|n| n.label().is_some_and(|l| l.starts_with("Heat map")))
        .is_none());
}

fn seesay(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seesay"))
        .args(args)
        .output()
        .expect("the seesay binary runs")
}

#[test]
fn neighbours_of_dog_are_listed_with_falling_cosine_scores_and_no_specials() {
    let out = seesay(&["inspect", "neighbours", "dog", "--count", "10"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<(String, f32)> = text
        .lines()
        .map(|l| {
            let mut parts = l.split_whitespace();
            let word = parts.next().expect("a word").to_owned();
            let score = parts.next().expect("a score").parse().expect("a number");
            (word, score)
        })
        .collect();
    assert_eq!(rows.len(), 10, "{text}");
    for (word, score) in &rows {
        assert!(!word.starts_with('<') && word != "dog", "{text}");
        assert!((-1.0..=1.0).contains(score), "{text}");
    }
    assert!(rows.windows(2).all(|w| w[0].1 >= w[1].1), "{text}");

    let json = seesay(&["inspect", "neighbours", "dog", "--count", "3", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(v["neighbours"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        v["neighbours"][0]["word"].as_str(),
        Some(rows[0].0.as_str())
    );
}

#[test]
fn neighbours_of_an_unknown_word_is_a_clear_error() {
    let out = seesay(&["inspect", "neighbours", "zzyzx"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a word of the model's vocabulary"),
        "{err}"
    );
}
