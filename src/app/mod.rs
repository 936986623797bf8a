//! The seesay window: open, paste, drop, screenshot or browse a picture, see and hear its caption.
//!
//! `state` holds what is shown, `panels` draws it and returns [`Command`]s, `logic` runs the
//! commands and drains the worker's events. The model lives on the worker thread; this module
//! never sees a tensor.

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
use crate::sources::{Clipboard, ScreenCapture, SystemClipboard, SystemScreen};
use crate::speech::{SilentSpeaker, Speaker, TtsSpeaker};
use crate::worker::Worker;

pub use settings::{Settings, Theme};
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
        }
    }
}

/// The outside world the app talks to: swapped for fakes in tests.
pub struct Services {
    /// Reads captions aloud.
    pub speaker: Box<dyn Speaker>,
    /// The clipboard.
    pub clipboard: Box<dyn Clipboard>,
    /// Screenshots of the screen and of the active window (shared with the capture thread).
    pub screen: std::sync::Arc<dyn ScreenCapture>,
}

impl Services {
    /// The system's speech engine (or a silent stand-in that says why) and clipboard.
    pub fn system() -> Self {
        let speaker: Box<dyn Speaker> = match TtsSpeaker::new() {
            Ok(s) => Box::new(s),
            Err(reason) => Box::new(SilentSpeaker::new(reason)),
        };
        Self {
            speaker,
            clipboard: Box::new(SystemClipboard::new()),
            screen: std::sync::Arc::new(SystemScreen),
        }
    }
}

/// Messages from short-lived helper threads (file dialogs, screenshots) to the app.
enum Inbox {
    Opened(Option<PathBuf>),
    /// A capture of the screen or of a window: its label and pixels, or why it failed.
    Screenshot(Result<(String, image::DynamicImage), String>),
}

/// The eframe app.
pub struct SeesayApp {
    state: AppState,
    worker: Option<Worker>,
    /// Decodes pictures and thumbnails off the UI thread (`None`: it could not start, and
    /// pictures are decoded in place).
    loader: Option<loader::Loader>,
    services: Services,
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
        let mut app = Self {
            state: AppState::new(settings.sanitized()),
            worker: None,
            loader: None,
            services,
            remote: None,
            hotkeys: None,
            ctx: ctx.clone(),
            inbox_tx,
            inbox_rx,
            commands: Vec::new(),
            applied_style: None,
            print_captions: config.print_captions,
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
        app.init_speech();
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
