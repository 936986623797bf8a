//! What the app tests share: the app's configuration for a test, and waiting for the worker and
//! the speech thread, which both run beside the UI (a fixed number of frames is a race).

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use std::sync::Arc;

use egui_kittest::Harness;
use seesay::app::{AppConfig, CaptionState, SeesayApp, Services};
use seesay::captioner::ModelSource;
use seesay::device::DeviceChoice;
use seesay::sources::{ClipboardContent, MemoryClipboard, MemoryScreen, ScriptedPicker};
use seesay::speech::{Recording, RecordingSpeaker};

/// The app as a test runs it: on the CPU, no socket, no global keys, no screen reader.
pub fn config(paths: Vec<PathBuf>, model: ModelSource) -> AppConfig {
    AppConfig {
        paths,
        model,
        device: DeviceChoice::Cpu,
        print_captions: false,
        remote_socket: None,
        global_hotkeys: false,
        speech_timeout: Duration::from_secs(4),
        screen_reader: Some(false),
    }
}

/// The app opened on `picture` (a file or a folder) with `model`, speaking into `speaker`,
/// once its first caption is ready; with the words of that caption's best candidate.
pub fn captioned_app(
    picture: PathBuf,
    model: ModelSource,
    speaker: &RecordingSpeaker,
) -> (Harness<'static, SeesayApp>, Vec<String>) {
    let services = Services {
        speaker: seesay::speech::ready(speaker.clone()),
        clipboard: Box::new(MemoryClipboard::new(ClipboardContent::Empty)),
        screen: Arc::new(MemoryScreen::new(None, None)),
        picker: Arc::new(ScriptedPicker::none()),
    };
    let config = config(vec![picture], model);
    let mut h = Harness::builder()
        .with_size(egui::vec2(1100.0, 760.0))
        .build_eframe(move |cc| SeesayApp::new(cc, config, services));
    wait_for(&mut h, "the caption", |app| {
        matches!(app.state().caption, CaptionState::Ready(_))
    });
    let CaptionState::Ready(d) = &h.state().state().caption else {
        unreachable!()
    };
    let words = d
        .captioned
        .best()
        .expect("a caption")
        .words
        .iter()
        .map(|w| w.word.clone())
        .collect();
    (h, words)
}

/// Steps the UI until `done` holds on the app, then draws twice more: a Grid's first frame is
/// a sizing pass, so the accessibility tree is complete only after the second.
pub fn wait_for(h: &mut Harness<'_, SeesayApp>, what: &str, done: impl Fn(&SeesayApp) -> bool) {
    wait_for_harness(h, what, |h| done(h.state()));
}

/// Like [`wait_for`], for a condition on the harness (its accessibility tree).
pub fn wait_for_harness(
    h: &mut Harness<'_, SeesayApp>,
    what: &str,
    done: impl Fn(&Harness<'_, SeesayApp>) -> bool,
) {
    let start = Instant::now();
    while !done(h) {
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "timed out waiting for {what}; message: {:?}",
            h.state().state().message
        );
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    h.step();
    h.step();
}

/// Steps the UI until the speaker's recording satisfies `done`, and returns it.
pub fn wait_for_speech(
    h: &mut Harness<'_, SeesayApp>,
    speaker: &RecordingSpeaker,
    what: &str,
    done: impl Fn(&Recording) -> bool,
) -> Recording {
    let start = Instant::now();
    loop {
        let rec = speaker.recording();
        if done(&rec) {
            return rec;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for speech: {what}; recorded {rec:?}"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
}
