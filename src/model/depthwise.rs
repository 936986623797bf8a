//! Depthwise convolution with fused bias and ReLU6, fast on the CPU.
//!
//! candle runs a grouped convolution as one convolution per group, which for a
//! depthwise layer (one group per channel, up to 1152 of them) is far too slow; on
//! the CPU this direct kernel is used instead, and other devices keep candle's op.

use candle_core::{CpuStorage, CustomOp3, DType, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::cpu_storage::f32_slice;

/// TensorFlow "same" padding for one spatial axis: (before, after, output size).
pub fn same_padding(input: usize, kernel: usize, stride: usize) -> (usize, usize, usize) {
    let out = input.div_ceil(stride);
    let total = ((out - 1) * stride + kernel).saturating_sub(input);
    (total / 2, total - total / 2, out)
}

/// `clamp(depthwise_conv(x, w) + b, 0, 6)` with TF "same" padding.
///
/// `x` is (N, C, H, W), `w` is (C, 1, k, k), `b` is (C).
pub fn depthwise_relu6(x: &Tensor, w: &Tensor, b: &Tensor, stride: usize) -> Result<Tensor> {
    if x.device().is_cpu() && x.dtype() == DType::F32 {
        let x = x.contiguous()?;
        let w = w.contiguous()?;
        let b = b.contiguous()?;
        return x.apply_op3_no_bwd(&w, &b, &DepthwiseRelu6 { stride });
    }
    let (_, c, h, wd) = x.dims4()?;
    let k = w.dim(2)?;
    let (pt, pb, _) = same_padding(h, k, stride);
    let (pl, pr, _) = same_padding(wd, k, stride);
    let x = x.pad_with_zeros(2, pt, pb)?.pad_with_zeros(3, pl, pr)?;
    let y = x.conv2d(w, 0, stride, 1, c)?;
    y.broadcast_add(&b.reshape((1, c, 1, 1))?)?
        .clamp(0f32, 6f32)
}

struct DepthwiseRelu6 {
    stride: usize,
}

impl CustomOp3 for DepthwiseRelu6 {
    fn name(&self) -> &'static str {
        "depthwise-relu6"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (n, c, h, wd) = l1.shape().dims4()?;
        let k = l2.shape().dims4()?.2;
        let x = f32_slice(s1, l1, "depthwise-relu6")?;
        let w = f32_slice(s2, l2, "depthwise-relu6")?;
        let b = f32_slice(s3, l3, "depthwise-relu6")?;
        let geometry = Geometry::new(h, wd, k, self.stride);
        let (ho, wo) = (geometry.ho, geometry.wo);
        let mut out = vec![0f32; n * c * ho * wo];
        let scratch = || Scratch {
            phases: vec![0f32; geometry.phases_len()],
            acc: vec![0f32; geometry.acc_len()],
        };
        let job = |scratch: &mut Scratch, (plane, dst): (usize, &mut [f32])| {
            let ch = plane % c;
            let src = &x[plane * h * wd..(plane + 1) * h * wd];
            let kernel = &w[ch * k * k..(ch + 1) * k * k];
            plane_relu6(&geometry, src, kernel, b[ch], scratch, dst);
        };
        if super::parallel() {
            out.par_chunks_mut(ho * wo)
                .enumerate()
                .for_each_init(scratch, job);
        } else {
            let mut s = scratch();
            out.chunks_mut(ho * wo)
                .enumerate()
                .for_each(|item| job(&mut s, item));
        }
        Ok((CpuStorage::F32(out), Shape::from((n, c, ho, wo))))
    }
}

/// Sizes of one layer's plane: input, kernel, stride, padding, phases and output.
pub(super) struct Geometry {
    wd: usize,
    k: usize,
    s: usize,
    pt: usize,
    pl: usize,
    pub(super) pitch: usize,
    pub(super) phase_len: usize,
    pub(super) ho: usize,
    pub(super) wo: usize,
}

impl Geometry {
    /// A (h, wd) plane under a k x k kernel of stride s with TF "same" padding.
    pub(super) fn new(h: usize, wd: usize, k: usize, s: usize) -> Self {
        let (pt, pb, ho) = same_padding(h, k, s);
        let (pl, pr, wo) = same_padding(wd, k, s);
        let (ph, pw) = (h + pt + pb, wd + pl + pr);
        // Each stride phase (row parity × column parity for stride 2) of the padded plane is
        // its own small plane of pitch `pitch`, so every tap reads a contiguous run.
        let pitch = pw.div_ceil(s);
        let phase_rows = ph.div_ceil(s);
        // Slack after each phase: the flat loop below reads up to k / s past a phase's end.
        let phase_len = phase_rows * pitch + k;
        Self {
            wd,
            k,
            s,
            pt,
            pl,
            pitch,
            phase_len,
            ho,
            wo,
        }
    }

    /// Floats of one plane's phases (all s x s of them).
    pub(super) fn phases_len(&self) -> usize {
        self.s * self.s * self.phase_len
    }

    /// Floats of the accumulator: the output rows at the full phase pitch.
    pub(super) fn acc_len(&self) -> usize {
        self.ho * self.pitch
    }
}

/// Per-thread buffers: the padded input split into phases, and the output at full pitch.
struct Scratch {
    phases: Vec<f32>,
    acc: Vec<f32>,
}

