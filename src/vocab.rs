//! Words to ids and back, with the special tokens the decoder needs.

use std::collections::HashMap;
use std::path::Path;

use crate::{Error, Result};

/// Padding, never predicted; id 0.
pub const PAD: &str = "<pad>";
/// Start of sentence (S_0 in the paper); id 1.
pub const START: &str = "<start>";
/// End of sentence; id 2.
pub const END: &str = "<end>";
/// A word outside the vocabulary; id 3.
pub const UNK: &str = "<unk>";

/// Id of [`PAD`].
pub const PAD_ID: u32 = 0;
/// Id of [`START`].
pub const START_ID: u32 = 1;
/// Id of [`END`].
pub const END_ID: u32 = 2;
/// Id of [`UNK`].
pub const UNK_ID: u32 = 3;

/// Splits a caption into the words the model knows about: lower case, punctuation removed.
///
/// Apostrophes are dropped inside words ("dog's" -> "dogs") and every other
/// non-alphanumeric character separates words ("t-shirt" -> "t shirt").
pub fn words(caption: &str) -> Vec<String> {
    let mut cleaned = String::with_capacity(caption.len());
    for ch in caption.chars() {
        if ch.is_alphanumeric() {
            cleaned.extend(ch.to_lowercase());
        } else if ch != '\'' && ch != '\u{2019}' {
            cleaned.push(' ');
        }
    }
    cleaned.split_whitespace().map(str::to_owned).collect()
}

/// The model's vocabulary: id -> word and word -> id.
#[derive(Debug, Clone, PartialEq)]
pub struct Vocab {
    words: Vec<String>,
    index: HashMap<String, u32>,
}

impl Vocab {
    /// Builds a vocabulary from training captions, keeping words seen at least `min_count` times.
    ///
    /// Words are ordered by frequency (then alphabetically) so ids are deterministic.
    pub fn build<'a>(captions: impl IntoIterator<Item = &'a str>, min_count: usize) -> Self {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for caption in captions {
            for word in words(caption) {
                *counts.entry(word).or_default() += 1;
            }
        }
        let mut kept: Vec<(String, usize)> = counts
            .into_iter()
            .filter(|(_, n)| *n >= min_count)
            .collect();
        kept.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let all = [PAD, START, END, UNK]
            .into_iter()
            .map(str::to_owned)
            .chain(kept.into_iter().map(|(w, _)| w));
        Self::from_words(all.collect())
    }

    fn from_words(words: Vec<String>) -> Self {
        let index = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i as u32))
            .collect();
        Self { words, index }
    }

    /// Reads a vocabulary file: one word per line, the four special tokens first.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = crate::open::read_limited(path, crate::open::TEXT_LIMIT, "vocabularies")
            .map_err(|e| Error::io(path, e))?;
        let text = String::from_utf8(bytes).map_err(|_| Error::Model {
            location: path.display().to_string(),
            message: "the vocabulary is not UTF-8 text".into(),
        })?;
        Self::parse(&text).map_err(|message| Error::Model {
            location: path.display().to_string(),
            message,
        })
    }

    /// Parses the text of a vocabulary file.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let words: Vec<String> = text.lines().map(|l| l.trim().to_owned()).collect();
        let expected = [PAD, START, END, UNK];
        for (i, special) in expected.iter().enumerate() {
            match words.get(i) {
                Some(w) if w == special => {}
                other => {
                    return Err(format!(
                        "vocabulary line {} should be {special}, found {:?}",
                        i + 1,
                        other.map(String::as_str).unwrap_or("end of file")
                    ))
                }
            }
        }
        let vocab = Self::from_words(words);
        if vocab.index.len() != vocab.words.len() {
            return Err("vocabulary has duplicate words".into());
        }
        Ok(vocab)
    }

    /// The vocabulary file's text: one word per line, the special tokens first.
    pub fn to_text(&self) -> String {
        let mut text = self.words.join("\n");
        text.push('\n');
        text
    }

    /// Writes the vocabulary file.
    pub fn save(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.to_text()).map_err(|e| Error::io(path, e))
    }

    /// Number of entries, special tokens included.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True when there is nothing but... nothing (never for a loaded vocabulary).
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The id of a word, or [`UNK_ID`].
    pub fn id(&self, word: &str) -> u32 {
        self.index.get(word).copied().unwrap_or(UNK_ID)
    }

    /// The word of an id ("<unk>" for an id out of range).
    pub fn word(&self, id: u32) -> &str {
        self.words.get(id as usize).map_or(UNK, String::as_str)
    }

    /// Turns a raw caption into ids, without start and end tokens.
    pub fn encode(&self, caption: &str) -> Vec<u32> {
        words(caption).iter().map(|w| self.id(w)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_lowercases_and_drops_punctuation() {
        assert_eq!(
            words("A dog's T-shirt, wet ."),
            vec!["a", "dogs", "t", "shirt", "wet"]
        );
    }

    #[test]
    fn build_keeps_frequent_words_and_round_trips() {
        let caps = ["a dog runs", "a dog sits", "a cat"];
        let v = Vocab::build(caps.iter().copied(), 2);
        assert_eq!(v.len(), 6);
        assert_eq!(v.word(4), "a");
        assert_eq!(v.word(5), "dog");
        assert_eq!(v.encode("A cat dog"), vec![4, UNK_ID, 5]);
        let parsed = Vocab::parse(&(v.words.join("\n") + "\n")).expect("parses");
        assert_eq!(parsed, v);
    }

    #[test]
    fn parse_rejects_missing_special_tokens() {
        let err = Vocab::parse("<pad>\n<start>\nhello\n").unwrap_err();
        assert!(err.contains("line 3"), "{err}");
    }
}
