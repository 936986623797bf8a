//! Caption-quality metrics (BLEU-1..4, ROUGE-L, CIDEr-D) computed as pycocoevalcap computes them.

pub mod bleu;
pub mod cider;
pub mod rouge;
pub mod tokenize;

pub use tokenize::tokenize;

/// The COCO caption scores of a set of hypotheses.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Scores {
    /// Corpus BLEU-1, BLEU-2, BLEU-3 and BLEU-4.
    pub bleu: [f64; 4],
    /// Mean ROUGE-L over images.
    pub rouge_l: f64,
    /// Mean CIDEr-D over images.
    pub cider_d: f64,
    /// Number of images scored (those with a hypothesis and at least one reference).
    pub images: usize,
}

/// Pairs each hypothesis with its references, skipping images that have no reference.
///
/// pycocoevalcap asserts at least one reference per image; here such images are left out of
/// every metric instead. Extra hypotheses or reference lists (unequal lengths) are ignored.
pub(crate) fn scored_pairs<'a>(
    hyps: &'a [Vec<String>],
    refs: &'a [Vec<Vec<String>>],
) -> impl Iterator<Item = (&'a Vec<String>, &'a Vec<Vec<String>>)> + 'a {
    hyps.iter().zip(refs).filter(|(_, r)| !r.is_empty())
}

/// Scores hypotheses (one per image) against their references (several per image); strings are tokenised with `tokenize`.
pub fn score(hyps: &[String], refs: &[Vec<String>]) -> Scores {
    let hyp_tokens: Vec<Vec<String>> = hyps.iter().map(|h| tokenize(h)).collect();
    let ref_tokens: Vec<Vec<Vec<String>>> = refs
        .iter()
        .map(|image_refs| image_refs.iter().map(|r| tokenize(r)).collect())
        .collect();
    Scores {
        bleu: bleu::corpus_bleu(&hyp_tokens, &ref_tokens),
        rouge_l: rouge::rouge_l(&hyp_tokens, &ref_tokens),
        cider_d: cider::cider_d(&hyp_tokens, &ref_tokens),
        images: scored_pairs(&hyp_tokens, &ref_tokens).count(),
    }
}

/// Each image's CIDEr-D within this set (`None` where an image has no reference); strings are
/// tokenised with `tokenize`. Used to label captions good or bad when calibrating confidence.
pub fn cider_d_per_image(hyps: &[String], refs: &[Vec<String>]) -> Vec<Option<f64>> {
    let hyp_tokens: Vec<Vec<String>> = hyps.iter().map(|h| tokenize(h)).collect();
    let ref_tokens: Vec<Vec<Vec<String>>> = refs
        .iter()
        .map(|image_refs| image_refs.iter().map(|r| tokenize(r)).collect())
        .collect();
    cider::cider_d_per_image(&hyp_tokens, &ref_tokens)
}
