//! Where in the picture each word of a caption comes from, by occlusion (Zeiler and Fergus,
//! 2014): each cell of a grid is greyed out in turn, and the decoder re-scores the caption's
//! words by teacher forcing. A word whose probability falls when a cell is hidden was read
//! from that cell. This needs no attention in the decoder, so it works with any model; a
//! model with attention gives the same kind of maps from its own weights ([`from_attention`]).

use candle_core::{DType, Tensor, D};
use image::RgbImage;
use serde::Serialize;

use crate::model::attention::GRID_SIDE;
use crate::model::Model;
use crate::vocab::{Vocab, END_ID, START_ID, UNK_ID};
use crate::{preprocess, Error, Result};

/// The grid `seesay` uses unless told otherwise: 4×4 cells of 56 pixels (17 encoder passes;
/// 7×7 takes 50 and about three times as long, see the model card).
pub const DEFAULT_GRID: usize = 4;

/// The finest grid allowed: 16×16 cells of 14 pixels already means 257 encoder passes.
pub const MAX_GRID: usize = 16;

/// A word whose probability falls by less than this summed over all cells depends on no one
/// part of the picture: it is said to look at the whole picture.
const MIN_TOTAL_DROP: f32 = 0.01;

/// A map is called flat (the whole picture) unless its strongest cell holds at least this many
/// times an even share.
const PEAK_OVER_EVEN: f32 = 2.0;

/// Where a word looks, named for a listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Region {
    /// No one part stands out.
    Whole,
    /// Top third, left third.
    UpperLeft,
    /// Top third, middle.
    Top,
    /// Top third, right third.
    UpperRight,
    /// Middle, left third.
    Left,
    /// The middle.
    Centre,
    /// Middle, right third.
    Right,
    /// Bottom third, left third.
    LowerLeft,
    /// Bottom third, middle.
    Bottom,
    /// Bottom third, right third.
    LowerRight,
}

impl Region {
    /// The region in words, as said after "looking at".
    pub fn words(self) -> &'static str {
        match self {
            Region::Whole => "the whole picture",
            Region::UpperLeft => "the upper left",
            Region::Top => "the top",
            Region::UpperRight => "the upper right",
            Region::Left => "the left",
            Region::Centre => "the centre",
            Region::Right => "the right",
            Region::LowerLeft => "the lower left",
            Region::Bottom => "the bottom",
            Region::LowerRight => "the lower right",
        }
    }

    /// The region holding the point (x, y), both in [0, 1] from the top left.
    fn at(x: f32, y: f32) -> Self {
        let third = |v: f32| {
            if v < 1.0 / 3.0 {
                0
            } else if v > 2.0 / 3.0 {
                2
            } else {
                1
            }
        };
        match (third(y), third(x)) {
            (0, 0) => Region::UpperLeft,
            (0, 1) => Region::Top,
            (0, _) => Region::UpperRight,
            (1, 0) => Region::Left,
            (1, 1) => Region::Centre,
            (1, _) => Region::Right,
            (_, 0) => Region::LowerLeft,
            (_, 1) => Region::Bottom,
            _ => Region::LowerRight,
        }
    }
}

/// Where one word of the caption looks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WordLook {
    /// The word.
    pub word: String,
    /// p(word | image, previous words) with nothing hidden.
    pub prob: f32,
    /// `drops[row][col]`: how much the word's probability falls when that cell is greyed out
    /// (negative when hiding the cell makes the word more likely); for maps from attention,
    /// the attention weights themselves.
    pub drops: Vec<Vec<f32>>,
    /// The positive drops scaled to sum to 1; an even map when no cell matters.
    pub map: Vec<Vec<f32>>,
    /// The part of the picture the map points at.
    pub region: Region,
    /// "looking at the upper left", for a listener.
    pub description: String,
}

/// How the maps were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LookMethod {
    /// By greying out each cell in turn (any model).
    Occlusion,
    /// By the model's own attention weights.
    Attention,
}

impl LookMethod {
    /// How the maps were found, in a sentence for the window and the listener.
    pub fn sentence(self, grid: usize) -> String {
        match self {
            LookMethod::Occlusion => format!(
                "Found by hiding each part of the picture in turn, on a {grid} by {grid} grid."
            ),
            LookMethod::Attention => {
                format!("Found by the model's attention, on a {grid} by {grid} grid.")
            }
        }
    }
}

/// Where each word of one caption looks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Occlusion {
    /// How the maps were found.
    pub method: LookMethod,
    /// Cells per side.
    pub grid: usize,
    /// The caption's words in order.
    pub words: Vec<WordLook>,
}

