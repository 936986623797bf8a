//! Pictures with nothing to describe: too small to see, or one colour all over. They get a
//! plain statement instead of a caption, since the model, shown a red square, will still
//! find a boy in a red shirt in it.

use image::{DynamicImage, RgbImage};

use crate::preprocess;

/// Pictures narrower or lower than this many pixels are too small to describe.
pub const MIN_SIDE: u32 = 16;

/// How far (per channel, 0–255) a pixel may be from the first one in a picture still called
/// a single colour: enough for JPEG's noise around a flat colour, not for a faint line.
const TOLERANCE: u8 = 10;

/// The plain statement for a picture too small or of a single colour, or `None` when the
/// picture has something to describe.
pub fn statement(image: &DynamicImage) -> Option<String> {
    let (w, h) = (image.width(), image.height());
    if w < MIN_SIDE || h < MIN_SIDE {
        return Some(format!(
            "The picture is too small to describe ({w}×{h} pixels)."
        ));
    }
    let colour = match image.as_rgb8() {
        Some(rgb) => single_colour(rgb),
        None => single_colour(&preprocess::to_rgb(image)),
    }?;
    Some(format!(
        "The picture is a single colour: {}.",
        colour_name(colour)
    ))
}

/// The mean colour of a picture whose every pixel is within [`TOLERANCE`] of the first one.
pub fn single_colour(rgb: &RgbImage) -> Option<[u8; 3]> {
    let first = rgb.pixels().next()?.0;
    let mut sum = [0u64; 3];
    for p in rgb.pixels() {
        for c in 0..3 {
            if p[c].abs_diff(first[c]) > TOLERANCE {
                return None;
            }
            sum[c] += u64::from(p[c]);
        }
    }
    let n = u64::from(rgb.width()) * u64::from(rgb.height());
    Some(std::array::from_fn(|c| (sum[c] / n.max(1)) as u8))
}

/// A colour in everyday words: "red", "dark blue", "light grey", "brown".
pub fn colour_name([r, g, b]: [u8; 3]) -> String {
    let (r, g, b) = (f32::from(r), f32::from(g), f32::from(b));
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let lightness = (max + min) / 2.0;
    let chroma = max - min;
    if chroma < 28.0 {
        return match lightness {
            l if l < 40.0 => "black",
            l if l < 100.0 => "dark grey",
            l if l < 170.0 => "grey",
            l if l < 225.0 => "light grey",
            _ => "white",
        }
        .to_owned();
    }
    let hue = if max == r {
        60.0 * ((g - b) / chroma).rem_euclid(6.0)
    } else if max == g {
        60.0 * ((b - r) / chroma + 2.0)
    } else {
        60.0 * ((r - g) / chroma + 4.0)
    };
    let base = match hue {
        h if !(15.0..345.0).contains(&h) => "red",
        h if h < 45.0 => "orange",
        h if h < 70.0 => "yellow",
        h if h < 165.0 => "green",
        h if h < 195.0 => "turquoise",
        h if h < 255.0 => "blue",
        h if h < 290.0 => "purple",
        _ => "pink",
    };
    match base {
        "orange" if max < 170.0 => "brown".to_owned(),
        "red" if lightness > 180.0 => "pink".to_owned(),
        _ if lightness > 190.0 => format!("light {base}"),
        _ if max < 110.0 => format!("dark {base}"),
        _ => base.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(w: u32, h: u32, c: [u8; 3]) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_pixel(w, h, image::Rgb(c)))
    }

    #[test]
    fn one_red_pixel_is_too_small() {
        assert_eq!(
            statement(&flat(1, 1, [255, 0, 0])).as_deref(),
            Some("The picture is too small to describe (1×1 pixels).")
        );
    }

    #[test]
    fn flat_colours_are_named() {
        let said = |c| statement(&flat(64, 48, c));
        assert_eq!(
            said([250, 10, 10]).as_deref(),
            Some("The picture is a single colour: red.")
        );
        assert_eq!(
            said([255, 255, 255]).as_deref(),
            Some("The picture is a single colour: white.")
        );
        for (c, name) in [
            ([0, 0, 0], "black"),
            ([20, 60, 200], "blue"),
            ([0, 0, 90], "dark blue"),
            ([30, 160, 40], "green"),
            ([240, 220, 20], "yellow"),
            ([130, 80, 30], "brown"),
            ([128, 128, 128], "grey"),
            ([255, 190, 200], "pink"),
        ] {
            assert_eq!(colour_name(c), name, "{c:?}");
        }
    }

    #[test]
    fn a_faint_line_is_something_to_describe() {
        let mut rgb = RgbImage::from_pixel(64, 64, image::Rgb([255, 255, 255]));
        for y in 0..64 {
            rgb.put_pixel(30, y, image::Rgb([200, 200, 200]));
        }
        assert_eq!(statement(&DynamicImage::ImageRgb8(rgb)), None);
    }

    #[test]
    fn jpeg_noise_on_a_flat_colour_is_still_one_colour() {
        let img = RgbImage::from_fn(64, 64, |x, y| {
            image::Rgb([200 + ((x * 7 + y * 3) % 5) as u8, 40, 40])
        });
        assert!(single_colour(&img).is_some());
    }
}
