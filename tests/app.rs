//! The desktop app driven headless through its accessibility tree, as a screen reader would:
//! widgets are found by role and accessible name, keys are pressed, and the worker thread runs a
//! small real model (the bundled encoder with an untrained decoder).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui::accesskit::{Action, Live, Role, Toggled};
use egui_kittest::kittest::{AccessKitNode, NodeT, Queryable};
use egui_kittest::Harness;

use seesay::app::state::Thumb;
use seesay::app::{AppConfig, CaptionState, SeesayApp, Services};
use seesay::captioner::{CaptionOptions, ModelSource};
use seesay::device::DeviceChoice;
use seesay::sources::{
    ClipboardContent, MemoryClipboard, MemoryScreen, ScriptedPicker, WindowShot,
};
use seesay::speech::{RecordingSpeaker, Speaker};
use seesay::worker::{Event, Job, JobInput, Request, Worker};

mod harness;
use harness::{wait_for, wait_for_speech};

const WORDS: &[&str] = &[
    "a", "dog", "cat", "runs", "on", "the", "grass", "table", "cup", "of", "coffee", "man", "red",
];

struct Fixture {
    dir: tempfile::TempDir,
    model: PathBuf,
    speaker: RecordingSpeaker,
    clipboard: MemoryClipboard,
    /// What a screenshot captures: no monitor and no other window unless a test sets them.
    screen: MemoryScreen,
    /// The file dialog: none, as on a machine without a portal or zenity.
    picker: std::sync::Arc<ScriptedPicker>,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let model = dir.path().join("model");
        seesay::model::write_untrained(&model, WORDS, 32, "test-untrained").expect("model");
        Self {
            dir,
            model,
            speaker: RecordingSpeaker::new(),
            clipboard: MemoryClipboard::new(ClipboardContent::Empty),
            screen: MemoryScreen::new(None, None),
            picker: std::sync::Arc::new(ScriptedPicker::none()),
        }
    }

    /// A folder of `n` small PNG pictures, each a different colour.
    fn folder(&self, n: usize) -> PathBuf {
        let folder = self.dir.path().join("pictures");
        std::fs::create_dir_all(&folder).expect("folder");
        for i in 0..n {
            let img = image::RgbImage::from_fn(96, 64, |x, y| {
                image::Rgb([(x * 2) as u8, (y * 3) as u8, (i * 60) as u8])
            });
            img.save(folder.join(format!("picture{}.png", i + 1)))
                .expect("png");
        }
        folder
    }

    /// The repository's example photo, or a generated picture when it is not there.
    fn picture(&self) -> PathBuf {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/examples/coffee.jpg");
        if example.is_file() {
            return example;
        }
        self.folder(1).join("picture1.png")
    }

    fn harness(&self, paths: Vec<PathBuf>) -> Harness<'static, SeesayApp> {
        self.harness_with_model(paths, ModelSource::Dir(self.model.clone()))
    }

    fn harness_with_model(
        &self,
        paths: Vec<PathBuf>,
        model: ModelSource,
    ) -> Harness<'static, SeesayApp> {
        self.harness_with_config(harness::config(paths, model))
    }

    fn harness_with_config(&self, config: AppConfig) -> Harness<'static, SeesayApp> {
        let services = Services {
            speaker: seesay::speech::ready(self.speaker.clone()),
            clipboard: Box::new(self.clipboard.clone()),
            screen: std::sync::Arc::new(self.screen.clone()),
            picker: self.picker.clone(),
        };
        Harness::builder()
            .with_size(egui::vec2(1100.0, 760.0))
            .build_eframe(move |cc| SeesayApp::new(cc, config, services))
    }
}

/// A file dropped on the window.
#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

fn caption_ready(app: &SeesayApp) -> bool {
    matches!(app.state().caption, CaptionState::Ready(_))
}

/// The name AT-SPI gives a node, as accesskit_atspi_common computes it: a label's name is its
/// value (its label is dropped), anything else's is its label or the labels it is labelled by.
fn bus_name(node: &AccessKitNode<'_>) -> Option<String> {
    if node.role() == Role::Label {
        node.value()
    } else {
        node.label()
    }
}

/// The nodes of the tree in the order a screen reader walks them.
fn tree<'t>(h: &'t Harness<'_, SeesayApp>) -> Vec<AccessKitNode<'t>> {
    h.root()
        .children_recursive()
        .map(|n| n.accesskit_node())
        .collect()
}

/// Names (as the bus shows them) starting with `prefix`.
fn labels_starting_with(h: &Harness<'_, SeesayApp>, prefix: &str) -> Vec<String> {
    tree(h)
        .iter()
        .filter_map(bus_name)
        .filter(|l| l.starts_with(prefix))
        .collect()
}

