//! ROUGE-L exactly as pycocoevalcap's `rouge.py` computes it (beta 1.2, mean over images).

use super::scored_pairs;

/// Weight of recall against precision in pycocoevalcap's ROUGE-L F-measure.
const BETA: f64 = 1.2;

/// Length of the longest common subsequence of two token lists.
fn lcs(a: &[String], b: &[String]) -> usize {
    let mut row = vec![0usize; b.len() + 1];
    for x in a {
        let mut diagonal = 0;
        for (j, y) in b.iter().enumerate() {
            let (Some(&up), Some(&left)) = (row.get(j + 1), row.get(j)) else {
                continue;
            };
            let value = if x == y { diagonal + 1 } else { up.max(left) };
            diagonal = up;
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = value;
            }
        }
    }
    row.last().copied().unwrap_or(0)
}

/// ROUGE-L of one hypothesis against its references: F-measure of the best precision and the
/// best recall over references, each taken separately, as `Rouge.calc_score` does.
fn image_rouge_l(hyp: &[String], refs: &[Vec<String>]) -> f64 {
    // Python's `"".split(" ")` is `[""]`: an empty sentence counts as one empty token.
    let empty = [String::new()];
    let as_split = |t: &[String]| -> usize { t.len().max(1) };
    let hyp_tokens: &[String] = if hyp.is_empty() { &empty } else { hyp };
    let mut prec_max = 0.0f64;
    let mut rec_max = 0.0f64;
    for r in refs {
        let ref_tokens: &[String] = if r.is_empty() { &empty } else { r };
        let common = lcs(ref_tokens, hyp_tokens) as f64;
        prec_max = prec_max.max(common / as_split(hyp) as f64);
        rec_max = rec_max.max(common / as_split(r) as f64);
    }
    if prec_max != 0.0 && rec_max != 0.0 {
        let b2 = BETA * BETA;
        ((1.0 + b2) * prec_max * rec_max) / (rec_max + b2 * prec_max)
    } else {
        0.0
    }
}

/// Mean ROUGE-L over images (beta 1.2); images without references are skipped.
pub fn rouge_l(hyps: &[Vec<String>], refs: &[Vec<Vec<String>>]) -> f64 {
    let (sum, images) = scored_pairs(hyps, refs)
        .map(|(hyp, image_refs)| image_rouge_l(hyp, image_refs))
        .fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if images == 0 {
        0.0
    } else {
        sum / images as f64
    }
}
