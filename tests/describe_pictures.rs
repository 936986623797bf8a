//! What seesay says of whole pictures, through the real model, kind classifier and text
//! reader: screens are read and never captioned as photos, photos are captioned, and a photo
//! with a sign keeps its caption and adds the sign's words.
//!
//! Tesseract is required (scripts/install-deps.sh installs it); without it these fail with
//! the packages to install.

use std::path::{Path, PathBuf};

use candle_core::Device;
use seesay::captioner::{CaptionOptions, Captioner, ModelSource};
use seesay::describer::{Describer, Description, Mode};
use seesay::kind::PictureKind;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn describer() -> Describer {
    static ONE_THREAD: std::sync::Once = std::sync::Once::new();
    ONE_THREAD.call_once(seesay::ocr::use_one_thread);
    if let Err(e) = seesay::ocr::check() {
        panic!("{e}\n(these tests need Tesseract: bash scripts/install-deps.sh)");
    }
    let captioner = Captioner::load(&ModelSource::Bundled, &Device::Cpu).expect("bundled model");
    Describer::new(captioner)
}

fn describe(d: &mut Describer, path: &Path, mode: Mode) -> Description {
    d.describe_file(path, &CaptionOptions::default(), mode)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn screen(name: &str) -> PathBuf {
    root().join("tests/fixtures/screens").join(name)
}

/// Lowercased words without punctuation.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[test]
fn screens_documents_and_charts_are_read_not_captioned() {
    let mut d = describer();
    for (name, kind, start, must) in [
        (
            "dialog.png",
            PictureKind::Screen,
            "Screenshot.",
            &["save", "changes", "before", "closing", "buttons", "cancel"][..],
        ),
        (
            "terminal.png",
            PictureKind::Screen,
            "Screenshot.",
            &["git", "status", "nothing", "to", "commit"][..],
        ),
        (
            "table.png",
            PictureKind::Screen,
            "Screenshot.",
            &["region", "orders", "revenue", "north", "south"][..],
        ),
        (
            "chart.png",
            PictureKind::Chart,
            "A chart:",
            &["monthly", "rainfall", "jan", "jun"][..],
        ),
    ] {
        let got = describe(&mut d, &screen(name), Mode::Auto);
        assert_eq!(got.kind, kind, "{name}: {}", got.spoken);
        assert!(got.spoken.starts_with(start), "{name}: {}", got.spoken);
        let said = words(&got.spoken);
        for w in must {
            assert!(
                said.contains(&w.to_string()),
                "{name}: {w:?} not in {}",
                got.spoken
            );
        }
        // Nothing of the photo caption is said for a picture of text.
        let caption = &got.captioned.candidates[0].text;
        assert!(
            !got.spoken.contains(caption.as_str()),
            "{name}: {}",
            got.spoken
        );
    }
}

#[test]
fn a_dialog_is_said_title_message_then_buttons() {
    let mut d = describer();
    let got = describe(&mut d, &screen("dialog.png"), Mode::Auto);
    let s = got.spoken.to_lowercase();
    let title = s.find("save document").expect("title");
    let message = s.find("before closing").expect("message");
    let buttons = s
        .find("buttons: don't save, cancel, save")
        .expect("buttons");
    assert!(title < message && message < buttons, "{}", got.spoken);
}

#[test]
fn two_columns_are_read_one_after_the_other() {
    let mut d = describer();
    let got = describe(&mut d, &screen("two_column.png"), Mode::Auto);
    assert_ne!(got.kind, PictureKind::Photo);
    let s = got.spoken.to_lowercase();
    let left_end = s.find("weighs bicycle lanes").expect("left column");
    let right_start = s.find("garden shares its harvest").expect("right column");
    assert!(left_end < right_start, "{}", got.spoken);
    // The left column's last paragraph comes before the right column's first.
    assert!(s.find("a final vote").expect("left, end") < right_start);
}

#[test]
fn photos_stay_photos_and_a_sign_is_read_in_a_photo() {
    let mut d = describer();
    for name in ["chelsea.jpg", "coffee.jpg", "astronaut.jpg", "rocket.jpg"] {
        let got = describe(
            &mut d,
            &root().join("assets/examples").join(name),
            Mode::Auto,
        );
        assert_eq!(got.kind, PictureKind::Photo, "{name}: {}", got.spoken);
        assert!(!got.spoken.starts_with("Screenshot"), "{name}");
        assert!(
            !got.spoken.contains("Text in the picture"),
            "{name}: {}",
            got.spoken
        );
    }
    let got = describe(&mut d, &screen("sign.png"), Mode::Auto);
    assert_eq!(got.kind, PictureKind::Photo, "{}", got.spoken);
    assert!(
        got.spoken.contains("Text in the picture: NO PARKING"),
        "{}",
        got.spoken
    );
}

#[test]
fn the_mode_forces_a_reading() {
    let mut d = describer();
    let photo = describe(&mut d, &screen("dialog.png"), Mode::Photo);
    assert_eq!(photo.kind, PictureKind::Photo);
    assert!(photo.reading.is_none());
    let text = describe(
        &mut d,
        &root().join("assets/examples/chelsea.jpg"),
        Mode::Text,
    );
    assert_ne!(text.kind, PictureKind::Photo);
    assert!(text.reading.is_some());
}
