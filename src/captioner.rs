//! The one entry point that turns an image into captions: preprocessing, encoder, beam search.

use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::Device;
use image::{DynamicImage, RgbImage};

use crate::confidence::{Confidence, Signals};
use crate::decode::{BeamParams, Hypothesis};
use crate::guided::{self, Constraint, GuidePolicy, GuidedHypothesis};
use crate::inspect::Occlusion;
use crate::model::{Model, ModelFiles};
use crate::objects::{self, ObjectGroup};
use crate::{blank, preprocess, saying, vocab, Error, Result};

/// How many object groups a result reports.
const OBJECTS_REPORTED: usize = 5;

/// Where to load a model from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// The default model embedded in the binary.
    Bundled,
    /// A model directory (config.json, vocab.txt, *.safetensors).
    Dir(PathBuf),
}

impl ModelSource {
    /// Reads the model's files (from the binary or from the directory).
    pub fn files(&self) -> Result<ModelFiles> {
        match self {
            ModelSource::Bundled => ModelFiles::bundled(),
            ModelSource::Dir(dir) => ModelFiles::read_dir(dir),
        }
    }
}

/// How to search for captions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CaptionOptions {
    /// Beam width; 1 is greedy decoding.
    pub beam_size: usize,
    /// How many finished candidates to return (at most `beam_size`).
    pub candidates: usize,
    /// Longest caption, in words.
    pub max_len: usize,
    /// Rank candidates by mean log-probability per word instead of the total.
    pub length_norm: bool,
    /// When the ImageNet head's objects guide the search.
    pub guide: GuidePolicy,
}

impl CaptionOptions {
    /// The beam-search settings these options mean; the special tokens are never generated.
    pub fn beam_params(&self) -> BeamParams {
        BeamParams {
            beam_size: self.beam_size.max(1),
            n_best: self.candidates.clamp(1, self.beam_size.max(1)),
            max_len: self.max_len.max(1),
            length_norm: self.length_norm,
            banned: vec![vocab::PAD_ID, vocab::START_ID, vocab::UNK_ID],
        }
    }
}

impl Default for CaptionOptions {
    fn default() -> Self {
        Self {
            beam_size: 3,
            candidates: 3,
            max_len: 20,
            length_norm: false,
            guide: GuidePolicy::default(),
        }
    }
}

/// One word of a caption with the probability the model gave it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WordProb {
    /// The word.
    pub word: String,
    /// p(word | image, previous words).
    pub prob: f32,
}

/// One finished beam-search candidate.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CaptionCandidate {
    /// The caption as text.
    pub text: String,
    /// Each word with its probability.
    pub words: Vec<WordProb>,
    /// Probability of the end token after the last word.
    pub end_prob: f32,
    /// Total log-probability of the sentence, end token included.
    pub log_prob: f32,
    /// exp(log_prob).
    pub prob: f32,
    /// The constraint the guided search gave it; `None` for the free search.
    pub constraint: Option<Constraint>,
    /// How many of the model's training captions are this sentence word for word (0: a new
    /// sentence); `None` when the model does not list its training sentences.
    pub training_copies: Option<usize>,
    /// For a model with attention, where it looked for each word: one row of 49 weights per
    /// word (the 7×7 grid row-major, summing to 1); `None` for a model without attention.
    /// Printed by `caption --json --attention`, not in the candidate itself.
    #[serde(skip)]
    pub attention: Option<Vec<Vec<f32>>>,
}

/// Where the time went, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Timings {
    /// Image decoding and preprocessing.
    pub decode_ms: f64,
    /// The CNN forward pass.
    pub encode_ms: f64,
    /// Beam search.
    pub beam_ms: f64,
}

/// Captions of one image, best first.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Captioned {
    /// Candidates, best first; never empty.
    pub candidates: Vec<CaptionCandidate>,
    /// The most probable object groups of the ImageNet head, most probable first.
    pub objects: Vec<ObjectGroup>,
    /// How sure seesay is of the description.
    pub confidence: Confidence,
    /// The sentence to say: the best caption, the object, and how sure it is, in words.
    pub spoken: String,
    /// The encoder's pooled feature (what the picture-kind classifier reads).
    #[serde(skip)]
    pub feature: Vec<f32>,
    /// Timings of this call.
    pub timings: Timings,
    /// What is wrong with the picture's file (it ends early), also said first in `spoken`.
    pub warnings: Vec<String>,
}

impl Captioned {
    /// The best caption (always present for a successful call).
    pub fn best(&self) -> Option<&CaptionCandidate> {
        self.candidates.first()
    }

    /// Adds the warnings about the picture's file, each said before the description.
    pub fn warn(&mut self, warnings: &[preprocess::Warning]) {
        let spoken: String = warnings.iter().map(|w| w.spoken()).collect();
        self.spoken.insert_str(0, &spoken);
        self.warnings
            .extend(warnings.iter().map(|w| w.message().to_owned()));
    }
}

