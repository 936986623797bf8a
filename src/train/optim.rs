//! AdamW with gradient clipping and a state that can be saved, so training resumes exactly.

use std::collections::HashMap;

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};

use crate::Result;

/// Loshchilov & Hutter's AdamW over a fixed, named set of variables.
pub struct AdamW {
    vars: Vec<(String, Var)>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    step: u64,
    /// Exponential decay of the first moment.
    pub beta1: f64,
    /// Exponential decay of the second moment.
    pub beta2: f64,
    /// Added to the denominator.
    pub eps: f64,
    /// Decoupled weight decay, applied to matrices only (not biases).
    pub weight_decay: f64,
}

impl AdamW {
    /// Starts with zero moments; `vars` are sorted by name so the order is reproducible.
    pub fn new(mut vars: Vec<(String, Var)>, weight_decay: f64) -> Result<Self> {
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        let m = vars
            .iter()
            .map(|(_, v)| v.zeros_like())
            .collect::<candle_core::Result<Vec<_>>>()?;
        let v = m.clone();
        Ok(Self {
            vars,
            m,
            v,
            step: 0,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
        })
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// Applies one update with learning rate `lr`, after scaling gradients so their
    /// global L2 norm is at most `clip`. Returns the norm before clipping.
    pub fn step(&mut self, grads: &GradStore, lr: f64, clip: f64) -> Result<f64> {
        let mut sq = 0f64;
        for (_, var) in &self.vars {
            if let Some(g) = grads.get(var) {
                sq += f64::from(g.sqr()?.sum_all()?.to_scalar::<f32>()?);
            }
        }
        let norm = sq.sqrt();
        let scale = if norm > clip {
            clip / (norm + 1e-6)
        } else {
            1.0
        };
        self.step += 1;
        let t = self.step as i32;
        let bc1 = 1.0 - self.beta1.powi(t);
        let bc2 = 1.0 - self.beta2.powi(t);
        for (i, (_, var)) in self.vars.iter().enumerate() {
            let Some(g) = grads.get(var) else { continue };
            let g = (g * scale)?;
            let m = ((&self.m[i] * self.beta1)? + (&g * (1.0 - self.beta1))?)?;
            let v = ((&self.v[i] * self.beta2)? + (g.sqr()? * (1.0 - self.beta2))?)?;
            let update = ((&m / bc1)? / ((&v / bc2)?.sqrt()? + self.eps)?)?;
            let mut theta = var.as_tensor().clone();
            if self.weight_decay > 0.0 && var.rank() >= 2 {
                theta = (theta * (1.0 - lr * self.weight_decay))?;
            }
            var.set(&(theta - (update * lr)?)?)?;
            self.m[i] = m;
            self.v[i] = v;
        }
        Ok(norm)
    }

    /// The optimiser state as named tensors (for a checkpoint).
    pub fn state(&self) -> HashMap<String, Tensor> {
        let mut out = HashMap::new();
        for (i, (name, _)) in self.vars.iter().enumerate() {
            out.insert(format!("adam_m.{name}"), self.m[i].clone());
            out.insert(format!("adam_v.{name}"), self.v[i].clone());
        }
        out
    }

    /// Restores moments saved by [`AdamW::state`] and the step count.
    pub fn restore(&mut self, state: &HashMap<String, Tensor>, step: u64) -> Result<()> {
        for (i, (name, _)) in self.vars.iter().enumerate() {
            let get = |k: String| {
                state.get(&k).cloned().ok_or_else(|| {
                    crate::Error::Other(format!("checkpoint lacks optimiser tensor {k}"))
                })
            };
            self.m[i] = get(format!("adam_m.{name}"))?;
            self.v[i] = get(format!("adam_v.{name}"))?;
        }
        self.step = step;
        Ok(())
    }
}
