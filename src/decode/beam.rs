//! Beam search and greedy decoding in the im2txt style, over a batched [`StepDecoder`].
//!
//! # The search
//!
//! Step 0 feeds the start token to the single row of the initial state. At every step each
//! live beam is extended by every allowed token (banned tokens, and the start token unless it
//! is also the end token, are never generated), scored by cumulative log-probability. Of all
//! extensions, ordered by that log-probability (ties: lower beam index, then lower token id,
//! so results are deterministic):
//!
//! * an extension by the end token that ranks among the `beam_size` best becomes a finished
//!   [`Hypothesis`] and does not stay live;
//! * the `beam_size` best extensions by any other token become the next live beams, so there
//!   are always up to `beam_size` of them while the search goes on.
//!
//! All live beams run as one batched [`StepDecoder::step`] call per time step, with
//! [`StepDecoder::select`] reordering and duplicating state rows in between (skipped when the
//! rows are already in order).
//!
//! # Stopping
//!
//! * After `max_len` words: the beams still alive become hypotheses with `end_log_prob: None`.
//!   A sentence with `max_len` words therefore never carries an end token; a finished one has
//!   at most `max_len - 1` words.
//! * When no live beam remains.
//! * When no allowed token exists at all: the live beams are returned as cut.
//! * Early, once `n_best` finished hypotheses exist and no live beam can beat the `n_best`-th
//!   of them. Log-probabilities never grow, so without length normalisation that is when the
//!   best live beam's log-probability is at most that hypothesis's score. With length
//!   normalisation a beam's mean can still rise, but a descendant with cumulative `L ≤ 0` can
//!   score at best `L / max_len` (a finished sentence has at most `max_len - 1` words plus the
//!   end token), so the search stops once that bound is at most the `n_best`-th score. Both
//!   rules assume the decoder returns true log-probabilities (≤ 0).
//!
//! # Result
//!
//! At most `n_best` hypotheses (`n_best` clamped to `beam_size`), sorted by score descending
//! (ties keep the order in which they were found). If at least `n_best` finished ones exist
//! only finished ones are returned; otherwise the best cut beams fill the gap. The result is
//! never empty. NaN log-probabilities rank as −∞: they never win and never panic a sort.
//!
//! # Constraints
//!
//! [`guided_search_batch`] runs the same search with a [`Guide`] per image: tokens it must
//! contain and tokens it must avoid. Beams are then kept per constraint state, each state
//! ranked by the rules above, and only sentences meeting every constraint are returned (none,
//! if no such sentence fits in `max_len` words).

use std::cmp::Ordering;

use super::{BeamParams, Hypothesis, StepDecoder};
use crate::{Error, Result};

/// Ranking key: NaN counts as −∞, so a broken decoder output never wins.
fn key(x: f32) -> f32 {
    if x.is_nan() {
        f32::NEG_INFINITY
    } else {
        x
    }
}

/// Orders log-probabilities or scores from best to worst.
fn best_first(a: f32, b: f32) -> Ordering {
    key(b).total_cmp(&key(a))
}

/// One extension of a live beam by one token.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    /// Cumulative log-probability of the extended beam.
    log_prob: f32,
    /// Log-probability of the token itself.
    token_log_prob: f32,
    /// Index of the beam extended, in the current live list.
    beam: usize,
    /// The token.
    token: u32,
    /// The constraint state the extended beam is in (see [`Guide`]).
    state: u32,
}

/// Best first; ties: lower beam index, then lower token id (a total order on distinct candidates).
fn candidate_order(a: &Candidate, b: &Candidate) -> Ordering {
    best_first(a.log_prob, b.log_prob)
        .then(a.beam.cmp(&b.beam))
        .then(a.token.cmp(&b.token))
}

/// A live partial sentence.
#[derive(Debug, Clone, Default)]
struct Beam {
    tokens: Vec<u32>,
    token_log_probs: Vec<f32>,
    log_prob: f32,
    /// Which constraints the sentence satisfies so far, one bit each.
    state: u32,
}

