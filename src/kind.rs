//! What a picture is: a photo, a screen, a document or a chart.
//!
//! A softmax regression on the encoder's pooled feature (the 1,280 numbers the caption model
//! already computes), trained by `seesay kind-train` on Flickr8k train photos and on the
//! screens, documents and charts that `tools/screens/` renders (weights in `assets/kind.json`).
//! A photo caption is spoken only for what this calls a photo.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The bundled weights.
const BUNDLED: &str = include_str!("../assets/kind.json");

/// The kinds of picture, in the model's output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PictureKind {
    /// A photograph of the world.
    Photo,
    /// A screenshot: a window, web page, dialog, terminal or code.
    Screen,
    /// A page of text: a letter, a scan, a PDF page.
    Document,
    /// A chart or plot.
    Chart,
}

impl PictureKind {
    /// Every kind, in the model's output order.
    pub const ALL: [PictureKind; 4] = [
        PictureKind::Photo,
        PictureKind::Screen,
        PictureKind::Document,
        PictureKind::Chart,
    ];

    /// The kind's name as the CLI and JSON write it.
    pub fn name(self) -> &'static str {
        match self {
            PictureKind::Photo => "photo",
            PictureKind::Screen => "screen",
            PictureKind::Document => "document",
            PictureKind::Chart => "chart",
        }
    }

    /// Parses a kind's name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl std::fmt::Display for PictureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A fitted softmax regression over standardised pooled features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindModel {
    /// Where the weights came from.
    pub source: String,
    /// Per-feature mean.
    pub mean: Vec<f32>,
    /// Per-feature scale.
    pub scale: Vec<f32>,
    /// One weight row per kind, in [`PictureKind::ALL`] order.
    pub weights: Vec<Vec<f32>>,
    /// One bias per kind.
    pub bias: Vec<f32>,
    /// A picture is a photo unless its photo probability falls below this; chosen on dev
    /// data so that real photos are almost never read as screens.
    pub photo_min: f32,
}

/// The kind of one picture and the probability of each kind.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KindGuess {
    /// The most probable kind.
    pub kind: PictureKind,
    /// Probabilities in [`PictureKind::ALL`] order.
    pub probs: [f32; 4],
}

