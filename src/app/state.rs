//! What the window shows, as plain data, and the commands that change it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use image::DynamicImage;

use super::settings::{Settings, SpeakWith};
use crate::captioner::Timings;
use crate::describer::Description;

/// Where the model stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelState {
    /// The worker is loading it.
    Loading,
    /// Ready to caption.
    Ready {
        /// The model's name.
        name: String,
        /// "CPU" or "CUDA".
        device: String,
    },
    /// It could not be loaded; why.
    Failed(String),
}

/// The caption of the image shown.
#[derive(Debug, Clone, PartialEq)]
pub enum CaptionState {
    /// No image yet.
    Empty,
    /// The worker is captioning it.
    Waiting,
    /// Done.
    Ready(Box<Description>),
    /// Captioning failed; why.
    Failed(String),
}

/// The image on screen.
pub struct Shown {
    /// What to call it ("coffee.jpg", "Pasted image", "Screenshot").
    pub label: String,
    /// The file, when it came from one.
    pub path: Option<PathBuf>,
    /// The pixels; `None` while the loader thread decodes the file.
    pub image: Option<Arc<DynamicImage>>,
    /// What is wrong with its file (it ends early), said before its caption.
    pub warnings: Vec<crate::preprocess::Warning>,
    /// The GPU texture (at most 2048 pixels on a side); `None` while loading.
    pub texture: Option<egui::TextureHandle>,
}

/// A thumbnail of the folder strip.
pub enum Thumb {
    /// Decoded and uploaded.
    Ready(egui::TextureHandle),
    /// The file could not be decoded: a placeholder is drawn.
    Failed,
}

/// The strip of thumbnails under a folder's picture.
#[derive(Default)]
pub struct Strip {
    /// Thumbnails made so far, with the frame that last drew each (the least recently drawn
    /// are forgotten first when there are too many).
    pub thumbs: HashMap<PathBuf, (Thumb, u64)>,
    /// Set by the strip each frame: the files it shows or is about to show that have no
    /// thumbnail yet, most wanted first.
    pub wanted: Vec<PathBuf>,
    /// The list last sent to the loader thread.
    pub requested: Vec<PathBuf>,
    /// The picture the strip last scrolled into view; `None` scrolls again.
    pub scrolled_to: Option<usize>,
    /// The strip's scroll offset and width last frame (points).
    pub view: (f32, f32),
    /// Frames drawn, for forgetting old thumbnails.
    pub frame: u64,
}

impl Strip {
    /// How many thumbnails are kept at most.
    pub const KEEP: usize = 400;

    /// The thumbnail of `path`, marked as drawn this frame.
    pub fn get(&mut self, path: &std::path::Path) -> Option<&Thumb> {
        let frame = self.frame;
        self.thumbs.get_mut(path).map(|(thumb, used)| {
            *used = frame;
            &*thumb
        })
    }

    /// Stores a thumbnail, forgetting the least recently drawn ones beyond [`Self::KEEP`].
    pub fn insert(&mut self, path: PathBuf, thumb: Thumb) {
        self.thumbs.insert(path, (thumb, self.frame));
        if self.thumbs.len() > Self::KEEP {
            let mut by_age: Vec<(u64, PathBuf)> = self
                .thumbs
                .iter()
                .map(|(p, (_, used))| (*used, p.clone()))
                .collect();
            by_age.sort_unstable_by_key(|(used, _)| *used);
            let excess = self.thumbs.len() - Self::KEEP * 3 / 4;
            for (_, p) in by_age.into_iter().take(excess) {
                self.thumbs.remove(&p);
            }
        }
    }
}

/// A folder being browsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    /// Its images, in order.
    pub images: Vec<PathBuf>,
    /// The one shown.
    pub index: usize,
}

impl Folder {
    /// "12 of 240".
    pub fn position(&self) -> String {
        format!("{} of {}", self.index + 1, self.images.len())
    }
}

/// How serious a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// Something happened ("Caption copied").
    Info,
    /// Something failed.
    Error,
}

/// A message shown above the image (and spoken when it is an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The text.
    pub text: String,
    /// Info or error.
    pub kind: MessageKind,
}

