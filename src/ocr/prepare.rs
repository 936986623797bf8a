//! Turns a screenshot into what Tesseract reads best: grey, dark text on a light
//! background, and small UI text enlarged.
//!
//! Tesseract's recogniser was trained on scans with letters about 20 pixels tall; a
//! screen's 12-14 px UI text has letters 7-9 px tall and is partly lost (menus, buttons,
//! sidebars) unless enlarged. The decision is made from the picture itself: the median
//! height of its glyph-sized ink blobs.

use image::RgbImage;

/// Median glyph height (px) below which the picture is read at twice its size.
pub const ENLARGE_BELOW: f32 = 12.0;
/// Median glyph height (px) below which it is read at three times its size.
pub const ENLARGE_3X_BELOW: f32 = 6.0;
/// Largest picture handed to Tesseract after enlarging, in pixels (a 1920x1200 screen x2).
pub const MAX_PIXELS: u64 = 3840 * 2400;

/// Longest side Tesseract takes, before or after enlarging (its boxes are 16-bit).
pub const MAX_SIDE: u32 = 32_000;

/// A picture ready for Tesseract: 8-bit grey, one byte per pixel, rows packed.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Grey levels, `width * height` of them.
    pub pixels: Vec<u8>,
    /// Width after enlarging.
    pub width: u32,
    /// Height after enlarging.
    pub height: u32,
    /// How many times larger than the original (1, 2 or 3).
    pub scale: u32,
    /// Whether grey levels were flipped because the background was dark.
    pub inverted: bool,
    /// Median height of glyph-sized blobs in the original, when there were enough.
    pub glyph_height: Option<f32>,
}

/// Prepares a picture; `scale` forces a factor instead of choosing one from the text size.
pub fn prepare(image: &RgbImage, scale: Option<u32>) -> Prepared {
    let (w, h) = image.dimensions();
    let mut grey = grey(image);
    let inverted = background(&grey) < 128;
    if inverted {
        // Dark themes and terminals: Tesseract expects dark ink on a light page.
        grey.iter_mut().for_each(|g| *g = 255 - *g);
    }
    let glyph_height = glyph_height(&grey, w, h, background(&grey));
    let scale = scale
        .unwrap_or_else(|| choose_scale(glyph_height))
        .clamp(1, 4);
    let scale = fit_scale(scale, w, h);
    let pixels = if scale == 1 {
        grey
    } else {
        upscale(&grey, w, h, scale)
    };
    Prepared {
        pixels,
        width: w * scale,
        height: h * scale,
        scale,
        inverted,
        glyph_height,
    }
}

/// Luma (ITU-R BT.601 weights, as Tesseract's own conversion), one byte per pixel.
pub fn grey(image: &RgbImage) -> Vec<u8> {
    image
        .pixels()
        .map(|p| {
            let [r, g, b] = p.0.map(u32::from);
            ((299 * r + 587 * g + 114 * b + 500) / 1000) as u8
        })
        .collect()
}

/// The centre of the most common of 16 grey bands: the page's background.
pub fn background(grey: &[u8]) -> u8 {
    let mut bins = [0u64; 16];
    for &g in grey {
        bins[usize::from(g >> 4)] += 1;
    }
    let mode = (0..16).max_by_key(|&i| (bins[i], i)).unwrap_or(15);
    (mode as u8) * 16 + 8
}

/// The factor that brings the measured glyph height up to what Tesseract reads well.
pub fn choose_scale(glyph_height: Option<f32>) -> u32 {
    match glyph_height {
        Some(g) if g < ENLARGE_3X_BELOW => 3,
        Some(g) if g < ENLARGE_BELOW => 2,
        _ => 1,
    }
}

/// The largest factor not above `scale` that keeps the picture within [`MAX_PIXELS`] and
/// [`MAX_SIDE`].
pub fn fit_scale(scale: u32, width: u32, height: u32) -> u32 {
    let area = u64::from(width) * u64::from(height);
    let longest = u64::from(width.max(height));
    (1..=scale)
        .rev()
        .find(|&s| {
            let s = u64::from(s);
            area * s * s <= MAX_PIXELS && longest * s <= u64::from(MAX_SIDE)
        })
        .unwrap_or(1)
}

/// Enlarges a grey picture with Catmull-Rom (sharp edges, no ringing to speak of); falls back
/// to the image crate's filter if the SIMD resizer refuses.
pub fn upscale(grey: &[u8], width: u32, height: u32, scale: u32) -> Vec<u8> {
    use fast_image_resize::{images, FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
    let (dw, dh) = (width * scale, height * scale);
    let fast = || -> Option<Vec<u8>> {
        let src = images::ImageRef::new(width, height, grey, PixelType::U8).ok()?;
        let mut dst = images::Image::new(dw, dh, PixelType::U8);
        let options =
            ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::CatmullRom));
        Resizer::new().resize(&src, &mut dst, &options).ok()?;
        Some(dst.into_vec())
    };
    fast().unwrap_or_else(|| {
        let img = image::GrayImage::from_raw(width, height, grey.to_vec())
            .unwrap_or_else(|| image::GrayImage::new(width, height));
        image::imageops::resize(&img, dw, dh, image::imageops::FilterType::CatmullRom).into_raw()
    })
}

