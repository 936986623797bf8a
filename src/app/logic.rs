//! The app's logic step: runs queued commands, drains the worker's events within a time budget,
//! reads shortcuts and dropped files, and drives speech.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{Key, KeyboardShortcut, Modifiers};
use image::DynamicImage;

use super::loader::{self, Loaded, Source};
use super::settings::Settings;
use super::state::{
    CaptionState, Command, Folder, Message, MessageKind, ModelState, Nav, Shown, Thumb, TypedPath,
};
use super::{Inbox, SeesayApp};
use crate::describer::Description;
use crate::sources::{self, ClipboardContent, NoDialog, Opened};
use crate::speech::{SpeakerFactory, SpeechNotice, SpeechThread};
use crate::worker::{Event, Job, JobInput, Request};

const PAGE: usize = 10;

/// What a screenshot captures.
#[derive(Debug, Clone, Copy)]
enum Capture {
    /// The chosen monitor.
    Screen,
    /// The active window that is not seesay's.
    Window,
}

impl SeesayApp {
    /// Starts the speech thread, which connects to the engine, and queues the voice and rate
    /// settings for it. Nothing here waits for the engine.
    pub(super) fn init_speech(&mut self, factory: SpeakerFactory, timeout: Duration) {
        let waker_ctx = self.ctx.clone();
        match SpeechThread::spawn(
            factory,
            timeout,
            Arc::new(move || waker_ctx.request_repaint()),
        ) {
            Ok(mut speech) => {
                speech.set_rate(self.state.settings.rate);
                speech.set_voice(&self.state.settings.voice);
                self.speech = Some(speech);
            }
            Err(reason) => self.speech_unavailable(reason),
        }
    }

    /// Says once, on screen and to the screen reader, that there is no voice, and why.
    fn speech_unavailable(&mut self, reason: String) {
        if self.state.speech_unavailable.is_some() {
            return;
        }
        self.log(&format!("speech unavailable: {reason}"));
        self.state.speech_unavailable = Some(reason.clone());
        self.state.speaking = false;
        self.show(
            MessageKind::Error,
            format!("Speech unavailable: {reason}. Captions are still shown."),
        );
    }

    /// Runs every queued command, in order.
    pub(super) fn run_commands(&mut self) {
        while !self.commands.is_empty() {
            let batch = std::mem::take(&mut self.commands);
            for command in batch {
                self.run_command(command);
            }
        }
    }

    fn run_command(&mut self, command: Command) {
        match command {
            Command::OpenDialog => self.open_dialog(false),
            Command::OpenFolderDialog => self.open_dialog(true),
            Command::Open(path) => self.open(&path),
            Command::Paste => self.paste(),
            Command::CopyCaption => self.copy_caption(),
            Command::CopyText => self.copy_text(),
            Command::SpeakLine(line) => self.speak(&line),
            Command::Screenshot => self.screenshot(Capture::Screen),
            Command::ScreenshotWindow => self.screenshot(Capture::Window),
            Command::Navigate(nav) => self.navigate(nav),
            Command::Speak => self.speak_current(),
            Command::StopSpeech => self.stop_speech(),
            Command::ToggleHelp => self.state.show_help = !self.state.show_help,
            Command::ToggleSettings => {
                self.state.show_settings = !self.state.show_settings;
                if self.state.show_settings {
                    // Not an error worth speaking: the list just stays empty.
                    self.state.monitors = sources::monitors().unwrap_or_default();
                }
            }
            Command::ClosePanels => {
                self.state.show_help = false;
                self.state.show_settings = false;
            }
            Command::DismissMessage => self.state.message = None,
            Command::Recaption => self.recaption(),
            Command::OpenTypedPath => {
                if let Some(typed) = self.state.typed_path.take() {
                    let text = typed.text.trim();
                    if text.is_empty() {
                        self.state.typed_path = Some(TypedPath {
                            focus: true,
                            ..typed
                        });
                        self.error("Type a path first, then press Enter.".to_owned());
                    } else {
                        let path = expand_home(text);
                        self.open(&path);
                    }
                }
            }
            Command::CancelTypedPath => self.state.typed_path = None,
        }
    }

