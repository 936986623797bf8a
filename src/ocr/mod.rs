//! Reads the text in a picture with Tesseract, in reading order, with each word's box and
//! confidence.
//!
//! Tesseract's C library is loaded when an [`Ocr`] is first made, not linked: without it (or
//! without its English data) seesay still starts and captions photos, and [`OcrError`] says
//! in one line what to install.
//!
//! Threads: Debian's libtesseract is built with OpenMP and runs small loops of its
//! recogniser on up to 10 threads. On a busy machine that makes a read 3-10 times slower
//! (a dialog: 0.12 s on one thread, 0.78 s with OpenMP's default, on 2 busy cores) and it is
//! never much faster, so seesay keeps Tesseract on the calling thread with
//! `OMP_THREAD_LIMIT=1` (see [`use_one_thread`]); libgomp reads it once, when Tesseract is
//! loaded. The threads split independent work, so the text, boxes and confidences are the
//! same whatever the limit (checked with limits 1, 2 and 4).

mod assemble;
mod error;
mod ffi;
mod junk;
pub mod layout;
mod prepare;
mod reading;
mod tessdata;

use std::ffi::{c_int, CString};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use image::RgbImage;

pub use error::{OcrError, INSTALL_HINT};
pub use ffi::LIBRARY_ENV;
pub use prepare::{prepare, Prepared, MAX_SIDE};
pub use reading::{Line, Reading, Word, CONFIDENT};

use assemble::{RawLine, RawWord};
use ffi::{Api, Handle};

/// Resolution Tesseract is told a screen has at its own size, in dots per inch; enlarged
/// pictures are told proportionally more (it scales its noise and size limits by it).
pub const SCREEN_DPI: u32 = 96;

/// How to read a picture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Enlarge the picture this many times (1-4) instead of deciding from its text size.
    pub scale: Option<u32>,
}

/// Keeps Tesseract's work on the calling thread: sets `OMP_THREAD_LIMIT=1` unless the
/// person running seesay set it.
///
/// Call it at the start of `main`, before any other thread starts and before the first
/// [`Ocr::new`]: it only works before Tesseract is loaded, and changing the environment while
/// another thread might read it is a data race in C.
pub fn use_one_thread() {
    if std::env::var_os("OMP_THREAD_LIMIT").is_none() {
        std::env::set_var("OMP_THREAD_LIMIT", "1");
    }
}

/// Checks, without starting Tesseract, that the library and the English data can be found.
pub fn check() -> Result<PathBuf, OcrError> {
    Api::get()?;
    data_dir()
}

