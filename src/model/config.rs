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

/// Which decoder reads the image.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecoderKind {
    /// Show and Tell: the pooled feature is the LSTM's first input.
    #[default]
    Nic,
    /// Show, Attend and Tell (soft attention): each step reads a weighted sum of the 7×7
    /// grid's cells.
    Attention,
}

impl DecoderKind {
    fn is_nic(&self) -> bool {
        *self == DecoderKind::Nic
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The LSTM decoder: Show and Tell's, or Show, Attend and Tell's (see [`DecoderKind`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DecoderConfig {
    /// Which decoder this is (absent in older files: "nic"; written only for attention).
    #[serde(
        default,
        rename = "decoder",
        skip_serializing_if = "DecoderKind::is_nic"
    )]
    pub kind: DecoderKind,
    /// Width of the attention's hidden layer (attention decoders only; 0 for NIC).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attention_dim: usize,
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
            kind: DecoderKind::Nic,
            attention_dim: 0,
            vocab_size,
            feature_dim: crate::model::efficientnet::FEATURE_DIM,
            embed_dim: 512,
            hidden_dim: 512,
            dropout: 0.3,
            merge_image: false,
        }
    }

    /// Show, Attend and Tell's decoder with the paper's sizes (512 units, attention 512) for a
    /// vocabulary of `vocab_size` words.
    pub fn attention(vocab_size: usize) -> Self {
        Self {
            kind: DecoderKind::Attention,
            attention_dim: 512,
            ..Self::nic(vocab_size)
        }
    }

    /// Whether the decoder attends over the encoder's grid (and so needs it, not the pooled
    /// feature).
    pub fn attends(&self) -> bool {
        self.kind == DecoderKind::Attention
    }
}