#[test]
fn opening_an_image_shows_its_caption_candidates_and_word_probabilities() {
    let f = Fixture::new();
    let mut h = f.harness(vec![f.picture()]);
    // The window is up at once, before the model has loaded.
    h.step();
    assert!(
        h.query_by_label("Loading model…").is_some()
            || h.query_by_label("Describing the picture…").is_some()
    );

    wait_for(&mut h, "the caption", caption_ready);
    let caption = h.state().state().caption_text().expect("caption text");
    assert!(!caption.is_empty());
    h.get_by_label(&caption);

    let asked = h.state().state().settings.candidates;
    let rows = labels_starting_with(&h, "Candidate ");
    assert_eq!(rows.len(), asked, "one table row per candidate: {rows:?}");
    assert_eq!(rows[0], "Candidate 1");

    // Each word shows its probability, and so does the end of the sentence (an untrained
    // model may choose to say nothing, so the end marker is the one always there).
    let n_words = match &h.state().state().caption {
        CaptionState::Ready(c) => c.captioned.best().map_or(0, |b| b.words.len()),
        _ => 0,
    };
    let words: Vec<String> = labels_starting_with(&h, "Word ")
        .into_iter()
        .filter(|l| l != "Word by word")
        .collect();
    assert_eq!(words.len(), n_words, "{words:?}");
    let in_words = |w: &String| w.ends_with(" percent") || w.ends_with("1 in 100,000");
    assert!(words.iter().all(in_words), "{words:?}");
    let end = labels_starting_with(&h, "End of caption, ");
    assert_eq!(end.len(), 1, "{end:?}");
    assert!(in_words(&end[0]), "{end:?}");
    h.get_by_label_contains("Model: test-untrained on CPU");

    // Every control has an accessible name (run() checks the whole tree).
    h.run_ok();
    h.check_accessibility();
}

#[test]
fn speak_reads_the_caption_and_escape_stops_it() {
    let f = Fixture::new();
    let mut h = f.harness(vec![f.picture()]);
    wait_for(&mut h, "the caption", caption_ready);
    let caption = h.state().state().caption_text().expect("caption text");
    // Auto-speak is on by default: the caption was read as soon as it was ready.
    let rec = wait_for_speech(&mut h, &f.speaker, "the caption", |r| !r.spoken.is_empty());
    assert_eq!(rec.spoken, vec![caption.clone()]);

    h.get_by_role_and_label(Role::Button, "Speak").click();
    let rec = wait_for_speech(&mut h, &f.speaker, "Speak", |r| r.spoken.len() == 2);
    assert_eq!(rec.spoken, vec![caption.clone(), caption.clone()]);
    assert!(rec.speaking);

    h.key_press(egui::Key::Escape);
    let rec = wait_for_speech(&mut h, &f.speaker, "Escape", |r| r.stops == 1);
    assert!(!rec.speaking);
    assert!(!h.state().state().speaking);

    h.key_press(egui::Key::F5);
    wait_for_speech(&mut h, &f.speaker, "F5", |r| r.spoken.len() == 3);
    h.get_by_role_and_label(Role::Button, "Stop").click();
    let rec = wait_for_speech(&mut h, &f.speaker, "Stop", |r| r.stops == 2);
    assert_eq!(rec.spoken.len(), 3);
}

/// A speech engine that never answers: every call blocks until the test ends (as
/// speech-dispatcher's `spd_open` did when its service was stuck).
struct HungSpeaker {
    gate: std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
    /// Whether voices, rate and voice hang too, or only speaking and stopping.
    everything: bool,
}

impl HungSpeaker {
    fn hang(&self) {
        let (lock, cvar) = &*self.gate;
        let mut open = lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while !*open {
            open = cvar
                .wait(open)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }
}

impl Speaker for HungSpeaker {
    fn speak(&mut self, _text: &str) -> Result<(), String> {
        self.hang();
        Ok(())
    }
    fn stop(&mut self) -> Result<(), String> {
        self.hang();
        Ok(())
    }
    fn is_speaking(&self) -> bool {
        self.hang();
        false
    }
    fn set_rate(&mut self, _rate: f32) -> Result<(), String> {
        if self.everything {
            self.hang();
        }
        Ok(())
    }
    fn voices(&self) -> Vec<String> {
        if self.everything {
            self.hang();
        }
        Vec::new()
    }
    fn set_voice(&mut self, _name: &str) -> Result<(), String> {
        if self.everything {
            self.hang();
        }
        Ok(())
    }
}

/// Opens the gate when the test ends, so the speech thread can finish.
struct OpenOnDrop(std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        let (lock, cvar) = &*self.0;
        *lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = true;
        cvar.notify_all();
    }
}

