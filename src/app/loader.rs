//! The image loader: a named background thread that decodes pictures for display and small
//! thumbnails for the folder strip, so a huge photo or a folder of thousands never blocks the
//! window.
//!
//! The UI asks for at most one picture to display (a newer request replaces an older one still
//! waiting) and for the thumbnails it can see (a newer list replaces the older one). The display
//! request always goes first; thumbnails are decoded in the order asked, nearest the current
//! picture first. Results come back over a channel, and the waker repaints the window.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use image::{DynamicImage, GenericImageView as _};

use crate::worker::Waker;

/// The largest side of the texture a picture is displayed with.
pub(super) const DISPLAY_MAX: u32 = 2048;
/// The box a thumbnail is decoded to fit (pixels), twice the size it is drawn at, for sharpness.
pub(super) const THUMB_SIZE: [u32; 2] = [224, 160];

/// A picture to display.
pub(super) enum Source {
    /// A file, decoded by the loader.
    Path(PathBuf),
    /// Pixels already in memory (clipboard, screenshot): only scaled for display.
    Image(Arc<DynamicImage>),
}

/// A picture ready to display.
pub(super) struct Displayed {
    /// The full pixels, for captioning.
    pub image: Arc<DynamicImage>,
    /// At most [`DISPLAY_MAX`] on a side, for the texture.
    pub color: egui::ColorImage,
    /// The file's thumbnail, made while the picture was at hand.
    pub thumb: Option<egui::ColorImage>,
    /// What is wrong with the file (it ends early).
    pub warnings: Vec<crate::preprocess::Warning>,
}

/// What the loader sends back.
pub(super) enum Loaded {
    /// The picture of display request `id`, or why it cannot be read.
    Display {
        /// The request's id (the app's caption job id).
        id: u64,
        /// The file, if any.
        path: Option<PathBuf>,
        /// The pixels, or what went wrong for the user.
        result: Result<Displayed, String>,
    },
    /// A thumbnail; `None` when the file cannot be decoded (a placeholder is drawn).
    Thumb {
        /// The file.
        path: PathBuf,
        /// The small pixels.
        result: Option<egui::ColorImage>,
    },
}

struct DisplayRequest {
    id: u64,
    path: Option<PathBuf>,
    source: Source,
}

#[derive(Default)]
struct Queue {
    display: Option<DisplayRequest>,
    thumbs: VecDeque<PathBuf>,
    stop: bool,
}

type Shared = Arc<(Mutex<Queue>, Condvar)>;

fn lock(shared: &Shared) -> MutexGuard<'_, Queue> {
    shared.0.lock().unwrap_or_else(|e| e.into_inner())
}

/// The UI's handle on the loader thread.
pub(super) struct Loader {
    shared: Shared,
    rx: Receiver<Loaded>,
    handle: Option<JoinHandle<()>>,
}

impl Loader {
    /// Starts the thread `seesay-images`.
    pub fn spawn(waker: Waker) -> std::io::Result<Self> {
        let shared: Shared = Arc::default();
        let (tx, rx) = mpsc::channel();
        let thread_shared = shared.clone();
        let handle = std::thread::Builder::new()
            .name("seesay-images".into())
            .spawn(move || serve(&thread_shared, &tx, &waker))?;
        Ok(Self {
            shared,
            rx,
            handle: Some(handle),
        })
    }

    /// Asks for a picture to display; replaces any display request not yet started.
    pub fn display(&self, id: u64, path: Option<PathBuf>, source: Source) {
        lock(&self.shared).display = Some(DisplayRequest { id, path, source });
        self.shared.1.notify_one();
    }

    /// Asks for these thumbnails, most wanted first; replaces the list not yet decoded.
    pub fn want_thumbnails(&self, paths: &[PathBuf]) {
        lock(&self.shared).thumbs = paths.iter().cloned().collect();
        self.shared.1.notify_one();
    }

    /// The next result, if one is waiting.
    pub fn try_recv(&self) -> Option<Loaded> {
        self.rx.try_recv().ok()
    }
}

impl Drop for Loader {
    fn drop(&mut self) {
        lock(&self.shared).stop = true;
        self.shared.1.notify_one();
        // Do not join: a huge picture may be half decoded, and the app is closing.
        drop(self.handle.take());
    }
}

enum Work {
    Display(DisplayRequest),
    Thumb(PathBuf),
}

