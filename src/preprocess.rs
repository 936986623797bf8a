//! The one path from an image to the encoder's input tensor, shared by the CLI, the app and training.

use std::cell::Cell;
use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use candle_core::{Device, Tensor};
use image::error::{ImageError, LimitErrorKind};
use image::metadata::Orientation;
use image::{ColorType, DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage};

use crate::open::{self, size_in_words};
use crate::{jpeg, png_rows, Error, Result};

/// Side of the square the encoder sees.
pub const INPUT_SIZE: u32 = 224;

/// Most pixels a decoded picture may have: 64 megapixels (8192 × 8192), room for a 4k × 4k
/// screenshot to be read as text while the caption itself only looks at 224 × 224. A larger
/// JPEG is decoded at 1/2, 1/4 or 1/8 of its size; any other larger picture is refused.
pub const MAX_PIXELS: u64 = 8192 * 8192;

/// Most memory decoding one picture may take, every copy counted: the file, the decoder's
/// copy of it, the decoded pixels, a rotated copy, and the 8-bit RGB copy preprocessing makes.
pub const MAX_DECODE_BYTES: u64 = 1 << 30;

/// Largest picture file read, in bytes.
pub const MAX_FILE_BYTES: u64 = open::PICTURE_LIMIT;

/// Bytes sniffed to recognise the format before the rest of a file is read.
const SNIFF_BYTES: usize = 64;

/// Per-channel normalisation applied as `(x / 255 - mean) / std`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Normalization {
    /// Mean of each RGB channel, in [0, 1] units.
    pub mean: [f32; 3],
    /// Standard deviation of each RGB channel, in [0, 1] units.
    pub std: [f32; 3],
}

/// Something the person should hear before the description of a picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Warning {
    /// The file ends early: part of the picture is missing (filled in grey).
    Incomplete,
}

impl Warning {
    /// The warning as a sentence for the screen and for `--json`.
    pub fn message(self) -> &'static str {
        match self {
            Warning::Incomplete => {
                "the picture is incomplete: the file ends early, so part of the picture is \
                 missing and what is described may be wrong"
            }
        }
    }

    /// What is said before the caption.
    pub fn spoken(self) -> &'static str {
        match self {
            Warning::Incomplete => "Warning: the picture file is incomplete. ",
        }
    }
}

/// A decoded picture and what was wrong with its file, if anything.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The pixels, EXIF orientation applied.
    pub image: DynamicImage,
    /// Warnings to give with its description.
    pub warnings: Vec<Warning>,
}

fn limits() -> image::Limits {
    let mut limits = image::Limits::default();
    // Sizes are checked by `check_size`, with a message naming them; this is the backstop
    // for what the decoders allocate on their own (PNG chunks, GIF frames, TIFF strips).
    limits.max_image_width = None;
    limits.max_image_height = None;
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    limits
}

/// Reads and decodes an image file, applying its EXIF orientation; warnings are dropped
/// (see [`load`]).
pub fn load_image(path: &Path) -> Result<DynamicImage> {
    load(path).map(|d| d.image)
}

/// Reads and decodes a picture file with its warnings.
///
/// Only a regular file is opened (a named pipe, a device or a folder is refused, without
/// blocking), its format is sniffed from the first bytes before the rest is read, and at most
/// [`MAX_FILE_BYTES`] are read. Errors say what is wrong in words and never repeat the path:
/// the caller names the file once.
pub fn load(path: &Path) -> Result<Decoded> {
    let (mut file, len) = open::open_regular(path).map_err(|e| Error::Image(e.to_string()))?;
    let mut head = vec![0u8; SNIFF_BYTES];
    let n = open::read_head(&mut file, &mut head).map_err(|e| Error::Image(e.to_string()))?;
    head.truncate(n);
    if head.is_empty() {
        return Err(empty());
    }
    if image::guess_format(&head).is_err() {
        return Err(not_a_picture());
    }
    let bytes = open::read_rest(file, len, head, MAX_FILE_BYTES, "pictures")
        .map_err(|e| Error::Image(e.to_string()))?;
    decode(&bytes)
}

