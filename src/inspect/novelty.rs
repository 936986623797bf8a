//! Is a caption new, or copied from the training captions? Show and Tell (Vinyals et al.,
//! 2015, §4.3.6) reports that the best beam candidate is a training sentence 80% of the time.
//!
//! Sentences are compared after the metrics tokeniser (lower case, punctuation dropped). The
//! closest training sentence is found through an inverted index of bigrams (unigrams when a
//! caption shares no bigram), so only sentences that share something are scored.

use std::collections::HashMap;

use serde::Serialize;

use crate::data::{Dataset, Split};
use crate::metrics::tokenize::tokenize;

/// How a caption relates to the training captions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Novelty {
    /// True when no training caption is the same sentence.
    pub novel: bool,
    /// How many training captions are this very sentence.
    pub same_as: usize,
    /// The most similar training caption (tokenised, space-joined); empty if none shares a word.
    pub closest: String,
    /// Its similarity: the mean of the unigram and bigram F1 scores, 1 for the same sentence.
    pub overlap: f32,
}

/// The training captions, indexed for verbatim look-up and nearest-sentence search.
pub struct NoveltyIndex {
    /// Each distinct sentence as word ids, with how many captions it stands for.
    sentences: Vec<(Vec<u32>, usize)>,
    exact: HashMap<Vec<u32>, u32>,
    words: HashMap<String, u32>,
    names: Vec<String>,
    unigram_postings: HashMap<u32, Vec<u32>>,
    bigram_postings: HashMap<(u32, u32), Vec<u32>>,
}

