//! The library's error type: every failure a caller can meet, each with a message that says what to do.

use std::path::PathBuf;

/// Everything that can go wrong inside seesay's library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A tensor operation failed inside candle.
    #[error("model computation failed: {0}")]
    Candle(#[from] candle_core::Error),

    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },

    /// An image could not be decoded.
    #[error("{0}")]
    Image(String),

    /// A model directory is missing a file, or a file does not match the config.
    #[error("model {location}: {message}")]
    Model {
        /// Where the model came from (a directory, or "bundled").
        location: String,
        /// Exactly what is wrong.
        message: String,
    },

    /// A dataset could not be read.
    #[error("dataset {path}: {message}")]
    Dataset {
        /// The file or folder involved.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },

    /// The requested device cannot be used.
    #[error("{0}")]
    Device(String),

    /// JSON could not be parsed or written.
    #[error("{context}: {source}")]
    Json {
        /// What was being read.
        context: String,
        /// The parser's message.
        source: serde_json::Error,
    },

    /// Anything else, described in words.
    #[error("{0}")]
    Other(String),
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
