//! The seesay window: open, paste, drop, screenshot or browse a picture, see and hear its caption.
//!
//! `state` holds what is shown, `panels` draws it and returns [`Command`]s, `logic` runs the
//! commands and drains the worker's events. The model lives on the worker thread; this module
//! never sees a tensor.

mod desktop;
mod hotkey;
mod loader;
mod logic;
mod looking;
mod panels;
pub mod settings;
pub mod state;
mod theme;

use std::path::PathBuf;
use std::sync::mpsc;

use anyhow::Context as _;

use crate::captioner::ModelSource;
use crate::device::DeviceChoice;
use crate::sources::{
    Clipboard, FilePicker, ScreenCapture, SystemClipboard, SystemPicker, SystemScreen,
};
use crate::speech::{SpeakerFactory, SpeechThread};
use crate::worker::Worker;

pub use settings::{Settings, SpeakWith, Theme};
pub use state::{AppState, CaptionState, Command, ModelState, Nav};

/// What to open and which model to use.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Images or folders to open at start (the first one is shown).
    pub paths: Vec<PathBuf>,
    /// The model.
    pub model: ModelSource,
    /// Where the model runs.
    pub device: DeviceChoice,
    /// Print each caption and error to stdout (`SEESAY_PRINT_CAPTIONS=1`), for scripted checks.
    pub print_captions: bool,
    /// Where to listen for `seesay --describe-screen` (None: do not listen, as in tests).
    pub remote_socket: Option<PathBuf>,
    /// Grab the global keys Ctrl+Alt+S and Ctrl+Alt+W (off in tests: they are system-wide).
    pub global_hotkeys: bool,
    /// How long a speech call may take before speech is called unavailable.
    pub speech_timeout: std::time::Duration,
    /// Whether a screen reader runs: `None` asks the accessibility bus (tests say it).
    pub screen_reader: Option<bool>,
}

impl AppConfig {
    /// Opens `paths` with `model` on the best device.
    pub fn new(paths: Vec<PathBuf>, model: ModelSource) -> Self {
        Self {
            paths,
            model,
            device: DeviceChoice::Auto,
            print_captions: std::env::var_os("SEESAY_PRINT_CAPTIONS").is_some_and(|v| v != "0"),
            remote_socket: Some(crate::remote::socket_path()),
            global_hotkeys: true,
            speech_timeout: std::time::Duration::from_secs(4),
            screen_reader: None,
        }
    }
}

/// The outside world the app talks to: swapped for fakes in tests.
pub struct Services {
    /// Makes the speaker that reads captions aloud (on the speech thread: connecting may hang).
    pub speaker: SpeakerFactory,
    /// The clipboard.
    pub clipboard: Box<dyn Clipboard>,
    /// Screenshots of the screen and of the active window (shared with the capture thread).
    pub screen: std::sync::Arc<dyn ScreenCapture>,
    /// The file dialog (shared with the thread that waits on it).
    pub picker: std::sync::Arc<dyn FilePicker>,
}

impl Services {
    /// The system's speech engine, clipboard and screen.
    pub fn system() -> Self {
        Self {
            speaker: crate::speech::system(),
            clipboard: Box::new(SystemClipboard::new()),
            screen: std::sync::Arc::new(SystemScreen),
            picker: std::sync::Arc::new(SystemPicker),
        }
    }
}

/// The clipboard, the screen and the file dialog, once the speaker has gone to its thread.
struct Io {
    clipboard: Box<dyn crate::sources::Clipboard>,
    screen: std::sync::Arc<dyn ScreenCapture>,
    picker: std::sync::Arc<dyn FilePicker>,
}

/// Messages from short-lived helper threads (file dialogs, screenshots) to the app.
enum Inbox {
    Opened(Option<PathBuf>),
    /// A capture of the screen or of a window: its label and pixels, or why it failed.
    Screenshot(Result<(String, image::DynamicImage), String>),
    /// Whether a screen reader runs (the accessibility bus's answer).
    ScreenReader(bool),
    /// The global keys, grabbed, or why they could not be.
    Hotkeys(Result<hotkey::Hotkeys, String>),
    /// No file dialog can be shown (no portal, no zenity): a folder was wanted, or a picture.
    NoDialog {
        /// A folder was wanted.
        folder: bool,
    },
}