/// A loaded model ready to caption images.
pub struct Captioner {
    model: Model,
}

impl Captioner {
    /// Loads a model onto a device.
    pub fn load(source: &ModelSource, device: &Device) -> Result<Self> {
        Ok(Self {
            model: Model::load(&source.files()?, device)?,
        })
    }

    /// Wraps a model already in memory.
    pub fn from_model(model: Model) -> Self {
        Self { model }
    }

    /// The model underneath.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// A short name for the model (shown in the status bar).
    pub fn name(&self) -> &str {
        &self.model.config.name
    }

    /// The device the model runs on, as a short name ("CPU", "CUDA").
    pub fn device_name(&self) -> String {
        crate::device::name(&self.model.device)
    }

    /// Captions an already decoded image; a picture too small or of one colour is spoken as
    /// a plain statement of that (`blank::statement`), not as the model's caption.
    pub fn caption_image(&self, image: &DynamicImage, opts: &CaptionOptions) -> Result<Captioned> {
        let t0 = Instant::now();
        let prepared = preprocess::prepare(image);
        let statement = blank::statement(image);
        let prepare_ms = ms(t0.elapsed());
        let mut out = self.caption_prepared(&[prepared], opts)?;
        let mut captioned = out
            .pop()
            .ok_or_else(|| Error::Other("no caption produced".into()))?;
        captioned.timings.decode_ms += prepare_ms;
        if let Some(statement) = statement {
            captioned.spoken = statement;
        }
        Ok(captioned)
    }

    /// Reads, decodes and captions an image file; a file that ends early is captioned with
    /// a warning said first.
    pub fn caption_file(&self, path: &Path, opts: &CaptionOptions) -> Result<Captioned> {
        let t0 = Instant::now();
        let decoded = preprocess::load(path)?;
        let decode_ms = ms(t0.elapsed());
        let mut captioned = self.caption_image(&decoded.image, opts)?;
        captioned.timings.decode_ms += decode_ms;
        captioned.warn(&decoded.warnings);
        Ok(captioned)
    }

    /// Captions a batch of prepared 224x224 images with one encoder call.
    ///
    /// Timings are for the whole batch, split evenly across images.
    pub fn caption_prepared(
        &self,
        images: &[RgbImage],
        opts: &CaptionOptions,
    ) -> Result<Vec<Captioned>> {
        if images.is_empty() {
            return Ok(Vec::new());
        }
        let t0 = Instant::now();
        let m = &self.model;
        let pixels = preprocess::to_tensor(images, &m.config.encoder.normalization, &m.device)?;
        let tensor_ms = ms(t0.elapsed());
        let t1 = Instant::now();
        let encoded = m.encode(&pixels)?;
        let features = encoded.features.clone();
        let input = m.decoder.input(&encoded)?;
        let probs = class_probabilities(m, &features)?;
        let pooled = features
            .to_dtype(candle_core::DType::F32)?
            .to_vec2::<f32>()?;
        if pooled.iter().flatten().any(|v| !v.is_finite()) {
            return Err(broken_model(m, "the encoder"));
        }
        let state = m.decoder.image_state(&input)?;
        // Force the encoder to finish here so its time is not billed to the search.
        let _ = state.lstm.h.sum_all()?.to_scalar::<f32>()?;
        let encode_ms = ms(t1.elapsed());
        let t2 = Instant::now();
        let stepper = m.decoder.stepper(&m.device);
        let params = opts.beam_params();
        // All images' beams share each decoder step, in the free and in the guided search.
        let results = guided::search(&stepper, state, &probs, &m.vocab, &params, &opts.guide)?;
        let beam_ms = ms(t2.elapsed());
        let n = images.len() as f64;
        let timings = Timings {
            decode_ms: tensor_ms / n,
            encode_ms: encode_ms / n,
            beam_ms: beam_ms / n,
        };
        results
            .into_iter()
            .zip(pooled)
            .enumerate()
            .map(|(i, (g, feature))| {
                let signals = Signals::of(&g, |t| m.vocab.word(t).to_owned());
                let confidence = Confidence::assess(signals);
                let mut candidates: Vec<CaptionCandidate> =
                    g.candidates.iter().map(|h| self.candidate(h)).collect();
                if m.decoder.attends() {
                    // Replayed by teacher forcing: the weights the search saw for each word.
                    let grid = input.narrow(0, i, 1)?;
                    for (c, h) in candidates.iter_mut().zip(&g.candidates) {
                        c.attention = m.decoder.replay(&grid, &h.hypothesis.tokens)?.attention;
                    }
                }
                let Some(best) = candidates.first() else {
                    return Err(Error::Other("beam search returned no caption".into()));
                };
                let finite = |c: &CaptionCandidate| {
                    c.log_prob.is_finite() && c.words.iter().all(|w| w.prob.is_finite())
                };
                if !candidates.iter().all(finite) {
                    return Err(broken_model(m, "the decoder"));
                }
                let mut objects = g.objects;
                objects.truncate(OBJECTS_REPORTED);
                let spoken = saying::photo(&best.text, &objects, confidence.certainty);
                Ok(Captioned {
                    candidates,
                    objects,
                    confidence,
                    spoken,
                    feature,
                    timings,
                    warnings: Vec::new(),
                })
            })
            .collect()
    }