/// Decodes an image held in memory (JPEG, PNG, GIF's first frame, BMP, WebP, TIFF, ...);
/// warnings are dropped (see [`decode`]).
pub fn decode_image(bytes: &[u8]) -> Result<DynamicImage> {
    decode(bytes).map(|d| d.image)
}

/// Decodes a picture held in memory, within [`MAX_PIXELS`] and [`MAX_DECODE_BYTES`].
///
/// The size is read from the header and checked before any pixel is decoded; a JPEG too large
/// is decoded at a reduced size instead; a JPEG or PNG that ends early is decoded as far as it
/// goes, with [`Warning::Incomplete`].
pub fn decode(bytes: &[u8]) -> Result<Decoded> {
    guarded(|| decode_unguarded(bytes))
}

fn decode_unguarded(bytes: &[u8]) -> Result<Decoded> {
    if bytes.is_empty() {
        return Err(empty());
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Error::Image(format!("cannot read the picture: {e}")))?;
    let Some(format) = reader.format() else {
        return Err(not_a_picture());
    };
    let mut warnings = Vec::new();
    let jpeg_layout = (format == ImageFormat::Jpeg).then(|| jpeg::layout(bytes));
    if let Some(l) = &jpeg_layout {
        if !l.complete || l.too_short_for_its_size() {
            warnings.push(Warning::Incomplete);
        }
    }
    if let Some((width, height, color)) =
        png_rows::header(bytes).filter(|_| format == ImageFormat::Png)
    {
        check_size(&Needs {
            width,
            height,
            color,
            rotated: false,
            file_bytes: bytes.len() as u64,
        })?;
    }
    reader.limits(limits());
    let mut decoder = reader.into_decoder().map_err(|e| describe(e, format))?;
    let (width, height) = decoder.dimensions();
    let orientation = decoder.orientation().map_err(|e| describe(e, format))?;
    let needs = Needs {
        width,
        height,
        color: decoder.color_type(),
        rotated: orientation != Orientation::NoTransforms,
        file_bytes: bytes.len() as u64,
    };
    if let Err(too_large) = check_size(&needs) {
        let Some(layout) = jpeg_layout.filter(|l| l.complete && !l.too_short_for_its_size()) else {
            return Err(too_large);
        };
        // Decoding at a reduced size keeps the coefficients of a progressive file whole.
        let reduced_needs = layout.coefficient_bytes() + needs.bytes() / 4;
        if reduced_needs > MAX_DECODE_BYTES {
            return Err(too_large);
        }
        return match jpeg::decode_reduced(bytes, &layout, MAX_PIXELS) {
            Some(Ok((mut image, orientation))) => {
                image.apply_orientation(orientation);
                Ok(Decoded { image, warnings })
            }
            Some(Err(e)) => Err(Error::Image(format!(
                "the JPEG picture is damaged: {}",
                plain_detail(&e).unwrap_or("seesay cannot decode it")
            ))),
            None => Err(too_large),
        };
    }
    if format == ImageFormat::Png && !png_rows::is_complete(bytes) {
        // The image crate refuses a cut PNG whole; keep the rows that arrived.
        drop(decoder);
        warnings.push(Warning::Incomplete);
        return match png_rows::decode_partial(bytes, MAX_PIXELS) {
            Some(image) => Ok(Decoded { image, warnings }),
            None => Err(Error::Image(
                "the picture is incomplete: the file ends before any of the picture".into(),
            )),
        };
    }
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| describe(e, format))?;
    image.apply_orientation(orientation);
    Ok(Decoded { image, warnings })
}

/// What decoding a picture will take, from its header.
struct Needs {
    width: u32,
    height: u32,
    color: ColorType,
    rotated: bool,
    file_bytes: u64,
}