fn hung_speech_harness(
    f: &Fixture,
    paths: Vec<PathBuf>,
    connect_hangs: bool,
) -> (Harness<'static, SeesayApp>, OpenOnDrop) {
    let gate = std::sync::Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
    let speaker = HungSpeaker {
        gate: gate.clone(),
        everything: connect_hangs,
    };
    let factory: seesay::speech::SpeakerFactory = Box::new(move || {
        if connect_hangs {
            speaker.hang();
        }
        Ok(Box::new(speaker) as Box<dyn Speaker>)
    });
    let config = AppConfig {
        speech_timeout: Duration::from_millis(400),
        ..harness::config(paths, ModelSource::Dir(f.model.clone()))
    };
    let services = Services {
        speaker: factory,
        clipboard: Box::new(f.clipboard.clone()),
        screen: std::sync::Arc::new(f.screen.clone()),
        picker: f.picker.clone(),
    };
    let h = Harness::builder()
        .with_size(egui::vec2(1100.0, 760.0))
        .build_eframe(move |cc| SeesayApp::new(cc, config, services));
    (h, OpenOnDrop(gate))
}

/// Steps `frames` frames, each within `limit`: the window keeps answering.
fn frames_keep_coming(h: &mut Harness<'_, SeesayApp>, frames: usize, limit: Duration) {
    for _ in 0..frames {
        let start = Instant::now();
        h.step();
        assert!(
            start.elapsed() < limit,
            "a frame took {:?}: the UI thread waited",
            start.elapsed()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_speech_service_that_never_answers_does_not_freeze_the_window() {
    let f = Fixture::new();
    let folder = f.folder(2);
    // Connecting hangs, as spd_open does when speech-dispatcher is stuck.
    let (mut h, _gate) = hung_speech_harness(&f, vec![folder.clone()], true);
    frames_keep_coming(&mut h, 5, Duration::from_secs(1));
    wait_for(&mut h, "the caption", caption_ready);
    wait_for(&mut h, "speech to be called unavailable", |app| {
        app.state().speech_unavailable.is_some()
    });
    let message = h.state().state().message.clone().expect("a message");
    assert!(
        message.text.starts_with("Speech unavailable"),
        "{}",
        message.text
    );
    h.get_by_label("Speech: unavailable");

    // A new picture still shows its caption; Escape and F5 still answer at once.
    h.key_press(egui::Key::ArrowRight);
    frames_keep_coming(&mut h, 3, Duration::from_secs(1));
    wait_for(&mut h, "the second caption", |app| {
        caption_ready(app)
            && app.state().shown.as_ref().and_then(|s| s.path.clone())
                == Some(folder.join("picture2.png"))
    });
    h.key_press(egui::Key::Escape);
    h.key_press(egui::Key::F5);
    frames_keep_coming(&mut h, 3, Duration::from_secs(1));
    // Said once, not again for every caption.
    let shown = h.state().state().message.clone().expect("a message");
    assert_eq!(shown, message);
}

#[test]
fn speech_that_hangs_while_speaking_does_not_freeze_the_window() {
    let f = Fixture::new();
    // Connects at once, then hangs when speaking the caption (as tts::stop did).
    let (mut h, _gate) = hung_speech_harness(&f, vec![f.picture()], false);
    wait_for(&mut h, "the caption", caption_ready);
    h.key_press(egui::Key::Escape);
    frames_keep_coming(&mut h, 5, Duration::from_secs(1));
    wait_for(&mut h, "speech to be called unavailable", |app| {
        app.state().speech_unavailable.is_some()
    });
    assert!(!h.state().state().speaking);
    h.key_press(egui::Key::F5);
    frames_keep_coming(&mut h, 3, Duration::from_secs(1));
}

#[test]
fn pasting_text_or_nothing_says_there_is_no_image() {
    let f = Fixture::new();
    let mut h = f.harness(vec![]);
    h.step();

    f.clipboard
        .set(ClipboardContent::Text("just some words".into()));
    h.get_by_role_and_label(Role::Button, "Paste").click();
    h.step();
    h.step();
    h.get_by_label_contains("The clipboard holds text, not an image");
    // Errors are spoken too.
    wait_for_speech(&mut h, &f.speaker, "the error", |r| {
        r.spoken
            .iter()
            .any(|s| s.contains("The clipboard holds text, not an image"))
    });

    f.clipboard.set(ClipboardContent::Empty);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::V);
    h.step();
    h.step();
    h.get_by_label_contains("The clipboard is empty");
}

#[test]
fn pasting_a_copied_file_uri_opens_the_picture() {
    let f = Fixture::new();
    let folder = f.folder(2);
    let mut h = f.harness(vec![]);
    h.step();
    let uri = format!("file://{}", folder.join("picture2.png").display()).replace(' ', "%20");
    f.clipboard.set(ClipboardContent::Text(uri));
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::V);
    wait_for(&mut h, "the pasted file's caption", caption_ready);
    h.get_by_label("2 of 2");
}

#[test]
fn arrow_keys_move_through_a_folder() {
    let f = Fixture::new();
    let folder = f.folder(3);
    let mut h = f.harness(vec![folder.clone()]);
    wait_for(&mut h, "the first caption", caption_ready);
    h.get_by_label("1 of 3");

    h.key_press(egui::Key::ArrowRight);
    h.step();
    h.get_by_label("2 of 3");
    let shown = |app: &SeesayApp| app.state().shown.as_ref().and_then(|s| s.path.clone());
    assert_eq!(shown(h.state()), Some(folder.join("picture2.png")));
    wait_for(&mut h, "the second caption", caption_ready);

    h.key_press(egui::Key::End);
    h.step();
    h.get_by_label("3 of 3");
    h.key_press(egui::Key::ArrowRight);
    h.step();
    h.get_by_label("3 of 3");
    h.key_press(egui::Key::Home);
    h.step();
    h.get_by_label("1 of 3");
    // The first picture's caption is cached: no waiting when coming back.
    assert!(caption_ready(h.state()));
    h.key_press(egui::Key::ArrowLeft);
    h.step();
    h.get_by_label("1 of 3");
}

/// The accessible names of the folder strip's thumbnails, in order, as a screen reader lists them.
fn thumbnails(h: &Harness<'_, SeesayApp>) -> Vec<String> {
    h.query_all_by_role(Role::Button)
        .filter_map(|n| n.accesskit_node().label())
        .filter(|l| l.starts_with("Picture "))
        .collect()
}

fn is_selected(h: &Harness<'_, SeesayApp>, label: &str) -> bool {
    let node = h.get_by_role_and_label(Role::Button, label);
    let node = node.accesskit_node();
    node.is_selected() == Some(true) && node.toggled() == Some(Toggled::True)
}

#[test]
fn the_thumbnail_strip_shows_every_picture_and_opens_the_one_clicked() {
    let f = Fixture::new();
    let folder = f.folder(4);
    // A file that cannot be decoded gets a placeholder in the strip, not an error.
    std::fs::write(folder.join("picture5.png"), b"not a png").expect("write");
    let mut h = f.harness(vec![folder.clone()]);
    wait_for(&mut h, "the first caption", caption_ready);
    let expected: Vec<String> = (1..=5)
        .map(|i| format!("Picture {i} of 5: picture{i}.png"))
        .collect();
    assert_eq!(thumbnails(&h), expected);
    assert!(is_selected(&h, &expected[0]));
    assert!(!is_selected(&h, &expected[2]));

    // Thumbnails are decoded in the background; the broken file's is a placeholder.
    wait_for(&mut h, "the thumbnails", |app| {
        app.state().strip.thumbs.len() == 5
    });
    let broken = &h.state().state().strip.thumbs[&folder.join("picture5.png")].0;
    assert!(matches!(broken, Thumb::Failed));
    let ready = h.state().state().strip.thumbs.values();
    assert_eq!(
        ready.filter(|(t, _)| matches!(t, Thumb::Ready(_))).count(),
        4
    );
    assert!(h.state().state().message.is_none());

    h.get_by_role_and_label(Role::Button, &expected[2]).click();
    h.step();
    h.step();
    h.get_by_label("3 of 5");
    let shown = h
        .state()
        .state()
        .shown
        .as_ref()
        .and_then(|s| s.path.clone());
    assert_eq!(shown, Some(folder.join("picture3.png")));
    assert!(is_selected(&h, &expected[2]));
    assert!(!is_selected(&h, &expected[0]));
    wait_for(&mut h, "the third caption", caption_ready);
    h.run_ok();
    h.check_accessibility();
}

#[test]
fn a_large_picture_loads_in_the_background_while_the_window_keeps_drawing() {
    let f = Fixture::new();
    let big = f.dir.path().join("big.png");
    image::RgbImage::from_fn(3000, 2000, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x / 12) ^ (y / 8)) as u8])
    })
    .save(&big)
    .expect("png");
    let mut h = f.harness(vec![big.clone()]);
    h.step();
    // The first frame is drawn before the picture is decoded.
    h.get_by_label("Loading…");
    let loaded = |app: &SeesayApp| {
        app.state()
            .shown
            .as_ref()
            .is_some_and(|s| s.texture.is_some())
    };
    assert!(!loaded(h.state()));
    let start = Instant::now();
    let mut frames = 1;
    while !loaded(h.state()) {
        assert!(start.elapsed() < Duration::from_secs(60), "never loaded");
        h.step();
        frames += 1;
        std::thread::sleep(Duration::from_millis(1));
    }
    let waited = start.elapsed();
    eprintln!("{frames} frames drawn while a 3000x2000 picture loaded in {waited:?}");
    assert!(
        frames >= 3,
        "the window drew {frames} frames while the picture loaded ({waited:?})"
    );
    // Shown scaled for display, and the caption follows.
    let size = h
        .state()
        .state()
        .shown
        .as_ref()
        .and_then(|s| s.texture.as_ref())
        .map(|t| t.size());
    assert_eq!(size.map(|[w, _]| w), Some(2048), "{size:?}");
    h.step();
    assert!(h.query_by_label("Loading…").is_none());
    wait_for(&mut h, "the big picture's caption", caption_ready);
    assert_eq!(
        h.state()
            .state()
            .shown
            .as_ref()
            .and_then(|s| s.path.clone()),
        Some(big)
    );
}

