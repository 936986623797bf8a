//! Tesseract's C API (capi.h), loaded with dlopen when first needed rather than linked.
//!
//! Loading at run time means a machine without Tesseract still starts seesay and captions
//! photos; only reading text reports what to install. The signatures follow
//! /usr/include/tesseract/capi.h of Tesseract 5 (C enums and BOOL are `int`).

use std::ffi::{c_char, c_float, c_int, c_void};
use std::sync::{Arc, OnceLock};

use libloading::Library;

use super::error::OcrError;

/// `TessBaseAPI*`, `TessResultIterator*` and `TessPageIterator*` are opaque to us.
pub type Handle = *mut c_void;

/// `TessPageSegMode::PSM_AUTO`: page layout analysis without orientation detection.
pub const PSM_AUTO: c_int = 3;
/// `TessOcrEngineMode::OEM_LSTM_ONLY`: the neural recogniser (the data's legacy part is unused).
pub const OEM_LSTM_ONLY: c_int = 1;
/// `TessPageIteratorLevel::RIL_TEXTLINE`.
pub const RIL_TEXTLINE: c_int = 2;
/// `TessPageIteratorLevel::RIL_WORD`.
pub const RIL_WORD: c_int = 3;

/// Library names tried in order: the Debian 12 / Ubuntu 24.04 soname first, then the
/// unversioned link, then Tesseract 4.1 (Ubuntu 22.04), whose C API has the same functions
/// (not tested here).
/// The environment variable naming the Tesseract library to open instead of the usual names.
pub const LIBRARY_ENV: &str = "SEESAY_TESSERACT_LIBRARY";

#[cfg(not(target_os = "macos"))]
const LIBRARY_NAMES: &[&str] = &["libtesseract.so.5", "libtesseract.so", "libtesseract.so.4"];
#[cfg(target_os = "macos")]
const LIBRARY_NAMES: &[&str] = &[
    "libtesseract.5.dylib",
    "/opt/homebrew/lib/libtesseract.5.dylib",
    "/usr/local/lib/libtesseract.5.dylib",
];

/// The functions seesay calls, resolved once; valid as long as `_library` is loaded.
pub struct Api {
    pub version: unsafe extern "C" fn() -> *const c_char,
    pub create: unsafe extern "C" fn() -> Handle,
    pub delete: unsafe extern "C" fn(Handle),
    pub init2: unsafe extern "C" fn(Handle, *const c_char, *const c_char, c_int) -> c_int,
    pub end: unsafe extern "C" fn(Handle),
    pub clear: unsafe extern "C" fn(Handle),
    pub set_page_seg_mode: unsafe extern "C" fn(Handle, c_int),
    pub set_variable: unsafe extern "C" fn(Handle, *const c_char, *const c_char) -> c_int,
    pub set_image: unsafe extern "C" fn(Handle, *const u8, c_int, c_int, c_int, c_int),
    pub set_source_resolution: unsafe extern "C" fn(Handle, c_int),
    pub recognize: unsafe extern "C" fn(Handle, *mut c_void) -> c_int,
    pub get_iterator: unsafe extern "C" fn(Handle) -> Handle,
    pub result_delete: unsafe extern "C" fn(Handle),
    pub result_page_iterator: unsafe extern "C" fn(Handle) -> Handle,
    pub result_next: unsafe extern "C" fn(Handle, c_int) -> c_int,
    pub result_text: unsafe extern "C" fn(Handle, c_int) -> *mut c_char,
    pub result_confidence: unsafe extern "C" fn(Handle, c_int) -> c_float,
    pub page_bounding_box: unsafe extern "C" fn(
        Handle,
        c_int,
        *mut c_int,
        *mut c_int,
        *mut c_int,
        *mut c_int,
    ) -> c_int,
    pub page_is_at_beginning_of: unsafe extern "C" fn(Handle, c_int) -> c_int,
    pub delete_text: unsafe extern "C" fn(*const c_char),
    // Kept loaded as long as this table lives, so the pointers above stay valid.
    _library: Library,
}

/// Resolves one symbol to a plain function pointer.
///
/// # Safety
/// `T` must be the symbol's true C signature.
unsafe fn symbol<T: Copy>(library: &Library, name: &'static str) -> Result<T, OcrError> {
    let with_nul = format!("{name}\0");
    // SAFETY: the caller promises T matches the C declaration in capi.h.
    unsafe { library.get::<T>(with_nul.as_bytes()) }
        .map(|s| *s)
        .map_err(|_| OcrError::IncompleteLibrary { symbol: name })
}

