//! Model directories on disk and the model bundled in the binary.
//!
//! A model directory holds `config.json`, `vocab.txt`, `encoder.safetensors` and
//! `decoder.safetensors`. The bundled model keeps its encoder in assets/encoder/ and
//! the rest in assets/model/, all embedded at compile time so the binary works anywhere.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::config::{ModelConfig, FORMAT_VERSION};
use crate::{Error, Result};

/// Config file name inside a model directory.
pub const CONFIG_FILE: &str = "config.json";
/// Vocabulary file name inside a model directory.
pub const VOCAB_FILE: &str = "vocab.txt";
/// Encoder weights file name inside a model directory.
pub const ENCODER_FILE: &str = "encoder.safetensors";
/// Decoder weights file name inside a model directory.
pub const DECODER_FILE: &str = "decoder.safetensors";
/// The training sentences' fingerprints (optional), for telling new captions from copied ones.
pub const SENTENCES_FILE: &str = "sentences.bin";

/// The ImageNet-pretrained encoder shipped with seesay (see assets/encoder/SOURCE.md).
pub const BUNDLED_ENCODER: &[u8] =
    include_bytes!("../../assets/encoder/efficientnet-lite0.safetensors");

#[cfg(bundled_decoder)]
const BUNDLED_DECODER: Option<(&str, &str, &[u8])> = Some((
    include_str!("../../assets/model/config.json"),
    include_str!("../../assets/model/vocab.txt"),
    include_bytes!("../../assets/model/decoder.safetensors"),
));
#[cfg(not(bundled_decoder))]
const BUNDLED_DECODER: Option<(&str, &str, &[u8])> = None;

#[cfg(bundled_sentences)]
const BUNDLED_SENTENCES: Option<&[u8]> = Some(include_bytes!("../../assets/model/sentences.bin"));
#[cfg(not(bundled_sentences))]
const BUNDLED_SENTENCES: Option<&[u8]> = None;

/// The raw contents of a model, wherever it came from.
pub struct ModelFiles {
    /// "bundled" or the directory, for messages.
    pub location: String,
    /// config.json, parsed (None when the bundled model has no trained decoder).
    pub config: Option<ModelConfig>,
    /// vocab.txt's text.
    pub vocab: Cow<'static, str>,
    /// encoder.safetensors' bytes.
    pub encoder: Cow<'static, [u8]>,
    /// decoder.safetensors' bytes, if there is a trained decoder.
    pub decoder: Option<Cow<'static, [u8]>>,
    /// sentences.bin's bytes, if the model lists its training sentences.
    pub sentences: Option<Cow<'static, [u8]>>,
}

impl ModelFiles {
    /// The model compiled into this binary.
    pub fn bundled() -> Result<Self> {
        let location = "bundled".to_owned();
        match BUNDLED_DECODER {
            Some((config, vocab, decoder)) => Ok(Self {
                config: Some(parse_config(config.as_bytes(), &location)?),
                location,
                vocab: Cow::Borrowed(vocab),
                encoder: Cow::Borrowed(BUNDLED_ENCODER),
                decoder: Some(Cow::Borrowed(decoder)),
                sentences: BUNDLED_SENTENCES.map(Cow::Borrowed),
            }),
            None => Ok(Self {
                location,
                config: None,
                vocab: Cow::Borrowed(""),
                encoder: Cow::Borrowed(BUNDLED_ENCODER),
                decoder: None,
                sentences: None,
            }),
        }
    }

    /// Reads a model directory.
    pub fn read_dir(dir: &Path) -> Result<Self> {
        let location = dir.display().to_string();
        if !dir.is_dir() {
            return Err(Error::Model {
                location,
                message: "not a directory; --model expects a folder made by `seesay train`".into(),
            });
        }
        let read = |name: &str| -> Result<Vec<u8>> {
            let path = dir.join(name);
            let limit = if name.ends_with(".safetensors") {
                crate::open::MODEL_LIMIT
            } else {
                crate::open::TEXT_LIMIT
            };
            crate::open::read_limited(&path, limit, "model files").map_err(|e| Error::Model {
                location: location.clone(),
                message: format!("cannot read {name}: {e}"),
            })
        };
        let config = parse_config(&read(CONFIG_FILE)?, &location)?;
        let vocab = String::from_utf8(read(VOCAB_FILE)?).map_err(|_| Error::Model {
            location: location.clone(),
            message: format!("{VOCAB_FILE} is not UTF-8 text"),
        })?;
        Ok(Self {
            config: Some(config),
            vocab: Cow::Owned(vocab),
            encoder: Cow::Owned(read(ENCODER_FILE)?),
            decoder: Some(Cow::Owned(read(DECODER_FILE)?)),
            // Optional: models trained before seesay wrote it, or elsewhere, have none.
            sentences: if dir.join(SENTENCES_FILE).exists() {
                Some(Cow::Owned(read(SENTENCES_FILE)?))
            } else {
                None
            },
            location,
        })
    }

    /// SHA-256 of the encoder weights, in hex: the key that invalidates cached features.
    pub fn encoder_sha256(&self) -> String {
        sha256_hex(&self.encoder)
    }
}

/// Hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn parse_config(bytes: &[u8], location: &str) -> Result<ModelConfig> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| Error::Model {
        location: location.to_owned(),
        message: format!("{CONFIG_FILE} is not valid JSON ({e})"),
    })?;
    let version = value.get("format_version").and_then(|v| v.as_u64());
    if version != Some(u64::from(FORMAT_VERSION)) {
        let found = match version {
            Some(v) => format!("has format_version {v}"),
            None => "has no format_version".to_owned(),
        };
        return Err(Error::Model {
            location: location.to_owned(),
            message: format!("{CONFIG_FILE} {found}; this seesay reads version {FORMAT_VERSION}"),
        });
    }
    serde_json::from_value(value).map_err(|e| Error::Model {
        location: location.to_owned(),
        message: format!("{CONFIG_FILE} is incomplete ({e})"),
    })
}

/// Writes a model directory: each file is written to a temporary name, then renamed, so a
/// reader never sees a half-written file. Other contents of `dir` (a training checkpoint) are kept.
pub fn write_dir(
    dir: &Path,
    config: &ModelConfig,
    vocab: &crate::vocab::Vocab,
    encoder: &[u8],
    decoder: &[u8],
    sentences: Option<&[u8]>,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let json = serde_json::to_vec_pretty(config).map_err(|e| Error::Json {
        context: "writing config.json".into(),
        source: e,
    })?;
    atomic_write(&dir.join(ENCODER_FILE), encoder)?;
    atomic_write(&dir.join(DECODER_FILE), decoder)?;
    atomic_write(&dir.join(VOCAB_FILE), vocab.to_text().as_bytes())?;
    let listed = dir.join(SENTENCES_FILE);
    match sentences {
        Some(bytes) => atomic_write(&listed, bytes)?,
        // A list left by an earlier model in this folder would describe other training data.
        None if listed.exists() => {
            std::fs::remove_file(&listed).map_err(|e| Error::io(&listed, e))?
        }
        None => {}
    }
    // The config last: a directory with a config has all its other files.
    atomic_write(&dir.join(CONFIG_FILE), &json)
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}