    /// Where the model looks for each word of `caption` in `image`: a model with attention
    /// says it itself, on its 7×7 grid ([`Captioner::attention`]); for any other, each cell of
    /// a `grid`×`grid` grid is greyed out in turn ([`Captioner::occlusion`]).
    pub fn where_it_looks(
        &self,
        image: &DynamicImage,
        caption: &str,
        grid: usize,
    ) -> Result<Occlusion> {
        if self.model.decoder.attends() {
            self.attention(image, caption)
        } else {
            self.occlusion(image, caption, grid)
        }
    }

    /// Where a model with attention looks for each word of `caption` in `image`: its own
    /// weights over the 7×7 grid, replayed by teacher forcing (one encoder pass).
    pub fn attention(&self, image: &DynamicImage, caption: &str) -> Result<Occlusion> {
        let m = &self.model;
        if !m.decoder.attends() {
            return Err(Error::Model {
                location: m.config.name.clone(),
                message: "this model has no attention (it is a Show-and-Tell decoder): find \
                          where it looks by occlusion instead (`seesay inspect where`, or \
                          `caption --json --where`)"
                    .into(),
            });
        }
        let tokens = self.caption_tokens(caption)?;
        if tokens.is_empty() {
            return Err(Error::Other(
                "there is no caption to look for: it has no words".into(),
            ));
        }
        let pixels = preprocess::to_tensor(
            &[preprocess::prepare(image)],
            &m.config.encoder.normalization,
            &m.device,
        )?;
        let input = m.decoder.input(&m.encode(&pixels)?)?;
        let replay = m.decoder.replay(&input, &tokens)?;
        let maps = replay
            .attention
            .ok_or_else(|| Error::Other("the decoder gave no attention weights".into()))?;
        crate::inspect::occlusion::from_attention(&m.vocab, &tokens, &replay.log_probs, &maps)
    }

    /// The words of `caption` as the model's tokens; a word it does not know is an error.
    fn caption_tokens(&self, caption: &str) -> Result<Vec<u32>> {
        let vocab = &self.model.vocab;
        vocab::words(caption)
            .iter()
            .map(|w| match vocab.id(w) {
                vocab::UNK_ID => Err(Error::Other(format!(
                    "{w:?} is not a word of the model's vocabulary, so the model cannot be asked \
                     where it looks for it"
                ))),
                id => Ok(id),
            })
            .collect::<Result<Vec<u32>>>()
    }

    /// Where the model looks for each word of `caption` in `image`, by occlusion: each cell
    /// of a `grid`×`grid` grid is greyed out in turn and the words re-scored (see
    /// [`crate::inspect::occlusion`]). Slow: `grid² + 1` encoder passes, so not on a UI thread.
    pub fn occlusion(&self, image: &DynamicImage, caption: &str, grid: usize) -> Result<Occlusion> {
        let tokens = self.caption_tokens(caption)?;
        crate::inspect::occlude(&self.model, &preprocess::prepare(image), &tokens, grid)
    }

    fn candidate(&self, g: &GuidedHypothesis) -> CaptionCandidate {
        let h: &Hypothesis = &g.hypothesis;
        let vocab = &self.model.vocab;
        let words: Vec<WordProb> = h
            .tokens
            .iter()
            .zip(&h.token_log_probs)
            .map(|(&t, &lp)| WordProb {
                word: vocab.word(t).to_owned(),
                prob: lp.exp(),
            })
            .collect();
        let text = words
            .iter()
            .map(|w| w.word.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        CaptionCandidate {
            words,
            end_prob: h.end_log_prob.map_or(0.0, f32::exp),
            log_prob: h.log_prob,
            prob: h.log_prob.exp(),
            constraint: g.constraint.clone(),
            training_copies: self.model.sentences.as_ref().map(|s| s.count(&text)),
            attention: None,
            text,
        }
    }
}

/// The ImageNet head's class probabilities for each row of pooled features.
pub fn class_probabilities(model: &Model, features: &candle_core::Tensor) -> Result<Vec<Vec<f32>>> {
    let logits = model
        .encoder
        .classify(features)?
        .to_dtype(candle_core::DType::F32)?;
    Ok(logits
        .to_vec2::<f32>()?
        .iter()
        .map(|row| objects::softmax(row))
        .collect())
}

/// A forward pass gave NaN or infinity: say so rather than speak an empty caption.
fn broken_model(m: &Model, part: &str) -> Error {
    Error::Model {
        location: m.config.name.clone(),
        message: format!(
            "{part} computed numbers that are not numbers (NaN or infinity) for this picture, \
             so there is no caption to give; the model is damaged: use the bundled model or \
             train it again"
        ),
    }
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
