//! Where images come from: files and folders, the clipboard, and the screen.
//!
//! Sources produce paths and `image::DynamicImage`s, and know neither candle nor egui.

pub mod clipboard;
pub mod file;
pub mod picker;
pub mod screenshot;

pub use clipboard::{Clipboard, ClipboardContent, MemoryClipboard, SystemClipboard};
pub use file::{is_image_path, list_images, resolve, Opened};
pub use picker::{FilePicker, NoDialog, ScriptedPicker, SystemPicker};
pub use screenshot::{
    capture_active_window, capture_screen, choose_window, monitors, MemoryScreen, MonitorInfo,
    ScreenCapture, SystemScreen, WindowInfo, WindowShot,
};