    /// Reads the keyboard shortcuts into commands.
    pub(super) fn read_shortcuts(&mut self, ctx: &egui::Context) {
        let command = |m, k| KeyboardShortcut::new(m, k);
        let table: [(KeyboardShortcut, Command); 9] = [
            // Shift variants first: Ctrl+O also matches Ctrl+Shift+O (shift is ignored).
            (
                command(Modifiers::COMMAND | Modifiers::SHIFT, Key::O),
                Command::OpenFolderDialog,
            ),
            (command(Modifiers::COMMAND, Key::O), Command::OpenDialog),
            (command(Modifiers::COMMAND, Key::V), Command::Paste),
            (command(Modifiers::COMMAND, Key::C), Command::CopyCaption),
            (
                command(Modifiers::COMMAND | Modifiers::SHIFT, Key::S),
                Command::Screenshot,
            ),
            (
                command(Modifiers::COMMAND | Modifiers::SHIFT, Key::W),
                Command::ScreenshotWindow,
            ),
            (command(Modifiers::NONE, Key::F5), Command::Speak),
            (command(Modifiers::NONE, Key::F1), Command::ToggleHelp),
            (
                command(Modifiers::COMMAND, Key::Comma),
                Command::ToggleSettings,
            ),
        ];
        let browse: [(Key, Nav); 8] = [
            (Key::ArrowRight, Nav::Next),
            (Key::ArrowDown, Nav::Next),
            (Key::ArrowLeft, Nav::Previous),
            (Key::ArrowUp, Nav::Previous),
            (Key::PageDown, Nav::PageDown),
            (Key::PageUp, Nav::PageUp),
            (Key::Home, Nav::First),
            (Key::End, Nav::Last),
        ];
        let browsing = self.keys_browse(ctx);
        // In a text field, Ctrl+V and Ctrl+C are the field's.
        let typing = ctx.egui_wants_keyboard_input();
        let typed_path = self.state.typed_path.is_some();
        let mut found = Vec::new();
        let mut browsed = false;
        ctx.input_mut(|i| {
            for (shortcut, cmd) in &table {
                let clipboard = matches!(cmd, Command::Paste | Command::CopyCaption);
                if !(typing && clipboard) && i.consume_shortcut(shortcut) {
                    found.push(cmd.clone());
                }
            }
            if browsing {
                for (key, nav) in browse {
                    if i.consume_key(Modifiers::NONE, key) {
                        found.push(Command::Navigate(nav));
                        browsed = true;
                    }
                }
            }
            if i.consume_key(Modifiers::NONE, Key::Escape) {
                found.push(Command::StopSpeech);
                found.push(Command::ClosePanels);
                if typed_path {
                    found.push(Command::CancelTypedPath);
                }
            }
            // When the platform turns Ctrl+V / Ctrl+C into clipboard events, honour those too.
            // Not while a text field has the focus: there they edit the field.
            if !typing {
                for event in &i.events {
                    match event {
                        egui::Event::Paste(_) | egui::Event::PasteImage(_) => {
                            found.push(Command::Paste)
                        }
                        egui::Event::Copy => found.push(Command::CopyCaption),
                        _ => {}
                    }
                }
            }
        });
        if browsed {
            // An arrow changes the picture, so it must not also move the focus (egui moves
            // it with the arrows between widgets); a focused thumbnail follows the picture.
            ctx.memory_mut(|m| m.move_focus(egui::FocusDirection::None));
            self.focus_follows_picture = ctx
                .memory(egui::Memory::focused)
                .is_some_and(|id| self.is_thumbnail(id));
        }
        self.commands.extend(found);
    }

    /// The arrows, Page Up/Down, Home and End move through the folder only where that is what
    /// they mean: nothing has the focus, or the caption or a thumbnail has it, and neither Help
    /// nor Settings is open. Elsewhere they are the focused control's (a slider, a text field).
    fn keys_browse(&self, ctx: &egui::Context) -> bool {
        if self.state.folder.is_none() || self.state.show_help || self.state.show_settings {
            return false;
        }
        match ctx.memory(egui::Memory::focused) {
            None => true,
            Some(id) => Some(id) == self.state.caption_id || self.is_thumbnail(id),
        }
    }

    fn is_thumbnail(&self, id: egui::Id) -> bool {
        self.state
            .folder
            .as_ref()
            .is_some_and(|f| (0..f.images.len()).any(|i| super::panels::thumb_id(i) == id))
    }

