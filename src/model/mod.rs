//! The Show-and-Tell model: a frozen EfficientNet-Lite0 encoder and an LSTM decoder.

pub mod attention;
mod blocked;
pub mod config;
mod cpu_storage;
pub mod decoder;
pub mod depthwise;
#[cfg(target_arch = "x86_64")]
mod depthwise_project;
pub mod efficientnet;
mod expand_depthwise;
pub mod files;
pub mod gemm_kernel;
pub mod pointwise;
pub mod sentences;
pub mod skinny;
pub mod stem;
mod team;
pub mod weights;

/// Whether this x86-64 CPU has AVX2 and FMA, which every eight-lane kernel here needs.
#[cfg(target_arch = "x86_64")]
pub(crate) fn has_avx2_fma() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

pub use config::{DecoderConfig, DecoderKind, EncoderConfig, ModelConfig};
pub use decoder::{Decoder, DecoderState, Replay};
pub use efficientnet::{EfficientNetLite0, EncoderOutput};
pub use files::ModelFiles;

use crate::vocab::Vocab;
use crate::{Error, Result};
use sentences::TrainingSentences;
use weights::Weights;

/// Loads the encoder from a model's files.
pub fn load_encoder(files: &ModelFiles, device: &Device) -> Result<EfficientNetLite0> {
    let arch = files
        .config
        .as_ref()
        .map_or("efficientnet-lite0", |c| c.encoder.arch.as_str());
    if arch != "efficientnet-lite0" {
        return Err(Error::Model {
            location: files.location.clone(),
            message: format!("unknown encoder {arch:?}; this seesay knows efficientnet-lite0"),
        });
    }
    if let Some(config) = &files.config {
        check_normalization(&config.encoder.normalization, &files.location)?;
    }
    let location = format!("{} ({})", files.location, files::ENCODER_FILE);
    EfficientNetLite0::load(&Weights::from_bytes(&files.encoder, &location, device)?)
}

/// Refuses a normalisation that would divide by zero or make NaNs of every picture.
fn check_normalization(n: &crate::preprocess::Normalization, location: &str) -> Result<()> {
    let bad_std = n.std.iter().any(|s| !(s.is_finite() && *s > 0.0));
    let bad_mean = n.mean.iter().any(|m| !m.is_finite());
    if bad_std || bad_mean {
        return Err(Error::Model {
            location: location.to_owned(),
            message: format!(
                "config.json's encoder normalisation is unusable (mean {}, std {}): every std \
                 must be a positive number and every mean a number",
                words(&n.mean),
                words(&n.std)
            ),
        });
    }
    Ok(())
}

fn words(values: &[f32]) -> String {
    let v: Vec<String> = values.iter().map(f32::to_string).collect();
    v.join(", ")
}

/// Loads a model's config, vocabulary and decoder (not its encoder), checking every shape
/// and the vocabulary size.
pub fn load_decoder(files: &ModelFiles, device: &Device) -> Result<(ModelConfig, Vocab, Decoder)> {
    let (config, decoder_bytes) = match (&files.config, &files.decoder) {
        (Some(c), Some(d)) => (c.clone(), d),
        _ => {
            return Err(Error::Model {
                location: files.location.clone(),
                message: "no trained decoder is bundled in this build yet: train one with \
                          `seesay train --data DIR --out MODEL_DIR` and pass --model MODEL_DIR"
                    .into(),
            })
        }
    };
    let vocab = Vocab::parse(&files.vocab).map_err(|message| Error::Model {
        location: files.location.clone(),
        message: format!("{}: {message}", files::VOCAB_FILE),
    })?;
    if vocab.len() != config.decoder.vocab_size {
        return Err(Error::Model {
            location: files.location.clone(),
            message: format!(
                "{} has {} words but config.json says vocab_size {}",
                files::VOCAB_FILE,
                vocab.len(),
                config.decoder.vocab_size
            ),
        });
    }
    let location = format!("{} ({})", files.location, files::DECODER_FILE);
    let weights = Weights::from_bytes(decoder_bytes, &location, device)?;
    check_decoder_shapes(&weights, &config.decoder)?;
    let vb = VarBuilder::from_tensors(weights.into_map(), DType::F32, device);
    let mut decoder = Decoder::new(config.decoder, vb).map_err(|e| Error::Model {
        location,
        message: e.to_string(),
    })?;
    decoder.keep_half_weights()?;
    Ok((config, vocab, decoder))
}

