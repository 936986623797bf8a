//! seesay: tells a person what is in a picture, out loud.
//!
//! The library holds everything: the Show-and-Tell model, beam search, preprocessing,
//! datasets, training, metrics, image sources, speech, the background worker and the
//! window. The binary's CLI is a thin layer over it.

pub mod app;
pub mod blank;
pub mod captioner;
pub mod confidence;
pub mod data;
pub mod decode;
pub mod describer;
pub mod device;
pub mod error;
pub mod guided;
pub mod inspect;
pub mod jpeg;
pub mod kind;
pub mod metrics;
pub mod model;
pub mod objects;
pub mod ocr;
pub mod open;
pub mod png_rows;
pub mod preprocess;
pub mod regions;
pub mod remote;
pub mod saying;
pub mod sources;
pub mod speech;
pub mod train;
pub mod vocab;
pub mod worker;

pub use error::{Error, Result};