    /// Opens files dropped on the window.
    pub(super) fn read_dropped_files(&mut self, ctx: &egui::Context) {
        let dropped = ctx.input(|i| i.raw.dropped_files.clone());
        let Some(file) = dropped.into_iter().next() else {
            return;
        };
        self.commands.push(Command::Open(file.path().to_path_buf()));
    }

    /// Handles the worker's events for at most `budget`.
    pub(super) fn drain_events(&mut self, budget: Duration) {
        let start = Instant::now();
        while start.elapsed() < budget {
            let Some(event) = self.worker.as_ref().and_then(|w| w.try_recv()) else {
                break;
            };
            self.on_event(event);
        }
        if self.worker.as_ref().is_some() && start.elapsed() >= budget {
            self.ctx.request_repaint();
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Loading => self.state.model = ModelState::Loading,
            Event::ModelLoaded { name, device } => {
                self.log(&format!("model: {name} on {device}"));
                self.state.model = ModelState::Ready { name, device };
            }
            Event::ModelFailed { message } => {
                self.state.model = ModelState::Failed(message.clone());
                self.error(message);
            }
            Event::Busy { .. } => {}
            Event::Captioned { id, path, result } => {
                if let Some(p) = &path {
                    self.state.cache.insert(p.clone(), result.clone());
                }
                let waiting_for_it = matches!(self.state.caption, CaptionState::Waiting)
                    && path.is_some()
                    && self.state.shown.as_ref().and_then(|s| s.path.as_ref()) == path.as_ref();
                if (id != 0 && id == self.state.job_id) || waiting_for_it {
                    self.caption_ready(result);
                }
            }
            Event::Failed { id, message, .. } => {
                if id != 0 && id == self.state.job_id {
                    self.state.caption = CaptionState::Failed(message.clone());
                    self.error(message);
                }
            }
            Event::Looked { id, result } => self.looking.on_result(id, result),
            Event::Crashed { message } => self.log(&format!("worker crashed: {message}")),
            Event::Stopped(reason) => {
                let message = match reason {
                    Some(r) => format!("The captioning thread stopped: {r}"),
                    None => "The captioning thread stopped.".to_owned(),
                };
                self.state.model = ModelState::Failed(message.clone());
                self.worker = None;
                self.error(message);
            }
        }
    }

    /// Handles results from file dialogs and screenshots.
    pub(super) fn drain_inbox(&mut self) {
        while let Ok(message) = self.inbox_rx.try_recv() {
            match message {
                Inbox::Opened(path) => {
                    self.state.dialog_open = false;
                    if let Some(path) = path {
                        self.open(&path);
                    }
                }
                Inbox::Hotkeys(Ok(hotkeys)) => self.hotkeys = Some(hotkeys),
                Inbox::Hotkeys(Err(e)) => {
                    self.log(&format!("no global keys: {e}"));
                    self.show(MessageKind::Info, format!("No global keys: {e}."));
                }
                Inbox::ScreenReader(running) => {
                    self.log(&format!("screen reader running: {running}"));
                    self.state.screen_reader = running;
                }
                Inbox::NoDialog { folder } => {
                    self.state.dialog_open = false;
                    self.state.typed_path = Some(TypedPath {
                        text: String::new(),
                        folder,
                        focus: true,
                    });
                    let what = if folder { "folder" } else { "picture" };
                    self.error(format!(
                        "No file dialog is available (install zenity or xdg-desktop-portal). \
                         Type the path of the {what} and press Enter."
                    ));
                }
                Inbox::Screenshot(result) => {
                    self.state.screenshot_pending = false;
                    self.ctx
                        .send_viewport_cmd(egui::ViewportCommand::Visible(true));
                    self.ctx.send_viewport_cmd(egui::ViewportCommand::Focus);
                    match result {
                        Ok((label, image)) => {
                            self.state.folder = None;
                            self.show_image(label, image);
                        }
                        Err(e) => self.error(e),
                    }
                }
            }
        }
    }

    /// Listens for `seesay --describe-screen` at `path`; a failure is told once, never fatal.
    pub(super) fn listen(&mut self, path: &Path) {
        let waker_ctx = self.ctx.clone();
        match crate::remote::Listener::start(path, Arc::new(move || waker_ctx.request_repaint())) {
            Ok(listener) => self.remote = Some(listener),
            Err(e) => {
                self.log(&format!("not listening for --describe-screen: {e}"));
                self.show(
                    MessageKind::Info,
                    format!("seesay --describe-screen will not reach this window: {e}."),
                );
            }
        }
    }

