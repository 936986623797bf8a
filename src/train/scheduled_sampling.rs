//! Scheduled sampling (Bengio et al., 2015), in its parallel form (Duckworth et al., 2019).
//!
//! Teacher forcing only ever shows the decoder human words, but at prediction time it reads
//! its own. Here some input words of a batch are swapped for words the model samples from
//! its own distribution at that position, computed by one teacher-forced pass without
//! gradient, before the pass that trains. The swapped-in word's target stays the human one.

use candle_core::Tensor;
use rand::rngs::StdRng;
use rand::Rng;

use crate::model::Decoder;
use crate::vocab;
use crate::Result;

/// The share of input words replaced at `step` of `total`: it rises linearly from 0 to `peak`,
/// so training starts as plain teacher forcing, when the model's own words are noise.
pub fn rate(peak: f64, step: usize, total: usize) -> f64 {
    peak * (step as f64 / total.max(1) as f64).min(1.0)
}

/// Returns `inputs` (B×T word ids; column 0 is the start token, then the words, then
/// padding) with each word replaced, with probability `rate`, by a word sampled from the
/// decoder's prediction for it. Padding is never touched.
pub fn mix_inputs(
    decoder: &Decoder,
    features: &Tensor,
    inputs: &Tensor,
    rate: f64,
    rng: &mut StdRng,
) -> Result<Tensor> {
    let (rows, t) = inputs.dims2()?;
    let mut mixed = inputs.flatten_all()?.to_vec1::<u32>()?;
    // The output at flat position p = r·T + c − 1 predicts the input word at column c.
    let picked: Vec<usize> = (0..rows)
        .flat_map(|r| (1..t).map(move |c| r * t + c))
        .filter(|&p| mixed[p] != vocab::PAD_ID)
        .filter(|_| rng.random_bool(rate.clamp(0.0, 1.0)))
        .collect();
    if picked.is_empty() {
        return Ok(inputs.clone());
    }
    let device = features.device();
    let hidden = decoder.forward_sequence(features, inputs, None)?.detach();
    let outputs: Vec<u32> = picked.iter().map(|&p| (p - 1) as u32).collect();
    let outputs = Tensor::from_vec(outputs, picked.len(), device)?;
    let probs =
        candle_nn::ops::softmax_last_dim(&decoder.logits(&hidden.index_select(&outputs, 0)?)?)?
            .detach()
            .to_vec2::<f32>()?;
    for (&p, row) in picked.iter().zip(&probs) {
        let word = sample(row, rng.random::<f32>());
        // The special tokens never appear as inputs after the start, so they are not swapped in.
        if ![vocab::PAD_ID, vocab::START_ID, vocab::END_ID].contains(&word) {
            mixed[p] = word;
        }
    }
    Ok(Tensor::from_vec(mixed, (rows, t), device)?)
}

/// The token whose cumulative probability first exceeds `u` (the last one if rounding leaves a gap).
fn sample(probs: &[f32], u: f32) -> u32 {
    let mut acc = 0.0;
    for (i, &p) in probs.iter().enumerate() {
        acc += p;
        if u < acc {
            return i as u32;
        }
    }
    probs.len().saturating_sub(1) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DecoderConfig;
    use candle_core::{DType, Device};
    use candle_nn::{VarBuilder, VarMap};
    use rand::SeedableRng;

    #[test]
    fn the_rate_ramps_up_and_stays() {
        assert_eq!(rate(0.25, 0, 100), 0.0);
        assert!((rate(0.25, 50, 100) - 0.125).abs() < 1e-12);
        assert_eq!(rate(0.25, 200, 100), 0.25);
    }

    #[test]
    fn sampling_follows_the_cumulative_probabilities() {
        let p = [0.1, 0.0, 0.6, 0.3];
        assert_eq!(sample(&p, 0.05), 0);
        assert_eq!(sample(&p, 0.1), 2);
        assert_eq!(sample(&p, 0.69), 2);
        assert_eq!(sample(&p, 0.71), 3);
        assert_eq!(sample(&p, 1.0), 3);
    }

    #[test]
    fn only_words_are_replaced_and_only_at_the_given_rate() -> Result<()> {
        let dev = Device::Cpu;
        let cfg = DecoderConfig {
            vocab_size: 30,
            feature_dim: 8,
            embed_dim: 8,
            hidden_dim: 8,
            dropout: 0.0,
            merge_image: true,
            ..DecoderConfig::nic(30)
        };
        let vm = VarMap::new();
        let dec = Decoder::new(cfg, VarBuilder::from_varmap(&vm, DType::F32, &dev))?;
        // Zero weights make the model's next-word distribution uniform, so the count below does
        // not hang on an unseeded random initialisation (a peaked one made this test flaky).
        for var in vm.all_vars() {
            var.set(&var.zeros_like()?)?;
        }
        let feats = Tensor::ones((2, 8), DType::F32, &dev)?;
        let (s, p) = (vocab::START_ID, vocab::PAD_ID);
        let inputs = vec![s, 10, 11, 12, 13, s, 20, 21, p, p];
        let batch = Tensor::from_slice(&inputs, (2, 5), &dev)?;
        let mut rng = StdRng::seed_from_u64(1);
        let mix = |rate: f64, rng: &mut StdRng| -> Result<Vec<u32>> {
            Ok(mix_inputs(&dec, &feats, &batch, rate, rng)?
                .flatten_all()?
                .to_vec1::<u32>()?)
        };
        assert_eq!(mix(0.0, &mut rng)?, inputs);
        let mut changed = 0;
        for _ in 0..50 {
            let mixed = mix(1.0, &mut rng)?;
            // Start tokens and padding stay; no special token is swapped in.
            assert_eq!((mixed[0], mixed[5], mixed[8], mixed[9]), (s, s, p, p));
            assert!(mixed
                .iter()
                .enumerate()
                .filter(|&(i, _)| ![0, 5, 8, 9].contains(&i))
                .all(|(_, &w)| w != p && w != s && w != vocab::END_ID));
            changed += mixed.iter().zip(&inputs).filter(|(a, b)| a != b).count();
        }
        // Six words per call, each drawn uniformly from the 30 tokens: a draw of the gold word or
        // of one of the 3 special tokens leaves the input as it was, so about 260 of 300 change.
        assert!(changed > 220, "only {changed} of 300 words were replaced");
        Ok(())
    }
}
