//! Captions guided by the ImageNet head: name the object the head is sure of, never an
//! animal it rules out.
//!
//! The free beam search runs first, as always. Where the head is confident of an object
//! whose word the free caption lacks, or the caption names an animal the head gives almost no
//! chance to (Flickr8k's prior turns a chickadee into "a black and white dog"), a constrained
//! search (Anderson et al., 2017) looks for the most probable sentence that contains the
//! object's word and none of the ruled-out animals. Everything else keeps its free caption,
//! so Flickr8k's own photos take the same path as before.

use crate::decode::{self, BeamParams, Guide, Hypothesis, StepDecoder};
use crate::objects::{ObjectGroup, ObjectTable};
use crate::vocab::{self, Vocab};
use crate::Result;

/// When guidance steps in; chosen on Flickr8k dev and the ImageNet sample (see MODEL.md).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GuidePolicy {
    /// The top object group's summed probability from which its word is required.
    pub include_min: f32,
    /// Animal groups below this probability may not be named when the caption is redone.
    pub absent_max: f32,
    /// Off: plain beam search only.
    pub enabled: bool,
}

impl Default for GuidePolicy {
    fn default() -> Self {
        Self {
            include_min: 0.7,
            absent_max: 0.05,
            enabled: true,
        }
    }
}

impl GuidePolicy {
    /// Plain beam search, no guidance.
    pub fn off() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// The default policy, or plain search when `no_guide` (the CLI's `--no-guide`).
    pub fn unless(no_guide: bool) -> Self {
        if no_guide {
            Self::off()
        } else {
            Self::default()
        }
    }
}

/// Why a candidate was searched for.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Constraint {
    /// The object word the sentence had to contain, if any.
    pub include: Option<String>,
    /// Animal words it was not allowed to contain.
    pub exclude: Vec<String>,
}

/// One candidate: the sentence and the constraint it satisfied (`None` for the free search).
#[derive(Debug, Clone, PartialEq)]
pub struct GuidedHypothesis {
    /// The sentence.
    pub hypothesis: Hypothesis,
    /// The constraint it met, or `None` when it came from the free search.
    pub constraint: Option<Constraint>,
}

/// An image's candidates, best first, and the object evidence behind them.
#[derive(Debug, Clone, PartialEq)]
pub struct GuidedCaptions {
    /// Guided candidates (when guidance stepped in), then the free ones.
    pub candidates: Vec<GuidedHypothesis>,
    /// Object groups, most probable first.
    pub objects: Vec<ObjectGroup>,
}

/// Runs the free search for every image and the guided one where it is called for; both are
/// batched across images. `probs` holds each image's ImageNet probabilities.
pub fn search<D: StepDecoder>(
    dec: &D,
    init: D::State,
    probs: &[Vec<f32>],
    vocab: &Vocab,
    params: &BeamParams,
    policy: &GuidePolicy,
) -> Result<Vec<GuidedCaptions>>
where
    D::State: Clone,
{
    let images = probs.len();
    let table = ObjectTable::bundled();
    let free = decode::beam_search_batch(
        dec,
        init.clone(),
        images,
        vocab::START_ID,
        vocab::END_ID,
        params,
    )?;
    let objects: Vec<Vec<ObjectGroup>> = probs.iter().map(|p| table.evidence(p)).collect();
    let mut guides = Vec::with_capacity(images);
    let mut info = Vec::with_capacity(images);
    for (hyps, groups) in free.iter().zip(&objects) {
        let plan = if policy.enabled {
            plan(table, vocab, hyps.first(), groups, policy)
        } else {
            None
        };
        guides.push(plan.as_ref().map(|p| p.0.clone()).unwrap_or_default());
        info.push(plan.map(|p| p.1));
    }
    let needed: Vec<usize> = (0..images).filter(|&i| info[i].is_some()).collect();
    let mut guided: Vec<Vec<Hypothesis>> = vec![Vec::new(); images];
    if !needed.is_empty() {
        let rows: Vec<usize> = needed.clone();
        let state = dec.select(&init, &rows)?;
        let own: Vec<Guide> = needed.iter().map(|&i| guides[i].clone()).collect();
        let found =
            decode::guided_search_batch(dec, state, vocab::START_ID, vocab::END_ID, params, &own)?;
        for (&i, hyps) in needed.iter().zip(found) {
            guided[i] = hyps;
        }
    }
    Ok(free
        .into_iter()
        .zip(guided)
        .zip(info)
        .zip(objects)
        .map(|(((free, guided), info), objects)| {
            // As many candidates as asked for: the guided ones, then the free search's best
            // (so the unguided sentence stays visible), or only free ones without guidance.
            let n = params.n_best.max(1);
            let guided_kept = if guided.is_empty() {
                0
            } else {
                n.saturating_sub(1).max(1)
            };
            let mut candidates: Vec<GuidedHypothesis> = guided
                .into_iter()
                .take(guided_kept)
                .map(|h| GuidedHypothesis {
                    hypothesis: h,
                    constraint: info.clone(),
                })
                .collect();
            for h in free {
                if candidates.len() >= n {
                    break;
                }
                if candidates.iter().all(|c| c.hypothesis.tokens != h.tokens) {
                    candidates.push(GuidedHypothesis {
                        hypothesis: h,
                        constraint: None,
                    });
                }
            }
            GuidedCaptions {
                candidates,
                objects,
            }
        })
        .collect())
}

/// The guide for one image, or `None` when its free caption stands.
fn plan(
    table: &ObjectTable,
    vocab: &Vocab,
    best: Option<&Hypothesis>,
    groups: &[ObjectGroup],
    policy: &GuidePolicy,
) -> Option<(Guide, Constraint)> {
    let best = best?;
    let tokens_of = |group: &str| -> Vec<u32> {
        table
            .group_words(group)
            .iter()
            .map(|w| vocab.id(w))
            .filter(|&id| id != vocab::UNK_ID)
            .collect()
    };
    let mut guide = Guide::default();
    let mut constraint = Constraint::default();
    if let Some(top) = groups.first().filter(|g| g.prob >= policy.include_min) {
        // The group's words, and any word that names the top class at a useful level
        // ("cup" for an espresso), so the decoder may pick the one it can say best.
        let mut alternatives = tokens_of(&top.word);
        if let Some(class) = table.class(top.top_index) {
            for w in &class.words {
                let id = vocab.id(w);
                if id != vocab::UNK_ID && !alternatives.contains(&id) {
                    alternatives.push(id);
                }
            }
        }
        if !alternatives.is_empty() && !best.tokens.iter().any(|t| alternatives.contains(t)) {
            guide.include.push(alternatives);
            constraint.include = Some(top.word.clone());
        }
    }
    let mut contradicted = false;
    for g in groups
        .iter()
        .filter(|g| g.animal && g.prob < policy.absent_max)
    {
        let words = tokens_of(&g.word);
        if words.is_empty() {
            continue;
        }
        contradicted |= best.tokens.iter().any(|t| words.contains(t));
        guide.exclude.extend(&words);
        constraint.exclude.push(g.word.clone());
    }
    if guide.include.is_empty() && !contradicted {
        return None;
    }
    Some((guide, constraint))
}
