//! How sure seesay is that what it says is right: signals the model already has, mapped to a
//! probability by a logistic regression fitted on labelled data (`tools/fit_confidence.py`).
//!
//! The labels behind the bundled fit are defensible ones: on Flickr8k dev, whether the
//! caption scores well against its five human captions (per-image CIDEr-D); on the ImageNet
//! sample, whether the description names the photo's object. `assets/MODEL.md` reports how
//! well it ranks right above wrong and its reliability table.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::guided::GuidedCaptions;
use crate::objects::ObjectTable;

/// The bundled calibration.
const BUNDLED: &str = include_str!("../assets/confidence.json");

/// Words that carry no content when comparing candidates.
const STOP_WORDS: &[&str] = &[
    "a", "an", "the", "is", "are", "in", "on", "of", "and", "with", "at", "to", "its", "his",
    "her", "their", "while", "for", "by", "from", "into", "up", "down", ".",
];

/// What the model knows about its own description of one picture.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Signals {
    /// Mean log-probability per word of the chosen caption (end token included).
    pub mean_log_prob: f32,
    /// Its least probable word's probability.
    pub min_word_prob: f32,
    /// Its probability's share of all candidates' probability.
    pub share: f32,
    /// How much the other candidates agree with it: mean overlap of content words (0..1).
    pub agreement: f32,
    /// The top object group's summed probability.
    pub object_prob: f32,
    /// The top class's own probability.
    pub class_prob: f32,
    /// 1 when the caption names the top object group, else 0.
    pub names_object: f32,
    /// 1 when the caption came from a guided search, else 0.
    pub guided: f32,
}

impl Signals {
    /// Reads the signals off an image's candidates and object evidence.
    pub fn of(captions: &GuidedCaptions, words_of: impl Fn(u32) -> String) -> Self {
        let Some(best) = captions.candidates.first() else {
            return Self::default();
        };
        let h = &best.hypothesis;
        let count = h.tokens.len() + usize::from(h.end_log_prob.is_some());
        let mean_log_prob = if count > 0 {
            h.log_prob / count as f32
        } else {
            h.log_prob
        };
        let min_word_prob = h
            .token_log_probs
            .iter()
            .map(|lp| lp.exp())
            .fold(1.0f32, f32::min);
        let total: f32 = captions
            .candidates
            .iter()
            .map(|c| c.hypothesis.log_prob.exp())
            .sum();
        let share = if total > 0.0 {
            h.log_prob.exp() / total
        } else {
            0.0
        };
        let content = |tokens: &[u32]| -> Vec<String> {
            tokens
                .iter()
                .map(|&t| words_of(t))
                .filter(|w| !STOP_WORDS.contains(&w.as_str()))
                .collect()
        };
        let mine = content(&h.tokens);
        let others: Vec<f32> = captions
            .candidates
            .iter()
            .skip(1)
            .map(|c| overlap(&mine, &content(&c.hypothesis.tokens)))
            .collect();
        let agreement = if others.is_empty() {
            1.0
        } else {
            others.iter().sum::<f32>() / others.len() as f32
        };
        let top = captions.objects.first();
        let table = ObjectTable::bundled();
        let names_object = top.is_some_and(|g| {
            let words = table.group_words(&g.word);
            h.tokens.iter().any(|&t| words.contains(&words_of(t)))
        });
        Self {
            mean_log_prob: finite(mean_log_prob, -20.0),
            min_word_prob: finite(min_word_prob, 0.0),
            share: finite(share, 0.0),
            agreement,
            object_prob: top.map_or(0.0, |g| g.prob),
            class_prob: top.map_or(0.0, |g| g.top_class_prob.max(0.0)),
            names_object: f32::from(u8::from(names_object)),
            guided: f32::from(u8::from(best.constraint.is_some())),
        }
    }

    /// The signals in the calibration's feature order.
    fn vector(&self) -> [f32; 8] {
        [
            self.mean_log_prob,
            self.min_word_prob,
            self.share,
            self.agreement,
            self.object_prob,
            self.class_prob,
            self.names_object,
            self.guided,
        ]
    }

    /// The names of [`Signals::vector`]'s entries, as the calibration file lists them.
    pub const NAMES: [&'static str; 8] = [
        "mean_log_prob",
        "min_word_prob",
        "share",
        "agreement",
        "object_prob",
        "class_prob",
        "names_object",
        "guided",
    ];
}

fn finite(x: f32, or: f32) -> f32 {
    if x.is_finite() {
        x
    } else {
        or
    }
}

/// Jaccard overlap of two word lists (1 when both are empty).
fn overlap(a: &[String], b: &[String]) -> f32 {
    let inter = a.iter().filter(|w| b.contains(w)).count();
    let union = a.len() + b.iter().filter(|w| !a.contains(w)).count();
    if union == 0 {
        1.0
    } else {
        inter as f32 / union as f32
    }
}