impl KindModel {
    /// The weights compiled into the binary, if sound.
    pub fn bundled() -> Option<&'static KindModel> {
        static MODEL: OnceLock<Option<KindModel>> = OnceLock::new();
        MODEL
            .get_or_init(|| KindModel::parse(BUNDLED).ok())
            .as_ref()
    }

    /// Reads and checks a weights file's text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let m: KindModel = serde_json::from_str(text).map_err(|e| e.to_string())?;
        m.check()?;
        Ok(m)
    }

    fn check(&self) -> Result<(), String> {
        let d = self.mean.len();
        if d == 0
            || !(0.0..=1.0).contains(&self.photo_min)
            || self.scale.len() != d
            || self.weights.len() != PictureKind::ALL.len()
            || self.bias.len() != PictureKind::ALL.len()
            || self.weights.iter().any(|w| w.len() != d)
        {
            return Err("the kind model's shapes do not match".into());
        }
        let all = self.mean.iter().chain(&self.scale).chain(&self.bias);
        if !all
            .chain(self.weights.iter().flatten())
            .all(|x| x.is_finite())
        {
            return Err("the kind model has a non-finite weight".into());
        }
        Ok(())
    }

    /// Width of the feature it reads.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// Classifies one pooled feature (its length must be [`KindModel::dim`]).
    pub fn classify(&self, feature: &[f32]) -> KindGuess {
        let z: Vec<f32> = feature
            .iter()
            .zip(&self.mean)
            .zip(&self.scale)
            .map(|((x, m), s)| if s.abs() > 1e-12 { (x - m) / s } else { 0.0 })
            .collect();
        let logits: Vec<f32> = self
            .weights
            .iter()
            .zip(&self.bias)
            .map(|(w, b)| w.iter().zip(&z).map(|(a, x)| a * x).sum::<f32>() + b)
            .collect();
        let p = crate::objects::softmax(&logits);
        let mut probs = [0.0f32; 4];
        for (slot, v) in probs.iter_mut().zip(p) {
            *slot = v;
        }
        // Calling a photo a screen hides the photo from a blind user, so a photo stays a
        // photo unless the model is quite sure it is not; then the likeliest other kind wins.
        let best = if probs[0] >= self.photo_min {
            0
        } else {
            probs
                .iter()
                .enumerate()
                .skip(1)
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(i, _)| i)
        };
        KindGuess {
            kind: PictureKind::ALL[best],
            probs,
        }
    }

    /// Fits the regression by full-batch gradient descent with L2 (`labels` index
    /// [`PictureKind::ALL`]); each class is weighted by the inverse of its frequency so a few
    /// hundred screens count as much as thousands of photos.
    pub fn fit(features: &[Vec<f32>], labels: &[usize], l2: f32, epochs: usize) -> Self {
        let n = features.len().max(1);
        let d = features.first().map_or(0, Vec::len);
        let k = PictureKind::ALL.len();
        let mut mean = vec![0.0f32; d];
        for f in features {
            for (m, x) in mean.iter_mut().zip(f) {
                *m += x / n as f32;
            }
        }
        let mut scale = vec![0.0f32; d];
        for f in features {
            for ((s, x), m) in scale.iter_mut().zip(f).zip(&mean) {
                *s += (x - m) * (x - m) / n as f32;
            }
        }
        for s in &mut scale {
            *s = if *s > 1e-12 { s.sqrt() } else { 1.0 };
        }
        let z: Vec<Vec<f32>> = features
            .iter()
            .map(|f| {
                f.iter()
                    .zip(&mean)
                    .zip(&scale)
                    .map(|((x, m), s)| (x - m) / s)
                    .collect()
            })
            .collect();
        let mut counts = vec![0usize; k];
        for &l in labels {
            if let Some(c) = counts.get_mut(l) {
                *c += 1;
            }
        }
        let present = counts.iter().filter(|&&c| c > 0).count().max(1);
        let class_weight: Vec<f32> = counts
            .iter()
            .map(|&c| {
                if c == 0 {
                    0.0
                } else {
                    n as f32 / (present as f32 * c as f32)
                }
            })
            .collect();
        let mut w = vec![vec![0.0f32; d]; k];
        let mut b = vec![0.0f32; k];
        let lr = 0.5f32;
        for _ in 0..epochs {
            let mut gw = vec![vec![0.0f32; d]; k];
            let mut gb = vec![0.0f32; k];
            for (x, &y) in z.iter().zip(labels) {
                let logits: Vec<f32> = w
                    .iter()
                    .zip(&b)
                    .map(|(wr, bb)| wr.iter().zip(x).map(|(a, v)| a * v).sum::<f32>() + bb)
                    .collect();
                let p = crate::objects::softmax(&logits);
                let cw = class_weight.get(y).copied().unwrap_or(0.0);
                for c in 0..k {
                    let g = cw * (p[c] - f32::from(u8::from(c == y))) / n as f32;
                    gb[c] += g;
                    for (gwv, v) in gw[c].iter_mut().zip(x) {
                        *gwv += g * v;
                    }
                }
            }
            for c in 0..k {
                b[c] -= lr * gb[c];
                for (wv, g) in w[c].iter_mut().zip(&gw[c]) {
                    *wv -= lr * (g + l2 * *wv);
                }
            }
        }
        KindModel {
            source: String::new(),
            mean,
            scale,
            weights: w,
            bias: b,
            photo_min: 0.5,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_separates_separable_kinds() {
        // Two-dimensional features: each kind sits in its own corner.
        let centres = [[3.0, 0.0], [0.0, 3.0], [-3.0, 0.0], [0.0, -3.0]];
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for i in 0..200 {
            let c = i % 4;
            let jitter = ((i * 37 % 11) as f32 - 5.0) * 0.1;
            xs.push(vec![centres[c][0] + jitter, centres[c][1] - jitter]);
            ys.push(c);
        }
        let mut m = KindModel::fit(&xs, &ys, 1e-4, 200);
        assert!(m.check().is_ok());
        for (x, &y) in xs.iter().zip(&ys) {
            assert_eq!(m.classify(x).kind, PictureKind::ALL[y]);
        }
        // With no threshold at all, everything is a photo.
        m.photo_min = 0.0;
        assert!(xs.iter().all(|x| m.classify(x).kind == PictureKind::Photo));
    }

    #[test]
    fn the_bundled_model_loads_and_reads_the_encoder_feature() {
        let m = KindModel::bundled().expect("assets/kind.json must load");
        assert_eq!(m.dim(), crate::model::efficientnet::FEATURE_DIM);
        assert!(KindModel::parse("{}").is_err());
    }
}
