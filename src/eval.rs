//! Captioning a dataset split from features and scoring it against the human captions.

use candle_core::{Device, Tensor};

use crate::captioner::CaptionOptions;
use crate::decode;
use crate::metrics::{self, Scores};
use crate::model::Decoder;
use crate::vocab::{self, Vocab};
use crate::{Error, Result};

/// Captions each feature row with beam search and returns the best caption of each; with
/// several decoders (same vocabulary), their averaged distribution is searched.
pub fn caption_features(
    decoders: &[&Decoder],
    vocab: &Vocab,
    features: &[&[f32]],
    beam_size: usize,
    max_len: usize,
    device: &Device,
) -> Result<Vec<String>> {
    let first = decoders
        .first()
        .ok_or_else(|| Error::Other("captioning needs at least one decoder".into()))?;
    let stepper = decode::Ensemble::new(decoders.iter().map(|d| d.stepper(device)).collect())?;
    let params = CaptionOptions {
        beam_size,
        candidates: 1,
        max_len,
        length_norm: false,
    }
    .beam_params();
    let mut out = Vec::with_capacity(features.len());
    // Images go through the decoder in batches: each step reads the weights once for all.
    for chunk in features.chunks(32) {
        let dim = first.config().feature_dim;
        let flat: Vec<f32> = chunk.iter().flat_map(|f| f.iter().copied()).collect();
        let x = Tensor::from_vec(flat, (chunk.len(), dim), device)?;
        let state = decoders
            .iter()
            .map(|d| d.image_state(&x))
            .collect::<Result<Vec<_>>>()?;
        let all = decode::beam_search_batch(
            &stepper,
            state,
            chunk.len(),
            vocab::START_ID,
            vocab::END_ID,
            &params,
        )?;
        for hyps in all {
            let best = hyps
                .first()
                .ok_or_else(|| Error::Other("beam search returned nothing".into()))?;
            let words: Vec<&str> = best.tokens.iter().map(|&t| vocab.word(t)).collect();
            out.push(words.join(" "));
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