impl Beam {
    /// This beam extended by one word.
    fn extend(&self, c: &Candidate) -> Beam {
        let mut tokens = Vec::with_capacity(self.tokens.len() + 1);
        tokens.extend_from_slice(&self.tokens);
        tokens.push(c.token);
        let mut token_log_probs = Vec::with_capacity(self.tokens.len() + 1);
        token_log_probs.extend_from_slice(&self.token_log_probs);
        token_log_probs.push(c.token_log_prob);
        Beam {
            tokens,
            token_log_probs,
            log_prob: c.log_prob,
            state: c.state,
        }
    }

    /// This beam as a hypothesis, ended with the end token's log-probability or cut (`None`).
    fn finish(&self, end_log_prob: Option<f32>, length_norm: bool) -> Hypothesis {
        let log_prob = match end_log_prob {
            Some(end) => self.log_prob + end,
            None => self.log_prob,
        };
        let count = self.tokens.len() + usize::from(end_log_prob.is_some());
        let score = if length_norm && count > 0 {
            log_prob / count as f32
        } else {
            log_prob
        };
        Hypothesis {
            tokens: self.tokens.clone(),
            token_log_probs: self.token_log_probs.clone(),
            end_log_prob,
            log_prob,
            score,
        }
    }
}

/// Checks the vocabulary size against the start and end tokens.
fn check_vocab(vocab: usize, bos: u32, eos: u32) -> Result<()> {
    if vocab == 0 {
        return Err(Error::Other("decoding needs a non-empty vocabulary".into()));
    }
    if u32::try_from(vocab).is_err() {
        return Err(Error::Other(format!(
            "vocabulary of {vocab} tokens is too large for u32 token ids"
        )));
    }
    for (name, token) in [("start", bos), ("end", eos)] {
        if token as usize >= vocab {
            return Err(Error::Other(format!(
                "{name} token {token} is outside the vocabulary of {vocab} tokens"
            )));
        }
    }
    Ok(())
}

/// `true` for every token that may never be generated: `banned`, and `bos` unless it is also `eos`.
fn banned_mask(vocab: usize, banned: &[u32], bos: u32, eos: u32) -> Vec<bool> {
    let mut mask = vec![false; vocab];
    let auto = (bos != eos).then_some(bos);
    for &token in banned.iter().chain(auto.iter()) {
        if let Some(slot) = mask.get_mut(token as usize) {
            *slot = true;
        }
    }
    mask
}

/// Runs one decoder step and checks the shape of its output.
fn checked_step<D: StepDecoder>(
    dec: &D,
    tokens: &[u32],
    state: &D::State,
    vocab: usize,
) -> Result<(Vec<f32>, D::State)> {
    let (log_probs, next) = dec.step(tokens, state)?;
    let expected = tokens.len().checked_mul(vocab);
    if expected != Some(log_probs.len()) {
        return Err(Error::Other(format!(
            "decoder returned {} log-probabilities for {} beam(s) and a vocabulary of {vocab}; \
             expected {} (beams × vocabulary)",
            log_probs.len(),
            tokens.len(),
            tokens.len().saturating_mul(vocab)
        )));
    }
    Ok((log_probs, next))
}

/// Whether no live beam can beat the `n_best`-th finished hypothesis any more (see the module docs).
fn can_stop(
    finished: &[Hypothesis],
    best_live: f32,
    n_best: usize,
    length_norm: bool,
    max_len: usize,
) -> bool {
    if n_best == 0 || finished.len() < n_best {
        return false;
    }
    let mut scores: Vec<f32> = finished.iter().map(|h| key(h.score)).collect();
    scores.select_nth_unstable_by(n_best - 1, |a, b| b.total_cmp(a));
    let Some(&threshold) = scores.get(n_best - 1) else {
        return false;
    };
    let best_live = key(best_live);
    let bound = if length_norm {
        if best_live > 0.0 {
            // Not a log-probability: no sound bound, keep searching.
            return false;
        }
        best_live / max_len.max(1) as f32
    } else {
        best_live
    };
    bound <= threshold
}

