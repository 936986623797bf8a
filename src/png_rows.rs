//! A PNG file that ends early: whether it does (no IEND chunk), and the rows it still holds.
//!
//! The image crate refuses a cut PNG outright ("failed to fill whole buffer"); the png crate
//! reads it row by row, so what arrived can still be shown and described, with a warning.

use std::io::Cursor;

use image::{ColorType, DynamicImage, ImageBuffer};

/// Grey used for the rows a cut file no longer holds.
const MISSING: u8 = 128;

/// Width, height and decoded colour type from the IHDR chunk, which a PNG must start with;
/// known before anything else of the file is read (the image crate reads on to the first
/// IDAT first, so a file cut before it would fail as "ends early" and not as too large).
pub fn header(bytes: &[u8]) -> Option<(u32, u32, ColorType)> {
    let ihdr = bytes.get(8..8 + 8 + 13)?;
    if &ihdr[4..8] != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes([ihdr[8], ihdr[9], ihdr[10], ihdr[11]]);
    let h = u32::from_be_bytes([ihdr[12], ihdr[13], ihdr[14], ihdr[15]]);
    let wide = ihdr[16] == 16;
    let color = match (ihdr[17], wide) {
        (0, false) => ColorType::L8,
        (0, true) => ColorType::L16,
        (2, false) => ColorType::Rgb8,
        (2, true) => ColorType::Rgb16,
        (4, false) => ColorType::La8,
        (4, true) => ColorType::La16,
        (6, true) => ColorType::Rgba16,
        // A palette may have transparency: counted as RGBA.
        _ => ColorType::Rgba8,
    };
    Some((w, h, color))
}

/// True when the PNG chunks run to IEND; false when the file ends before it.
pub fn is_complete(bytes: &[u8]) -> bool {
    let mut i = 8; // after the signature
    while let Some(header) = bytes.get(i..i + 8) {
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        if &header[4..8] == b"IEND" {
            return true;
        }
        i = i.saturating_add(12).saturating_add(len);
    }
    false
}

/// The rows a non-interlaced PNG still holds, the rest grey, as 8-bit pixels; `None` when not
/// one row can be read (or the file is interlaced, where rows arrive out of order).
pub fn decode_partial(bytes: &[u8], max_pixels: u64) -> Option<DynamicImage> {
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().ok()?;
    let info = reader.info();
    let (w, h) = (info.width, info.height);
    if info.interlaced || u64::from(w) * u64::from(h) > max_pixels {
        return None;
    }
    let (color, _) = reader.output_color_type();
    let channels = color.samples();
    let line = w as usize * channels;
    let mut pixels = vec![MISSING; line * h as usize];
    let mut rows = 0usize;
    for dst in pixels.chunks_exact_mut(line) {
        match reader.next_row() {
            Ok(Some(row)) if row.data().len() >= line => {
                dst.copy_from_slice(&row.data()[..line]);
                rows += 1;
            }
            _ => break,
        }
    }
    if rows == 0 {
        return None;
    }
    match channels {
        1 => ImageBuffer::from_raw(w, h, pixels).map(DynamicImage::ImageLuma8),
        2 => ImageBuffer::from_raw(w, h, pixels).map(DynamicImage::ImageLumaA8),
        3 => ImageBuffer::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8),
        4 => ImageBuffer::from_raw(w, h, pixels).map(DynamicImage::ImageRgba8),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 200]));
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(img)
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .expect("encode");
        out
    }

    #[test]
    fn a_cut_png_keeps_its_first_rows() {
        let bytes = png(40, 40);
        assert!(is_complete(&bytes));
        let cut = &bytes[..bytes.len() / 2];
        assert!(!is_complete(cut));
        let image = decode_partial(cut, 1 << 20).expect("some rows").to_rgb8();
        assert_eq!(image.get_pixel(3, 0).0, [3, 0, 200]);
        assert_eq!(image.get_pixel(3, 39).0, [MISSING; 3]);
    }
}