impl Api {
    /// Opens the first Tesseract library found and resolves every function.
    ///
    /// `SEESAY_TESSERACT_LIBRARY`, when set, is the only library tried: for an install in an
    /// unusual place, and for tests of what a machine without Tesseract sees.
    fn open() -> Result<Api, OcrError> {
        let chosen = std::env::var_os(LIBRARY_ENV);
        let names: Vec<std::ffi::OsString> = match chosen {
            Some(path) => vec![path],
            None => LIBRARY_NAMES.iter().map(|n| (*n).into()).collect(),
        };
        let library = names
            .iter()
            // SAFETY: loading Tesseract runs its (and leptonica's, libgomp's) initialisers,
            // which have no preconditions on our side.
            .find_map(|name| unsafe { Library::new(name) }.ok())
            .ok_or(OcrError::MissingLibrary)?;
        let l = &library;
        // SAFETY: each type below is copied from the declaration of the same name in capi.h.
        unsafe {
            Ok(Api {
                version: symbol(l, "TessVersion")?,
                create: symbol(l, "TessBaseAPICreate")?,
                delete: symbol(l, "TessBaseAPIDelete")?,
                init2: symbol(l, "TessBaseAPIInit2")?,
                end: symbol(l, "TessBaseAPIEnd")?,
                clear: symbol(l, "TessBaseAPIClear")?,
                set_page_seg_mode: symbol(l, "TessBaseAPISetPageSegMode")?,
                set_variable: symbol(l, "TessBaseAPISetVariable")?,
                set_image: symbol(l, "TessBaseAPISetImage")?,
                set_source_resolution: symbol(l, "TessBaseAPISetSourceResolution")?,
                recognize: symbol(l, "TessBaseAPIRecognize")?,
                get_iterator: symbol(l, "TessBaseAPIGetIterator")?,
                result_delete: symbol(l, "TessResultIteratorDelete")?,
                result_page_iterator: symbol(l, "TessResultIteratorGetPageIterator")?,
                result_next: symbol(l, "TessResultIteratorNext")?,
                result_text: symbol(l, "TessResultIteratorGetUTF8Text")?,
                result_confidence: symbol(l, "TessResultIteratorConfidence")?,
                page_bounding_box: symbol(l, "TessPageIteratorBoundingBox")?,
                page_is_at_beginning_of: symbol(l, "TessPageIteratorIsAtBeginningOf")?,
                delete_text: symbol(l, "TessDeleteText")?,
                _library: library,
            })
        }
    }

    /// The library loaded once per process (a failed load is retried on the next call, so
    /// installing Tesseract while seesay runs is picked up).
    pub fn get() -> Result<Arc<Api>, OcrError> {
        static API: OnceLock<Arc<Api>> = OnceLock::new();
        if let Some(api) = API.get() {
            return Ok(Arc::clone(api));
        }
        let api = Arc::new(Api::open()?);
        Ok(Arc::clone(API.get_or_init(|| api)))
    }

    /// Tesseract's version string, e.g. "5.3.0".
    pub fn version(&self) -> String {
        // SAFETY: TessVersion returns a static NUL-terminated string (or null).
        unsafe { owned_static(self.version) }
    }

    /// Copies a string Tesseract allocated and frees it with TessDeleteText.
    ///
    /// # Safety
    /// `text` is null or a string returned by a Tesseract `Get...Text` call, not yet freed.
    pub unsafe fn take_text(&self, text: *mut c_char) -> Option<String> {
        if text.is_null() {
            return None;
        }
        // SAFETY: non-null and NUL-terminated per the caller's promise.
        let owned = unsafe { std::ffi::CStr::from_ptr(text) }
            .to_string_lossy()
            .into_owned();
        // SAFETY: allocated by Tesseract with new[]; freed exactly once here.
        unsafe { (self.delete_text)(text) };
        Some(owned)
    }
}

/// Reads a static C string returned by a function.
///
/// # Safety
/// `f` returns null or a pointer to a NUL-terminated string that lives forever.
unsafe fn owned_static(f: unsafe extern "C" fn() -> *const c_char) -> String {
    // SAFETY: per the function's contract.
    let p = unsafe { f() };
    if p.is_null() {
        return String::new();
    }
    // SAFETY: non-null, NUL-terminated and static.
    unsafe { std::ffi::CStr::from_ptr(p) }
        .to_string_lossy()
        .into_owned()
}