/// How a description is worded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Certainty {
    /// Said plainly.
    Sure,
    /// "Probably …".
    Probably,
    /// "I'm not sure. It may be …".
    Unsure,
}

/// A fitted logistic regression from [`Signals`] to the chance the description is right.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Calibration {
    /// Feature names, in [`Signals::NAMES`] order.
    pub features: Vec<String>,
    /// Per-feature mean subtracted before weighting.
    pub mean: Vec<f32>,
    /// Per-feature scale divided by before weighting.
    pub scale: Vec<f32>,
    /// Weights of the standardised features.
    pub weights: Vec<f32>,
    /// The intercept.
    pub bias: f32,
    /// From this probability on, a description is said plainly.
    pub sure_min: f32,
    /// Below this probability, a description is said with "I'm not sure".
    pub unsure_below: f32,
}

impl Calibration {
    /// The calibration shipped with seesay, if its file is sound.
    pub fn bundled() -> Option<&'static Calibration> {
        static CAL: OnceLock<Option<Calibration>> = OnceLock::new();
        CAL.get_or_init(|| Calibration::parse(BUNDLED).ok())
            .as_ref()
    }

    /// Reads and checks a calibration file's text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let c: Calibration = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let n = Signals::NAMES.len();
        if c.features != Signals::NAMES
            || c.mean.len() != n
            || c.scale.len() != n
            || c.weights.len() != n
        {
            return Err(format!(
                "the calibration must list the features {:?}",
                Signals::NAMES
            ));
        }
        let all = c.mean.iter().chain(&c.scale).chain(&c.weights);
        if !all.chain([&c.bias]).all(|x| x.is_finite()) || c.scale.iter().any(|&s| s <= 0.0) {
            return Err("the calibration has a non-finite weight or a scale of zero".into());
        }
        Ok(c)
    }

    /// The chance, 0..1, that the description with these signals is right.
    pub fn probability(&self, s: &Signals) -> f32 {
        let z: f32 = s
            .vector()
            .iter()
            .zip(&self.mean)
            .zip(&self.scale)
            .zip(&self.weights)
            .map(|(((x, m), sc), w)| (x - m) / sc * w)
            .sum::<f32>()
            + self.bias;
        1.0 / (1.0 + (-z).exp())
    }

    /// The wording this probability calls for.
    pub fn certainty(&self, p: f32) -> Certainty {
        if p >= self.sure_min {
            Certainty::Sure
        } else if p >= self.unsure_below {
            Certainty::Probably
        } else {
            Certainty::Unsure
        }
    }
}

/// How sure seesay is of one description.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Confidence {
    /// The calibrated chance that the description is right.
    pub probability: f32,
    /// How it is worded.
    pub certainty: Certainty,
    /// What the probability was computed from.
    pub signals: Signals,
}

impl Confidence {
    /// The calibrated confidence of one image's description (hedged when no calibration loads).
    pub fn assess(signals: Signals) -> Self {
        match Calibration::bundled() {
            Some(cal) => {
                let probability = cal.probability(&signals);
                Self {
                    probability,
                    certainty: cal.certainty(probability),
                    signals,
                }
            }
            None => Self {
                probability: 0.0,
                certainty: Certainty::Unsure,
                signals,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_calibration_loads_and_ranks_better_signals_higher() {
        let cal = Calibration::bundled().expect("assets/confidence.json must load");
        assert!(cal.unsure_below <= cal.sure_min);
        let weak = Signals {
            mean_log_prob: -3.0,
            min_word_prob: 0.01,
            share: 0.2,
            agreement: 0.2,
            object_prob: 0.1,
            class_prob: 0.05,
            names_object: 0.0,
            guided: 0.0,
        };
        let strong = Signals {
            mean_log_prob: -0.5,
            min_word_prob: 0.4,
            share: 0.7,
            agreement: 0.9,
            object_prob: 0.95,
            class_prob: 0.9,
            names_object: 1.0,
            guided: 0.0,
        };
        assert!(cal.probability(&strong) > cal.probability(&weak));
    }

    #[test]
    fn a_broken_calibration_is_refused() {
        let good = BUNDLED;
        assert!(Calibration::parse(good).is_ok());
        let nan = good.replacen("\"bias\":", "\"bias\": NaN, \"x\":", 1);
        assert!(Calibration::parse(&nan).is_err());
        assert!(Calibration::parse("{}").is_err());
    }

    #[test]
    fn overlap_is_jaccard() {
        let w = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(overlap(&w("dog grass"), &w("dog grass")), 1.0);
        assert!((overlap(&w("dog grass"), &w("dog snow")) - 1.0 / 3.0).abs() < 1e-6);
        assert_eq!(overlap(&[], &[]), 1.0);
    }
}
