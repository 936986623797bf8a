//! Corpus BLEU-1..4 exactly as pycocoevalcap's `bleu_scorer.py` computes it (option "closest").

use std::collections::HashMap;

use super::scored_pairs;

/// Added to clipped match counts, as in `bleu_scorer.py`, so that 0 matches stay finite.
const TINY: f64 = 1e-15;
/// Added to guess counts and the reference length, as in `bleu_scorer.py`, to avoid dividing by 0.
const SMALL: f64 = 1e-9;

/// Counts every n-gram of order 1..=4 in a sentence, keyed by its tokens.
pub(crate) fn ngram_counts(tokens: &[String]) -> HashMap<&[String], usize> {
    let mut counts = HashMap::new();
    for n in 1..=4 {
        for gram in tokens.windows(n) {
            *counts.entry(gram).or_insert(0) += 1;
        }
    }
    counts
}

/// Corpus BLEU-1..4 of hypotheses (one per image) against references, with pycocoevalcap's
/// clipped counts, "closest" reference length and epsilons; images without references are skipped.
pub fn corpus_bleu(hyps: &[Vec<String>], refs: &[Vec<Vec<String>>]) -> [f64; 4] {
    let mut correct = [0usize; 4];
    let mut guess = [0usize; 4];
    let mut test_len = 0usize;
    let mut ref_len = 0usize;
    let mut images = 0usize;
    for (hyp, image_refs) in scored_pairs(hyps, refs) {
        images += 1;
        let mut max_ref_counts: HashMap<&[String], usize> = HashMap::new();
        for r in image_refs {
            for (gram, count) in ngram_counts(r) {
                let best = max_ref_counts.entry(gram).or_insert(0);
                *best = (*best).max(count);
            }
        }
        for (gram, count) in ngram_counts(hyp) {
            let clipped = count.min(max_ref_counts.get(gram).copied().unwrap_or(0));
            if let Some(c) = correct.get_mut(gram.len().wrapping_sub(1)) {
                *c += clipped;
            }
        }
        for (k, g) in guess.iter_mut().enumerate() {
            *g += hyp.len().saturating_sub(k);
        }
        test_len += hyp.len();
        // "closest": the reference length nearest the hypothesis length, the shorter on a tie.
        ref_len += image_refs
            .iter()
            .map(|r| (r.len().abs_diff(hyp.len()), r.len()))
            .min()
            .map_or(0, |(_, len)| len);
    }
    if images == 0 {
        return [0.0; 4];
    }
    let ratio = (test_len as f64 + TINY) / (ref_len as f64 + SMALL);
    let brevity = if ratio < 1.0 {
        (1.0 - 1.0 / ratio).exp()
    } else {
        1.0
    };
    let mut bleus = [0.0; 4];
    let mut product = 1.0;
    for (k, bleu) in bleus.iter_mut().enumerate() {
        let c = correct.get(k).copied().unwrap_or(0) as f64;
        let g = guess.get(k).copied().unwrap_or(0) as f64;
        product *= (c + TINY) / (g + SMALL);
        *bleu = product.powf(1.0 / (k as f64 + 1.0)) * brevity;
    }
    bleus
}