/// A complete captioning model on one device.
pub struct Model {
    /// The configuration it was built from.
    pub config: ModelConfig,
    /// Its vocabulary.
    pub vocab: Vocab,
    /// The image encoder.
    pub encoder: EfficientNetLite0,
    /// The caption decoder.
    pub decoder: Decoder,
    /// Where its tensors live.
    pub device: Device,
    /// The sentences it was trained on, as fingerprints, when its files list them.
    pub sentences: Option<TrainingSentences>,
}

impl Model {
    /// Builds the model from its files, checking every shape and the vocabulary size.
    pub fn load(files: &ModelFiles, device: &Device) -> Result<Self> {
        let (config, vocab, decoder) = load_decoder(files, device)?;
        let encoder = load_encoder(files, device)?;
        let sentences = match &files.sentences {
            Some(bytes) => {
                Some(
                    TrainingSentences::from_bytes(bytes).map_err(|message| Error::Model {
                        location: files.location.clone(),
                        message: format!("{}: {message}", files::SENTENCES_FILE),
                    })?,
                )
            }
            None => None,
        };
        Ok(Self {
            config,
            vocab,
            encoder,
            decoder,
            device: device.clone(),
            sentences,
        })
    }

    /// Encodes a normalised image batch: (N, 3, 224, 224) -> pooled features, and the grid
    /// when the decoder attends over it.
    pub fn encode(&self, pixels: &Tensor) -> Result<EncoderOutput> {
        if self.decoder.attends() {
            self.encoder.forward_grid(pixels)
        } else {
            self.encoder.forward(pixels)
        }
    }
}

/// Every decoder tensor with the shape the config implies, so errors name the culprit.
pub fn decoder_shapes(cfg: &DecoderConfig) -> Vec<(&'static str, Vec<usize>)> {
    let (f, e, h, v) = (
        cfg.feature_dim,
        cfg.embed_dim,
        cfg.hidden_dim,
        cfg.vocab_size,
    );
    let mut shapes = vec![
        ("embed.weight", vec![v, e]),
        ("lstm.weight_ih_l0", vec![4 * h, e]),
        ("lstm.weight_hh_l0", vec![4 * h, h]),
        ("lstm.bias_ih_l0", vec![4 * h]),
        ("lstm.bias_hh_l0", vec![4 * h]),
        ("out.weight", vec![v, h]),
        ("out.bias", vec![v]),
    ];
    if cfg.attends() {
        shapes.extend(attention::Attend::shapes(cfg));
        return shapes;
    }
    shapes.push(("img_proj.weight", vec![e, f]));
    shapes.push(("img_proj.bias", vec![e]));
    if cfg.merge_image {
        shapes.push(("img_out.weight", vec![h, f]));
        shapes.push(("img_out.bias", vec![h]));
    }
    shapes
}

fn check_decoder_shapes(weights: &Weights, cfg: &DecoderConfig) -> Result<()> {
    for (name, shape) in decoder_shapes(cfg) {
        weights.get(name, &shape)?;
    }
    Ok(())
}

/// Writes a model directory whose decoder is freshly initialised (untrained).
///
/// Its captions are random words; it exists so tests and tools have a small, real model
/// file to load without training one. `words` become the vocabulary after the specials.
pub fn write_untrained(
    dir: &std::path::Path,
    words: &[&str],
    hidden: usize,
    name: &str,
) -> Result<()> {
    write_untrained_kind(dir, words, hidden, name, DecoderKind::Nic)
}

/// [`write_untrained`] with a decoder of the given kind (an attention decoder's attention is
/// `hidden` wide too).
pub fn write_untrained_kind(
    dir: &std::path::Path,
    words: &[&str],
    hidden: usize,
    name: &str,
    kind: DecoderKind,
) -> Result<()> {
    let vocab = Vocab::build(words.iter().copied(), 1);
    let base = match kind {
        DecoderKind::Nic => DecoderConfig::nic(vocab.len()),
        DecoderKind::Attention => DecoderConfig {
            attention_dim: hidden,
            ..DecoderConfig::attention(vocab.len())
        },
    };
    let decoder = DecoderConfig {
        embed_dim: hidden,
        hidden_dim: hidden,
        ..base
    };
    let varmap = candle_nn::VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    Decoder::new(decoder, vb)?;
    let tensors = varmap
        .data()
        .lock()
        .map_err(|_| Error::Other("variable map lock poisoned".into()))?
        .iter()
        .map(|(k, v)| (k.clone(), v.as_tensor().clone()))
        .collect();
    let config = ModelConfig {
        format_version: config::FORMAT_VERSION,
        name: name.to_owned(),
        encoder: EncoderConfig::lite0(),
        decoder,
    };
    let bytes = weights::to_bytes(tensors)?;
    files::write_dir(dir, &config, &vocab, files::BUNDLED_ENCODER, &bytes, None)
}