/// Beam search from `init` (a state with ONE row, already fed the image), starting with token `bos`.
///
/// Returns at most `params.n_best` hypotheses sorted by score, best first; see the
/// [module documentation](self) for the exact rules. Errors if `beam_size` or `n_best` is 0,
/// if `bos` or `eos` lies outside the vocabulary, if the decoder returns a log-probability
/// vector of the wrong length, or if the decoder itself fails.
pub fn beam_search<D: StepDecoder>(
    dec: &D,
    init: D::State,
    bos: u32,
    eos: u32,
    params: &BeamParams,
) -> Result<Vec<Hypothesis>> {
    let mut all = beam_search_batch(dec, init, 1, bos, eos, params)?;
    all.pop()
        .ok_or_else(|| Error::Other("beam search lost its only image".into()))
}

/// Beam search for `images` images at once: `init` has one row per image, and every time
/// step runs the live beams of all images as one batched [`StepDecoder::step`] call.
///
/// Each image's result is exactly what [`beam_search`] gives it alone; batching only shares
/// the decoder calls, which on a GPU, or with a weight matrix read once for many rows on a
/// CPU, is what makes folder captioning fast.
pub fn beam_search_batch<D: StepDecoder>(
    dec: &D,
    init: D::State,
    images: usize,
    bos: u32,
    eos: u32,
    params: &BeamParams,
) -> Result<Vec<Vec<Hypothesis>>> {
    let free = vec![Guide::default(); images];
    guided_search_batch(dec, init, bos, eos, params, &free)
}

/// Constrained beam search (Anderson et al., 2017, "Guided Open Vocabulary Image Captioning
/// with Constrained Beam Search"), one [`Guide`] per image, all images batched as in
/// [`beam_search_batch`].
///
/// Each image's constraints form a small automaton whose state is the set of constraints a
/// partial sentence already satisfies; the search keeps up to `beam_size` live beams *per
/// state*, ranked within that state exactly as the plain search ranks its one list, and
/// returns only sentences that satisfy every constraint. With no constraints there is one
/// state and this is the plain search, step for step. A guide whose constraints cannot be
/// met within `max_len` words gives an empty result for that image.
pub fn guided_search_batch<D: StepDecoder>(
    dec: &D,
    init: D::State,
    bos: u32,
    eos: u32,
    params: &BeamParams,
    guides: &[Guide],
) -> Result<Vec<Vec<Hypothesis>>> {
    if params.beam_size == 0 {
        return Err(Error::Other(
            "beam search needs a beam size of at least 1".into(),
        ));
    }
    if params.n_best == 0 {
        return Err(Error::Other(
            "beam search needs n_best of at least 1 (how many captions to return)".into(),
        ));
    }
    let vocab = dec.vocab_size();
    check_vocab(vocab, bos, eos)?;
    let banned = banned_mask(vocab, &params.banned, bos, eos);
    let mut searches = guides
        .iter()
        .map(|g| Search::new(params, bos, eos, g, vocab))
        .collect::<Result<Vec<Search>>>()?;
    let images = searches.len();
    let mut state = init;
    for t in 0..params.max_len {
        let active: Vec<usize> = (0..images).filter(|&i| !searches[i].done).collect();
        if active.is_empty() {
            break;
        }
        let feed: Vec<u32> = active
            .iter()
            .flat_map(|&i| searches[i].feed.iter().copied())
            .collect();
        let (log_probs, next_state) = checked_step(dec, &feed, &state, vocab)?;
        let mut rows = Vec::with_capacity(feed.len());
        let mut offset = 0;
        for &i in &active {
            let search = &mut searches[i];
            let n = search.live.len();
            let block = &log_probs[offset * vocab..(offset + n) * vocab];
            let last_step = t + 1 == params.max_len;
            if let Some(own) = search.advance(block, vocab, &banned, last_step)? {
                rows.extend(own.into_iter().map(|r| offset + r));
            }
            offset += n;
        }
        if searches.iter().all(|s| s.done) {
            break;
        }
        let in_order = rows.len() == feed.len() && rows.iter().enumerate().all(|(i, &r)| i == r);
        state = if in_order {
            next_state
        } else {
            dec.select(&next_state, &rows)?
        };
    }
    Ok(searches.into_iter().map(Search::finish).collect())
}