/// The eframe app.
pub struct SeesayApp {
    state: AppState,
    worker: Option<Worker>,
    /// Decodes pictures and thumbnails off the UI thread (`None`: it could not start, and
    /// pictures are decoded in place).
    loader: Option<loader::Loader>,
    /// Speech, on its own thread (`None`: the thread could not start).
    speech: Option<SpeechThread>,
    io: Io,
    /// Requests from `seesay --describe-screen` (None: not listening).
    remote: Option<crate::remote::Listener>,
    /// The global keys (None: not registered).
    hotkeys: Option<hotkey::Hotkeys>,
    ctx: egui::Context,
    inbox_tx: mpsc::Sender<Inbox>,
    inbox_rx: mpsc::Receiver<Inbox>,
    commands: Vec<Command>,
    applied_style: Option<(Theme, u32)>,
    print_captions: bool,
    /// The window title last set.
    title: String,
    /// Whether Help and Settings were open last frame, to notice them opening and closing.
    panels_open: (bool, bool),
    /// Where the focus was before Help or Settings took it; it goes back there on close.
    focus_before_panel: Option<egui::Id>,
    /// A thumbnail had the focus when an arrow changed the picture: the focus moves with it.
    focus_follows_picture: bool,
    looking: looking::Looking,
}

impl SeesayApp {
    /// Builds the app from eframe's creation context, restoring saved settings.
    pub fn new(cc: &eframe::CreationContext<'_>, config: AppConfig, services: Services) -> Self {
        let settings: Settings = cc
            .storage
            .and_then(|s| eframe::get_value(s, settings::STORAGE_KEY))
            .unwrap_or_default();
        Self::with_settings(&cc.egui_ctx, settings, config, services)
    }

    /// Builds the app with the given settings; starts the worker, which loads the model.
    pub fn with_settings(
        ctx: &egui::Context,
        settings: Settings,
        config: AppConfig,
        services: Services,
    ) -> Self {
        let (inbox_tx, inbox_rx) = mpsc::channel();
        let Services {
            speaker,
            clipboard,
            screen,
            picker,
        } = services;
        let mut app = Self {
            state: AppState::new(settings.sanitized()),
            worker: None,
            loader: None,
            speech: None,
            io: Io {
                clipboard,
                screen,
                picker,
            },
            remote: None,
            hotkeys: None,
            ctx: ctx.clone(),
            inbox_tx,
            inbox_rx,
            commands: Vec::new(),
            applied_style: None,
            print_captions: config.print_captions,
            title: String::new(),
            panels_open: (false, false),
            focus_before_panel: None,
            focus_follows_picture: false,
            looking: looking::Looking::default(),
        };
        let waker_ctx = ctx.clone();
        match Worker::spawn(
            config.model.clone(),
            config.device,
            std::sync::Arc::new(move || waker_ctx.request_repaint()),
        ) {
            Ok(w) => app.worker = Some(w),
            Err(e) => app.error(format!("Cannot start the captioning thread: {e}")),
        }
        let waker_ctx = ctx.clone();
        match loader::Loader::spawn(std::sync::Arc::new(move || waker_ctx.request_repaint())) {
            Ok(l) => app.loader = Some(l),
            Err(e) => app.log(&format!("no image loading thread ({e}); decoding in place")),
        }
        app.init_speech(speaker, config.speech_timeout);
        match config.screen_reader {
            Some(running) => app.state.screen_reader = running,
            None => app.detect_screen_reader(),
        }
        if let Some(path) = &config.remote_socket {
            app.listen(path);
        }
        if config.global_hotkeys {
            app.grab_hotkeys();
        }
        if let Some(first) = config.paths.first() {
            app.commands.push(Command::Open(first.clone()));
        }
        app
    }

    /// What the window shows (for tests and tools).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Queues a command, as a panel or shortcut would.
    pub fn push_command(&mut self, command: Command) {
        self.commands.push(command);
        self.ctx.request_repaint();
    }
}