/// Greys out each cell of a `grid`×`grid` grid of the prepared 224×224 picture in turn and
/// measures how much each of `tokens` (a caption, without start and end) loses in probability.
///
/// All the occluded pictures go through the encoder in one batch, and all their captions
/// through the decoder in one teacher-forced pass. "Grey" is the normalisation's mean, so a
/// hidden cell is exactly zero in the encoder's input.
pub fn occlude(
    model: &Model,
    prepared: &RgbImage,
    tokens: &[u32],
    grid: usize,
) -> Result<Occlusion> {
    if !(1..=MAX_GRID).contains(&grid) {
        return Err(Error::Other(format!(
            "the occlusion grid must have 1 to {MAX_GRID} cells per side, not {grid}"
        )));
    }
    if tokens.is_empty() {
        return Err(Error::Other(
            "there is no caption to look for: it has no words".into(),
        ));
    }
    if let Some(&bad) = tokens
        .iter()
        .find(|&&t| t as usize >= model.vocab.len() || t <= UNK_ID)
    {
        return Err(Error::Other(format!(
            "the caption has a token ({bad}) that is not a word of the model's vocabulary"
        )));
    }
    let device = &model.device;
    let pixels = preprocess::to_tensor(
        std::slice::from_ref(prepared),
        &model.config.encoder.normalization,
        device,
    )?;
    let side = preprocess::INPUT_SIZE as usize;
    let cells = grid * grid;
    let n = cells + 1;
    // Row 0 keeps the whole picture; row 1 + k hides cell k.
    let mut mask = vec![1f32; n * side * side];
    for k in 0..cells {
        let (rows, cols) = (
            cell_span(k / grid, grid, side),
            cell_span(k % grid, grid, side),
        );
        let base = (k + 1) * side * side;
        for y in rows {
            let start = base + y * side;
            mask[start + cols.start..start + cols.end].fill(0.0);
        }
    }
    let mask = Tensor::from_vec(mask, (n, 1, side, side), device)?.to_dtype(pixels.dtype())?;
    let hidden = pixels.broadcast_mul(&mask)?;
    let features = model.decoder.input(&model.encode(&hidden)?)?;

    let t = tokens.len() + 1;
    let mut inputs = Vec::with_capacity(n * t);
    let mut targets = Vec::with_capacity(n * t);
    for _ in 0..n {
        inputs.push(START_ID);
        inputs.extend_from_slice(tokens);
        targets.extend_from_slice(tokens);
        targets.push(END_ID);
    }
    let inputs = Tensor::from_vec(inputs, (n, t), device)?;
    let targets = Tensor::from_vec(targets, (n * t, 1), device)?;
    let outputs = model.decoder.forward_sequence(&features, &inputs, None)?;
    let log_probs = candle_nn::ops::log_softmax(&model.decoder.logits(&outputs)?, D::Minus1)?
        .gather(&targets, 1)?
        .to_dtype(DType::F32)?
        .reshape((n, t))?
        .to_vec2::<f32>()?;
    if log_probs.iter().flatten().any(|v| !v.is_finite()) {
        return Err(not_finite());
    }
    let full = log_probs
        .first()
        .ok_or_else(|| Error::Other("the encoder returned no rows".into()))?;
    let words = tokens
        .iter()
        .enumerate()
        .map(|(i, &token)| {
            let prob = full.get(i).copied().unwrap_or(f32::NEG_INFINITY).exp();
            let drops: Vec<f32> = log_probs
                .iter()
                .skip(1)
                .map(|row| prob - row.get(i).copied().unwrap_or(f32::NEG_INFINITY).exp())
                .collect();
            look(model.vocab.word(token), prob, &drops, grid)
        })
        .collect();
    Ok(Occlusion {
        method: LookMethod::Occlusion,
        grid,
        words,
    })
}

/// The maps of a model with attention: `maps` has a row of weights over the 7×7 grid
/// (row-major) for each of `tokens`, and `log_probs` each word's log-probability.
pub fn from_attention(
    vocab: &Vocab,
    tokens: &[u32],
    log_probs: &[f32],
    maps: &[Vec<f32>],
) -> Result<Occlusion> {
    let cells = GRID_SIDE * GRID_SIDE;
    if maps.len() != tokens.len() || log_probs.len() != tokens.len() {
        return Err(Error::Other(format!(
            "{} attention maps and {} probabilities for {} words",
            maps.len(),
            log_probs.len(),
            tokens.len()
        )));
    }
    if let Some(bad) = maps.iter().find(|m| m.len() != cells) {
        return Err(Error::Other(format!(
            "an attention map has {} cells, not {cells}",
            bad.len()
        )));
    }
    if maps
        .iter()
        .flatten()
        .chain(log_probs)
        .any(|v| !v.is_finite())
    {
        return Err(not_finite());
    }
    let words = tokens
        .iter()
        .zip(log_probs)
        .zip(maps)
        .map(|((&t, &lp), map)| look(vocab.word(t), lp.exp(), map, GRID_SIDE))
        .collect();
    Ok(Occlusion {
        method: LookMethod::Attention,
        grid: GRID_SIDE,
        words,
    })
}

/// The pixel rows (or columns) of cell `i` of `grid` along a side of `side` pixels; the cells
/// tile the side exactly even when `grid` does not divide it.
fn cell_span(i: usize, grid: usize, side: usize) -> std::ops::Range<usize> {
    (i * side / grid)..((i + 1) * side / grid)
}