fn serve(shared: &Shared, tx: &Sender<Loaded>, waker: &Waker) {
    loop {
        let work = {
            let mut queue = lock(shared);
            loop {
                if queue.stop {
                    return;
                }
                if let Some(d) = queue.display.take() {
                    break Work::Display(d);
                }
                if let Some(p) = queue.thumbs.pop_front() {
                    break Work::Thumb(p);
                }
                queue = shared.1.wait(queue).unwrap_or_else(|e| e.into_inner());
            }
        };
        let loaded = match work {
            Work::Display(DisplayRequest { id, path, source }) => {
                let result = guarded(|| for_display(path.is_some(), source));
                Loaded::Display { id, path, result }
            }
            Work::Thumb(path) => {
                let result = guarded(|| thumbnail_of_file(&path)).ok();
                Loaded::Thumb { path, result }
            }
        };
        if tx.send(loaded).is_err() {
            return;
        }
        waker();
    }
}

/// Runs `f`, turning a panic (a decoder bug on a strange file) into an error.
fn guarded<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| Err("the decoder crashed".to_owned()))
}

/// Decodes (when needed) and scales a picture for display; also makes a file's thumbnail.
pub(super) fn for_display(is_file: bool, source: Source) -> Result<Displayed, String> {
    let (image, warnings) = match source {
        Source::Path(path) => {
            let decoded = crate::preprocess::load(&path).map_err(|e| e.to_string())?;
            (Arc::new(decoded.image), decoded.warnings)
        }
        Source::Image(image) => (image, Vec::new()),
    };
    let color = if image.width() > DISPLAY_MAX || image.height() > DISPLAY_MAX {
        color_image(&image.thumbnail(DISPLAY_MAX, DISPLAY_MAX))
    } else {
        color_image(&image)
    };
    let thumb = is_file.then(|| thumbnail(&image));
    Ok(Displayed {
        image,
        color,
        thumb,
        warnings,
    })
}

fn thumbnail_of_file(path: &Path) -> Result<egui::ColorImage, String> {
    let image = crate::preprocess::load_image(path).map_err(|e| e.to_string())?;
    Ok(thumbnail(&image))
}

/// The picture scaled to fit [`THUMB_SIZE`], keeping its proportions (never enlarged).
pub(super) fn thumbnail(image: &DynamicImage) -> egui::ColorImage {
    let (w, h) = image.dimensions();
    let [max_w, max_h] = THUMB_SIZE;
    let scale = (max_w as f32 / w.max(1) as f32)
        .min(max_h as f32 / h.max(1) as f32)
        .min(1.0);
    let tw = ((w as f32 * scale).round() as u32).max(1);
    let th = ((h as f32 * scale).round() as u32).max(1);
    let small = image::imageops::thumbnail(image, tw, th);
    let size = [small.width() as usize, small.height() as usize];
    egui::ColorImage::from_rgba_unmultiplied(size, small.as_raw())
}

fn color_image(image: &DynamicImage) -> egui::ColorImage {
    let rgba = image.to_rgba8();
    let size = [rgba.width() as usize, rgba.height() as usize];
    egui::ColorImage::from_rgba_unmultiplied(size, rgba.as_raw())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnails_keep_proportions_and_fit_the_box() {
        let wide = DynamicImage::new_rgb8(3000, 1000);
        let t = thumbnail(&wide);
        assert_eq!(t.size, [224, 75]);
        let small = DynamicImage::new_rgb8(40, 30);
        assert_eq!(thumbnail(&small).size, [40, 30]);
        let dir = tempfile::tempdir().expect("dir");
        let bad = dir.path().join("bad.png");
        std::fs::write(&bad, b"not a png").expect("write");
        assert!(thumbnail_of_file(&bad).is_err());
    }

    #[test]
    fn a_newer_display_request_replaces_an_older_waiting_one() {
        let loader = Loader::spawn(Arc::new(|| {})).expect("spawn");
        let img = |n| Source::Image(Arc::new(DynamicImage::new_rgb8(n, n)));
        {
            // Both requests are queued under one lock, so the thread cannot start the first.
            let mut q = lock(&loader.shared);
            q.display = Some(DisplayRequest {
                id: 1,
                path: None,
                source: img(8),
            });
            q.display = Some(DisplayRequest {
                id: 2,
                path: None,
                source: img(9),
            });
        }
        loader.shared.1.notify_one();
        let got = loader.rx.recv_timeout(std::time::Duration::from_secs(10));
        match got {
            Ok(Loaded::Display { id, result, .. }) => {
                assert_eq!(id, 2);
                assert_eq!(result.expect("pixels").color.size, [9, 9]);
            }
            _ => panic!("expected the display of request 2"),
        }
    }
}
