//! Beam search and greedy decoding, checked on toy decoders against brute-force enumeration.

use std::cell::RefCell;

use seesay::decode::{
    beam_search, beam_search_batch, greedy, guided_search_batch, BeamParams, Guide, Hypothesis,
    StepDecoder, MAX_CONSTRAINTS,
};
use seesay::{Error, Result};

const BOS: u32 = 0;
const EOS: u32 = 1;
const PAD: u32 = 2;

/// A decoder whose state is the token history of each row and whose log-probabilities are
/// any deterministic function of that history (which starts with the start token).
struct FnDecoder<F: Fn(&[u32]) -> Vec<f32>> {
    vocab: usize,
    f: F,
    /// Number of rows fed to each `step` call, in order.
    batches: RefCell<Vec<usize>>,
}

impl<F: Fn(&[u32]) -> Vec<f32>> FnDecoder<F> {
    fn new(vocab: usize, f: F) -> Self {
        FnDecoder {
            vocab,
            f,
            batches: RefCell::new(Vec::new()),
        }
    }

    fn steps(&self) -> usize {
        self.batches.borrow().len()
    }
}

impl<F: Fn(&[u32]) -> Vec<f32>> StepDecoder for FnDecoder<F> {
    type State = Vec<Vec<u32>>;

    fn vocab_size(&self) -> usize {
        self.vocab
    }

    fn step(&self, tokens: &[u32], state: &Self::State) -> Result<(Vec<f32>, Self::State)> {
        assert_eq!(tokens.len(), state.len(), "one token per state row");
        self.batches.borrow_mut().push(tokens.len());
        let mut out = Vec::new();
        let mut next = Vec::new();
        for (&t, row) in tokens.iter().zip(state) {
            let mut history = row.clone();
            history.push(t);
            out.extend((self.f)(&history));
            next.push(history);
        }
        Ok((out, next))
    }