/// What one image's sentences must contain and must avoid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Guide {
    /// Constraints: the sentence must contain, for each entry, at least one of its tokens
    /// (alternatives such as "bird" and "birds"). At most [`MAX_CONSTRAINTS`].
    pub include: Vec<Vec<u32>>,
    /// Tokens this image's sentences may never contain, on top of the search's banned ones.
    pub exclude: Vec<u32>,
}

/// The most constraints one guide may have: the automaton has 2^n states, each with a beam.
pub const MAX_CONSTRAINTS: usize = 4;

/// One image's search: its live beams, the tokens they feed next, and what has finished.
struct Search<'p> {
    params: &'p BeamParams,
    eos: u32,
    live: Vec<Beam>,
    feed: Vec<u32>,
    finished: Vec<Hypothesis>,
    /// Candidates of this step, one bucket per constraint state.
    buckets: Vec<Vec<Candidate>>,
    /// Constraint bits each token sets; empty when the guide has no constraints.
    token_bits: Vec<u32>,
    /// This image's own banned mask when its guide excludes tokens.
    own_banned: Option<Vec<bool>>,
    /// The state in which every constraint is met.
    accept: u32,
    done: bool,
}

impl<'p> Search<'p> {
    fn new(
        params: &'p BeamParams,
        bos: u32,
        eos: u32,
        guide: &Guide,
        vocab: usize,
    ) -> Result<Self> {
        let n = guide.include.len();
        if n > MAX_CONSTRAINTS {
            return Err(Error::Other(format!(
                "a guided search takes at most {MAX_CONSTRAINTS} constraints, not {n}"
            )));
        }
        let mut token_bits = Vec::new();
        if n > 0 {
            token_bits = vec![0u32; vocab];
            for (i, alternatives) in guide.include.iter().enumerate() {
                for &t in alternatives {
                    if let Some(bits) = token_bits.get_mut(t as usize) {
                        *bits |= 1 << i;
                    }
                }
            }
        }
        let own_banned = (!guide.exclude.is_empty()).then(|| {
            let mut mask = banned_mask(vocab, &params.banned, bos, eos);
            for &t in &guide.exclude {
                if let Some(slot) = mask.get_mut(t as usize) {
                    *slot = true;
                }
            }
            mask
        });
        Ok(Search {
            params,
            eos,
            live: vec![Beam::default()],
            feed: vec![bos],
            finished: Vec::new(),
            buckets: vec![Vec::new(); 1 << n],
            token_bits,
            own_banned,
            accept: (1u32 << n) - 1,
            done: params.max_len == 0,
        })
    }

    /// Takes this step's log-probabilities (one row per live beam) and returns which of
    /// those rows the next step continues, in order, or `None` once the search is over.
    fn advance(
        &mut self,
        log_probs: &[f32],
        vocab: usize,
        banned: &[bool],
        last_step: bool,
    ) -> Result<Option<Vec<usize>>> {
        let k = self.params.beam_size;
        let n_best = self.params.n_best.min(k);
        let length_norm = self.params.length_norm;
        let banned = self.own_banned.as_deref().unwrap_or(banned);
        for bucket in &mut self.buckets {
            bucket.clear();
        }
        let mut any = false;
        for (b, (beam, row)) in self
            .live
            .iter()
            .zip(log_probs.chunks_exact(vocab))
            .enumerate()
        {
            for (token, (&lp, &ban)) in row.iter().zip(banned).enumerate() {
                if ban {
                    continue;
                }
                let bits = self.token_bits.get(token).copied().unwrap_or(0);
                let state = beam.state | bits;
                if let Some(bucket) = self.buckets.get_mut(state as usize) {
                    any = true;
                    bucket.push(Candidate {
                        log_prob: beam.log_prob + lp,
                        token_log_prob: lp,
                        beam: b,
                        token: token as u32,
                        state,
                    });
                }
            }
        }
        if !any {
            // Nothing may be generated: the live beams are returned as cut.
            self.done = true;
            return Ok(None);
        }

        let mut next_live = Vec::new();
        let mut rows = Vec::new();
        let mut next_feed = Vec::new();
        for (state, candidates) in self.buckets.iter_mut().enumerate() {
            // The k best of a state decide which end-token extensions finish; at most
            // live.len() of them are end-token extensions, so the k best others lie within
            // the top k + live.
            let m = (k + self.live.len()).min(candidates.len());
            if m == 0 {
                continue;
            }
            if candidates.len() > m {
                candidates.select_nth_unstable_by(m - 1, candidate_order);
                candidates.truncate(m);
            }
            candidates.sort_unstable_by(candidate_order);
            let mut kept = 0;
            for (rank, c) in candidates.iter().enumerate() {
                let Some(parent) = self.live.get(c.beam) else {
                    continue;
                };
                if c.token == self.eos {
                    if rank < k && state as u32 == self.accept {
                        self.finished
                            .push(parent.finish(Some(c.token_log_prob), length_norm));
                    }
                } else if kept < k {
                    kept += 1;
                    next_live.push(parent.extend(c));
                    rows.push(c.beam);
                    next_feed.push(c.token);
                }
            }
        }
        self.live = next_live;
        self.feed = next_feed;

        let best_live = self
            .live
            .iter()
            .map(|b| key(b.log_prob))
            .max_by(|a, b| a.total_cmp(b));
        let stop = match best_live {
            None => true,
            Some(best) => {
                last_step
                    || can_stop(
                        &self.finished,
                        best,
                        n_best,
                        length_norm,
                        self.params.max_len,
                    )
            }
        };
        if stop {
            if !last_step {
                // Stopped early: every live beam is beaten by n_best finished ones (or none is left).
                self.live.clear();
            }
            self.done = true;
            return Ok(None);
        }
        Ok(Some(rows))
    }