/// Moving through a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// The next image.
    Next,
    /// The previous image.
    Previous,
    /// Ten images on.
    PageDown,
    /// Ten images back.
    PageUp,
    /// The first image.
    First,
    /// The last image.
    Last,
    /// The image at this position (0-based), as when its thumbnail is clicked.
    To(usize),
}

/// What panels and shortcuts ask the app to do; the logic step runs them after drawing.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Show the file dialog.
    OpenDialog,
    /// Show the folder dialog.
    OpenFolderDialog,
    /// Open an image file or a folder.
    Open(PathBuf),
    /// Read the clipboard.
    Paste,
    /// Copy the caption to the clipboard.
    CopyCaption,
    /// Copy the text read in the picture to the clipboard.
    CopyText,
    /// Speak one line of the text read.
    SpeakLine(String),
    /// Hide the window and capture the screen.
    Screenshot,
    /// Hide the window and capture the active window (not seesay's).
    ScreenshotWindow,
    /// Move through the folder.
    Navigate(Nav),
    /// Speak the caption (again).
    Speak,
    /// Stop speaking.
    StopSpeech,
    /// Show or hide the Help panel.
    ToggleHelp,
    /// Show or hide the Settings panel.
    ToggleSettings,
    /// Close the Help and Settings panels.
    ClosePanels,
    /// Hide the message.
    DismissMessage,
    /// Caption the shown image again (options changed).
    Recaption,
    /// Open the path typed in the field shown when there is no file dialog.
    OpenTypedPath,
    /// Hide that field.
    CancelTypedPath,
}

/// Everything the window shows.
pub struct AppState {
    /// The user's settings.
    pub settings: Settings,
    /// The model's state.
    pub model: ModelState,
    /// The image shown.
    pub shown: Option<Shown>,
    /// The folder browsed, if any.
    pub folder: Option<Folder>,
    /// The folder's thumbnails.
    pub strip: Strip,
    /// The caption of the shown image.
    pub caption: CaptionState,
    /// The id of the newest caption job; results of older ones are ignored.
    pub job_id: u64,
    /// Captions of files seen this session.
    pub cache: HashMap<PathBuf, Box<Description>>,
    /// The message shown.
    pub message: Option<Message>,
    /// Timings of the last caption.
    pub timings: Option<Timings>,
    /// Help panel open.
    pub show_help: bool,
    /// Settings panel open.
    pub show_settings: bool,
    /// True while speech is playing.
    pub speaking: bool,
    /// True while the window is hidden for a screenshot.
    pub screenshot_pending: bool,
    /// True while a file dialog is open.
    pub dialog_open: bool,
    /// The voices of the speech engine.
    pub voices: Vec<String>,
    /// Why there is no voice, if there is none.
    pub speech_unavailable: Option<String>,
    /// The monitors a screenshot can capture (read when Settings opens).
    pub monitors: Vec<crate::sources::MonitorInfo>,
    /// A screen reader is running (the accessibility bus says so).
    pub screen_reader: bool,
    /// The caption's node, drawn last frame: the arrow keys browse pictures from it.
    pub caption_id: Option<egui::Id>,
    /// The window's name changed this frame (a new picture).
    pub window_renamed: bool,
    /// The caption as the caption node's name on the accessibility tree.
    pub bus_caption: AfterRename,
    /// The caption as the shown thumbnail's description on the accessibility tree.
    pub bus_thumb_caption: AfterRename,
    /// A path typed by hand, when there is no file dialog (`None`: the field is hidden).
    pub typed_path: Option<TypedPath>,
    /// Help has just opened: its first control takes the focus this frame.
    pub focus_help: bool,
    /// Settings has just opened: its first control takes the focus this frame.
    pub focus_settings: bool,
}

/// Text a screen reader speaks when it changes, which changes one frame after the window's
/// name. Orca 43 speaks both the active window's new name and the focused item's by
/// interrupting what it is saying; in one accessibility update the two reach it in no set
/// order, and with a cached caption Orca logged the new caption and then, 13 ms later, the
/// window's name, which cut the caption off. One frame later, the caption comes last.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AfterRename {
    text: Option<String>,
}

