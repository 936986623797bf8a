//! Caption decoding: beam search (plain or constrained) and greedy decoding over any decoder that can be driven one batched step at a time.

pub mod beam;
pub mod ensemble;

pub use beam::{
    beam_search, beam_search_batch, greedy, guided_search_batch, Guide, MAX_CONSTRAINTS,
};
pub use ensemble::Ensemble;

use crate::Result;

/// A decoder driven one step at a time, with all live beams batched together.
///
/// The search never looks inside the state: it only feeds tokens, reads log-probabilities
/// and asks for rows to be reordered or duplicated, so any recurrent model (or a toy table
/// in a test) can be searched.
pub trait StepDecoder {
    /// Batched recurrent state (one row per beam).
    type State;

    /// Size of the vocabulary.
    fn vocab_size(&self) -> usize;

    /// Feeds one token per beam (`tokens.len()` == rows of `state`) and returns the
    /// log-probabilities of the next token, row-major (`tokens.len()` × `vocab_size`),
    /// plus the new state.
    ///
    /// The values must be log-probabilities (≤ 0): the search's early stop relies on a
    /// sentence's log-probability never growing as it gets longer.
    fn step(&self, tokens: &[u32], state: &Self::State) -> Result<(Vec<f32>, Self::State)>;

    /// A state holding the rows `rows` of `state`, in that order (rows may repeat).
    fn select(&self, state: &Self::State, rows: &[usize]) -> Result<Self::State>;
}

/// Settings of one search.
#[derive(Debug, Clone, PartialEq)]
pub struct BeamParams {
    /// How many partial sentences are kept alive at each step (at least 1).
    pub beam_size: usize,
    /// How many sentences to return (at least 1; more than `beam_size` is clamped to `beam_size`).
    pub n_best: usize,
    /// The most words a sentence may have (end token not counted); longer ones are cut.
    pub max_len: usize,
    /// Rank by mean log-probability per token (end token included) instead of the total,
    /// so that long sentences are not penalised just for being long.
    pub length_norm: bool,
    /// Tokens never generated, e.g. start, pad, unknown (ids outside the vocabulary are ignored).
    pub banned: Vec<u32>,
}

impl Default for BeamParams {
    /// im2txt's settings: beam 3, the best sentence only, at most 20 words, no length normalisation.
    fn default() -> Self {
        BeamParams {
            beam_size: 3,
            n_best: 1,
            max_len: 20,
            length_norm: false,
            banned: Vec::new(),
        }
    }
}

/// A finished sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct Hypothesis {
    /// The words, without start and end tokens.
    pub tokens: Vec<u32>,
    /// Log-probability of each word, same length as `tokens`.
    pub token_log_probs: Vec<f32>,
    /// Log-probability of the end token; `None` if the sentence was cut without ending
    /// (at `max_len` words, or because no allowed token could extend it).
    pub end_log_prob: Option<f32>,
    /// Sum of `token_log_probs` and `end_log_prob`.
    pub log_prob: f32,
    /// What ranks it: `log_prob`, or with length normalisation `log_prob` divided by the
    /// number of words plus one if it ended (by 1 if that count is 0).
    pub score: f32,
}

impl Hypothesis {
    /// Whether the sentence ended with the end token (rather than being cut).
    pub fn is_finished(&self) -> bool {
        self.end_log_prob.is_some()
    }
}
