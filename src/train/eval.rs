//! Captioning a dataset split from features and scoring it against the human captions.

use candle_core::{Device, Tensor};

use crate::captioner::CaptionOptions;
use crate::confidence::Signals;
use crate::decode;
use crate::guided::{self, Constraint, GuidePolicy};
use crate::metrics::{self, Scores};
use crate::model::attention::GRID_CELLS;
use crate::model::{Decoder, EfficientNetLite0};
use crate::objects;
use crate::vocab::Vocab;
use crate::{Error, Result};

/// One image's caption from [`caption_features`], with what the confidence is computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureCaption {
    /// The best caption.
    pub text: String,
    /// The signals of its confidence.
    pub signals: Signals,
    /// The constraint that produced it, if guidance stepped in.
    pub constraint: Option<Constraint>,
}

/// Captions each feature row with beam search and returns the best caption of each; with
/// several decoders (same vocabulary), their averaged distribution is searched. With `head`
/// (the encoder whose features these are), its ImageNet objects guide the search as `policy`
/// says, exactly as when captioning a picture.
///
/// A row is a pooled feature (F values) or a grid (49 × F, cell by cell, from the grid cache);
/// an attention decoder needs grids, and from a grid the others (and the head) read its mean.
#[allow(clippy::too_many_arguments)]
pub fn caption_features(
    decoders: &[&Decoder],
    head: Option<&EfficientNetLite0>,
    vocab: &Vocab,
    features: &[&[f32]],
    beam_size: usize,
    max_len: usize,
    policy: &GuidePolicy,
    device: &Device,
) -> Result<Vec<FeatureCaption>> {
    let first = decoders
        .first()
        .ok_or_else(|| Error::Other("captioning needs at least one decoder".into()))?;
    let stepper = decode::Ensemble::new(decoders.iter().map(|d| d.stepper(device)).collect())?;
    let params = CaptionOptions {
        beam_size,
        candidates: 1,
        max_len,
        ..CaptionOptions::default()
    }
    .beam_params();
    let mut out = Vec::with_capacity(features.len());
    // Images go through the decoder in batches: each step reads the weights once for all.
    let dim = first.config().feature_dim;
    let grid_len = GRID_CELLS * dim;
    for chunk in features.chunks(32) {
        let flat: Vec<f32> = chunk.iter().flat_map(|f| f.iter().copied()).collect();
        let rows = chunk.len();
        let x = if flat.len() == rows * dim {
            Tensor::from_vec(flat, (rows, dim), device)?
        } else if flat.len() == rows * grid_len {
            Tensor::from_vec(flat, (rows, GRID_CELLS, dim), device)?
        } else {
            return Err(Error::Other(format!(
                "features of {} values per image are neither pooled ({dim}) nor a grid ({grid_len})",
                chunk.first().map_or(0, |f| f.len())
            )));
        };
        if x.rank() == 2 && decoders.iter().any(|d| d.attends()) {
            return Err(Error::Other(
                "an attention decoder needs the encoder's grid, but these are pooled features"
                    .into(),
            ));
        }
        let pooled = if x.rank() == 3 { x.mean(1)? } else { x.clone() };
        let probs: Vec<Vec<f32>> = match head {
            Some(head) => head
                .classify(&pooled)?
                .to_vec2::<f32>()?
                .iter()
                .map(|row| objects::softmax(row))
                .collect(),
            None => vec![Vec::new(); chunk.len()],
        };
        let state = decoders
            .iter()
            .map(|d| d.image_state(&x))
            .collect::<Result<Vec<_>>>()?;
        let all = guided::search(&stepper, state, &probs, vocab, &params, policy)?;
        for captions in all {
            let best = captions
                .candidates
                .first()
                .ok_or_else(|| Error::Other("beam search returned nothing".into()))?;
            let words: Vec<&str> = best
                .hypothesis
                .tokens
                .iter()
                .map(|&t| vocab.word(t))
                .collect();
            out.push(FeatureCaption {
                text: words.join(" "),
                signals: Signals::of(&captions, |t| vocab.word(t).to_owned()),
                constraint: best.constraint.clone(),
            });
        }
    }
    Ok(out)
}

/// Each image's first human caption scored against its other captions, as the Show and
/// Tell paper compares itself with people. Images with fewer than two captions are skipped.
pub fn human_scores(refs: &[Vec<String>]) -> Scores {
    let mut hyps = Vec::new();
    let mut others = Vec::new();
    for r in refs {
        if let Some((first, rest)) = r.split_first() {
            if !rest.is_empty() {
                hyps.push(first.clone());
                others.push(rest.to_vec());
            }
        }
    }
    metrics::score(&hyps, &others)
}