    /// Grabs the global keys on a helper thread (grabbing waits on the X server, which must
    /// never stall a frame); the result comes back through the inbox, a failure told once.
    pub(super) fn grab_hotkeys(&mut self) {
        let waker_ctx = self.ctx.clone();
        let tx = self.inbox_tx.clone();
        let ctx = self.ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("seesay-hotkeys".into())
            .spawn(move || {
                let grabbed =
                    super::hotkey::Hotkeys::register(Arc::new(move || waker_ctx.request_repaint()));
                let _ = tx.send(Inbox::Hotkeys(grabbed));
                ctx.request_repaint();
            });
        if let Err(e) = spawned {
            self.log(&format!("no global keys: cannot start their thread ({e})"));
        }
    }

    /// Turns requests from `seesay --describe-screen` / `--describe-window`, and global keys
    /// pressed, into commands.
    pub(super) fn drain_remote(&mut self) {
        while let Some(command) = self.hotkeys.as_ref().and_then(|h| h.try_recv()) {
            self.commands.push(command);
        }
        while let Some(request) = self.remote.as_ref().and_then(|r| r.try_recv()) {
            self.commands.push(match request {
                crate::remote::Request::DescribeScreen => Command::Screenshot,
                crate::remote::Request::DescribeWindow => Command::ScreenshotWindow,
            });
        }
    }

    /// Handles what the speech thread reports, and notices when it stops answering.
    pub(super) fn poll_speech(&mut self) {
        let Some(speech) = &mut self.speech else {
            return;
        };
        let notices = speech.poll();
        let next_check = speech.next_check();
        for notice in notices {
            match notice {
                SpeechNotice::Ready { voices } => self.state.voices = voices,
                SpeechNotice::Unavailable(reason) => self.speech_unavailable(reason),
                SpeechNotice::Recovered => {
                    self.log("speech answers again");
                    self.state.speech_unavailable = None;
                }
                // Shown, not spoken: speaking is what failed.
                SpeechNotice::Failed(e) => self.show(MessageKind::Error, e),
                SpeechNotice::Finished => self.state.speaking = false,
            }
        }
        if let Some(wait) = next_check {
            // The watchdog needs a frame when the time limit runs out.
            self.ctx
                .request_repaint_after(wait + Duration::from_millis(20));
        }
    }

    /// Reacts to edited settings: speech, caching, style.
    pub(super) fn settings_changed(&mut self, before: &Settings) {
        let now = self.state.settings.clone().sanitized();
        self.state.settings = now.clone();
        if let Some(speech) = &mut self.speech {
            if now.rate != before.rate {
                speech.set_rate(now.rate);
            }
            if now.voice != before.voice {
                speech.set_voice(&now.voice);
            }
        }
        if now.caption_options() != before.caption_options() {
            self.state.cache.clear();
            self.send(Request::ClearCache);
            self.commands.push(Command::Recaption);
        }
    }

    fn open_dialog(&mut self, folder: bool) {
        if self.state.dialog_open {
            return;
        }
        self.state.dialog_open = true;
        let tx = self.inbox_tx.clone();
        let ctx = self.ctx.clone();
        let picker = self.io.picker.clone();
        let spawned = std::thread::Builder::new()
            .name("seesay-dialog".into())
            .spawn(move || {
                let message = match picker.pick(folder) {
                    Ok(path) => Inbox::Opened(path),
                    Err(NoDialog) => Inbox::NoDialog { folder },
                };
                let _ = tx.send(message);
                ctx.request_repaint();
            });
        if let Err(e) = spawned {
            self.state.dialog_open = false;
            self.error(format!("Cannot open the file dialog: {e}"));
        }
    }

    /// Opens an image or a folder given by the user.
    fn open(&mut self, path: &Path) {
        match sources::resolve(path) {
            Err(message) => self.error(message),
            Ok(Opened::Folder { images, .. }) => {
                self.state.strip.scrolled_to = None;
                self.state.folder = Some(Folder { images, index: 0 });
                self.show_folder_image();
            }
            Ok(Opened::Image { path, siblings }) => {
                let index = siblings.iter().position(|p| same_file(p, &path));
                self.state.strip.scrolled_to = None;
                self.state.folder = match index {
                    Some(index) if siblings.len() > 1 => Some(Folder {
                        images: siblings,
                        index,
                    }),
                    _ => None,
                };
                self.show_file(path);
            }
        }
    }

