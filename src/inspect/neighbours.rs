//! The nearest words in the model's own word embedding, by cosine similarity (Show and Tell,
//! Vinyals et al., 2015, Table 6: "car" sits next to van, cab, suv, vehicle, jeep).

use candle_core::{DType, Tensor};
use serde::Serialize;

use crate::vocab::{Vocab, END_ID, PAD_ID, START_ID, UNK_ID};
use crate::{Error, Result};

/// One neighbouring word and its cosine similarity to the query word.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Neighbour {
    /// The neighbouring word.
    pub word: String,
    /// Cosine similarity of the two embedding rows, in [-1, 1].
    pub score: f32,
}

/// The `count` words whose embedding rows are closest to `word`'s by cosine, best first.
///
/// `embeddings` is the decoder's (vocab, embed_dim) table. The special tokens are left out:
/// they are never said, so they are no one's neighbour.
pub fn nearest_words(
    embeddings: &Tensor,
    vocab: &Vocab,
    word: &str,
    count: usize,
) -> Result<Vec<Neighbour>> {
    let rows = embeddings.to_dtype(DType::F32)?.to_vec2::<f32>()?;
    if rows.len() != vocab.len() {
        return Err(Error::Other(format!(
            "the embedding has {} rows but the vocabulary {} words",
            rows.len(),
            vocab.len()
        )));
    }
    let query_id = vocab.id(&word.to_lowercase());
    if is_special(query_id) {
        return Err(Error::Other(format!(
            "{word:?} is not a word of the model's vocabulary"
        )));
    }
    let query = rows
        .get(query_id as usize)
        .ok_or_else(|| Error::Other(format!("no embedding row for {word:?}")))?;
    let query_norm = norm(query);
    let mut scored: Vec<Neighbour> = rows
        .iter()
        .enumerate()
        .filter(|&(id, _)| {
            let id = id as u32;
            id != query_id && !is_special(id)
        })
        .map(|(id, row)| Neighbour {
            word: vocab.word(id as u32).to_owned(),
            score: cosine(query, query_norm, row),
        })
        .collect();
    scored.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.word.cmp(&b.word))
    });
    scored.truncate(count);
    Ok(scored)
}

fn is_special(id: u32) -> bool {
    [PAD_ID, START_ID, END_ID, UNK_ID].contains(&id)
}

fn norm(v: &[f32]) -> f32 {
    v.iter().map(|x| x * x).sum::<f32>().sqrt()
}

/// Cosine of two rows; 0 when either is all zeros (no direction to compare).
fn cosine(a: &[f32], a_norm: f32, b: &[f32]) -> f32 {
    let denom = a_norm * norm(b);
    if denom == 0.0 {
        return 0.0;
    }
    a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>() / denom
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// Four specials and four words on a plane: "car" points along x, "van" nearly so, "cab"
    /// at 45°, "dog" along y. The specials copy "car" so that leaving them out is tested.
    fn tiny() -> (Tensor, Vocab) {
        let vocab = Vocab::parse("<pad>\n<start>\n<end>\n<unk>\ncar\nvan\ncab\ndog\n").unwrap();
        let rows: [[f32; 2]; 8] = [
            [1.0, 0.0],
            [1.0, 0.0],
            [2.0, 0.0],
            [3.0, 0.0],
            [1.0, 0.0],
            [5.0, 0.5],
            [1.0, 1.0],
            [0.0, 2.0],
        ];
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        let t = Tensor::from_vec(flat, (8, 2), &Device::Cpu).unwrap();
        (t, vocab)
    }

    #[test]
    fn neighbours_are_in_cosine_order_without_specials_or_the_word_itself() {
        let (t, vocab) = tiny();
        let n = nearest_words(&t, &vocab, "car", 10).unwrap();
        let words: Vec<&str> = n.iter().map(|n| n.word.as_str()).collect();
        assert_eq!(words, ["van", "cab", "dog"]);
        assert!((n[1].score - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
        assert!(n[2].score.abs() < 1e-6);
        let two = nearest_words(&t, &vocab, "Dog", 2).unwrap();
        assert_eq!(two.len(), 2);
        assert_eq!(two[0].word, "cab");
    }

    #[test]
    fn unknown_and_special_words_are_refused() {
        let (t, vocab) = tiny();
        assert!(nearest_words(&t, &vocab, "zebra", 3).is_err());
        assert!(nearest_words(&t, &vocab, "<end>", 3).is_err());
    }
}
