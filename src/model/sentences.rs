//! The training sentences a model was trained on, as fingerprints with counts: enough to say
//! whether a caption is one of them word for word ("the same as 12 training captions") without
//! shipping the captions themselves. A model directory may hold them as `sentences.bin`.
//!
//! Sentences are compared after the metrics tokeniser, like [`crate::inspect::novelty`]. A fingerprint
//! is the first 8 bytes of the SHA-256 of the tokens joined by spaces: stable across builds
//! and platforms, and with some 40,000 sentences a false match has odds of about 1 in 10¹⁴.

use sha2::{Digest, Sha256};

use crate::metrics::tokenize::tokenize;

/// The file's first bytes, naming the format and its version.
const MAGIC: &[u8; 8] = b"SSSENT1\n";
/// Bytes per entry: fingerprint (u64) and count (u32), little-endian.
const ENTRY: usize = 12;

/// Training sentences as sorted fingerprints, each with how many captions it stands for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrainingSentences {
    entries: Vec<(u64, u32)>,
}

impl TrainingSentences {
    /// Fingerprints raw captions (tokenised here); empty ones are skipped.
    pub fn from_captions<'a>(captions: impl IntoIterator<Item = &'a str>) -> Self {
        let mut prints: Vec<u64> = captions
            .into_iter()
            .map(tokenize)
            .filter(|t| !t.is_empty())
            .map(|t| fingerprint(&t))
            .collect();
        prints.sort_unstable();
        let mut entries: Vec<(u64, u32)> = Vec::new();
        for p in prints {
            match entries.last_mut() {
                Some((last, n)) if *last == p => *n = n.saturating_add(1),
                _ => entries.push((p, 1)),
            }
        }
        Self { entries }
    }

    /// How many training captions are `caption`, word for word (0: a new sentence).
    pub fn count(&self, caption: &str) -> usize {
        let tokens = tokenize(caption);
        if tokens.is_empty() {
            return 0;
        }
        let p = fingerprint(&tokens);
        self.entries
            .binary_search_by_key(&p, |e| e.0)
            .ok()
            .and_then(|i| self.entries.get(i))
            .map_or(0, |e| e.1 as usize)
    }

    /// Distinct sentences held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no sentence is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The file's bytes: the magic, then each entry.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(MAGIC.len() + self.entries.len() * ENTRY);
        out.extend_from_slice(MAGIC);
        for (p, n) in &self.entries {
            out.extend_from_slice(&p.to_le_bytes());
            out.extend_from_slice(&n.to_le_bytes());
        }
        out
    }

    /// Reads [`TrainingSentences::to_bytes`]'s output; the error says what is wrong, in words.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let body = bytes
            .strip_prefix(MAGIC.as_slice())
            .ok_or("it does not start as a seesay sentence list does")?;
        if body.len() % ENTRY != 0 {
            return Err(format!(
                "its length ({} bytes) is not a whole number of entries; the file is cut",
                bytes.len()
            ));
        }
        let entries: Vec<(u64, u32)> = body
            .chunks_exact(ENTRY)
            .map(|c| {
                let (p, n) = c.split_at(8);
                let p = u64::from_le_bytes(p.try_into().unwrap_or_default());
                let n = u32::from_le_bytes(n.try_into().unwrap_or_default());
                (p, n)
            })
            .collect();
        // Look-up is a binary search: the order is part of the format.
        if !entries.windows(2).all(|w| w[0].0 < w[1].0) || entries.iter().any(|e| e.1 == 0) {
            return Err("its entries are out of order or empty; the file is damaged".into());
        }
        Ok(Self { entries })
    }
}

fn fingerprint(tokens: &[String]) -> u64 {
    let digest = Sha256::digest(tokens.join(" ").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_survive_the_file_and_compare_after_tokenising() {
        let s = TrainingSentences::from_captions([
            "A dog runs .",
            "a dog runs",
            "A cat sleeps on a mat.",
            "",
        ]);
        assert_eq!(s.len(), 2);
        let back = TrainingSentences::from_bytes(&s.to_bytes()).expect("reads back");
        assert_eq!(back, s);
        assert_eq!(back.count("a dog runs"), 2);
        assert_eq!(back.count("A DOG RUNS!"), 2);
        assert_eq!(back.count("a cat sleeps on a mat"), 1);
        assert_eq!(back.count("a dog runs fast"), 0);
        assert_eq!(back.count(""), 0);
    }

    #[test]
    fn a_damaged_file_is_refused_in_words() {
        let bytes = TrainingSentences::from_captions(["a dog", "a cat"]).to_bytes();
        assert!(TrainingSentences::from_bytes(&bytes[..bytes.len() - 1])
            .unwrap_err()
            .contains("cut"));
        assert!(TrainingSentences::from_bytes(b"PNG....")
            .unwrap_err()
            .contains("does not start"));
        let mut swapped = bytes.clone();
        let (a, b) = swapped[8..].split_at_mut(ENTRY);
        a.swap_with_slice(&mut b[..ENTRY]);
        assert!(TrainingSentences::from_bytes(&swapped)
            .unwrap_err()
            .contains("out of order"));
    }
}
