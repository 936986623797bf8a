//! Finds the photos inside a screenshot (the picture in a news page, an avatar wall), so
//! seesay can caption those and read the rest.
//!
//! A screen is made of flat colours, smooth gradients and text; a photo has several colours in
//! most small patches. The picture is cut into square cells; a cell is busy when it holds a
//! few distinct colours and no recognised text. Busy cells are closed over small gaps (a
//! blurred sky or wall inside a photo), and large, well-filled groups are the regions; the
//! caller then keeps only those the kind classifier also calls photos.

use image::RgbImage;

/// Side of one cell, in pixels.
const CELL: u32 = 16;
/// Distinct colours (at 5 bits a channel) from which a cell is busy: a flat panel has 1, a
/// smooth gradient 2 to 5 at most, most cells of even a blurred photo more.
const MIN_COLOURS: usize = 4;
/// Closing radius in cells: gaps this wide inside a photo are filled.
const CLOSE: usize = 2;
/// A region must cover at least this share of the screen.
const MIN_AREA_SHARE: f32 = 0.03;
/// And be at least this many pixels on its shorter side.
const MIN_SIDE: u32 = 96;
/// And its busy cells must fill this share of its box.
const MIN_FILL: f32 = 0.7;
/// At most this many regions are reported, largest first.
const MAX_REGIONS: usize = 4;

/// A photo-like region: `[x0, y0, x1, y1]` in pixels (x1, y1 exclusive).
pub type Rect = [u32; 4];

/// The photo-like regions of `image`, largest first, avoiding the boxes in `text`.
pub fn photo_regions(image: &RgbImage, text: &[Rect]) -> Vec<Rect> {
    let (w, h) = image.dimensions();
    let (cols, rows) = (w / CELL, h / CELL);
    if cols == 0 || rows == 0 {
        return Vec::new();
    }
    let mut photo = vec![false; (cols * rows) as usize];
    let mut seen = vec![0u32; 1 << 15];
    let mut stamp = 0u32;
    for r in 0..rows {
        for c in 0..cols {
            let (x0, y0) = (c * CELL, r * CELL);
            let cell = [x0, y0, x0 + CELL, y0 + CELL];
            if text.iter().any(|t| overlaps(t, &cell)) {
                continue;
            }
            stamp += 1;
            let mut distinct = 0;
            for y in y0..y0 + CELL {
                for x in x0..x0 + CELL {
                    let p = image.get_pixel(x, y).0;
                    let key = (usize::from(p[0] >> 3) << 10)
                        | (usize::from(p[1] >> 3) << 5)
                        | usize::from(p[2] >> 3);
                    if seen[key] != stamp {
                        seen[key] = stamp;
                        distinct += 1;
                    }
                }
            }
            photo[(r * cols + c) as usize] = distinct >= MIN_COLOURS;
        }
    }
    let photo = close(&photo, cols as usize, rows as usize, CLOSE);
    let mut regions = components(&photo, cols, rows)
        .into_iter()
        .filter_map(|(cells, [c0, r0, c1, r1])| {
            let box_cells = (c1 - c0) * (r1 - r0);
            let rect = [c0 * CELL, r0 * CELL, c1 * CELL, r1 * CELL];
            let (bw, bh) = (rect[2] - rect[0], rect[3] - rect[1]);
            let share = (bw * bh) as f32 / (w * h) as f32;
            let fill = cells as f32 / box_cells.max(1) as f32;
            (share >= MIN_AREA_SHARE && bw.min(bh) >= MIN_SIDE && fill >= MIN_FILL).then_some(rect)
        })
        .collect::<Vec<Rect>>();
    regions.sort_by_key(|r| std::cmp::Reverse((r[2] - r[0]) * (r[3] - r[1])));
    regions.truncate(MAX_REGIONS);
    regions
}

/// Morphological closing (dilate, then erode) with a square of radius `r` cells.
fn close(cells: &[bool], cols: usize, rows: usize, r: usize) -> Vec<bool> {
    let pass = |src: &[bool], want: bool| -> Vec<bool> {
        let mut out = vec![!want; src.len()];
        for y in 0..rows {
            for x in 0..cols {
                let (y0, y1) = (y.saturating_sub(r), (y + r).min(rows - 1));
                let (x0, x1) = (x.saturating_sub(r), (x + r).min(cols - 1));
                let hit = (y0..=y1).any(|yy| (x0..=x1).any(|xx| src[yy * cols + xx] == want));
                out[y * cols + x] = if hit { want } else { !want };
            }
        }
        out
    };
    let dilated = pass(cells, true);
    pass(&dilated, false)
}

fn overlaps(a: &Rect, b: &Rect) -> bool {
    a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]
}

/// Connected groups (4-neighbour) of true cells: their cell count and bounding box in cells.
fn components(cells: &[bool], cols: u32, rows: u32) -> Vec<(u32, [u32; 4])> {
    let mut label = vec![false; cells.len()];
    let mut out = Vec::new();
    for start in 0..cells.len() {
        if !cells[start] || label[start] {
            continue;
        }
        label[start] = true;
        let mut stack = vec![start];
        let mut count = 0;
        let (mut c0, mut r0, mut c1, mut r1) = (u32::MAX, u32::MAX, 0, 0);
        while let Some(i) = stack.pop() {
            count += 1;
            let (c, r) = (i as u32 % cols, i as u32 / cols);
            c0 = c0.min(c);
            r0 = r0.min(r);
            c1 = c1.max(c + 1);
            r1 = r1.max(r + 1);
            let mut push = |cc: u32, rr: u32| {
                let j = (rr * cols + cc) as usize;
                if cells[j] && !label[j] {
                    label[j] = true;
                    stack.push(j);
                }
            };
            if c > 0 {
                push(c - 1, r);
            }
            if c + 1 < cols {
                push(c + 1, r);
            }
            if r > 0 {
                push(c, r - 1);
            }
            if r + 1 < rows {
                push(c, r + 1);
            }
        }
        out.push((count, [c0, r0, c1, r1]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flat "screen" with a noisy "photo" pasted at (x, y) of size (pw, ph).
    fn screen_with_photo(x: u32, y: u32, pw: u32, ph: u32) -> RgbImage {
        let mut img = RgbImage::from_pixel(800, 600, image::Rgb([240, 240, 240]));
        let mut s = 12345u32;
        for yy in y..y + ph {
            for xx in x..x + pw {
                s = s.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let v = (s >> 8).to_le_bytes();
                img.put_pixel(xx, yy, image::Rgb([v[0], v[1], v[2]]));
            }
        }
        img
    }

    #[test]
    fn finds_a_pasted_photo_and_nothing_on_a_flat_screen() {
        let img = screen_with_photo(320, 160, 320, 240);
        let found = photo_regions(&img, &[]);
        assert_eq!(found.len(), 1, "{found:?}");
        let r = found[0];
        assert!(
            r[0] >= 304 && r[0] <= 336 && r[2] >= 624 && r[2] <= 656,
            "{r:?}"
        );
        let flat = RgbImage::from_pixel(800, 600, image::Rgb([30, 30, 30]));
        assert!(photo_regions(&flat, &[]).is_empty());
    }

    #[test]
    fn small_patches_and_text_boxes_are_not_photos() {
        let img = screen_with_photo(10, 10, 48, 48);
        assert!(photo_regions(&img, &[]).is_empty());
        let img = screen_with_photo(320, 160, 320, 240);
        assert!(photo_regions(&img, &[[300, 150, 660, 410]]).is_empty());
    }
}
