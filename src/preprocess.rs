//! The one path from an image to the encoder's input tensor, shared by the CLI, the app and training.

use std::io::Cursor;
use std::path::Path;

use candle_core::{Device, Tensor};
use image::{DynamicImage, ImageDecoder, ImageReader, RgbImage};

use crate::{Error, Result};

/// Side of the square the encoder sees.
pub const INPUT_SIZE: u32 = 224;

/// Largest width or height accepted, in pixels; bigger images are refused before decoding.
pub const MAX_SIDE: u32 = 30_000;

/// Most memory the decoder may allocate for one image (guards against decompression bombs).
pub const MAX_ALLOC_BYTES: u64 = 1 << 30;

/// Per-channel normalisation applied as `(x / 255 - mean) / std`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Normalization {
    /// Mean of each RGB channel, in [0, 1] units.
    pub mean: [f32; 3],
    /// Standard deviation of each RGB channel, in [0, 1] units.
    pub std: [f32; 3],
}

fn limits() -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC_BYTES);
    limits
}

/// Reads and decodes an image file, applying its EXIF orientation.
pub fn load_image(path: &Path) -> Result<DynamicImage> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    decode_image(&bytes)
}

/// Decodes an image held in memory (JPEG, PNG, GIF's first frame, BMP, WebP, TIFF, ...).
pub fn decode_image(bytes: &[u8]) -> Result<DynamicImage> {
    if bytes.is_empty() {
        return Err(Error::Image("the file is empty (0 bytes)".into()));
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Error::Image(format!("cannot read the image: {e}")))?;
    if reader.format().is_none() {
        return Err(Error::Image(
            "not an image, or an image format seesay cannot read".into(),
        ));
    }
    reader.limits(limits());
    let mut decoder = reader.into_decoder().map_err(describe)?;
    let orientation = decoder.orientation().map_err(describe)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(describe)?;
    image.apply_orientation(orientation);
    Ok(image)
}

fn describe(e: image::ImageError) -> Error {
    use image::error::{ImageError, LimitErrorKind};
    let message = match &e {
        ImageError::Limits(l) => match l.kind() {
            LimitErrorKind::DimensionError => {
                format!("the image is too large (more than {MAX_SIDE} pixels on a side)")
            }
            LimitErrorKind::InsufficientMemory => {
                "the image would need too much memory to decode".to_owned()
            }
            _ => format!("the image exceeds a safety limit: {e}"),
        },
        ImageError::Unsupported(_) => format!("unsupported image: {e}"),
        ImageError::Decoding(_) => format!("the image is damaged or truncated: {e}"),
        _ => format!("cannot decode the image: {e}"),
    };
    Error::Image(message)
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

/// Everything before the tensor: flatten to RGB and resize.
pub fn prepare(image: &DynamicImage) -> RgbImage {
    resize(&to_rgb(image))
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