    fn navigate(&mut self, nav: Nav) {
        let Some(folder) = &mut self.state.folder else {
            return;
        };
        let last = folder.images.len().saturating_sub(1);
        let i = folder.index;
        let next = match nav {
            Nav::Next => (i + 1).min(last),
            Nav::Previous => i.saturating_sub(1),
            Nav::PageDown => (i + PAGE).min(last),
            Nav::PageUp => i.saturating_sub(PAGE),
            Nav::First => 0,
            Nav::Last => last,
            Nav::To(j) => j.min(last),
        };
        if next != i {
            folder.index = next;
            if std::mem::take(&mut self.focus_follows_picture) {
                let id = super::panels::thumb_id(next);
                self.ctx.memory_mut(|m| m.request_focus(id));
            }
            self.show_folder_image();
        }
    }

    fn show_folder_image(&mut self) {
        let Some(path) = self
            .state
            .folder
            .as_ref()
            .and_then(|f| f.images.get(f.index).cloned())
        else {
            return;
        };
        self.show_file(path);
    }

    fn show_file(&mut self, path: PathBuf) {
        let label = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        self.display(label, Some(path.clone()), Source::Path(path));
        self.prefetch_next();
    }

    /// Shows a picture already in memory (clipboard, screenshot) and captions it.
    fn show_image(&mut self, label: String, image: DynamicImage) {
        self.display(label, None, Source::Image(Arc::new(image)));
    }

    /// Shows a picture: at once its name and "Loading…", and its caption when cached; the loader
    /// thread decodes and scales it, and the caption job starts when its pixels are at hand.
    /// Every call is a new job id, so a slow older picture or caption can never replace it.
    fn display(&mut self, label: String, path: Option<PathBuf>, source: Source) {
        self.stop_speech_quietly();
        if self
            .state
            .message
            .as_ref()
            .is_some_and(|m| m.kind == MessageKind::Info)
        {
            self.state.message = None;
        }
        self.state.job_id += 1;
        let id = self.state.job_id;
        let in_memory = match &source {
            Source::Image(image) => Some(image.clone()),
            Source::Path(_) => None,
        };
        self.state.shown = Some(Shown {
            label,
            path: path.clone(),
            image: in_memory.clone(),
            warnings: Vec::new(),
            texture: None,
        });
        if let Some(cached) = path.as_ref().and_then(|p| self.state.cache.get(p)).cloned() {
            self.caption_ready(cached);
        } else {
            self.state.caption = CaptionState::Waiting;
            if let Some(image) = in_memory {
                self.caption_job(id, path.clone(), image);
            }
        }
        match &self.loader {
            Some(loader) => loader.display(id, path, source),
            None => {
                let result = loader::for_display(path.is_some(), source);
                self.on_loaded(Loaded::Display { id, path, result });
            }
        }
    }

    /// Handles decoded pictures and thumbnails from the loader thread.
    pub(super) fn drain_loader(&mut self) {
        while let Some(loaded) = self.loader.as_ref().and_then(|l| l.try_recv()) {
            self.on_loaded(loaded);
        }
    }

    fn on_loaded(&mut self, loaded: Loaded) {
        match loaded {
            Loaded::Thumb { path, result } => self.store_thumbnail(path, result),
            Loaded::Display { id, path, result } => {
                if let (Some(p), Ok(d)) = (&path, &result) {
                    if let Some(thumb) = &d.thumb {
                        self.store_thumbnail(p.clone(), Some(thumb.clone()));
                    }
                }
                if id != self.state.job_id {
                    return; // Superseded by a newer picture.
                }
                match result {
                    Ok(displayed) => {
                        let texture = self.ctx.load_texture(
                            "shown-image",
                            displayed.color,
                            egui::TextureOptions::LINEAR,
                        );
                        let Some(shown) = &mut self.state.shown else {
                            return;
                        };
                        shown.texture = Some(texture);
                        let arrived = shown.image.is_none();
                        shown.image = Some(displayed.image.clone());
                        shown.warnings = displayed.warnings;
                        if arrived && matches!(self.state.caption, CaptionState::Waiting) {
                            self.caption_job(id, path, displayed.image);
                        }
                    }
                    Err(e) => {
                        self.stop_speech_quietly();
                        let label = self
                            .state
                            .shown
                            .take()
                            .map_or_else(|| "the picture".to_owned(), |s| s.label);
                        let message = format!("Cannot open {label}: {e}");
                        self.state.caption = CaptionState::Failed(message.clone());
                        self.state.job_id += 1;
                        self.error(message);
                    }
                }
            }
        }
    }

