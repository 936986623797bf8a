//! 1x1 convolution with its bias, ReLU6 and residual fused, fast on the CPU.
//!
//! As separate candle ops, a pointwise layer is a matmul, a bias add, a clamp and a residual
//! add, each reading and writing the whole activation and allocating a new one. Here one
//! kernel ([`super::gemm_kernel`]) writes each output once, with all of them applied. Other
//! devices keep the candle ops.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, DType, Layout, Result, Shape, Tensor};

use super::cpu_storage::{f32_slice, written_by};
use super::gemm_kernel::{Isa, PackedWeights};

/// A folded 1x1 convolution: weight (out, in) and bias (out).
pub enum Pointwise {
    /// On the CPU the weights live packed for the fused kernel (and only there).
    Cpu(PackedWeights),
    /// Elsewhere, candle tensors and candle ops.
    Device {
        /// (out, in).
        weight: Tensor,
        /// (out).
        bias: Tensor,
    },
}

/// Whether the output is clamped to [0, 6].
#[derive(Clone, Copy)]
pub enum Activation {
    /// No activation (the projection convolutions).
    Linear,
    /// ReLU6 (expansion and head convolutions).
    Relu6,
}

impl Pointwise {
    /// Wraps a (out, in, 1, 1) or (out, in) weight and its bias.
    pub fn new(weight: &Tensor, bias: &Tensor) -> Result<Self> {
        let out = weight.dim(0)?;
        let inp = weight.elem_count() / out.max(1);
        let weight = weight.reshape((out, inp))?;
        if weight.device().is_cpu() && weight.dtype() == DType::F32 {
            let weight: Vec<f32> = weight.flatten_all()?.to_vec1()?;
            let bias: Vec<f32> = bias.to_vec1()?;
            return Ok(Self::Cpu(PackedWeights::new(
                Isa::detect(),
                &weight,
                &bias,
                out,
                inp,
            )));
        }
        Ok(Self::Device {
            weight,
            bias: bias.clone(),
        })
    }

    /// The packed CPU weights, where the fused CPU kernels run.
    pub(super) fn packed(&self) -> Option<&PackedWeights> {
        match self {
            Self::Cpu(p) => Some(p),
            Self::Device { .. } => None,
        }
    }

    /// `act(conv1x1(x) + b) + residual` for x (N, in, H, W).
    pub fn forward(
        &self,
        x: &Tensor,
        act: Activation,
        residual: Option<&Tensor>,
    ) -> Result<Tensor> {
        let (weight, bias) = match self {
            Self::Cpu(cpu) => {
                let op = FusedOp { w: cpu, act };
                let x = x.to_dtype(DType::F32)?.contiguous()?;
                return match residual {
                    Some(r) => x.apply_op2_no_bwd(&r.contiguous()?, &op),
                    None => x.apply_op1_no_bwd(&op),
                };
            }
            Self::Device { weight, bias } => (weight, bias),
        };
        let (n, c, h, wd) = x.dims4()?;
        let out = weight.dim(0)?;
        let y = weight
            .broadcast_left(n)?
            .matmul(&x.reshape((n, c, h * wd))?)?
            .broadcast_add(&bias.reshape((1, out, 1))?)?
            .reshape((n, out, h, wd))?;
        let y = match act {
            Activation::Linear => y,
            Activation::Relu6 => y.clamp(0f32, 6f32)?,
        };
        match residual {
            Some(r) => y + r,
            None => Ok(y),
        }
    }
}

struct FusedOp<'a> {
    w: &'a PackedWeights,
    act: Activation,
}

impl FusedOp<'_> {
    fn run(
        &self,
        x: &CpuStorage,
        lx: &Layout,
        residual: Option<&[f32]>,
    ) -> Result<(CpuStorage, Shape)> {
        let (n, c, h, wd) = lx.shape().dims4()?;
        let (out, inp) = (self.w.rows(), self.w.cols());
        if c != inp {
            candle_core::bail!("pointwise conv: input has {c} channels, weight expects {inp}");
        }
        let x = f32_slice(x, lx, "pointwise conv")?;
        let hw = h * wd;
        let relu6 = matches!(self.act, Activation::Relu6);
        let threads = candle_core::utils::get_num_threads();
        // SAFETY: apply_uninit writes each image's whole (out, hw) plane.
        let dst = unsafe {
            written_by(n * out * hw, |dst| {
                for (i, plane) in dst.chunks_exact_mut(out * hw).enumerate() {
                    let src = &x[i * inp * hw..(i + 1) * inp * hw];
                    let res = residual.map(|r| &r[i * out * hw..(i + 1) * out * hw]);
                    self.w.apply_uninit(src, hw, res, relu6, threads, plane);
                }
            })
        };
        Ok((CpuStorage::F32(dst), Shape::from((n, out, h, wd))))
    }
}

impl CustomOp1 for FusedOp<'_> {
    fn name(&self) -> &'static str {
        "pointwise-conv"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        self.run(s, l, None)
    }
}

impl CustomOp2 for FusedOp<'_> {
    fn name(&self) -> &'static str {
        "pointwise-conv-residual"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let r = f32_slice(s2, l2, "pointwise conv")?;
        let (n, c, h, w) = l1.shape().dims4()?;
        let expected = n * self.w.rows() * h * w;
        if r.len() != expected || c != self.w.cols() {
            candle_core::bail!(
                "pointwise conv: the residual has {} values, expected {expected}",
                r.len()
            );
        }
        self.run(s1, l1, Some(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn fused_matches_separate_candle_ops() -> Result<()> {
        let dev = Device::Cpu;
        for (n, c, o, h, w) in [(2, 24, 40, 7, 9), (1, 16, 42, 5, 5), (1, 8, 8, 16, 16)] {
            let x = Tensor::randn(0f32, 1.0, (n, c, h, w), &dev)?;
            let weight = Tensor::randn(0f32, 1.0, (o, c, 1, 1), &dev)?;
            let bias = Tensor::randn(0f32, 1.0, o, &dev)?;
            let residual = Tensor::randn(0f32, 1.0, (n, o, h, w), &dev)?;
            let pw = Pointwise::new(&weight, &bias)?;
            let plain = weight
                .reshape((o, c))?
                .broadcast_left(n)?
                .matmul(&x.reshape((n, c, h * w))?)?
                .broadcast_add(&bias.reshape((1, o, 1))?)?
                .reshape((n, o, h, w))?;
            let cases = [
                (Activation::Relu6, None, plain.clamp(0f32, 6f32)?),
                (Activation::Linear, Some(&residual), (&plain + &residual)?),
                (
                    Activation::Relu6,
                    Some(&residual),
                    (&plain + &residual)?.clamp(0f32, 6f32)?,
                ),
            ];
            for (act, r, expected) in cases {
                let got = pw.forward(&x, act, r)?;
                let diff = (got - expected)?.abs()?.max_all()?.to_scalar::<f32>()?;
                assert!(diff < 1e-4, "{o}x{c} at {h}x{w}: {diff}");
            }
        }
        Ok(())
    }
}