impl NoveltyIndex {
    /// Indexes raw captions (tokenised here).
    pub fn new<'a>(captions: impl IntoIterator<Item = &'a str>) -> Self {
        let mut index = Self {
            sentences: Vec::new(),
            exact: HashMap::new(),
            words: HashMap::new(),
            names: Vec::new(),
            unigram_postings: HashMap::new(),
            bigram_postings: HashMap::new(),
        };
        for caption in captions {
            let ids: Vec<u32> = tokenize(caption)
                .into_iter()
                .map(|w| index.intern(w))
                .collect();
            if ids.is_empty() {
                continue;
            }
            if let Some(&s) = index.exact.get(&ids) {
                if let Some(entry) = index.sentences.get_mut(s as usize) {
                    entry.1 += 1;
                }
                continue;
            }
            let s = index.sentences.len() as u32;
            for &w in &ids {
                push_once(index.unigram_postings.entry(w).or_default(), s);
            }
            for pair in ids.windows(2) {
                if let [a, b] = pair {
                    push_once(index.bigram_postings.entry((*a, *b)).or_default(), s);
                }
            }
            index.exact.insert(ids.clone(), s);
            index.sentences.push((ids, 1));
        }
        index
    }

    /// Indexes every caption of one split of a dataset (the training split, for novelty).
    pub fn from_dataset(data: &Dataset, split: Split) -> Self {
        Self::new(
            data.split(split)
                .flat_map(|e| e.captions.iter().map(String::as_str)),
        )
    }

    /// How many captions were indexed (duplicates counted).
    pub fn caption_count(&self) -> usize {
        self.sentences.iter().map(|(_, n)| n).sum()
    }

    /// Whether `caption` is a training caption, and the closest one.
    pub fn check(&self, caption: &str) -> Novelty {
        let tokens = tokenize(caption);
        // A word the training captions never use cannot match: it maps to no id.
        let ids: Vec<Option<u32>> = tokens.iter().map(|w| self.words.get(w).copied()).collect();
        if let Some(known) = ids.iter().copied().collect::<Option<Vec<u32>>>() {
            if let Some((s, n)) = self
                .exact
                .get(&known)
                .and_then(|&s| self.sentences.get(s as usize).map(|e| (s, e.1)))
            {
                return Novelty {
                    novel: false,
                    same_as: n,
                    closest: self.text(s),
                    overlap: 1.0,
                };
            }
        }
        let mut candidates: Vec<u32> = ids
            .windows(2)
            .filter_map(|p| match p {
                [Some(a), Some(b)] => self.bigram_postings.get(&(*a, *b)),
                _ => None,
            })
            .flatten()
            .copied()
            .collect();
        if candidates.is_empty() {
            candidates = ids
                .iter()
                .flatten()
                .filter_map(|w| self.unigram_postings.get(w))
                .flatten()
                .copied()
                .collect();
        }
        candidates.sort_unstable();
        candidates.dedup();
        let query: Vec<u32> = ids.iter().map(|id| id.unwrap_or(u32::MAX)).collect();
        let best = candidates
            .iter()
            .filter_map(|&s| {
                let (sentence, _) = self.sentences.get(s as usize)?;
                Some((s, similarity(&query, sentence)))
            })
            // Ties go to the earlier sentence, so the answer does not depend on hash order.
            .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(&a.0)));
        match best {
            Some((s, overlap)) => Novelty {
                novel: true,
                same_as: 0,
                closest: self.text(s),
                overlap,
            },
            None => Novelty {
                novel: true,
                same_as: 0,
                closest: String::new(),
                overlap: 0.0,
            },
        }
    }

    fn intern(&mut self, word: String) -> u32 {
        if let Some(&id) = self.words.get(&word) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(word.clone());
        self.words.insert(word, id);
        id
    }

    fn text(&self, s: u32) -> String {
        self.sentences
            .get(s as usize)
            .map(|(ids, _)| {
                ids.iter()
                    .filter_map(|&w| self.names.get(w as usize).map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default()
    }
}

/// Postings are filled in sentence order, so a repeat can only be the last entry.
fn push_once(list: &mut Vec<u32>, s: u32) {
    if list.last() != Some(&s) {
        list.push(s);
    }
}

/// Mean of the unigram and bigram F1 between two token sequences (clipped counts), so that
/// neither a short nor a long sentence is favoured.
fn similarity(a: &[u32], b: &[u32]) -> f32 {
    (ngram_f1(a, b, 1) + ngram_f1(a, b, 2)) / 2.0
}

fn ngram_counts(s: &[u32], n: usize) -> HashMap<&[u32], usize> {
    let mut m: HashMap<&[u32], usize> = HashMap::new();
    for g in s.windows(n) {
        *m.entry(g).or_default() += 1;
    }
    m
}

/// F1 of the clipped n-gram matches between `a` and `b`; 0 when either is too short.
fn ngram_f1(a: &[u32], b: &[u32], n: usize) -> f32 {
    let (ga, gb) = (ngram_counts(a, n), ngram_counts(b, n));
    let total_a: usize = ga.values().sum();
    let total_b: usize = gb.values().sum();
    let matched: usize = ga
        .iter()
        .map(|(g, &k)| k.min(gb.get(g).copied().unwrap_or(0)))
        .sum();
    if matched == 0 {
        return 0.0;
    }
    let p = matched as f32 / total_a as f32;
    let r = matched as f32 / total_b as f32;
    2.0 * p * r / (p + r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> NoveltyIndex {
        NoveltyIndex::new([
            "A dog runs on the grass .",
            "a dog runs on the grass",
            "A black dog is swimming in a lake.",
            "Two children play football in a park .",
            "A man rides a bike down the street .",
        ])
    }

    #[test]
    fn a_training_sentence_is_found_verbatim_and_counted_after_normalising() {
        let n = corpus().check("A DOG runs on the grass!");
        assert!(!n.novel);
        assert_eq!(n.same_as, 2);
        assert_eq!(n.closest, "a dog runs on the grass");
        assert!((n.overlap - 1.0).abs() < 1e-6);
    }

    #[test]
    fn a_new_sentence_gets_its_closest_training_caption() {
        let index = corpus();
        assert_eq!(index.caption_count(), 5);
        let n = index.check("a black dog is swimming in the river");
        assert!(n.novel);
        assert_eq!(n.same_as, 0);
        assert_eq!(n.closest, "a black dog is swimming in a lake");
        assert!(n.overlap > 0.5 && n.overlap < 1.0, "{}", n.overlap);
        let kids = index.check("children play in the park");
        assert_eq!(kids.closest, "two children play football in a park");
        // A prefix of a training sentence is not that sentence.
        assert!(index.check("a dog runs on").novel);
    }

    #[test]
    fn a_caption_sharing_no_word_has_no_closest_sentence() {
        let n = corpus().check("zebras graze");
        assert!(n.novel);
        assert_eq!(n.closest, "");
        assert_eq!(n.overlap, 0.0);
    }
}