impl Needs {
    fn pixels(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    /// Peak bytes, every copy counted.
    fn bytes(&self) -> u64 {
        let pixels = self.pixels();
        let decoded = pixels.saturating_mul(u64::from(self.color.bytes_per_pixel()));
        let mut total = decoded.saturating_add(self.file_bytes.saturating_mul(2));
        if self.rotated {
            total = total.saturating_add(decoded);
        }
        if self.color != ColorType::Rgb8 {
            total = total.saturating_add(pixels.saturating_mul(3));
            if self.color.has_alpha() && self.color != ColorType::Rgba8 {
                total = total.saturating_add(pixels.saturating_mul(4));
            }
        }
        total
    }
}

fn check_size(n: &Needs) -> Result<()> {
    let (w, h) = (n.width, n.height);
    if w == 0 || h == 0 {
        return Err(Error::Image(format!(
            "the picture has no pixels ({w}×{h}); the file is damaged"
        )));
    }
    let bytes = n.bytes();
    if n.pixels() <= MAX_PIXELS && bytes <= MAX_DECODE_BYTES {
        return Ok(());
    }
    Err(Error::Image(format!(
        "the picture is {w}×{h} pixels ({:.0} megapixels), too large: seesay reads pictures of \
         up to {} megapixels (e.g. 8192×8192) needing at most {} of memory, and this one would \
         need {}; scale it down first",
        n.pixels() as f64 / 1e6,
        MAX_PIXELS / 1_000_000,
        size_in_words(MAX_DECODE_BYTES),
        size_in_words(bytes),
    )))
}

fn empty() -> Error {
    Error::Image("the file is empty (0 bytes)".into())
}

fn not_a_picture() -> Error {
    Error::Image(
        "not an image, or an image format seesay cannot read (it reads JPEG, PNG, GIF, BMP, \
         WebP and TIFF)"
            .into(),
    )
}

thread_local! {
    /// Set while this thread decodes, so the panic hook stays quiet about a decoder's panic.
    static DECODING: Cell<bool> = const { Cell::new(false) };
}

/// Runs a decode, turning a panic inside a decoder into an error.
///
/// A last resort: the sizes are checked before decoding, but the image crate and the codecs
/// under it still panic on some hostile files (an allocation they do not check, a
/// `TryReserveError` in colour handling, an `unreachable!` in jpeg-decoder's `info`). One bad
/// file must not end a run of many or take the app down, so the panic is caught here, and its
/// message (Rust internals, useless to a listener) is kept off the terminal.
fn guarded<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    static QUIET_HOOK: std::sync::Once = std::sync::Once::new();
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !DECODING.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let outer = DECODING.with(|d| d.replace(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    DECODING.with(|d| d.set(outer));
    result.unwrap_or_else(|_| {
        Err(Error::Image(
            "the picture is damaged: the image decoder failed on it".into(),
        ))
    })
}

fn format_name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Png => "PNG",
        ImageFormat::Gif => "GIF",
        ImageFormat::WebP => "WebP",
        ImageFormat::Tiff => "TIFF",
        ImageFormat::Bmp => "BMP",
        ImageFormat::Ico => "ICO",
        _ => "",
    }
}

/// A decoder's own detail when it reads as words; `None` when it holds Rust debug output
/// (`ChunkType { type: IHDR, .. }`, `Some(2)`) that would mean nothing to a listener.
fn plain_detail(detail: &str) -> Option<&str> {
    let debug_like = detail.contains(['{', '}', '[', ']', '`']) || detail.contains("Some(");
    (!detail.is_empty() && !debug_like && detail.len() < 160).then_some(detail)
}

fn describe(e: ImageError, format: ImageFormat) -> Error {
    let name = format_name(format);
    let message = match &e {
        ImageError::Limits(l) if l.kind() == LimitErrorKind::InsufficientMemory => format!(
            "the {name} picture would need more than {} of memory to decode",
            size_in_words(MAX_DECODE_BYTES)
        ),
        ImageError::Limits(_) => format!("the {name} picture is too large to decode"),
        ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the picture is incomplete: the file ends early".to_owned()
        }
        ImageError::Unsupported(u) => {
            let detail = u.to_string();
            match plain_detail(&detail) {
                Some(d) => format!("seesay cannot read this kind of {name} picture: {d}"),
                None => format!("seesay cannot read this kind of {name} picture"),
            }
        }
        ImageError::Decoding(d) => {
            let detail = d.to_string();
            let detail = detail.trim();
            let lower = detail.to_lowercase();
            let cut = [
                "eof",
                "end of file",
                "fill whole",
                "not enough bytes",
                "truncated",
            ];
            if cut.iter().any(|c| lower.contains(c)) {
                "the picture is incomplete: the file ends early".to_owned()
            } else {
                match plain_detail(detail) {
                    Some(d) => format!("the {name} picture is damaged: {d}"),
                    None => format!("the {name} picture is damaged and cannot be decoded"),
                }
            }
        }
        _ => format!("the {name} picture cannot be decoded"),
    };
    Error::Image(message.replace("  ", " "))
}

