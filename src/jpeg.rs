//! What a JPEG file's markers say before any pixel is decoded (its size, its blocks, whether
//! it is whole), and decoding a JPEG too large to hold at 1/2, 1/4 or 1/8 of its size.
//!
//! The image crate decodes JPEG with zune-jpeg, which has no scaled decoding and fills a file
//! that ends early with grey without saying so; jpeg-decoder's `scale` runs the inverse DCT at
//! 1/2, 1/4 or 1/8 size (libjpeg's trick), so a 200-megapixel photo never exists at full size.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, RgbImage};

/// What the markers of a JPEG file say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Layout {
    /// Width in pixels from the frame header (0 when there is none).
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Colour components (1 grey, 3 YCbCr, 4 CMYK).
    pub components: u32,
    /// 8×8 blocks over all components, subsampling counted.
    pub blocks: u64,
    /// A progressive frame (its coefficients are kept for the whole picture while decoding).
    pub progressive: bool,
    /// Huffman-coded DCT (baseline, extended or progressive), where every block costs at
    /// least one bit; false for lossless and arithmetic coding.
    pub huffman_dct: bool,
    /// Bytes of entropy-coded data seen.
    pub scan_bytes: u64,
    /// The end-of-image marker was reached.
    pub complete: bool,
}

impl Layout {
    /// The entropy-coded data is too short to hold the blocks the header claims: even one bit
    /// per block (the least Huffman coding can spend) does not fit, so most of the picture
    /// is missing, whatever the markers say.
    pub fn too_short_for_its_size(&self) -> bool {
        self.huffman_dct && self.scan_bytes.saturating_mul(8) < self.blocks
    }

    /// Bytes jpeg-decoder keeps for a progressive frame's coefficients (64 × i16 per block).
    pub fn coefficient_bytes(&self) -> u64 {
        if self.progressive {
            self.blocks.saturating_mul(128)
        } else {
            0
        }
    }
}

/// Walks the markers of `bytes` (which start with SOI) up to EOI or the end of the data.
pub fn layout(bytes: &[u8]) -> Layout {
    let mut out = Layout::default();
    let mut i = 2; // after SOI
    let n = bytes.len();
    loop {
        // Find the next marker: 0xFF, any fill 0xFF bytes, then a code other than 0x00.
        while i < n && bytes[i] != 0xFF {
            i += 1;
        }
        while i < n && bytes[i] == 0xFF {
            i += 1;
        }
        let Some(&code) = bytes.get(i) else {
            return out;
        };
        i += 1;
        match code {
            0xD9 => {
                out.complete = true;
                return out;
            }
            0x01 | 0xD0..=0xD8 => continue,
            _ => {}
        }
        let Some(len) = bytes
            .get(i..i + 2)
            .map(|b| usize::from(b[0]) << 8 | usize::from(b[1]))
        else {
            return out;
        };
        let segment = bytes.get(i + 2..(i + len).min(n)).unwrap_or(&[]);
        if i + len > n {
            return out;
        }
        match code {
            0xC0..=0xCF if code != 0xC4 && code != 0xC8 && code != 0xCC => {
                read_frame(code, segment, &mut out);
            }
            _ => {}
        }
        i += len;
        if code == 0xDA {
            // Entropy-coded data runs to the next marker that is not a stuffed 0x00 or RSTn.
            let start = i;
            let marker_at =
                |i: usize| bytes[i] == 0xFF && !matches!(bytes[i + 1], 0x00 | 0xD0..=0xD7);
            while i + 1 < n && !marker_at(i) {
                i += 1;
            }
            if i + 1 >= n {
                i = n;
            }
            out.scan_bytes += (i - start) as u64;
        }
    }
}

