//! An exponential moving average of the weights (Polyak averaging), kept beside training.
//!
//! The average of the last few hundred steps usually generalises better than the last
//! step's weights; training evaluates both on dev and keeps whichever scores higher.

use std::collections::HashMap;

use candle_core::{Tensor, Var};

use crate::{Error, Result};

/// Shadow copies of a fixed, named set of variables.
pub struct WeightAverage {
    decay: f64,
    vars: Vec<(String, Var)>,
    shadow: Vec<Tensor>,
    updates: u64,
}

impl WeightAverage {
    /// Starts the average at the variables' current values.
    pub fn new(vars: Vec<(String, Var)>, decay: f64) -> Result<Self> {
        // A deep copy (a detached view would share the variable's storage and follow it),
        // then detached, so no autograd graph links one step's average to the next.
        let shadow = vars
            .iter()
            .map(|(_, v)| Ok(v.as_tensor().copy()?.detach()))
            .collect::<Result<_>>()?;
        Ok(Self {
            decay,
            vars,
            shadow,
            updates: 0,
        })
    }

    /// Folds the variables' current values into the average.
    pub fn update(&mut self) -> Result<()> {
        self.updates += 1;
        // Early on the average would be dominated by the random initial weights, so the
        // decay ramps up as TensorFlow's ExponentialMovingAverage does with num_updates.
        let n = self.updates as f64;
        let d = self.decay.min((1.0 + n) / (10.0 + n));
        for ((_, var), s) in self.vars.iter().zip(self.shadow.iter_mut()) {
            // Detached: otherwise every average would keep the previous one alive through
            // the graph, and memory would grow by a model's size each step.
            *s = ((&*s * d)? + (var.as_tensor().detach() * (1.0 - d))?)?.detach();
        }
        Ok(())
    }

    /// Runs `f` with the averaged weights in the variables, then puts the live ones back.
    pub fn with_average<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let live: Vec<Tensor> = self
            .vars
            .iter()
            .map(|(_, v)| Ok(v.as_tensor().copy()?.detach()))
            .collect::<Result<_>>()?;
        for ((_, var), s) in self.vars.iter().zip(&self.shadow) {
            var.set(s)?;
        }
        let out = f();
        for ((_, var), t) in self.vars.iter().zip(&live) {
            var.set(t)?;
        }
        out
    }

    /// The average as named tensors (for a checkpoint), with the update count.
    pub fn state(&self) -> Result<HashMap<String, Tensor>> {
        let mut out: HashMap<String, Tensor> = self
            .vars
            .iter()
            .zip(&self.shadow)
            .map(|((name, _), s)| (format!("ema.{name}"), s.clone()))
            .collect();
        let n = Tensor::new(&[self.updates as f64], &candle_core::Device::Cpu)?;
        out.insert("ema_updates".into(), n);
        Ok(out)
    }

    /// Restores an average saved by [`WeightAverage::state`].
    pub fn restore(&mut self, state: &HashMap<String, Tensor>) -> Result<()> {
        let missing = |k: &str| Error::Other(format!("checkpoint lacks weight-average tensor {k}"));
        for ((name, var), s) in self.vars.iter().zip(self.shadow.iter_mut()) {
            let key = format!("ema.{name}");
            *s = state
                .get(&key)
                .ok_or_else(|| missing(&key))?
                .to_device(var.device())?;
        }
        let n = state
            .get("ema_updates")
            .ok_or_else(|| missing("ema_updates"))?;
        self.updates = n.to_vec1::<f64>()?.first().copied().unwrap_or(0.0) as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn averages_swaps_in_and_restores() -> Result<()> {
        let var = Var::new(&[0f32, 10.0], &Device::Cpu)?;
        let mut avg = WeightAverage::new(vec![("w".into(), var.clone())], 0.5)?;
        var.set(&Tensor::new(&[2f32, 20.0], &Device::Cpu)?)?;
        // First update: decay min(0.5, 2/11) = 2/11.
        avg.update()?;
        // The average holds no autograd graph (which would chain every step's copy): no
        // gradient flows from it back to the variable.
        let grads = avg.shadow[0].sum_all()?.backward()?;
        assert!(grads.get(var.as_tensor()).is_none());
        let d = 2.0 / 11.0;
        let expected = [2.0 * (1.0 - d), 10.0 * d + 20.0 * (1.0 - d)];
        let seen = avg.with_average(|| Ok(var.as_tensor().to_vec1::<f32>()?))?;
        for (a, b) in seen.iter().zip(expected) {
            assert!((a - b).abs() < 1e-5, "{seen:?} vs {expected:?}");
        }
        assert_eq!(var.as_tensor().to_vec1::<f32>()?, vec![2.0, 20.0]);

        let mut restored = WeightAverage::new(vec![("w".into(), var.clone())], 0.5)?;
        restored.restore(&avg.state()?)?;
        assert_eq!(restored.updates, 1);
        let again = restored.with_average(|| Ok(var.as_tensor().to_vec1::<f32>()?))?;
        assert_eq!(again, seen);
        Ok(())
    }
}