    fn store_thumbnail(&mut self, path: PathBuf, pixels: Option<egui::ColorImage>) {
        let thumb = match pixels {
            Some(color) => Thumb::Ready(self.ctx.load_texture(
                format!("thumbnail {}", path.display()),
                color,
                egui::TextureOptions::LINEAR,
            )),
            None => Thumb::Failed,
        };
        self.state.strip.insert(path, thumb);
    }

    /// Asks the loader for the thumbnails the strip wants, when that list changed.
    pub(super) fn request_thumbnails(&mut self) {
        let strip = &mut self.state.strip;
        strip.frame += 1;
        if strip.wanted == strip.requested {
            return;
        }
        strip.requested = strip.wanted.clone();
        if let Some(loader) = &self.loader {
            loader.want_thumbnails(&strip.requested);
        } else {
            for path in std::mem::take(&mut strip.wanted) {
                let pixels = crate::preprocess::load_image(&path)
                    .ok()
                    .map(|image| loader::thumbnail(&image));
                self.store_thumbnail(path, pixels);
            }
        }
    }

    fn caption_job(&mut self, id: u64, path: Option<PathBuf>, image: Arc<DynamicImage>) {
        let warnings = self
            .state
            .shown
            .as_ref()
            .map(|s| s.warnings.clone())
            .unwrap_or_default();
        let job = Job {
            id,
            input: JobInput::Image {
                path,
                image,
                warnings,
            },
            options: self.state.settings.caption_options(),
        };
        self.send(Request::Caption(job));
    }

    fn recaption(&mut self) {
        let Some(shown) = &self.state.shown else {
            return;
        };
        let (path, image) = (shown.path.clone(), shown.image.clone());
        self.state.caption = CaptionState::Waiting;
        // Still loading: the job starts with the new options when the pixels arrive.
        if let Some(image) = image {
            self.state.job_id += 1;
            let id = self.state.job_id;
            self.caption_job(id, path, image);
        }
    }

    fn prefetch_next(&mut self) {
        let Some(next) = self
            .state
            .folder
            .as_ref()
            .and_then(|f| f.images.get(f.index + 1).cloned())
        else {
            return;
        };
        if !self.state.cache.contains_key(&next) {
            self.send(Request::Prefetch(
                next,
                self.state.settings.caption_options(),
            ));
        }
    }

    fn send(&mut self, request: Request) {
        let sent = self.worker.as_ref().is_some_and(|w| w.send(request));
        if !sent && matches!(self.state.caption, CaptionState::Waiting) {
            let message = "The captioning thread is not running; restart seesay.".to_owned();
            self.state.caption = CaptionState::Failed(message.clone());
            self.error(message);
        }
    }

    fn caption_ready(&mut self, result: Box<Description>) {
        self.state.timings = Some(result.captioned.timings);
        self.state.caption = CaptionState::Ready(result);
        // With nothing focused, the caption takes the focus: a screen reader then reads each new
        // caption as a change of the focused item's name (Orca 43 presents that, and ignores
        // announcements), and the arrows go on browsing from there.
        if let Some(id) = self.state.caption_id {
            if self.ctx.memory(egui::Memory::focused).is_none() {
                self.ctx.memory_mut(|m| m.request_focus(id));
            }
        }
        if let Some(text) = self.state.caption_text() {
            self.log(&format!("caption: {text}"));
            // With the screen reader speaking, the caption reaches it as a live region.
            if self.state.settings.auto_speak && self.state.speaks_with_voice() {
                self.speak(&text);
            }
        }
    }

    fn paste(&mut self) {
        match self.io.clipboard.read() {
            Ok(ClipboardContent::Image(image)) => {
                self.state.folder = None;
                self.show_image("Pasted image".to_owned(), image);
            }
            Ok(ClipboardContent::Files(files)) => {
                if let Some(first) = files.first() {
                    self.open(first);
                }
            }
            Ok(ClipboardContent::Text(_)) => self.error(
                "The clipboard holds text, not an image. Copy an image or an image file, then paste."
                    .to_owned(),
            ),
            Ok(ClipboardContent::Empty) => self.error(
                "The clipboard is empty. Copy an image or an image file, then paste.".to_owned(),
            ),
            Err(e) => self.error(e),
        }
    }

