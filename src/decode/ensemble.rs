//! Several decoders searched as one: each step's distribution is the mean of theirs.
//!
//! Show and Tell reports its best scores from such an ensemble. Averaging probabilities
//! (not log-probabilities) keeps the result a true distribution, so the beam search's
//! early stop, which needs log-probabilities, stays exact.

use super::StepDecoder;
use crate::{Error, Result};

/// Decoders over the same vocabulary whose next-word probabilities are averaged.
pub struct Ensemble<D> {
    members: Vec<D>,
}

impl<D: StepDecoder> Ensemble<D> {
    /// Errors if `members` is empty or their vocabulary sizes differ.
    pub fn new(members: Vec<D>) -> Result<Self> {
        let first = members
            .first()
            .ok_or_else(|| Error::Other("an ensemble needs at least one decoder".into()))?
            .vocab_size();
        if let Some(other) = members.iter().find(|m| m.vocab_size() != first) {
            return Err(Error::Other(format!(
                "the decoders of an ensemble must share one vocabulary; found {first} and {} words",
                other.vocab_size()
            )));
        }
        Ok(Self { members })
    }

    /// How many decoders it averages.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Always false: an ensemble has at least one member.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

impl<D: StepDecoder> StepDecoder for Ensemble<D> {
    type State = Vec<D::State>;

    fn vocab_size(&self) -> usize {
        self.members[0].vocab_size()
    }

    fn step(&self, tokens: &[u32], state: &Self::State) -> Result<(Vec<f32>, Self::State)> {
        if state.len() != self.members.len() {
            return Err(Error::Other(format!(
                "ensemble state has {} parts for {} decoders",
                state.len(),
                self.members.len()
            )));
        }
        if let ([m], [s]) = (self.members.as_slice(), state.as_slice()) {
            let (lp, ns) = m.step(tokens, s)?;
            return Ok((lp, vec![ns]));
        }
        let mut next = Vec::with_capacity(self.members.len());
        let mut all = Vec::with_capacity(self.members.len());
        for (m, s) in self.members.iter().zip(state) {
            let (lp, ns) = m.step(tokens, s)?;
            all.push(lp);
            next.push(ns);
        }
        let n = all[0].len();
        if all.iter().any(|lp| lp.len() != n) {
            return Err(Error::Other(
                "the decoders of an ensemble returned different numbers of log-probabilities"
                    .into(),
            ));
        }
        let ln_members = (all.len() as f32).ln();
        // log(mean(exp(lp_i))) computed around the largest term so nothing underflows.
        let mixed = (0..n)
            .map(|j| {
                let top = all.iter().map(|lp| lp[j]).fold(f32::NEG_INFINITY, f32::max);
                if top == f32::NEG_INFINITY {
                    return top;
                }
                let sum: f32 = all.iter().map(|lp| (lp[j] - top).exp()).sum();
                (top + sum.ln() - ln_members).min(0.0)
            })
            .collect();
        Ok((mixed, next))
    }

    fn select(&self, state: &Self::State, rows: &[usize]) -> Result<Self::State> {
        self.members
            .iter()
            .zip(state)
            .map(|(m, s)| m.select(s, rows))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{beam_search, BeamParams};

    /// A decoder whose next-word distribution depends only on the step number.
    struct Table(Vec<Vec<f32>>);

    impl StepDecoder for Table {
        type State = Vec<usize>;
        fn vocab_size(&self) -> usize {
            self.0[0].len()
        }
        fn step(&self, tokens: &[u32], state: &Vec<usize>) -> Result<(Vec<f32>, Vec<usize>)> {
            let mut out = Vec::new();
            for &t in state {
                out.extend(self.0[t.min(self.0.len() - 1)].iter().map(|p| p.ln()));
            }
            assert_eq!(tokens.len(), state.len());
            Ok((out, state.iter().map(|t| t + 1).collect()))
        }
        fn select(&self, state: &Vec<usize>, rows: &[usize]) -> Result<Vec<usize>> {
            Ok(rows.iter().map(|&r| state[r]).collect())
        }
    }

    #[test]
    fn averages_probabilities_not_log_probabilities() -> Result<()> {
        let a = Table(vec![vec![0.0, 0.0, 0.9, 0.1]]);
        let b = Table(vec![vec![0.0, 0.0, 0.1, 0.9]]);
        let e = Ensemble::new(vec![a, b])?;
        let (lp, _) = e.step(&[0], &vec![vec![0], vec![0]])?;
        assert!((lp[2].exp() - 0.5).abs() < 1e-6 && (lp[3].exp() - 0.5).abs() < 1e-6);
        assert_eq!(lp[0], f32::NEG_INFINITY);
        Ok(())
    }

    #[test]
    fn the_search_follows_the_mixture() -> Result<()> {
        // Token 1 ends; 2 and 3 are words. Each member alone prefers a different first word,
        // but only word 3 is likely under both, so the ensemble must pick it.
        let a = Table(vec![vec![0.0, 0.0, 0.6, 0.4], vec![0.0, 1.0, 0.0, 0.0]]);
        let b = Table(vec![vec![0.0, 0.0, 0.0, 1.0], vec![0.0, 1.0, 0.0, 0.0]]);
        let params = BeamParams {
            beam_size: 2,
            ..BeamParams::default()
        };
        let alone = beam_search(&a, vec![0], 0, 1, &params)?;
        assert_eq!(alone[0].tokens, vec![2]);
        let e = Ensemble::new(vec![a, b])?;
        let mixed = beam_search(&e, vec![vec![0], vec![0]], 0, 1, &params)?;
        assert_eq!(mixed[0].tokens, vec![3]);
        assert!((mixed[0].token_log_probs[0].exp() - 0.7).abs() < 1e-6);
        Ok(())
    }

    #[test]
    fn refuses_mismatched_vocabularies() {
        let a = Table(vec![vec![0.5, 0.5]]);
        let b = Table(vec![vec![0.2, 0.3, 0.5]]);
        assert!(Ensemble::new(vec![a, b]).is_err());
        assert!(Ensemble::<Table>::new(Vec::new()).is_err());
    }
}