#[test]
fn dropping_a_file_opens_it() {
    let f = Fixture::new();
    let folder = f.folder(1);
    let mut h = f.harness(vec![]);
    h.step();
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(Dropped(folder.join("picture1.png"))));
    wait_for(&mut h, "the dropped file's caption", caption_ready);
}

#[test]
fn a_file_that_is_not_an_image_is_reported_and_the_app_keeps_working() {
    let f = Fixture::new();
    let bad = f.dir.path().join("notes.jpg");
    std::fs::write(&bad, b"this is not a jpeg").expect("write");
    let mut h = f.harness(vec![bad]);
    // The file is decoded on the loader thread: the message comes a frame or two later.
    wait_for(&mut h, "the error", |app| app.state().message.is_some());
    h.get_by_label_contains("Cannot open notes.jpg");
    let folder = f.folder(1);
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(Dropped(folder.join("picture1.png"))));
    wait_for(&mut h, "a caption after the error", caption_ready);
}

#[test]
fn a_missing_model_is_shown_and_spoken() {
    let f = Fixture::new();
    let missing = f.dir.path().join("no-such-model");
    let mut h = f.harness_with_model(vec![], ModelSource::Dir(missing));
    wait_for(&mut h, "the model error", |app| {
        app.state().message.is_some()
    });
    h.get_by_label_contains("Cannot load the captioning model");
    h.get_by_label("No captioning model is loaded.");
    wait_for_speech(&mut h, &f.speaker, "the error", |r| !r.spoken.is_empty());
}