    /// The best `n_best` sentences that meet every constraint: finished ones first, cut
    /// beams to fill the gap.
    fn finish(self) -> Vec<Hypothesis> {
        let n_best = self.params.n_best.min(self.params.beam_size);
        let length_norm = self.params.length_norm;
        let accept = self.accept;
        let mut finished = self.finished;
        finished.sort_by(|a, b| best_first(a.score, b.score));
        if finished.len() < n_best {
            let mut cut: Vec<Hypothesis> = self
                .live
                .iter()
                .filter(|b| b.state == accept)
                .map(|b| b.finish(None, length_norm))
                .collect();
            cut.sort_by(|a, b| best_first(a.score, b.score));
            cut.truncate(n_best - finished.len());
            finished.extend(cut);
            finished.sort_by(|a, b| best_first(a.score, b.score));
        }
        finished.truncate(n_best);
        finished
    }
}

/// Greedy decoding (what [`beam_search`] does with `beam_size` 1 and no length normalisation).
///
/// At each step takes the most probable allowed token (ties: lowest id; NaN ranks as −∞);
/// stops at the end token or after `max_len` words (then `end_log_prob` is `None`). The start
/// token is never generated unless it is also the end token. Errors as [`beam_search`] does.
pub fn greedy<D: StepDecoder>(
    dec: &D,
    init: D::State,
    bos: u32,
    eos: u32,
    max_len: usize,
    banned: &[u32],
) -> Result<Hypothesis> {
    let vocab = dec.vocab_size();
    check_vocab(vocab, bos, eos)?;
    let mask = banned_mask(vocab, banned, bos, eos);

    let mut beam = Beam::default();
    let mut state = init;
    let mut token = bos;
    for t in 0..max_len {
        let (log_probs, next_state) = checked_step(dec, &[token], &state, vocab)?;
        let best = log_probs
            .iter()
            .zip(&mask)
            .enumerate()
            .filter(|(_, (_, &ban))| !ban)
            .map(|(i, (&lp, _))| (i, lp))
            .min_by(|a, b| best_first(a.1, b.1).then(a.0.cmp(&b.0)));
        let Some((i, lp)) = best else {
            break;
        };
        let c = Candidate {
            log_prob: beam.log_prob + lp,
            token_log_prob: lp,
            beam: 0,
            token: i as u32,
            state: 0,
        };
        if c.token == eos {
            return Ok(beam.finish(Some(lp), false));
        }
        beam = beam.extend(&c);
        if t + 1 == max_len {
            break;
        }
        state = next_state;
        token = c.token;
    }
    Ok(beam.finish(None, false))
}