impl eframe::App for SeesayApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.apply_style(ctx);
        self.drain_events(std::time::Duration::from_millis(10));
        self.drain_inbox();
        self.drain_loader();
        self.drain_remote();
        looking::read_keys(ctx, &mut self.looking);
        self.read_shortcuts(ctx);
        self.read_dropped_files(ctx);
        self.run_commands();
        self.poll_speech();
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.name_window(ui.ctx());
        self.track_panels(ui.ctx());
        let before = self.state.settings.clone();
        let commands = panels::app_ui(ui, &mut self.state);
        self.commands.extend(commands);
        let look = looking::looking_ui(ui.ctx(), &mut self.looking, &self.state);
        self.commands.extend(look.commands);
        if let (Some(job), Some(worker)) = (look.job, &self.worker) {
            worker.send(crate::worker::Request::Look(job));
        }
        if self.state.settings != before {
            self.settings_changed(&before);
        }
        self.run_commands();
        self.request_thumbnails();
        if self.state.screenshot_pending
            || matches!(self.state.model, ModelState::Loading)
            || matches!(self.state.caption, CaptionState::Waiting)
            || self.state.speaking
        {
            // Keep polling for speech ending; the worker wakes us for its own events.
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(250));
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, settings::STORAGE_KEY, &self.state.settings);
    }
}

impl SeesayApp {
    /// Names the window after the picture ("seesay: chelsea.jpg"): its title, and the name of
    /// the accessibility tree's root (the frame a screen reader announces).
    fn name_window(&mut self, ctx: &egui::Context) {
        let title = match &self.state.shown {
            Some(shown) => format!("seesay: {}", shown.label),
            None => "seesay".to_owned(),
        };
        self.state.window_renamed = title != self.title;
        if self.state.window_renamed {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title.clone();
        }
        ctx.accesskit_node_builder(egui::accesskit_root_id(), |node| node.set_label(title));
    }

    /// Help and Settings take the focus when they open and give it back when they close.
    fn track_panels(&mut self, ctx: &egui::Context) {
        let now = (self.state.show_help, self.state.show_settings);
        let (was_help, was_settings) = self.panels_open;
        if (now.0 && !was_help) || (now.1 && !was_settings) {
            if !was_help && !was_settings {
                self.focus_before_panel = ctx.memory(egui::Memory::focused);
            }
            self.state.focus_help = now.0 && !was_help;
            self.state.focus_settings = now.1 && !was_settings;
        }
        if !now.0 && !now.1 && (was_help || was_settings) {
            if let Some(id) = self.focus_before_panel.take().or(self.state.caption_id) {
                ctx.memory_mut(|m| m.request_focus(id));
            }
        }
        self.panels_open = now;
    }

    /// Asks the accessibility bus, on a helper thread, whether a screen reader runs.
    fn detect_screen_reader(&mut self) {
        let tx = self.inbox_tx.clone();
        let ctx = self.ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("seesay-screen-reader".into())
            .spawn(move || {
                // No bus or no answer: take it that none runs, seesay's voice speaks.
                let running = desktop::screen_reader_enabled().unwrap_or(false);
                let _ = tx.send(Inbox::ScreenReader(running));
                ctx.request_repaint();
            });
        if let Err(e) = spawned {
            self.log(&format!("cannot ask whether a screen reader runs: {e}"));
        }
    }
}

/// Opens the window with `paths` and the model, and runs until it is closed.
pub fn run(paths: Vec<PathBuf>, model: ModelSource) -> anyhow::Result<()> {
    let config = AppConfig::new(paths, model);
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("seesay")
            .with_app_id("seesay")
            .with_inner_size([1100.0, 760.0])
            .with_min_inner_size([480.0, 360.0])
            .with_drag_and_drop(true),
        // Ctrl+V and Ctrl+C reach the app as keys, so an empty clipboard can be reported.
        clipboard_shortcuts: false,
        ..Default::default()
    };
    eframe::run_native(
        "seesay",
        options,
        Box::new(move |cc| Ok(Box::new(SeesayApp::new(cc, config, Services::system())))),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))
    .context("cannot open the seesay window")
}