#[test]
fn the_worker_survives_a_panic_and_newer_jobs_supersede_older_ones() {
    let f = Fixture::new();
    let worker = Worker::spawn(
        ModelSource::Dir(f.model.clone()),
        DeviceChoice::Cpu,
        std::sync::Arc::new(|| {}),
    )
    .expect("spawn");
    let next = |what: &str| {
        worker
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|| panic!("no event while waiting for {what}"))
    };
    let mut loaded = 0;
    while loaded == 0 {
        match next("the model") {
            Event::ModelLoaded { .. } => loaded += 1,
            Event::ModelFailed { message } => panic!("{message}"),
            _ => {}
        }
    }

    assert!(worker.send(Request::CrashForTest(7)));
    let mut failed = false;
    let mut reloaded = false;
    while !(failed && reloaded) {
        match next("the crash report") {
            Event::Failed { id: 7, message, .. } => {
                assert!(message.contains("crashed"), "{message}");
                failed = true;
            }
            Event::ModelLoaded { .. } => reloaded = true,
            _ => {}
        }
    }

    // Three requests at once: only the newest is captioned.
    let folder = f.folder(3);
    for id in 1..=3 {
        assert!(worker.send(Request::Caption(Job {
            id,
            input: JobInput::Path(folder.join(format!("picture{id}.png"))),
            options: CaptionOptions::default(),
        })));
    }
    let mut captioned = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !captioned.contains(&3) && Instant::now() < deadline {
        if let Some(Event::Captioned { id, .. }) = worker.recv_timeout(Duration::from_secs(1)) {
            captioned.push(id);
        }
    }
    assert!(
        captioned.contains(&3),
        "the newest job was captioned: {captioned:?}"
    );
    assert!(
        captioned.len() <= 2,
        "older queued jobs were dropped: {captioned:?}"
    );
}

/// Writes the small untrained model used by `scripts/check-app-window.sh` when the bundled model
/// is not trained yet: `SEESAY_WRITE_TEST_MODEL=DIR cargo test --release --test app -- --ignored`.
#[test]
#[ignore = "a helper for scripts/check-app-window.sh"]
fn write_test_model_for_scripts() {
    if let Some(dir) = std::env::var_os("SEESAY_WRITE_TEST_MODEL") {
        seesay::model::write_untrained(Path::new(&dir), WORDS, 32, "untrained-test-model")
            .expect("model");
    }
}

#[test]
fn a_screenshot_is_read_aloud_line_by_line_not_captioned() {
    let f = Fixture::new();
    let dialog = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/screens/dialog.png");
    let mut h = f.harness(vec![dialog]);
    wait_for(&mut h, "the reading", caption_ready);
    let said = h.state().state().caption_text().expect("text");
    assert!(said.starts_with("Screenshot."), "{said}");
    assert!(said.contains("Buttons: Don't Save, Cancel"), "{said}");
    // Every line read is its own accessible node, in reading order, and can be copied.
    let lines = labels_starting_with(&h, "Line ");
    assert!(lines.len() >= 4, "{lines:?}");
    assert!(lines[0].contains("Save Document?"), "{lines:?}");
    h.get_by_label("Copy text");
}

fn screen_fixture(name: &str) -> image::DynamicImage {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/screens")
        .join(name);
    image::open(&path).expect("screen fixture")
}