/// The folder holding eng.traineddata (see [`tessdata::candidates`] for the search order).
fn data_dir() -> Result<PathBuf, OcrError> {
    let prefix = std::env::var_os("TESSDATA_PREFIX").map(PathBuf::from);
    tessdata::find(prefix.as_deref()).map_err(|dirs| OcrError::MissingLanguage {
        searched: dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

fn c_path(path: &Path) -> Option<CString> {
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()).to_vec();
    #[cfg(not(unix))]
    let bytes = path.to_string_lossy().into_owned().into_bytes();
    CString::new(bytes).ok()
}

/// A started Tesseract engine with the English data loaded (about 0.1 s to make; keep it).
///
/// One engine reads one picture at a time (`&mut self`), so it is not `Sync`; it may move to
/// another thread (a worker) between reads.
pub struct Ocr {
    api: Arc<Api>,
    handle: Handle,
}

// SAFETY: a TessBaseAPI has no thread affinity; it only must not be used by two threads at
// once, which `&mut self` on every use and the absence of `Sync` guarantee.
unsafe impl Send for Ocr {}

impl Ocr {
    /// Loads Tesseract and the English data; fails with what to install when either is missing.
    pub fn new() -> Result<Ocr, OcrError> {
        let api = Api::get()?;
        let dir = data_dir()?;
        let init_error = || OcrError::Init {
            dir: dir.display().to_string(),
        };
        let c_dir = c_path(&dir).ok_or_else(init_error)?;
        // SAFETY: TessBaseAPICreate has no preconditions; a null result is checked.
        let handle = unsafe { (api.create)() };
        if handle.is_null() {
            return Err(init_error());
        }
        // From here on `ocr`'s Drop ends and deletes the handle, whatever happens.
        let mut ocr = Ocr { api, handle };
        // Tesseract's messages (its own account of a bad data file, "Empty page!!", counts of
        // diacritics) go to stderr otherwise, garbling the CLI's output; our errors say it.
        #[cfg(unix)]
        ocr.set_variable(c"debug_file", c"/dev/null");
        // SAFETY: live handle, NUL-terminated strings that outlive the call.
        let rc = unsafe {
            (ocr.api.init2)(
                ocr.handle,
                c_dir.as_ptr(),
                c"eng".as_ptr(),
                ffi::OEM_LSTM_ONLY,
            )
        };
        if rc != 0 {
            return Err(init_error());
        }
        // SAFETY: live, initialised handle.
        unsafe { (ocr.api.set_page_seg_mode)(ocr.handle, ffi::PSM_AUTO) };
        Ok(ocr)
    }

    /// The loaded Tesseract's version, e.g. "5.3.0".
    pub fn version(&self) -> String {
        self.api.version()
    }

    fn set_variable(&mut self, name: &std::ffi::CStr, value: &std::ffi::CStr) -> bool {
        // SAFETY: live handle, NUL-terminated strings.
        unsafe { (self.api.set_variable)(self.handle, name.as_ptr(), value.as_ptr()) != 0 }
    }

    /// Reads the text of a picture, choosing the enlargement from its text size.
    pub fn read(&mut self, image: &RgbImage) -> Result<Reading, OcrError> {
        self.read_with(image, &ReadOptions::default())
    }

    /// Reads the text of a picture with explicit options.
    pub fn read_with(
        &mut self,
        image: &RgbImage,
        options: &ReadOptions,
    ) -> Result<Reading, OcrError> {
        let (width, height) = image.dimensions();
        if width == 0 || height == 0 {
            return Err(OcrError::Empty);
        }
        if width > MAX_SIDE || height > MAX_SIDE {
            return Err(OcrError::TooLarge { width, height });
        }
        let prepared = prepare::prepare(image, options.scale);
        let lines = self.recognize(&prepared)?;
        Ok(assemble::assemble(&lines, prepared.scale, width, height))
    }

    /// Runs Tesseract on a prepared picture and collects its lines and words.
    fn recognize(&mut self, p: &Prepared) -> Result<Vec<RawLine>, OcrError> {
        let (w, h) = (p.width as c_int, p.height as c_int);
        let api = Arc::clone(&self.api);
        // SAFETY: `p.pixels` holds w*h bytes, one per pixel, rows of w bytes, and outlives
        // the recognition (Tesseract copies it anyway).
        let rc = unsafe {
            (api.set_image)(self.handle, p.pixels.as_ptr(), w, h, 1, w);
            (api.set_source_resolution)(self.handle, (SCREEN_DPI * p.scale) as c_int);
            (api.recognize)(self.handle, std::ptr::null_mut())
        };
        let lines = if rc == 0 {
            // SAFETY: recognition succeeded on this handle.
            Ok(unsafe { self.collect() })
        } else {
            Err(OcrError::Recognize)
        };
        // SAFETY: live handle; frees the image copy and the results.
        unsafe { (api.clear)(self.handle) };
        lines
    }

    /// Walks the result word by word, starting a new line where Tesseract's lines start.
    ///
    /// # Safety
    /// `TessBaseAPIRecognize` succeeded on this handle and nothing was cleared since.
    unsafe fn collect(&mut self) -> Vec<RawLine> {
        let api = &self.api;
        let mut lines: Vec<RawLine> = Vec::new();
        // SAFETY (whole function): the iterator belongs to us until deleted at the end; its
        // page iterator is the same object seen as its base class, not to be deleted.
        unsafe {
            let it = (api.get_iterator)(self.handle);
            if it.is_null() {
                return lines;
            }
            let page = (api.result_page_iterator)(it);
            let bbox = |level: c_int| -> [i32; 4] {
                let mut b = [0 as c_int; 4];
                let [x0, y0, x1, y1] = &mut b;
                (api.page_bounding_box)(page, level, x0, y0, x1, y1);
                b
            };
            loop {
                if let Some(text) = api.take_text((api.result_text)(it, ffi::RIL_WORD)) {
                    let starts_line = (api.page_is_at_beginning_of)(page, ffi::RIL_TEXTLINE);
                    if starts_line != 0 || lines.is_empty() {
                        lines.push(RawLine {
                            rect: bbox(ffi::RIL_TEXTLINE),
                            words: Vec::new(),
                        });
                    }
                    let confidence = (api.result_confidence)(it, ffi::RIL_WORD) / 100.0;
                    if let Some(line) = lines.last_mut() {
                        line.words.push(RawWord {
                            text,
                            confidence,
                            rect: bbox(ffi::RIL_WORD),
                        });
                    }
                }
                if (api.result_next)(it, ffi::RIL_WORD) == 0 {
                    break;
                }
            }
            (api.result_delete)(it);
        }
        lines
    }
}

impl Drop for Ocr {
    fn drop(&mut self) {
        // SAFETY: the handle came from TessBaseAPICreate and is ended and deleted once.
        unsafe {
            (self.api.end)(self.handle);
            (self.api.delete)(self.handle);
        }
    }
}