    fn copy_caption(&mut self) {
        let Some(text) = self.state.caption_text() else {
            self.show(
                MessageKind::Info,
                "There is no caption to copy yet.".to_owned(),
            );
            return;
        };
        match self.io.clipboard.write_text(&text) {
            Ok(()) => self.show(
                MessageKind::Info,
                "Caption copied to the clipboard.".to_owned(),
            ),
            Err(e) => self.error(e),
        }
    }

    fn copy_text(&mut self) {
        let text = match &self.state.caption {
            CaptionState::Ready(d) => d.reading.as_ref().map(|r| r.text()),
            _ => None,
        };
        let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
            self.show(
                MessageKind::Info,
                "No text was read in this picture.".to_owned(),
            );
            return;
        };
        match self.io.clipboard.write_text(&text) {
            Ok(()) => self.show(
                MessageKind::Info,
                "Text copied to the clipboard.".to_owned(),
            ),
            Err(e) => self.error(e),
        }
    }

    /// Hides the window, waits for it to go and for the delay, then captures on a helper thread.
    fn screenshot(&mut self, what: Capture) {
        if self.state.screenshot_pending {
            return;
        }
        self.state.screenshot_pending = true;
        self.stop_speech_quietly();
        self.ctx
            .send_viewport_cmd(egui::ViewportCommand::Visible(false));
        let delay = Duration::from_secs(u64::from(self.state.settings.screenshot_delay_s))
            .max(Duration::from_millis(500));
        let monitor = self.state.settings.monitor;
        let screen = self.io.screen.clone();
        let tx = self.inbox_tx.clone();
        let ctx = self.ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("seesay-screenshot".into())
            .spawn(move || {
                std::thread::sleep(delay);
                let result = match what {
                    Capture::Screen => screen
                        .screen(monitor)
                        .map(|image| ("Screenshot".to_owned(), image)),
                    Capture::Window => screen
                        .active_window()
                        .map(|shot| (format!("Window: {}", shot.label), shot.image)),
                };
                let _ = tx.send(Inbox::Screenshot(result));
                ctx.request_repaint();
            });
        if let Err(e) = spawned {
            self.state.screenshot_pending = false;
            self.ctx
                .send_viewport_cmd(egui::ViewportCommand::Visible(true));
            self.error(format!("Cannot take a screenshot: {e}"));
        }
    }

    fn speak_current(&mut self) {
        let text = match (&self.state.caption, &self.state.message) {
            (CaptionState::Ready(_), _) => self.state.caption_text(),
            (_, Some(m)) => Some(m.text.clone()),
            (CaptionState::Waiting, None) => Some("Still describing the picture.".to_owned()),
            _ => Some("No picture is open. Press Control O to open one.".to_owned()),
        };
        if let Some(text) = text {
            self.speak(&text);
        }
    }

    /// Queues `text` for the speech thread; never waits for the engine.
    fn speak(&mut self, text: &str) {
        self.state.speaking = self.speech.as_mut().is_some_and(|s| s.speak(text));
    }

    fn stop_speech(&mut self) {
        if let Some(speech) = &mut self.speech {
            speech.stop();
        }
        self.state.speaking = false;
    }

    fn stop_speech_quietly(&mut self) {
        if self.state.speaking {
            self.stop_speech();
        }
    }

    /// Shows an error and speaks it (with seesay's voice, or as a live region the screen
    /// reader announces, or both, as the settings say).
    pub(super) fn error(&mut self, text: String) {
        self.log(&format!("error: {text}"));
        self.show(MessageKind::Error, text.clone());
        if self.state.speaks_with_voice() {
            self.speak(&text);
        }
    }

    fn show(&mut self, kind: MessageKind, text: String) {
        self.state.message = Some(Message { text, kind });
    }

    pub(super) fn log(&self, line: &str) {
        if self.print_captions {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    }
}

/// A typed path, with a leading `~` meaning the home folder.
fn expand_home(text: &str) -> PathBuf {
    match (text.strip_prefix('~'), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            PathBuf::from(home).join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(text),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        }
}
