//! Named tensors read from safetensors, with shape checks that say exactly what is wrong.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};

use crate::{Error, Result};

/// A checkpoint's tensors, by key, with the place they came from for error messages.
pub struct Weights {
    tensors: HashMap<String, Tensor>,
    location: String,
}

impl Weights {
    /// Parses safetensors bytes onto `device`, converting every tensor to f32, and refuses a
    /// file holding a NaN or an infinity (a model with one speaks empty captions).
    pub fn from_bytes(bytes: &[u8], location: &str, device: &Device) -> Result<Self> {
        let raw =
            candle_core::safetensors::load_buffer(bytes, device).map_err(|e| Error::Model {
                location: location.to_owned(),
                message: format!("not a readable safetensors file ({e})"),
            })?;
        let mut tensors = HashMap::with_capacity(raw.len());
        for (name, t) in raw {
            let t = if t.dtype() == DType::F32 {
                t
            } else {
                t.to_dtype(DType::F32)?
            };
            let bad = non_finite(&t)?;
            if bad > 0 {
                return Err(Error::Model {
                    location: location.to_owned(),
                    message: format!(
                        "tensor `{name}` holds {bad} value{} that {} not a number (NaN or \
                         infinity): the file is damaged or was written by a training run that \
                         diverged",
                        if bad == 1 { "" } else { "s" },
                        if bad == 1 { "is" } else { "are" },
                    ),
                });
            }
            tensors.insert(name, t);
        }
        Ok(Self {
            tensors,
            location: location.to_owned(),
        })
    }

    /// Wraps tensors already in memory.
    pub fn from_map(tensors: HashMap<String, Tensor>, location: &str) -> Self {
        Self {
            tensors,
            location: location.to_owned(),
        }
    }

    /// Where these weights came from.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The tensor `name`, which must have exactly `shape`.
    pub fn get(&self, name: &str, shape: &[usize]) -> Result<Tensor> {
        let t = self.tensors.get(name).ok_or_else(|| Error::Model {
            location: self.location.clone(),
            message: format!("tensor `{name}` is missing"),
        })?;
        if t.dims() != shape {
            return Err(Error::Model {
                location: self.location.clone(),
                message: format!(
                    "tensor `{name}` has shape {:?}, expected {shape:?}",
                    t.dims()
                ),
            });
        }
        Ok(t.clone())
    }

    /// All tensors, for building a `VarBuilder`.
    pub fn into_map(self) -> HashMap<String, Tensor> {
        self.tensors
    }
}

/// How many of a tensor's values are NaN or infinite.
pub fn non_finite(t: &Tensor) -> Result<usize> {
    let values = t.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?;
    Ok(values.iter().filter(|v| !v.is_finite()).count())
}

/// Safetensors bytes of named tensors, in name order.
pub fn to_bytes(tensors: HashMap<String, Tensor>) -> Result<Vec<u8>> {
    let mut sorted: Vec<(String, Tensor)> = tensors.into_iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    safetensors::serialize(sorted, None)
        .map_err(|e| Error::Other(format!("cannot serialise weights: {e}")))
}