/// Flattens any image to 8-bit RGB: alpha is composited on white, grey becomes RGB.
pub fn to_rgb(image: &DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    let rgba = image.to_rgba8();
    let mut rgb = RgbImage::new(rgba.width(), rgba.height());
    for (dst, src) in rgb.pixels_mut().zip(rgba.pixels()) {
        let a = u32::from(src[3]);
        for c in 0..3 {
            // Integer blend with rounding: c*a + 255*(255-a), divided by 255.
            let v = u32::from(src[c]) * a + 255 * (255 - a);
            dst[c] = ((v + 127) / 255) as u8;
        }
    }
    rgb
}

/// Squashes the whole image (no crop) to the encoder's square, as the training images were.
///
/// Bilinear with Pillow's antialiasing support (the PyTorch peer's `Image.BILINEAR`), in
/// SIMD; the image crate's own filter is kept as a fallback that never fails.
pub fn resize(rgb: &RgbImage) -> RgbImage {
    if rgb.width() == INPUT_SIZE && rgb.height() == INPUT_SIZE {
        return rgb.clone();
    }
    fast_resize(rgb).unwrap_or_else(|| {
        image::imageops::resize(
            rgb,
            INPUT_SIZE,
            INPUT_SIZE,
            image::imageops::FilterType::Triangle,
        )
    })
}

fn fast_resize(rgb: &RgbImage) -> Option<RgbImage> {
    use fast_image_resize::{images, FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
    let src =
        images::ImageRef::new(rgb.width(), rgb.height(), rgb.as_raw(), PixelType::U8x3).ok()?;
    let mut dst = images::Image::new(INPUT_SIZE, INPUT_SIZE, PixelType::U8x3);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
    Resizer::new().resize(&src, &mut dst, &options).ok()?;
    RgbImage::from_raw(INPUT_SIZE, INPUT_SIZE, dst.into_vec())
}

/// Everything before the tensor: flatten to RGB and resize (without copying an image that
/// is RGB already).
pub fn prepare(image: &DynamicImage) -> RgbImage {
    match image.as_rgb8() {
        Some(rgb) => resize(rgb),
        None => resize(&to_rgb(image)),
    }
}

/// Stacks prepared 224x224 images into a normalised (N, 3, 224, 224) f32 tensor.
pub fn to_tensor(images: &[RgbImage], norm: &Normalization, device: &Device) -> Result<Tensor> {
    let side = INPUT_SIZE as usize;
    let plane = side * side;
    let mut data = vec![0f32; images.len() * 3 * plane];
    for (n, img) in images.iter().enumerate() {
        if img.width() as usize != side || img.height() as usize != side {
            return Err(Error::Image(format!(
                "internal: image {n} is {}x{}, expected {side}x{side}",
                img.width(),
                img.height()
            )));
        }
        let base = n * 3 * plane;
        let scale: [f32; 3] = std::array::from_fn(|c| 1.0 / (255.0 * norm.std[c]));
        let shift: [f32; 3] = std::array::from_fn(|c| norm.mean[c] / norm.std[c]);
        for (i, px) in img.pixels().enumerate() {
            for c in 0..3 {
                data[base + c * plane + i] = f32::from(px[c]) * scale[c] - shift[c];
            }
        }
    }
    Ok(Tensor::from_vec(
        data,
        (images.len(), 3, side, side),
        device,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpha_is_composited_on_white() {
        let mut img = image::RgbaImage::new(1, 1);
        img.put_pixel(0, 0, image::Rgba([0, 0, 0, 0]));
        let rgb = to_rgb(&DynamicImage::ImageRgba8(img));
        assert_eq!(rgb.get_pixel(0, 0).0, [255, 255, 255]);
    }

    #[test]
    fn empty_bytes_are_refused() {
        assert!(decode_image(&[]).is_err());
        assert!(decode_image(b"hello, this is text").is_err());
    }
}