/// One channel plane: pads `src` into phases, convolves, adds the bias, clamps to [0, 6].
fn plane_relu6(
    g: &Geometry,
    src: &[f32],
    kernel: &[f32],
    bias: f32,
    scratch: &mut Scratch,
    dst: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    {
        if super::has_avx2_fma() {
            // SAFETY: the features were just detected.
            return unsafe { plane_relu6_avx2(g, src, kernel, bias, scratch, dst) };
        }
    }
    plane_relu6_body(g, src, kernel, bias, scratch, dst);
}

/// The same code compiled for AVX2 and FMA, so the loops run eight lanes wide.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn plane_relu6_avx2(
    g: &Geometry,
    src: &[f32],
    kernel: &[f32],
    bias: f32,
    scratch: &mut Scratch,
    dst: &mut [f32],
) {
    plane_relu6_body(g, src, kernel, bias, scratch, dst);
}

/// Computes the output on rows of the full phase pitch: the few extra columns on the right
/// are thrown away, and in exchange each tap is one long loop over the whole plane, which
/// vectorises even when the plane is only 7 or 14 pixels wide.
#[inline(always)]
fn plane_relu6_body(
    g: &Geometry,
    src: &[f32],
    kernel: &[f32],
    bias: f32,
    scratch: &mut Scratch,
    dst: &mut [f32],
) {
    let Scratch { phases, acc } = scratch;
    split_phases(g, src, phases);
    acc.fill(bias);
    add_taps(g, phases, kernel, acc);
    clamp_out(g, acc, dst);
}

/// Copies `src` (one (h, wd) plane) into its stride phases; padding and slack are never
/// written, so they must be zero from the allocation.
#[inline(always)]
pub(super) fn split_phases(g: &Geometry, src: &[f32], phases: &mut [f32]) {
    let (s, pitch) = (g.s, g.pitch);
    for (y, row) in src.chunks_exact(g.wd).enumerate() {
        let py = y + g.pt;
        if s == 1 {
            let start = py * pitch + g.pl;
            phases[start..start + g.wd].copy_from_slice(row);
            continue;
        }
        // Stride 2: even padded columns to one phase, odd to the other.
        let base = ((py % 2) * 2) * g.phase_len + (py / 2) * pitch;
        let (first, second) = (g.pl % 2, 1 - g.pl % 2);
        let even = base + first * g.phase_len + g.pl / 2;
        let odd = base + second * g.phase_len + g.pl.div_ceil(2);
        for (i, &v) in row.iter().step_by(2).enumerate() {
            phases[even + i] = v;
        }
        for (i, &v) in row.iter().skip(1).step_by(2).enumerate() {
            phases[odd + i] = v;
        }
    }
}

/// `acc += kernel ⊛ phases`: each tap is one long loop over the whole accumulator.
#[inline(always)]
pub(super) fn add_taps(g: &Geometry, phases: &[f32], kernel: &[f32], acc: &mut [f32]) {
    let (k, s, pitch) = (g.k, g.s, g.pitch);
    let n = acc.len();
    for ky in 0..k {
        for kx in 0..k {
            let wv = kernel[ky * k + kx];
            let phase = (ky % s) * s + kx % s;
            let start = phase * g.phase_len + (ky / s) * pitch + kx / s;
            let taps = &phases[start..start + n];
            for (o, v) in acc.iter_mut().zip(taps) {
                *o += wv * v;
            }
        }
    }
}

/// Writes the accumulator's valid columns to `dst`, clamped to [0, 6].
#[inline(always)]
pub(super) fn clamp_out(g: &Geometry, acc: &[f32], dst: &mut [f32]) {
    for (oy, out_row) in dst.chunks_exact_mut(g.wo).enumerate().take(g.ho) {
        let row = &acc[oy * g.pitch..oy * g.pitch + g.wo];
        for (o, v) in out_row.iter_mut().zip(row) {
            *o = v.clamp(0.0, 6.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn same_padding_puts_the_extra_row_after() {
        assert_eq!(same_padding(224, 3, 2), (0, 1, 112));
        assert_eq!(same_padding(112, 5, 2), (1, 2, 56));
        assert_eq!(same_padding(56, 3, 1), (1, 1, 56));
        assert_eq!(same_padding(14, 5, 1), (2, 2, 14));
    }

    #[test]
    fn cpu_kernel_matches_candle_grouped_conv() -> Result<()> {
        let dev = Device::Cpu;
        for (k, s, h) in [(3, 1, 9), (3, 2, 10), (5, 2, 11), (5, 1, 7)] {
            let x = Tensor::randn(0f32, 1.0, (2, 4, h, h + 1), &dev)?;
            let w = Tensor::randn(0f32, 1.0, (4, 1, k, k), &dev)?;
            let b = Tensor::randn(0f32, 1.0, 4, &dev)?;
            let fast = depthwise_relu6(&x, &w, &b, s)?;
            let (pt, pb, _) = same_padding(h, k, s);
            let (pl, pr, _) = same_padding(h + 1, k, s);
            let xp = x.pad_with_zeros(2, pt, pb)?.pad_with_zeros(3, pl, pr)?;
            let slow = xp
                .conv2d(&w, 0, s, 1, 4)?
                .broadcast_add(&b.reshape((1, 4, 1, 1))?)?
                .clamp(0f32, 6f32)?;
            let diff = (fast - slow)?.abs()?.max_all()?.to_scalar::<f32>()?;
            assert!(diff < 1e-4, "k={k} s={s}: {diff}");
        }
        Ok(())
    }
}