/// Median height of the ink blobs that are shaped like glyphs, or `None` when there are too
/// few to judge (a blank picture).
///
/// Ink is anything 64 grey levels away from the background; blobs are 8-connected. Blobs
/// much wider than tall (rules, underlines, button outlines) and very large ones (pictures,
/// panels) are not glyphs and are left out.
pub fn glyph_height(grey: &[u8], width: u32, height: u32, background: u8) -> Option<f32> {
    let mut heights: Vec<u32> = blobs(grey, width, height, background)
        .into_iter()
        .filter(|b| {
            let (bw, bh) = (b.x1 - b.x0 + 1, b.y1 - b.y0 + 1);
            (3..=120).contains(&bh) && bw <= 3 * bh && b.pixels >= 3
        })
        .map(|b| b.y1 - b.y0 + 1)
        .collect();
    if heights.len() < 10 {
        return None;
    }
    let mid = heights.len() / 2;
    let (_, median, _) = heights.select_nth_unstable(mid);
    Some(*median as f32)
}

/// The bounding box and size of one connected blob of ink.
#[derive(Debug, Clone, Copy)]
struct Blob {
    x0: u32,
    y0: u32,
    x1: u32,
    y1: u32,
    pixels: u32,
}

/// 8-connected blobs of ink, by two-pass labelling with union-find.
fn blobs(grey: &[u8], width: u32, height: u32, background: u8) -> Vec<Blob> {
    let (w, h) = (width as usize, height as usize);
    if w == 0 || h == 0 || grey.len() < w * h {
        return Vec::new();
    }
    let ink = |i: usize| grey[i].abs_diff(background) > 64;
    let mut labels = vec![0u32; w * h];
    let mut parent: Vec<u32> = vec![0];
    fn root(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            parent[x as usize] = parent[parent[x as usize] as usize];
            x = parent[x as usize];
        }
        x
    }
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if !ink(i) {
                continue;
            }
            let mut neighbours = [0u32; 4];
            if x > 0 {
                neighbours[0] = labels[i - 1];
            }
            if y > 0 {
                let up = i - w;
                neighbours[1] = labels[up];
                if x > 0 {
                    neighbours[2] = labels[up - 1];
                }
                if x + 1 < w {
                    neighbours[3] = labels[up + 1];
                }
            }
            let mut label = 0;
            for n in neighbours.into_iter().filter(|&n| n != 0) {
                let r = root(&mut parent, n);
                if label == 0 {
                    label = r;
                } else if r != label {
                    let (lo, hi) = (label.min(r), label.max(r));
                    parent[hi as usize] = lo;
                    label = lo;
                }
            }
            if label == 0 {
                label = parent.len() as u32;
                parent.push(label);
            }
            labels[i] = label;
        }
    }
    let mut boxes: Vec<Option<Blob>> = vec![None; parent.len()];
    for y in 0..h {
        for x in 0..w {
            let l = labels[y * w + x];
            if l == 0 {
                continue;
            }
            let r = root(&mut parent, l) as usize;
            let (x, y) = (x as u32, y as u32);
            let b = boxes[r].get_or_insert(Blob {
                x0: x,
                y0: y,
                x1: x,
                y1: y,
                pixels: 0,
            });
            b.x0 = b.x0.min(x);
            b.x1 = b.x1.max(x);
            b.y1 = b.y1.max(y);
            b.pixels += 1;
        }
    }
    boxes.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dark_backgrounds_are_inverted_and_light_ones_kept() {
        let dark = RgbImage::from_pixel(20, 10, image::Rgb([30, 30, 30]));
        let p = prepare(&dark, Some(1));
        assert!(p.inverted);
        assert_eq!(p.pixels[0], 225);
        let light = RgbImage::from_pixel(20, 10, image::Rgb([240, 240, 240]));
        assert!(!prepare(&light, Some(1)).inverted);
    }

    #[test]
    fn glyph_height_is_the_median_blob_height_and_ignores_rules() {
        let (w, h) = (200u32, 40u32);
        let mut grey = vec![255u8; (w * h) as usize];
        let mut fill = |x0: u32, y0: u32, bw: u32, bh: u32| {
            for y in y0..y0 + bh {
                for x in x0..x0 + bw {
                    grey[(y * w + x) as usize] = 0;
                }
            }
        };
        // Twelve "letters" 8 px tall, two 12 px tall, and a long underline.
        for k in 0..12 {
            fill(4 + k * 8, 10, 5, 8);
        }
        fill(110, 6, 5, 12);
        fill(120, 6, 5, 12);
        fill(4, 30, 180, 2);
        assert_eq!(glyph_height(&grey, w, h, 255), Some(8.0));
        assert_eq!(glyph_height(&[255; 100], 10, 10, 255), None);
    }

    #[test]
    fn scale_follows_glyph_height_within_the_pixel_budget() {
        assert_eq!(choose_scale(Some(7.0)), 2);
        assert_eq!(choose_scale(Some(5.0)), 3);
        assert_eq!(choose_scale(Some(20.0)), 1);
        assert_eq!(choose_scale(None), 1);
        assert_eq!(fit_scale(2, 1280, 800), 2);
        assert_eq!(fit_scale(3, 1920, 1200), 2);
        assert_eq!(fit_scale(2, 3840, 2160), 1);
        assert_eq!(fit_scale(2, 20_000, 50), 1);
    }

    #[test]
    fn upscale_keeps_flat_areas_and_doubles_size() {
        let out = upscale(&[200; 6 * 4], 6, 4, 2);
        assert_eq!(out.len(), 12 * 8);
        assert!(out.iter().all(|&g| g == 200));
    }
}