#[test]
fn describe_window_captures_the_active_window_and_reads_it() {
    let mut f = Fixture::new();
    f.screen = MemoryScreen::new(
        None,
        Some(WindowShot {
            label: "gedit: Save Document?".to_owned(),
            image: screen_fixture("dialog.png"),
        }),
    );
    let mut h = f.harness(vec![]);
    h.step();
    // The toolbar button a screen reader finds by its name.
    h.get_by_role_and_label(Role::Button, "Describe window")
        .click();
    h.step();
    assert!(h.state().state().screenshot_pending);
    wait_for(&mut h, "the window's reading", caption_ready);
    assert_eq!(f.screen.captures(), ["window"]);
    let shown = h.state().state().shown.as_ref().expect("shown");
    assert_eq!(shown.label, "Window: gedit: Save Document?");
    let said = h.state().state().caption_text().expect("text");
    assert!(said.contains("Buttons: Don't Save, Cancel"), "{said}");
}

#[test]
fn describe_window_with_no_other_window_says_so() {
    let f = Fixture::new();
    let mut h = f.harness(vec![]);
    h.step();
    h.key_press_modifiers(
        egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
        egui::Key::W,
    );
    wait_for(&mut h, "the capture", |_| !f.screen.captures().is_empty());
    wait_for(&mut h, "the message", |app| !app.state().screenshot_pending);
    assert_eq!(f.screen.captures(), ["window"]);
    let message = h.state().state().message.as_ref().expect("a message");
    assert!(
        message.text.starts_with("No window to describe"),
        "{}",
        message.text
    );
    wait_for_speech(&mut h, &f.speaker, "the message", |r| {
        r.spoken
            .iter()
            .any(|s| s.starts_with("No window to describe"))
    });
}

#[test]
fn seesay_describe_screen_reaches_the_running_app_over_its_socket() {
    let mut f = Fixture::new();
    f.screen = MemoryScreen::new(Some(screen_fixture("dialog.png")), None);
    let socket = f.dir.path().join("seesay.sock");
    let mut h = f.harness_with_config(AppConfig {
        remote_socket: Some(socket.clone()),
        ..harness::config(vec![], ModelSource::Dir(f.model.clone()))
    });
    h.step();
    // What `seesay --describe-screen` does first: the app answers that it will.
    assert!(seesay::remote::send(&socket, seesay::remote::Request::DescribeScreen).expect("send"));
    wait_for(&mut h, "the capture", |_| !f.screen.captures().is_empty());
    wait_for(&mut h, "the reading", caption_ready);
    assert_eq!(f.screen.captures(), ["screen"]);
    let said = h.state().state().caption_text().expect("text");
    assert!(said.starts_with("Screenshot."), "{said}");
    // Closing the app removes its socket, so the next `--describe-screen` describes on its own.
    drop(h);
    assert!(!socket.exists());
}

/// A harness whose app believes a screen reader is (or is not) running.
fn harness_with_screen_reader(
    f: &Fixture,
    paths: Vec<PathBuf>,
    running: bool,
) -> Harness<'static, SeesayApp> {
    f.harness_with_config(AppConfig {
        screen_reader: Some(running),
        ..harness::config(paths, ModelSource::Dir(f.model.clone()))
    })
}

/// The caption's node: the label or figure caption whose name on the bus is the caption.
fn caption_node<'t>(h: &'t Harness<'_, SeesayApp>, caption: &str) -> AccessKitNode<'t> {
    let found: Vec<_> = tree(h)
        .into_iter()
        .filter(|n| {
            matches!(n.role(), Role::Label | Role::FigureCaption)
                && bus_name(n).as_deref() == Some(caption)
        })
        .collect();
    assert_eq!(found.len(), 1, "one caption node");
    found[0]
}