impl AfterRename {
    /// The text to put on the tree this frame: `new`, or the text of last frame if the window
    /// was renamed this frame (a repaint is then asked for, to bring `new` next frame).
    pub fn get(&mut self, new: &str, window_renamed: bool, ctx: &egui::Context) -> String {
        match &self.text {
            Some(old) if window_renamed && old != new => {
                ctx.request_repaint();
                old.clone()
            }
            _ => {
                self.text = Some(new.to_owned());
                new.to_owned()
            }
        }
    }
}

/// The field for typing a path, shown when no file dialog could be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedPath {
    /// The text typed so far.
    pub text: String,
    /// A folder is wanted (Ctrl+Shift+O), not a picture.
    pub folder: bool,
    /// Give the field the keyboard focus on its next frame.
    pub focus: bool,
}

impl AppState {
    /// A window with nothing opened yet.
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            model: ModelState::Loading,
            shown: None,
            folder: None,
            strip: Strip::default(),
            caption: CaptionState::Empty,
            job_id: 0,
            cache: HashMap::new(),
            message: None,
            timings: None,
            show_help: false,
            show_settings: false,
            speaking: false,
            screenshot_pending: false,
            dialog_open: false,
            voices: Vec::new(),
            speech_unavailable: None,
            monitors: Vec::new(),
            screen_reader: false,
            caption_id: None,
            window_renamed: false,
            bus_caption: AfterRename::default(),
            bus_thumb_caption: AfterRename::default(),
            typed_path: None,
            focus_help: false,
            focus_settings: false,
        }
    }

    /// Captions and errors are read with seesay's own voice.
    pub fn speaks_with_voice(&self) -> bool {
        match self.settings.speak_with {
            SpeakWith::Automatic => !self.screen_reader,
            SpeakWith::Voice | SpeakWith::Both => true,
            SpeakWith::ScreenReader => false,
        }
    }

    /// Captions and messages are live regions, announced by the screen reader. Also when there
    /// is no voice: then the screen reader is the only way to hear them.
    pub fn announces_to_screen_reader(&self) -> bool {
        self.speech_unavailable.is_some()
            || match self.settings.speak_with {
                SpeakWith::Automatic => self.screen_reader,
                SpeakWith::ScreenReader | SpeakWith::Both => true,
                SpeakWith::Voice => false,
            }
    }

    /// The description as shown and spoken, with how sure seesay is in words.
    pub fn caption_text(&self) -> Option<String> {
        match &self.caption {
            CaptionState::Ready(c) if !c.spoken.trim().is_empty() => Some(c.spoken.clone()),
            CaptionState::Ready(_) => {
                Some("No description: the model found no words for this picture.".to_owned())
            }
            _ => None,
        }
    }

    /// What the window is doing, for the status bar.
    pub fn activity(&self) -> &'static str {
        if matches!(self.model, ModelState::Loading) {
            "Loading model"
        } else if self.screenshot_pending {
            "Taking a screenshot"
        } else if matches!(self.caption, CaptionState::Waiting) {
            "Captioning"
        } else if self.speaking {
            "Speaking"
        } else if matches!(self.model, ModelState::Failed(_))
            || matches!(self.caption, CaptionState::Failed(_))
            || self
                .message
                .as_ref()
                .is_some_and(|m| m.kind == MessageKind::Error)
        {
            "Error"
        } else {
            "Idle"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AfterRename;

    #[test]
    fn a_new_text_waits_one_frame_when_the_window_is_renamed() {
        let ctx = egui::Context::default();
        let mut text = AfterRename::default();
        // The first text is shown at once, renamed window or not: nothing was said before.
        assert_eq!(text.get("first", true, &ctx), "first");
        // A new picture: the window is renamed this frame, so the old text stays one frame.
        assert_eq!(text.get("second", true, &ctx), "first");
        assert_eq!(text.get("second", false, &ctx), "second");
        // Without a rename, a new text (a caption computed later) is shown at once.
        assert_eq!(text.get("third", false, &ctx), "third");
        // Unchanged text is never held back.
        assert_eq!(text.get("third", true, &ctx), "third");
    }
}