    fn select(&self, state: &Self::State, rows: &[usize]) -> Result<Self::State> {
        rows.iter()
            .map(|&r| {
                state
                    .get(r)
                    .cloned()
                    .ok_or_else(|| Error::Other(format!("row {r} out of range")))
            })
            .collect()
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn log_softmax(logits: &[f64]) -> Vec<f32> {
    let max = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let lse = max + logits.iter().map(|l| (l - max).exp()).sum::<f64>().ln();
    logits.iter().map(|l| (l - lse) as f32).collect()
}

/// Log-probabilities from a fixed random table indexed by (seed, history).
fn table(seed: u64, vocab: usize) -> impl Fn(&[u32]) -> Vec<f32> {
    move |history: &[u32]| {
        let mut h = splitmix(seed);
        for &t in history {
            h = splitmix(h ^ u64::from(t));
        }
        let logits: Vec<f64> = (0..vocab as u64)
            .map(|j| (splitmix(h ^ (j << 32)) >> 11) as f64 / (1u64 << 53) as f64 * 4.0)
            .collect();
        log_softmax(&logits)
    }
}

/// Log-probabilities from explicit probabilities of some tokens; the rest share what is left.
fn dist(vocab: usize, probs: &[(u32, f64)]) -> Vec<f32> {
    let given: f64 = probs.iter().map(|p| p.1).sum();
    let rest = (1.0 - given).max(1e-12) / (vocab - probs.len()) as f64;
    (0..vocab as u32)
        .map(|t| {
            let p = probs.iter().find(|p| p.0 == t).map_or(rest, |p| p.1);
            p.ln() as f32
        })
        .collect()
}

fn params(beam_size: usize, n_best: usize, max_len: usize, length_norm: bool) -> BeamParams {
    BeamParams {
        beam_size,
        n_best,
        max_len,
        length_norm,
        banned: vec![BOS, PAD],
    }
}

/// Every sentence of at most `max_len - 1` allowed words followed by the end token, with its
/// log-probability and score, best first.
fn brute_force(
    f: &dyn Fn(&[u32]) -> Vec<f32>,
    vocab: usize,
    max_len: usize,
    banned: &[u32],
    length_norm: bool,
) -> Vec<(Vec<u32>, f64, f64)> {
    fn walk(
        f: &dyn Fn(&[u32]) -> Vec<f32>,
        vocab: usize,
        max_len: usize,
        banned: &[u32],
        history: &mut Vec<u32>,
        lp: f64,
        out: &mut Vec<(Vec<u32>, f64)>,
    ) {
        let row = f(history);
        out.push((history[1..].to_vec(), lp + f64::from(row[EOS as usize])));
        if history.len() == max_len {
            return; // adding a word would leave no room for the end token
        }
        for t in 0..vocab as u32 {
            if t == EOS || banned.contains(&t) {
                continue;
            }
            history.push(t);
            walk(
                f,
                vocab,
                max_len,
                banned,
                history,
                lp + f64::from(row[t as usize]),
                out,
            );
            history.pop();
        }
    }
    let mut out = Vec::new();
    walk(f, vocab, max_len, banned, &mut vec![BOS], 0.0, &mut out);
    let mut scored: Vec<(Vec<u32>, f64, f64)> = out
        .into_iter()
        .map(|(tokens, lp)| {
            let score = if length_norm {
                lp / (tokens.len() + 1) as f64
            } else {
                lp
            };
            (tokens, lp, score)
        })
        .collect();
    scored.sort_by(|a, b| b.2.total_cmp(&a.2));
    scored
}

fn check_consistent(h: &Hypothesis, length_norm: bool, banned: &[u32]) {
    assert_eq!(h.tokens.len(), h.token_log_probs.len());
    for t in &h.tokens {
        assert!(*t != EOS && *t != BOS && !banned.contains(t), "{h:?}");
    }
    let sum: f32 = h.token_log_probs.iter().sum::<f32>() + h.end_log_prob.unwrap_or(0.0);
    assert!((sum - h.log_prob).abs() < 1e-5, "{h:?}");
    let count = h.tokens.len() + usize::from(h.end_log_prob.is_some());
    let score = if length_norm && count > 0 {
        h.log_prob / count as f32
    } else {
        h.log_prob
    };
    assert!((score - h.score).abs() < 1e-6, "{h:?}");
}

#[test]
fn wide_beam_finds_brute_force_optimum() {
    for length_norm in [false, true] {
        for seed in 0..6u64 {
            let vocab = 5 + (seed as usize % 2); // 5 or 6: 2 or 3 allowed words
            let max_len = 5;
            let f = table(seed, vocab);
            let expected = brute_force(&f, vocab, max_len, &[BOS, PAD], length_norm);
            let dec = FnDecoder::new(vocab, &f);
            let p = params(1000, 5, max_len, length_norm);
            let got = beam_search(&dec, vec![vec![]], BOS, EOS, &p).unwrap();
            assert_eq!(got.len(), 5);
            for (g, e) in got.iter().zip(&expected) {
                assert_eq!(g.tokens, e.0, "seed {seed}, norm {length_norm}");
                assert!(g.end_log_prob.is_some());
                assert!((f64::from(g.log_prob) - e.1).abs() < 1e-5, "{g:?} vs {e:?}");
                assert!((f64::from(g.score) - e.2).abs() < 1e-5, "{g:?} vs {e:?}");
                check_consistent(g, length_norm, &p.banned);
            }
        }
    }
}

#[test]
fn moderate_beam_finds_the_optimum_on_easy_tables() {
    // Not guaranteed in general, but a beam of 4 over 3 words should find the best of
    // these small tables; a failure here would point at the pruning rather than at luck.
    let mut found = 0;
    for seed in 10..30u64 {
        let f = table(seed, 6);
        let best = brute_force(&f, 6, 6, &[BOS, PAD], false);
        let dec = FnDecoder::new(6, &f);
        let got = beam_search(&dec, vec![vec![]], BOS, EOS, &params(4, 1, 6, false)).unwrap();
        assert!(got[0].end_log_prob.is_some());
        assert!(f64::from(got[0].log_prob) <= best[0].1 + 1e-5);
        if got[0].tokens == best[0].0 {
            found += 1;
        }
    }
    assert!(
        found >= 15,
        "beam 4 found the optimum on only {found}/20 tables"
    );
}

#[test]
fn results_sorted_bounded_distinct() {
    for seed in 0..20u64 {
        for (beam, n_best) in [(4, 3), (2, 10), (5, 5), (1, 1)] {
            for length_norm in [false, true] {
                let dec = FnDecoder::new(6, table(seed, 6));
                let p = params(beam, n_best, 7, length_norm);
                let got = beam_search(&dec, vec![vec![]], BOS, EOS, &p).unwrap();
                assert!(!got.is_empty());
                assert!(
                    got.len() <= n_best.min(beam),
                    "{} > {n_best}/{beam}",
                    got.len()
                );
                for w in got.windows(2) {
                    assert!(w[0].score >= w[1].score, "{got:?}");
                    assert_ne!(w[0].tokens, w[1].tokens);
                }
                for (i, a) in got.iter().enumerate() {
                    check_consistent(a, length_norm, &p.banned);
                    assert!(got[i + 1..].iter().all(|b| b.tokens != a.tokens));
                }
                // A beam's steps all run batched: at most one call per word.
                assert!(dec.steps() <= 7);
            }
        }
    }
}

#[test]
fn start_token_never_generated_even_when_likely() {
    // The start token is the most likely next token everywhere, but only pad is banned.
    let vocab = 6;
    let f = |_: &[u32]| dist(6, &[(BOS, 0.5), (EOS, 0.1)]);
    let dec = FnDecoder::new(vocab, f);
    let p = BeamParams {
        banned: vec![PAD],
        ..params(3, 3, 5, false)
    };
    let got = beam_search(&dec, vec![vec![]], BOS, EOS, &p).unwrap();
    for h in &got {
        check_consistent(h, false, &p.banned);
    }
    let g = greedy(&FnDecoder::new(vocab, f), vec![vec![]], BOS, EOS, 5, &[PAD]).unwrap();
    check_consistent(&g, false, &p.banned);
}

#[test]
fn end_first_gives_empty_sentence() {
    let f = |_: &[u32]| dist(6, &[(EOS, 0.999)]);
    let dec = FnDecoder::new(6, f);
    let got = beam_search(&dec, vec![vec![]], BOS, EOS, &params(3, 2, 10, false)).unwrap();
    let best = &got[0];
    assert!(best.tokens.is_empty());
    assert!(best.token_log_probs.is_empty());
    let end = best.end_log_prob.unwrap();
    assert!((end - 0.999f32.ln()).abs() < 1e-6);
    assert_eq!(best.log_prob, end);
    assert_eq!(best.score, end);
    // Nothing live can beat it after a few steps: the search stopped early.
    assert!(dec.steps() < 10, "{} steps", dec.steps());

    let g = greedy(
        &FnDecoder::new(6, f),
        vec![vec![]],
        BOS,
        EOS,
        10,
        &[BOS, PAD],
    )
    .unwrap();
    assert_eq!(&g, best);
}

#[test]
fn max_len_cut_has_no_end() {
    let f = |_: &[u32]| dist(6, &[(EOS, 1e-20), (3, 0.5), (4, 0.3)]);
    for length_norm in [false, true] {
        let dec = FnDecoder::new(6, f);
        let got = beam_search(&dec, vec![vec![]], BOS, EOS, &params(2, 2, 3, length_norm)).unwrap();
        assert_eq!(got.len(), 2);
        for h in &got {
            assert_eq!(h.end_log_prob, None);
            assert_eq!(h.tokens.len(), 3);
            check_consistent(h, length_norm, &[BOS, PAD]);
        }
        assert_eq!(got[0].tokens, vec![3, 3, 3]);
        // [3, 3, 4] and [3, 4, 3] have the same probability; rounding may pick either.
        assert!(
            got[1].tokens == [3, 3, 4] || got[1].tokens == [3, 4, 3],
            "{got:?}"
        );
        assert_eq!(dec.steps(), 3);
        let g = greedy(
            &FnDecoder::new(6, f),
            vec![vec![]],
            BOS,
            EOS,
            3,
            &[BOS, PAD],
        )
        .unwrap();
        assert_eq!(g.tokens, vec![3, 3, 3]);
        assert_eq!(g.end_log_prob, None);
    }
}

#[test]
fn max_len_zero_gives_empty_cut() {
    let dec = FnDecoder::new(6, table(1, 6));
    let got = beam_search(&dec, vec![vec![]], BOS, EOS, &params(3, 1, 0, false)).unwrap();
    assert_eq!(got.len(), 1);
    assert!(got[0].tokens.is_empty());
    assert_eq!(got[0].end_log_prob, None);
    assert_eq!(dec.steps(), 0);
}

#[test]
fn finished_preferred_over_cut() {
    // Cut sentences with higher log-probability exist, but one finished sentence is enough for n_best 1.
    let f = |h: &[u32]| {
        if h.len() == 1 {
            dist(6, &[(EOS, 0.2), (3, 0.8)])
        } else {
            dist(6, &[(EOS, 1e-9), (3, 0.99)])
        }
    };
    let dec = FnDecoder::new(6, f);
    let got = beam_search(&dec, vec![vec![]], BOS, EOS, &params(3, 1, 4, false)).unwrap();
    assert_eq!(got.len(), 1);
    assert!(got[0].tokens.is_empty() && got[0].end_log_prob.is_some());
}

#[test]
fn beam_one_equals_greedy() {
    for seed in 0..40u64 {
        let vocab = 5 + (seed as usize % 2);
        let max_len = 3 + (seed as usize % 5);
        let dec = FnDecoder::new(vocab, table(seed, vocab));
        let beam = beam_search(&dec, vec![vec![]], BOS, EOS, &params(1, 1, max_len, false))
            .unwrap()
            .remove(0);
        let g = greedy(
            &FnDecoder::new(vocab, table(seed, vocab)),
            vec![vec![]],
            BOS,
            EOS,
            max_len,
            &[BOS, PAD],
        )
        .unwrap();
        assert_eq!(beam.tokens, g.tokens, "seed {seed}");
        assert_eq!(beam.end_log_prob, g.end_log_prob, "seed {seed}");
        assert!((beam.log_prob - g.log_prob).abs() < 1e-6, "seed {seed}");
        assert_eq!(beam, g, "seed {seed}");
    }
}

#[test]
fn one_batched_step_per_time_step() {
    // Almost no mass on the end token: nobody finishes, so every step runs with a full beam.
    for seed in 0..5u64 {
        let f = move |h: &[u32]| {
            let mut row = table(seed, 6)(h);
            row[EOS as usize] = -40.0;
            row
        };
        let dec = FnDecoder::new(6, f);
        let got = beam_search(&dec, vec![vec![]], BOS, EOS, &params(3, 3, 6, false)).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(*dec.batches.borrow(), vec![1, 3, 3, 3, 3, 3]);
    }
    // With a beam wider than the prefixes, the batch grows with them (3 allowed words).
    let dec = FnDecoder::new(6, table(7, 6));
    beam_search(&dec, vec![vec![]], BOS, EOS, &params(100, 100, 4, false)).unwrap();
    assert_eq!(*dec.batches.borrow(), vec![1, 3, 9, 27]);
}

#[test]
fn length_norm_prefers_long_sentence_with_higher_mean() {
    // "" (end at once): log 0.4 = -0.92, mean -0.92.
    // "3 3": log 0.35 + log 0.95 + log 0.95 = -1.15 in total, but mean -0.38.
    let f = |h: &[u32]| match h.len() {
        1 => dist(6, &[(EOS, 0.4), (3, 0.35), (4, 0.25)]),
        2 => dist(6, &[(3, 0.95), (EOS, 0.03)]),
        _ => dist(6, &[(EOS, 0.95)]),
    };
    let plain = beam_search(
        &FnDecoder::new(6, f),
        vec![vec![]],
        BOS,
        EOS,
        &params(3, 1, 8, false),
    )
    .unwrap();
    assert!(plain[0].tokens.is_empty(), "{plain:?}");
    let normed = beam_search(
        &FnDecoder::new(6, f),
        vec![vec![]],
        BOS,
        EOS,
        &params(3, 1, 8, true),
    )
    .unwrap();
    assert_eq!(normed[0].tokens, vec![3, 3], "{normed:?}");
    assert!(normed[0].score > plain[0].score);
    assert!(normed[0].log_prob < plain[0].log_prob);
}

#[test]
fn nan_log_probs_do_not_panic_or_win() {
    let f = |h: &[u32]| {
        let mut row = table(h.len() as u64, 6)(h);
        row[5] = f32::NAN;
        row
    };
    for length_norm in [false, true] {
        let got = beam_search(
            &FnDecoder::new(6, f),
            vec![vec![]],
            BOS,
            EOS,
            &params(3, 3, 6, length_norm),
        )
        .unwrap();
        assert!(!got.is_empty());
        assert!(got.iter().all(|h| !h.tokens.contains(&5)), "{got:?}");
    }
    let g = greedy(
        &FnDecoder::new(6, f),
        vec![vec![]],
        BOS,
        EOS,
        6,
        &[BOS, PAD],
    )
    .unwrap();
    assert!(!g.tokens.contains(&5));
}

#[test]
fn everything_banned_still_returns_a_cut_sentence() {
    let dec = FnDecoder::new(3, table(3, 3));
    let p = BeamParams {
        banned: vec![0, 1, 2],
        ..params(3, 2, 5, false)
    };
    let got = beam_search(&dec, vec![vec![]], BOS, EOS, &p).unwrap();
    assert_eq!(got.len(), 1);
    assert!(got[0].tokens.is_empty() && got[0].end_log_prob.is_none());
}

#[test]
fn errors_not_panics() {
    let dec = FnDecoder::new(6, table(0, 6));
    let zero = beam_search(&dec, vec![vec![]], BOS, EOS, &params(0, 1, 5, false));
    assert!(matches!(zero, Err(Error::Other(_))), "{zero:?}");
    let no_best = beam_search(&dec, vec![vec![]], BOS, EOS, &params(3, 0, 5, false));
    assert!(matches!(no_best, Err(Error::Other(_))));
    let bad_eos = beam_search(&dec, vec![vec![]], BOS, 6, &params(3, 1, 5, false));
    assert!(matches!(bad_eos, Err(Error::Other(_))));

    // The decoder claims 6 tokens but returns 5 log-probabilities per row.
    let short = FnDecoder::new(6, |h: &[u32]| table(0, 5)(h));
    let r = beam_search(&short, vec![vec![]], BOS, EOS, &params(3, 1, 5, false));
    assert!(matches!(r, Err(Error::Other(_))), "{r:?}");
    let r = greedy(&short, vec![vec![]], BOS, EOS, 5, &[]);
    assert!(matches!(r, Err(Error::Other(_))), "{r:?}");
    // Wrong length only on a later, batched step.
    let later = FnDecoder::new(6, |h: &[u32]| {
        let mut row = table(0, 6)(h);
        if h.len() > 1 {
            row.push(0.0);
        }
        row
    });
    let r = beam_search(&later, vec![vec![]], BOS, EOS, &params(3, 3, 5, false));
    assert!(matches!(r, Err(Error::Other(_))), "{r:?}");
    let empty = FnDecoder::new(0, |_: &[u32]| Vec::new());
    assert!(beam_search(&empty, vec![vec![]], BOS, EOS, &params(3, 1, 5, false)).is_err());
}

#[test]
fn a_batch_of_images_gives_each_what_it_gets_alone() {
    // Each image's history starts with its own marker, so the tables differ per image.
    for (seed, k, n_best, max_len, norm) in [
        (3u64, 3, 2, 7, false),
        (11, 5, 5, 9, true),
        (5, 1, 1, 4, false),
    ] {
        let f = table(seed, 9);
        let markers: Vec<u32> = (100..106).collect();
        let alone: Vec<Vec<Hypothesis>> = markers
            .iter()
            .map(|&m| {
                let dec = FnDecoder::new(9, &f);
                beam_search(
                    &dec,
                    vec![vec![m]],
                    BOS,
                    EOS,
                    &params(k, n_best, max_len, norm),
                )
                .unwrap()
            })
            .collect();
        let dec = FnDecoder::new(9, &f);
        let init: Vec<Vec<u32>> = markers.iter().map(|&m| vec![m]).collect();
        let together = beam_search_batch(
            &dec,
            init,
            markers.len(),
            BOS,
            EOS,
            &params(k, n_best, max_len, norm),
        )
        .unwrap();
        assert_eq!(together, alone, "seed {seed}");
        // One decoder call per time step for the whole batch, never more than max_len.
        assert!(dec.steps() <= max_len);
        assert_eq!(dec.batches.borrow()[0], markers.len());
    }
}

/// The brute-force list restricted to sentences that meet `guide`.
fn brute_force_guided(
    f: &dyn Fn(&[u32]) -> Vec<f32>,
    vocab: usize,
    max_len: usize,
    guide: &Guide,
    length_norm: bool,
) -> Vec<(Vec<u32>, f64, f64)> {
    let mut banned = vec![BOS, PAD];
    banned.extend(&guide.exclude);
    brute_force(f, vocab, max_len, &banned, length_norm)
        .into_iter()
        .filter(|(tokens, _, _)| {
            guide
                .include
                .iter()
                .all(|alts| tokens.iter().any(|t| alts.contains(t)))
        })
        .collect()
}

fn guided(
    f: &dyn Fn(&[u32]) -> Vec<f32>,
    vocab: usize,
    p: &BeamParams,
    guide: Guide,
) -> Vec<Hypothesis> {
    let dec = FnDecoder::new(vocab, f);
    guided_search_batch(&dec, vec![vec![]], BOS, EOS, p, &[guide])
        .unwrap()
        .pop()
        .unwrap()
}

#[test]
fn guided_wide_beam_finds_the_brute_force_constrained_optimum() {
    let guides = [
        Guide {
            include: vec![vec![3]],
            exclude: vec![],
        },
        Guide {
            include: vec![vec![3, 5]],
            exclude: vec![4],
        },
        Guide {
            include: vec![vec![3], vec![4]],
            exclude: vec![],
        },
        Guide {
            include: vec![vec![4], vec![5], vec![3]],
            exclude: vec![],
        },
    ];
    for length_norm in [false, true] {
        for seed in 0..6u64 {
            for guide in &guides {
                let (vocab, max_len) = (6, 5);
                let f = table(seed, vocab);
                let expected = brute_force_guided(&f, vocab, max_len, guide, length_norm);
                let p = params(1000, 4, max_len, length_norm);
                let got = guided(&f, vocab, &p, guide.clone());
                assert_eq!(got.len(), 4.min(expected.len()), "{guide:?}");
                for (g, e) in got.iter().zip(&expected) {
                    assert_eq!(g.tokens, e.0, "seed {seed}, {guide:?}, norm {length_norm}");
                    assert!((f64::from(g.log_prob) - e.1).abs() < 1e-5, "{g:?} vs {e:?}");
                    assert!((f64::from(g.score) - e.2).abs() < 1e-5, "{g:?} vs {e:?}");
                    let mut banned = p.banned.clone();
                    banned.extend(&guide.exclude);
                    check_consistent(g, length_norm, &banned);
                }
            }
        }
    }
}

#[test]
fn an_empty_guide_is_the_plain_search() {
    for seed in 0..12u64 {
        for (k, n_best, norm) in [(3, 3, false), (1, 1, false), (5, 2, true)] {
            let f = table(seed, 8);
            let p = params(k, n_best, 8, norm);
            let plain = beam_search(&FnDecoder::new(8, &f), vec![vec![]], BOS, EOS, &p).unwrap();
            assert_eq!(guided(&f, 8, &p, Guide::default()), plain, "seed {seed}");
            // Excluding a token is the same as banning it for the whole search.
            let mut banned = p.clone();
            banned.banned.push(6);
            let plain =
                beam_search(&FnDecoder::new(8, &f), vec![vec![]], BOS, EOS, &banned).unwrap();
            let guide = Guide {
                include: vec![],
                exclude: vec![6],
            };
            assert_eq!(guided(&f, 8, &p, guide), plain, "seed {seed}");
        }
    }
}

#[test]
fn a_narrow_guided_beam_still_finds_an_unlikely_word() {
    // Token 5 is never among the plain search's choices, yet a beam of 2 per constraint
    // state finds the best sentence holding it.
    let f = |h: &[u32]| match h.len() {
        1 => dist(7, &[(3, 0.6), (4, 0.35)]),
        2 => dist(7, &[(EOS, 0.5), (4, 0.3)]),
        _ => dist(7, &[(EOS, 0.9)]),
    };
    let p = params(2, 1, 6, false);
    let plain = beam_search(&FnDecoder::new(7, f), vec![vec![]], BOS, EOS, &p).unwrap();
    assert!(!plain[0].tokens.contains(&5));
    let guide = Guide {
        include: vec![vec![5]],
        exclude: vec![],
    };
    let got = guided(&f, 7, &p, guide.clone());
    let expected = brute_force_guided(&f, 7, 6, &guide, false);
    assert_eq!(got[0].tokens, expected[0].0);
    assert!(got[0].tokens.contains(&5));
}

#[test]
fn an_impossible_guide_gives_nothing_and_too_many_constraints_are_refused() {
    let f = table(4, 6);
    let p = params(3, 2, 5, false);
    // The only token that would satisfy the constraint is excluded.
    let guide = Guide {
        include: vec![vec![3]],
        exclude: vec![3],
    };
    assert!(guided(&f, 6, &p, guide).is_empty());
    let guide = Guide {
        include: vec![vec![3]; MAX_CONSTRAINTS + 1],
        exclude: vec![],
    };
    let dec = FnDecoder::new(6, &f);
    let r = guided_search_batch(&dec, vec![vec![]], BOS, EOS, &p, &[guide]);
    assert!(matches!(r, Err(Error::Other(_))), "{r:?}");
}

#[test]
fn a_batch_of_guided_images_gives_each_what_it_gets_alone() {
    let f = table(21, 9);
    let markers: Vec<u32> = (100..104).collect();
    let guides = vec![
        Guide::default(),
        Guide {
            include: vec![vec![4]],
            exclude: vec![],
        },
        Guide {
            include: vec![vec![5, 6], vec![7]],
            exclude: vec![3],
        },
        Guide {
            include: vec![],
            exclude: vec![4, 5],
        },
    ];
    let p = params(3, 2, 7, false);
    let alone: Vec<Vec<Hypothesis>> = markers
        .iter()
        .zip(&guides)
        .map(|(&m, g)| {
            let dec = FnDecoder::new(9, &f);
            guided_search_batch(&dec, vec![vec![m]], BOS, EOS, &p, std::slice::from_ref(g))
                .unwrap()
                .pop()
                .unwrap()
        })
        .collect();
    let dec = FnDecoder::new(9, &f);
    let init: Vec<Vec<u32>> = markers.iter().map(|&m| vec![m]).collect();
    let together = guided_search_batch(&dec, init, BOS, EOS, &p, &guides).unwrap();
    assert_eq!(together, alone);
    assert!(dec.steps() <= 7);
}
