//! The model's configuration, stored as config.json beside the weights.

use serde::{Deserialize, Serialize};

use crate::preprocess::Normalization;

/// Version of the model-directory layout this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// Everything needed to rebuild the model from its weight files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Layout version; see [`FORMAT_VERSION`].
    pub format_version: u32,
    /// A short name shown to the user.
    pub name: String,
    /// The image encoder.
    pub encoder: EncoderConfig,
    /// The caption decoder.
    pub decoder: DecoderConfig,
}

/// The frozen CNN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderConfig {
    /// Architecture; only "efficientnet-lite0" is known.
    pub arch: String,
    /// How pixels are normalised before the CNN.
    pub normalization: Normalization,
}

/// Show-and-Tell's LSTM decoder.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DecoderConfig {
    /// Words in the vocabulary, special tokens included.
    pub vocab_size: usize,
    /// Width of the image feature.
    pub feature_dim: usize,
    /// Width of word embeddings and of the projected image.
    pub embed_dim: usize,
    /// LSTM units.
    pub hidden_dim: usize,
    /// Dropout on the image projection, the word embeddings and the LSTM output, in training only.
    pub dropout: f32,
    /// Also add the projected image to every LSTM output (absent in older files: false).
    #[serde(default)]
    pub merge_image: bool,
}

impl EncoderConfig {
    /// EfficientNet-Lite0 with the normalisation its TensorFlow weights were trained with.
    pub fn lite0() -> Self {
        Self {
            arch: "efficientnet-lite0".into(),
            // (x - 127) / 128 in [0, 255] units, written as (x/255 - mean) / std.
            normalization: Normalization {
                mean: [127.0 / 255.0; 3],
                std: [128.0 / 255.0; 3],
            },
        }
    }
}

impl DecoderConfig {
    /// The paper's sizes (512 units) for a vocabulary of `vocab_size` words.
    pub fn nic(vocab_size: usize) -> Self {
        Self {
            vocab_size,
            feature_dim: crate::model::efficientnet::FEATURE_DIM,
            embed_dim: 512,
            hidden_dim: 512,
            dropout: 0.3,
            merge_image: false,
        }
    }
}