#[test]
fn the_caption_comes_first_after_the_toolbar_is_focusable_and_named_on_the_bus() {
    let f = Fixture::new();
    let mut h = f.harness(vec![f.picture()]);
    wait_for(&mut h, "the caption", caption_ready);
    let caption = h.state().state().caption_text().expect("caption");
    let nodes = tree(&h);
    let at = |name: &str| {
        nodes
            .iter()
            .position(|n| bus_name(n).as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no node named {name:?}"))
    };
    let caption_at = at(&caption);
    // The toolbar's last button, then the caption, before the status bar and the details.
    assert!(at("Help") < caption_at);
    assert!(caption_at < at("Candidates"));
    let status = nodes
        .iter()
        .position(|n| bus_name(n).is_some_and(|l| l.starts_with("Model: ")))
        .expect("status");
    assert!(caption_at < status);
    let node = caption_node(&h, &caption);
    assert!(
        node.data().supports_action(Action::Focus),
        "the caption takes focus"
    );
    // Nothing else had the focus, so the caption has it: a new caption is then a name change
    // of the focused item, which Orca 43 speaks when a screen reader is to speak (below).
    assert!(node.is_focused(), "the caption has the focus");
    // Voice only, no screen reader: the caption is not a live region, and a label, whose name
    // changes Orca 43 ignores (no double speech).
    assert_eq!(node.live(), Live::Off);
    assert_eq!(node.role(), Role::Label);

    // The window is named after the picture, in its title and on the tree's root.
    let root = h.root().accesskit_node();
    assert_eq!(root.label().as_deref(), Some("seesay: coffee.jpg"));
}

#[test]
fn with_a_screen_reader_the_caption_is_a_live_region_and_seesay_does_not_talk_over_it() {
    let f = Fixture::new();
    let folder = f.folder(2);
    let mut h = harness_with_screen_reader(&f, vec![folder], true);
    wait_for(&mut h, "the caption", caption_ready);
    let caption = h.state().state().caption_text().expect("caption");
    assert_eq!(caption_node(&h, &caption).live(), Live::Polite);
    // A caption, not a label: Orca 43 speaks the focused caption's new name, not a label's.
    assert_eq!(caption_node(&h, &caption).role(), Role::FigureCaption);
    h.key_press(egui::Key::ArrowRight);
    wait_for(&mut h, "the second caption", |app| {
        caption_ready(app) && app.state().folder.as_ref().is_some_and(|f| f.index == 1)
    });
    let second = h.state().state().caption_text().expect("caption");
    assert_eq!(caption_node(&h, &second).live(), Live::Polite);
    // Automatic: the screen reader speaks, so seesay's own voice says nothing.
    std::thread::sleep(Duration::from_millis(200));
    h.step();
    assert!(f.speaker.recording().spoken.is_empty());

    // The choice is a combo box that exposes what is chosen.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Comma);
    h.step();
    h.step();
    let combo = h.get_by_role_and_label(Role::ComboBox, "Speak with");
    assert_eq!(
        combo.accesskit_node().value().as_deref(),
        Some("Automatic (the screen reader when one is running)")
    );
}

#[test]
fn candidates_are_a_table_with_a_header_row_and_probabilities_in_words() {
    let f = Fixture::new();
    let mut h = f.harness(vec![f.picture()]);
    wait_for(&mut h, "the caption", caption_ready);
    let asked = h.state().state().settings.candidates;
    let table = h.get_by_role_and_label(Role::Table, "Candidates");
    let rows: Vec<_> = table
        .children_recursive()
        .map(|n| n.accesskit_node())
        .filter(|n| n.role() == Role::Row)
        .collect();
    assert_eq!(rows.len(), asked + 1, "a header and one row per candidate");
    let cells = |row: &AccessKitNode<'_>, role: Role| -> Vec<String> {
        row.children()
            .filter(|c| c.role() == role)
            .filter_map(|c| c.label())
            .collect()
    };
    assert_eq!(
        cells(&rows[0], Role::ColumnHeader),
        [
            "Rank",
            "Caption",
            "Probability",
            "Log-prob",
            "Search",
            "Sentence"
        ]
    );
    let first = cells(&rows[1], Role::Cell);
    assert_eq!(first.len(), 6, "{first:?}");
    assert_eq!(first[0], "1");
    assert!(
        first[2].ends_with(" percent") || first[2] == "less than 1 in 100,000",
        "{first:?}"
    );
}

#[test]
fn open_without_a_file_dialog_says_so_and_a_typed_path_opens_the_picture() {
    let f = Fixture::new();
    let picture = f.picture();
    let mut h = f.harness(vec![]);
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::O);
    wait_for_speech(&mut h, &f.speaker, "the no-dialog message", |r| {
        r.spoken
            .iter()
            .any(|s| s.starts_with("No file dialog is available"))
    });
    // The path field is named by its label and takes the focus, so typing goes straight in.
    harness::wait_for_harness(&mut h, "the focused path field", |h| {
        h.query_by_label("Path of the picture to open:")
            .is_some_and(|n| n.accesskit_node().is_focused())
    });
    let field = h.get_by_label("Path of the picture to open:");
    assert_eq!(field.accesskit_node().role(), Role::TextInput);
    field.type_text(&picture.display().to_string());
    h.step();
    h.key_press(egui::Key::Enter);
    wait_for(&mut h, "the typed picture's caption", caption_ready);
    assert!(h.state().state().typed_path.is_none());
}

/// The Sentence cell of each candidate row, by caption.
fn sentence_cells(h: &Harness<'_, SeesayApp>) -> Vec<(String, String)> {
    let table = h.get_by_role_and_label(Role::Table, "Candidates");
    table
        .children_recursive()
        .map(|n| n.accesskit_node())
        .filter(|n| n.role() == Role::Row)
        .skip(1)
        .map(|row| {
            let cells: Vec<String> = row
                .children()
                .filter(|c| c.role() == Role::Cell)
                .filter_map(|c| c.label())
                .collect();
            (cells[1].clone(), cells[5].clone())
        })
        .collect()
}