fn read_frame(code: u8, segment: &[u8], out: &mut Layout) {
    // P, Y (2), X (2), Nf, then Nf × (id, HV, Tq).
    let [_, y0, y1, x0, x1, nf, ref comps @ ..] = *segment else {
        return;
    };
    out.height = u32::from(y0) << 8 | u32::from(y1);
    out.width = u32::from(x0) << 8 | u32::from(x1);
    out.components = u32::from(nf);
    out.progressive = matches!(code, 0xC2 | 0xC6 | 0xCA | 0xCE);
    out.huffman_dct = matches!(code, 0xC0..=0xC2);
    let factors: Vec<(u32, u32)> = comps
        .chunks_exact(3)
        .take(usize::from(nf))
        .map(|c| (u32::from(c[1] >> 4).max(1), u32::from(c[1] & 15).max(1)))
        .collect();
    let hmax = factors.iter().map(|f| f.0).max().unwrap_or(1);
    let vmax = factors.iter().map(|f| f.1).max().unwrap_or(1);
    out.blocks = factors
        .iter()
        .map(|&(h, v)| {
            let w = (out.width * h).div_ceil(hmax).div_ceil(8);
            let ht = (out.height * v).div_ceil(vmax).div_ceil(8);
            u64::from(w) * u64::from(ht)
        })
        .sum();
}

/// Decodes a JPEG at the largest of 1/2, 1/4 or 1/8 of its size that has at most
/// `max_pixels` pixels, with its EXIF orientation; `None` when even 1/8 is too large or the
/// pixel format is one this path does not handle (16-bit grey, CMYK).
pub fn decode_reduced(
    bytes: &[u8],
    layout: &Layout,
    max_pixels: u64,
) -> Option<Result<(DynamicImage, Orientation), String>> {
    let (w, h) = (u64::from(layout.width), u64::from(layout.height));
    let factor = [2u64, 4, 8]
        .into_iter()
        .find(|f| w.div_ceil(*f) * h.div_ceil(*f) <= max_pixels)?;
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    if let Err(e) = decoder.read_info() {
        return Some(Err(e.to_string()));
    }
    let info = decoder.info()?;
    let convert: fn(u32, u32, Vec<u8>) -> Option<DynamicImage> = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => {
            |w, h, px| GrayImage::from_raw(w, h, px).map(DynamicImage::ImageLuma8)
        }
        jpeg_decoder::PixelFormat::RGB24 => {
            |w, h, px| RgbImage::from_raw(w, h, px).map(DynamicImage::ImageRgb8)
        }
        _ => return None,
    };
    // `scale` picks the smallest DCT size whose output is at least the requested size.
    let want = |side: u64| u16::try_from(side.div_ceil(factor)).unwrap_or(u16::MAX);
    let (sw, sh) = match decoder.scale(want(w), want(h)) {
        Ok(size) => size,
        Err(e) => return Some(Err(e.to_string())),
    };
    let pixels = match decoder.decode() {
        Ok(p) => p,
        Err(e) => return Some(Err(e.to_string())),
    };
    let orientation = decoder
        .exif_data()
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms);
    Some(
        convert(u32::from(sw), u32::from(sh), pixels)
            .map(|image| (image, orientation))
            .ok_or_else(|| "the decoded pixels do not match the picture's size".to_owned()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 90]));
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(&img)
            .expect("encode");
        out
    }

    #[test]
    fn a_whole_jpeg_is_complete_and_a_cut_one_is_not() {
        let bytes = jpeg(64, 48);
        let whole = layout(&bytes);
        assert!(whole.complete);
        assert_eq!((whole.width, whole.height, whole.components), (64, 48, 3));
        assert!(!whole.too_short_for_its_size());
        let cut = layout(&bytes[..bytes.len() * 2 / 3]);
        assert!(!cut.complete);
        assert_eq!((cut.width, cut.height), (64, 48));
    }

    #[test]
    fn a_reduced_decode_is_an_eighth_of_the_size() {
        let bytes = jpeg(160, 80);
        let l = layout(&bytes);
        let (image, _) = decode_reduced(&bytes, &l, 20 * 10)
            .expect("fits at 1/8")
            .expect("decodes");
        assert_eq!((image.width(), image.height()), (20, 10));
        assert!(decode_reduced(&bytes, &l, 10).is_none());
    }
}
