//! CIDEr-D exactly as pycocoevalcap's `cider_scorer.py` computes it, with document frequencies
//! taken from the references of the evaluated set; and [`CorpusCider`], whose document
//! frequencies are fixed by a corpus, the reward of self-critical training.

use std::collections::{HashMap, HashSet};

use super::bleu::ngram_counts;

/// Longest n-gram order.
const N: usize = 4;
/// Width of the Gaussian length penalty.
const SIGMA: f64 = 6.0;

/// A sentence as tf-idf vectors per n-gram order, their norms and its "length".
struct Vector<'a> {
    /// tf-idf weight of each n-gram, one map per order.
    weights: [HashMap<&'a [String], f64>; N],
    /// Euclidean norm of each order's weights.
    norms: [f64; N],
    /// The number of bigrams: pycocoevalcap adds term frequencies where `n == 1`, a 0-based order.
    length: f64,
}

/// Maps a sentence's n-gram counts to tf-idf vectors, like `counts2vec` in `cider_scorer.py`.
fn to_vector<'a>(
    tokens: &'a [String],
    doc_freq: impl Fn(&[String]) -> f64,
    log_images: f64,
) -> Vector<'a> {
    let mut weights: [HashMap<&[String], f64>; N] = Default::default();
    let mut norms = [0.0; N];
    let mut length = 0.0;
    // In n-gram order, not hash order, so sums (and a training run's rewards) repeat exactly.
    let mut counts: Vec<(&[String], usize)> = ngram_counts(tokens).into_iter().collect();
    counts.sort_unstable_by(|a, b| a.0.cmp(b.0));
    for (gram, tf) in counts {
        let df = doc_freq(gram).max(1.0).ln();
        let order = gram.len().wrapping_sub(1);
        let weight = tf as f64 * (log_images - df);
        if let (Some(map), Some(norm)) = (weights.get_mut(order), norms.get_mut(order)) {
            map.insert(gram, weight);
            *norm += weight * weight;
        }
        if order == 1 {
            length += tf as f64;
        }
    }
    for norm in &mut norms {
        *norm = norm.sqrt();
    }
    Vector {
        weights,
        norms,
        length,
    }
}

/// Clipped cosine similarity per order times the Gaussian length penalty, like `sim`.
fn similarity(hyp: &Vector, reference: &Vector) -> [f64; N] {
    let delta = hyp.length - reference.length;
    let penalty = (-(delta * delta) / (2.0 * SIGMA * SIGMA)).exp();
    let mut val = [0.0; N];
    for (k, v) in val.iter_mut().enumerate() {
        let (Some(h), Some(r)) = (hyp.weights.get(k), reference.weights.get(k)) else {
            continue;
        };
        let mut grams: Vec<(&&[String], &f64)> = h.iter().collect();
        grams.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for (gram, &wh) in grams {
            let wr = r.get(gram).copied().unwrap_or(0.0);
            *v += wh.min(wr) * wr;
        }
        let nh = hyp.norms.get(k).copied().unwrap_or(0.0);
        let nr = reference.norms.get(k).copied().unwrap_or(0.0);
        if nh != 0.0 && nr != 0.0 {
            *v /= nh * nr;
        }
        *v *= penalty;
    }
    val
}

/// CIDEr-D with document frequencies fixed once from a corpus of reference sets (one set per
/// image), so that many captions can be scored one at a time: each sampled caption's reward in
/// self-critical training, where the frequencies come from the training split.
pub struct CorpusCider {
    doc_freq: HashMap<Vec<String>, f64>,
    log_images: f64,
}

impl CorpusCider {
    /// Counts, for every n-gram, the images whose references contain it.
    pub fn new(refs: &[Vec<Vec<String>>]) -> Self {
        let mut doc_freq: HashMap<Vec<String>, f64> = HashMap::new();
        let mut images = 0usize;
        for image_refs in refs.iter().filter(|r| !r.is_empty()) {
            images += 1;
            let grams: HashSet<&[String]> = image_refs
                .iter()
                .flat_map(|r| ngram_counts(r).into_keys())
                .collect();
            for gram in grams {
                *doc_freq.entry(gram.to_vec()).or_insert(0.0) += 1.0;
            }
        }
        Self {
            doc_freq,
            log_images: (images.max(1) as f64).ln(),
        }
    }

    /// The CIDEr-D of `hyp` against one image's references (0 when there are none).
    pub fn score(&self, hyp: &[String], refs: &[Vec<String>]) -> f64 {
        if refs.is_empty() {
            return 0.0;
        }
        let df = |g: &[String]| self.doc_freq.get(g).copied().unwrap_or(0.0);
        let hyp_vec = to_vector(hyp, df, self.log_images);
        let mut sum = [0.0; N];
        for r in refs {
            let ref_vec = to_vector(r, df, self.log_images);
            for (s, v) in sum.iter_mut().zip(similarity(&hyp_vec, &ref_vec)) {
                *s += v;
            }
        }
        let mean_over_n = sum.iter().sum::<f64>() / N as f64;
        mean_over_n / refs.len() as f64 * 10.0
    }
}

/// Mean CIDEr-D over images (n = 1..4, sigma 6, clipped, times 10); document frequencies come
/// from these references and the reference length is ln(number of images). Images without
/// references are skipped.
pub fn cider_d(hyps: &[Vec<String>], refs: &[Vec<Vec<String>>]) -> f64 {
    let scores: Vec<f64> = cider_d_per_image(hyps, refs)
        .into_iter()
        .flatten()
        .collect();
    if scores.is_empty() {
        return 0.0;
    }
    scores.iter().sum::<f64>() / scores.len() as f64
}

/// Each image's CIDEr-D within this corpus (`None` for an image without references); their
/// mean is [`cider_d`].
pub fn cider_d_per_image(hyps: &[Vec<String>], refs: &[Vec<Vec<String>>]) -> Vec<Option<f64>> {
    // Reference sets without a hypothesis are not part of the evaluated corpus.
    let corpus = CorpusCider::new(&refs[..hyps.len().min(refs.len())]);
    hyps.iter()
        .zip(refs)
        .map(|(hyp, image_refs)| (!image_refs.is_empty()).then(|| corpus.score(hyp, image_refs)))
        .collect()
}