#[test]
fn the_app_says_whether_a_caption_is_new_or_a_training_caption() {
    // The untrained decoder is initialised at random for each fixture, and now and then one
    // ranks the empty sentence first, which no training caption can be (this test failed once
    // that way in a full run; no such model in 25 draws since). Such a model cannot show the
    // feature, so a fresh one is drawn.
    let (f, picture, best) = (0..8)
        .find_map(|_| {
            let f = Fixture::new();
            let picture = f.picture();
            let mut h = f.harness(vec![picture.clone()]);
            wait_for(&mut h, "the caption", caption_ready);
            // This model lists no training sentences: the app says it cannot tell.
            let before = sentence_cells(&h);
            assert!(!before.is_empty());
            assert!(
                before.iter().all(|(_, s)| s.starts_with("not known")),
                "{before:?}"
            );
            let CaptionState::Ready(d) = &h.state().state().caption else {
                unreachable!()
            };
            let best = d.captioned.best().expect("a caption").text.clone();
            drop(h);
            (!best.is_empty()).then_some((f, picture, best))
        })
        .expect("one of 8 untrained models ranks a sentence with words first");

    // The same model, now listing its own best caption as three training captions.
    let listed = seesay::model::sentences::TrainingSentences::from_captions([
        best.as_str(),
        best.as_str(),
        best.as_str(),
    ]);
    std::fs::write(f.model.join("sentences.bin"), listed.to_bytes()).expect("write");
    let mut h = f.harness(vec![picture]);
    wait_for(&mut h, "the caption", caption_ready);
    for (caption, sentence) in sentence_cells(&h) {
        let want = if caption == best {
            "the same as 3 training captions"
        } else {
            "a new sentence"
        };
        assert_eq!(sentence, want, "{caption}");
    }
    assert_eq!(
        labels_starting_with(&h, "The same as 3"),
        ["The same as 3 training captions, word for word."]
    );
}

#[test]
fn arrows_change_the_picture_only_where_they_mean_it_and_never_move_the_focus_too() {
    let f = Fixture::new();
    let folder = f.folder(3);
    let mut h = f.harness(vec![folder]);
    wait_for(&mut h, "the first caption", caption_ready);
    let index = |h: &Harness<'_, SeesayApp>| h.state().state().folder.as_ref().map(|f| f.index);

    // On a toolbar button, Right moves between buttons (egui's arrows), not the picture.
    h.get_by_role_and_label(Role::Button, "Paste").focus();
    h.step();
    h.key_press(egui::Key::ArrowRight);
    h.step();
    assert_eq!(index(&h), Some(0), "Right on a button changed the picture");

    // On a thumbnail, Right shows the next picture and the focus follows it, nowhere else.
    h.get_by_role_and_label(Role::Button, "Picture 1 of 3: picture1.png")
        .focus();
    h.step();
    h.key_press(egui::Key::ArrowRight);
    h.step();
    h.step();
    assert_eq!(index(&h), Some(1));
    let focused: Vec<String> = tree(&h)
        .iter()
        .filter(|n| n.is_focused())
        .filter_map(bus_name)
        .collect();
    assert_eq!(focused, ["Picture 2 of 3: picture2.png"]);

    // In Settings, the arrows move the focused slider, not the picture; Escape closes it
    // and the focus goes back to the thumbnail.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Comma);
    h.step();
    h.step();
    let beam = h.state().state().settings.beam_size;
    let slider = h.get_by_role_and_label(Role::Slider, "Beam size");
    assert!(
        slider.accesskit_node().is_focused(),
        "Settings takes the focus"
    );
    h.key_press(egui::Key::ArrowRight);
    h.step();
    assert_eq!(h.state().state().settings.beam_size, beam + 1);
    assert_eq!(index(&h), Some(1));
    h.key_press(egui::Key::Escape);
    h.step();
    h.step();
    assert!(!h.state().state().show_settings);
    let focused: Vec<String> = tree(&h)
        .iter()
        .filter(|n| n.is_focused())
        .filter_map(bus_name)
        .collect();
    assert_eq!(focused, ["Picture 2 of 3: picture2.png"]);
}

#[test]
fn help_takes_the_focus_escape_closes_it_and_every_focusable_node_is_named() {
    let f = Fixture::new();
    let mut h = f.harness(vec![f.picture()]);
    wait_for(&mut h, "the caption", caption_ready);
    h.key_press(egui::Key::F1);
    h.step();
    h.step();
    let close = h.get_by_role_and_label(Role::Button, "Close help");
    assert!(close.accesskit_node().is_focused());
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Comma);
    h.step();
    h.step();
    let nameless: Vec<String> = tree(&h)
        .iter()
        .filter(|n| n.data().supports_action(Action::Focus))
        .filter(|n| bus_name(n).is_none_or(|l| l.trim().is_empty()))
        .map(|n| format!("{:?} at {:?}", n.role(), n.raw_bounds()))
        .collect();
    assert!(
        nameless.is_empty(),
        "focusable nodes without a name: {nameless:?}"
    );
    h.key_press(egui::Key::Escape);
    h.step();
    h.step();
    assert!(!h.state().state().show_help && !h.state().state().show_settings);
}
