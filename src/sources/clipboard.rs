//! The clipboard as an image source: an image, a copied file or file-URI list, or plain text.
//!
//! The app talks to a [`Clipboard`] trait so tests can supply the contents ([`MemoryClipboard`]).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use image::DynamicImage;

/// What the clipboard holds, as far as seesay cares.
#[derive(Debug, Clone)]
pub enum ClipboardContent {
    /// Pixels (a copied image or screenshot).
    Image(DynamicImage),
    /// Files copied in a file manager, or text that names existing files.
    Files(Vec<PathBuf>),
    /// Text that does not name a file.
    Text(String),
    /// Nothing.
    Empty,
}

/// Read and write access to a clipboard.
pub trait Clipboard {
    /// Reads the clipboard: files first, then an image, then text.
    fn read(&mut self) -> Result<ClipboardContent, String>;
    /// Puts text on the clipboard.
    fn write_text(&mut self, text: &str) -> Result<(), String>;
}

/// The system clipboard through arboard. Keep it alive: on Linux, copied text is served from it.
pub struct SystemClipboard {
    inner: Result<arboard::Clipboard, String>,
}

impl SystemClipboard {
    /// Opens the system clipboard; failures are reported on use.
    pub fn new() -> Self {
        Self {
            inner: arboard::Clipboard::new()
                .map_err(|e| format!("The clipboard is not available: {e}")),
        }
    }

    fn clipboard(&mut self) -> Result<&mut arboard::Clipboard, String> {
        if self.inner.is_err() {
            // Try again: the display may have come up since.
            self.inner = arboard::Clipboard::new()
                .map_err(|e| format!("The clipboard is not available: {e}"));
        }
        self.inner.as_mut().map_err(|e| e.clone())
    }
}

impl Default for SystemClipboard {
    fn default() -> Self {
        Self::new()
    }
}

impl Clipboard for SystemClipboard {
    fn read(&mut self) -> Result<ClipboardContent, String> {
        let cb = self.clipboard()?;
        if let Ok(files) = cb.get().file_list() {
            let files: Vec<PathBuf> = files.into_iter().filter(|p| p.exists()).collect();
            if !files.is_empty() {
                return Ok(ClipboardContent::Files(files));
            }
        }
        match cb.get_image() {
            Ok(img) => {
                let (w, h) = (img.width as u32, img.height as u32);
                if let Some(rgba) = image::RgbaImage::from_raw(w, h, img.bytes.into_owned()) {
                    return Ok(ClipboardContent::Image(DynamicImage::ImageRgba8(rgba)));
                }
            }
            Err(arboard::Error::ContentNotAvailable) => {}
            Err(_) => {}
        }
        match cb.get_text() {
            Ok(text) => Ok(classify_text(&text)),
            Err(arboard::Error::ContentNotAvailable) => Ok(ClipboardContent::Empty),
            Err(e) => Err(format!("Cannot read the clipboard: {e}")),
        }
    }

    fn write_text(&mut self, text: &str) -> Result<(), String> {
        self.clipboard()?
            .set_text(text.to_owned())
            .map_err(|e| format!("Cannot copy to the clipboard: {e}"))
    }
}

/// A clipboard in memory, for tests. Clones share the contents.
#[derive(Debug, Clone)]
pub struct MemoryClipboard {
    content: Arc<Mutex<ClipboardContent>>,
}

impl MemoryClipboard {
    /// A clipboard holding `content`.
    pub fn new(content: ClipboardContent) -> Self {
        Self {
            content: Arc::new(Mutex::new(content)),
        }
    }

    /// Replaces the contents (text is classified like the system clipboard's).
    pub fn set(&self, content: ClipboardContent) {
        let content = match content {
            ClipboardContent::Text(t) => classify_text(&t),
            other => other,
        };
        *self
            .content
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = content;
    }

    /// The contents now.
    pub fn get(&self) -> ClipboardContent {
        self.content
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Clipboard for MemoryClipboard {
    fn read(&mut self) -> Result<ClipboardContent, String> {
        Ok(match self.get() {
            ClipboardContent::Text(t) => classify_text(&t),
            other => other,
        })
    }

    fn write_text(&mut self, text: &str) -> Result<(), String> {
        self.set(ClipboardContent::Text(text.to_owned()));
        Ok(())
    }
}

/// Text on the clipboard: existing files (paths, `file://` URIs, GNOME's "copy" lists), or text.
pub fn classify_text(text: &str) -> ClipboardContent {
    if text.trim().is_empty() {
        return ClipboardContent::Empty;
    }
    match parse_paths(text) {
        Some(files) => ClipboardContent::Files(files),
        None => ClipboardContent::Text(text.to_owned()),
    }
}

/// Reads text as a list of existing files, one per line; None when any line is not one.
pub fn parse_paths(text: &str) -> Option<Vec<PathBuf>> {
    let mut files = Vec::new();
    for line in text.lines().map(str::trim) {
        // Comments in text/uri-list, and the verb in x-special/gnome-copied-files.
        if line.is_empty() || line.starts_with('#') || line == "copy" || line == "cut" {
            continue;
        }
        let path = if let Some(rest) = line.strip_prefix("file://") {
            // file:///home/x or file://localhost/home/x
            let rest = rest.strip_prefix("localhost").unwrap_or(rest);
            PathBuf::from(percent_decode(rest)?)
        } else {
            let unquoted = line.trim_matches(|c| c == '"' || c == '\'');
            PathBuf::from(unquoted)
        };
        if !path.exists() {
            return None;
        }
        files.push(path);
    }
    (!files.is_empty()).then_some(files)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes.get(i) {
            Some(b'%') => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            Some(&b) => {
                out.push(b);
                i += 1;
            }
            None => break,
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_text() {
        assert!(matches!(
            classify_text("hello world"),
            ClipboardContent::Text(_)
        ));
        assert!(matches!(classify_text("  \n"), ClipboardContent::Empty));
    }

    #[test]
    fn file_uri_lists_are_files() {
        let dir = std::env::temp_dir();
        let uri = format!("copy\nfile://{}\n", dir.display()).replace(' ', "%20");
        match classify_text(&uri) {
            ClipboardContent::Files(f) => assert_eq!(f, vec![dir]),
            other => panic!("expected files, got {other:?}"),
        }
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("/a%20b").as_deref(), Some("/a b"));
        assert_eq!(percent_decode("/a%2"), None);
    }
}