/// One word's map and its description, from its drops (row-major, `grid`×`grid`).
pub fn look(word: &str, prob: f32, drops: &[f32], grid: usize) -> WordLook {
    let (map, region) = normalise(drops, grid);
    let rows = |v: &[f32]| v.chunks(grid.max(1)).map(<[f32]>::to_vec).collect();
    WordLook {
        word: word.to_owned(),
        prob,
        drops: rows(drops),
        map: rows(&map),
        region,
        description: format!("looking at {}", region.words()),
    }
}

/// The positive drops scaled to sum to 1 (even when none is positive), and where they point:
/// the centre of mass of the strongest cell and its neighbours, counting only what each holds
/// above an even share, so that two distant cells do not average to the middle.
fn normalise(drops: &[f32], grid: usize) -> (Vec<f32>, Region) {
    let cells = drops.len().max(1);
    let even = 1.0 / cells as f32;
    let positive: Vec<f32> = drops.iter().map(|d| d.max(0.0)).collect();
    let total: f32 = positive.iter().sum();
    // A NaN total (from NaN drops) is no map either.
    if total.is_nan() || total < MIN_TOTAL_DROP {
        return (vec![even; drops.len()], Region::Whole);
    }
    let map: Vec<f32> = positive.iter().map(|p| p / total).collect();
    let Some((peak, &peak_share)) = map.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)) else {
        return (map, Region::Whole);
    };
    if peak_share < PEAK_OVER_EVEN * even || grid < 2 {
        return (map, Region::Whole);
    }
    let (pr, pc) = ((peak / grid) as isize, (peak % grid) as isize);
    let (mut sx, mut sy, mut sw) = (0f32, 0f32, 0f32);
    for (k, &share) in map.iter().enumerate() {
        let (r, c) = ((k / grid) as isize, (k % grid) as isize);
        let excess = share - even;
        if (r - pr).abs() <= 1 && (c - pc).abs() <= 1 && excess > 0.0 {
            sx += excess * (c as f32 + 0.5) / grid as f32;
            sy += excess * (r as f32 + 0.5) / grid as f32;
            sw += excess;
        }
    }
    // sw > 0: the peak itself holds more than an even share.
    (map, Region::at(sx / sw, sy / sw))
}

/// The error for a model whose numbers went to NaN or infinity while it was being inspected.
fn not_finite() -> Error {
    Error::Other(
        "the model computed numbers that are not numbers (NaN or infinity) while looking where \
         it looks"
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid4(hot: &[(usize, f32)]) -> Vec<f32> {
        let mut d = vec![0.001f32; 16];
        for &(k, v) in hot {
            d[k] = v;
        }
        d
    }

    #[test]
    fn a_map_sums_to_one_and_names_the_corner_its_mass_is_in() {
        let w = look("dog", 0.8, &grid4(&[(0, 0.3), (1, 0.1), (4, 0.1)]), 4);
        let sum: f32 = w.map.iter().flatten().sum();
        assert!((sum - 1.0).abs() < 1e-5, "{sum}");
        assert_eq!(w.region, Region::UpperLeft);
        assert_eq!(w.description, "looking at the upper left");
        assert_eq!(w.drops.len(), 4);
        assert!(w.drops.iter().all(|r| r.len() == 4));
        assert_eq!(
            look("x", 0.5, &grid4(&[(15, 0.2)]), 4).region,
            Region::LowerRight
        );
        // Two middle cells of the top row: the top, not a corner.
        assert_eq!(
            look("x", 0.5, &grid4(&[(1, 0.2), (2, 0.2)]), 4).region,
            Region::Top
        );
        // The four middle cells of a 4×4 grid.
        let centre = grid4(&[(5, 0.2), (6, 0.2), (9, 0.2), (10, 0.2)]);
        assert_eq!(look("x", 0.5, &centre, 4).region, Region::Centre);
    }

    #[test]
    fn flat_or_negligible_drops_look_at_the_whole_picture() {
        let even = look("a", 0.9, &[0.05; 16], 4);
        assert_eq!(even.region, Region::Whole);
        assert_eq!(even.description, "looking at the whole picture");
        // One cell, and under the least total drop that counts.
        let mut small = [0.0f32; 16];
        small[0] = 0.9 * MIN_TOTAL_DROP;
        let tiny = look("a", 0.9, &small, 4);
        assert_eq!(tiny.region, Region::Whole);
        let sum: f32 = tiny.map.iter().flatten().sum();
        assert!((sum - 1.0).abs() < 1e-5);
        // Hiding anything makes the word likelier: no positive drop, an even map.
        let negative = look("a", 0.2, &[-0.1; 16], 4);
        assert_eq!(negative.region, Region::Whole);
        assert!(negative
            .map
            .iter()
            .flatten()
            .all(|&v| (v - 1.0 / 16.0).abs() < 1e-6));
        // NaN drops are not a map.
        assert_eq!(look("a", 0.2, &[f32::NAN; 16], 4).region, Region::Whole);
    }

    #[test]
    fn cells_tile_the_side_exactly() {
        for grid in 1..=MAX_GRID {
            let mut covered = 0;
            for i in 0..grid {
                let span = cell_span(i, grid, 224);
                assert_eq!(span.start, covered);
                covered = span.end;
            }
            assert_eq!(covered, 224);
        }
    }
}
