//! Depthwise convolution with fused bias and ReLU6, fast on the CPU.
//!
//! candle runs a grouped convolution as one convolution per group, which for a
//! depthwise layer (one group per channel, up to 1152 of them) is far too slow; on
//! the CPU this direct kernel is used instead, and other devices keep candle's op.

use candle_core::{CpuStorage, CustomOp3, DType, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

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
        let x = slice_of(s1, l1)?;
        let w = slice_of(s2, l2)?;
        let b = slice_of(s3, l3)?;
        let s = self.stride;
        let (pt, pb, ho) = same_padding(h, k, s);
        let (pl, pr, wo) = same_padding(wd, k, s);
        let (ph, pw) = (h + pt + pb, wd + pl + pr);
        let geometry = Geometry {
            wd,
            k,
            s,
            pt,
            pl,
            pw,
            wo,
        };
        let mut out = vec![0f32; n * c * ho * wo];
        out.par_chunks_mut(ho * wo).enumerate().for_each_init(
            || vec![0f32; ph * pw],
            |padded, (plane, dst)| {
                let ch = plane % c;
                let src = &x[plane * h * wd..(plane + 1) * h * wd];
                let kernel = &w[ch * k * k..(ch + 1) * k * k];
                plane_relu6(&geometry, src, kernel, b[ch], padded, dst);
            },
        );
        Ok((CpuStorage::F32(out), Shape::from((n, c, ho, wo))))
    }
}

/// Sizes of one depthwise layer: input, kernel, stride, padding and output.
struct Geometry {
    wd: usize,
    k: usize,
    s: usize,
    pt: usize,
    pl: usize,
    pw: usize,
    wo: usize,
}

/// One channel plane: pads `src` into `padded`, convolves, adds the bias, clamps to [0, 6].
fn plane_relu6(
    g: &Geometry,
    src: &[f32],
    kernel: &[f32],
    bias: f32,
    padded: &mut [f32],
    dst: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the features were just detected.
            return unsafe { plane_relu6_avx2(g, src, kernel, bias, padded, dst) };
        }
    }
    plane_relu6_body(g, src, kernel, bias, padded, dst);
}

/// The same code compiled for AVX2 and FMA, so the loops run eight lanes wide.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn plane_relu6_avx2(
    g: &Geometry,
    src: &[f32],
    kernel: &[f32],
    bias: f32,
    padded: &mut [f32],
    dst: &mut [f32],
) {
    plane_relu6_body(g, src, kernel, bias, padded, dst);
}

#[inline(always)]
fn plane_relu6_body(
    g: &Geometry,
    src: &[f32],
    kernel: &[f32],
    bias: f32,
    padded: &mut [f32],
    dst: &mut [f32],
) {
    let (k, s, pw, wo) = (g.k, g.s, g.pw, g.wo);
    if s == 1 {
        for (y, row) in src.chunks_exact(g.wd).enumerate() {
            let start = (y + g.pt) * pw + g.pl;
            padded[start..start + g.wd].copy_from_slice(row);
        }
    } else {
        // Stride 2: each padded row is stored as its even columns then its odd columns, so
        // the taps an output row needs are contiguous runs and the inner loop vectorises.
        let half = pw.div_ceil(2);
        for (y, row) in src.chunks_exact(g.wd).enumerate() {
            let line = &mut padded[(y + g.pt) * pw..(y + g.pt + 1) * pw];
            for (i, &v) in row.iter().enumerate() {
                let col = i + g.pl;
                line[(col % 2) * half + col / 2] = v;
            }
        }
    }
    let half = pw.div_ceil(2);
    for (oy, out_row) in dst.chunks_exact_mut(wo).enumerate() {
        out_row.fill(bias);
        for ky in 0..k {
            let in_row = &padded[(oy * s + ky) * pw..(oy * s + ky + 1) * pw];
            for kx in 0..k {
                let wv = kernel[ky * k + kx];
                let taps = if s == 1 {
                    &in_row[kx..kx + wo]
                } else {
                    let start = (kx % 2) * half + kx / 2;
                    &in_row[start..start + wo]
                };
                for (o, v) in out_row.iter_mut().zip(taps) {
                    *o += wv * v;
                }
            }
        }
        for o in out_row.iter_mut() {
            *o = o.clamp(0.0, 6.0);
        }
    }
}

fn slice_of<'a>(s: &'a CpuStorage, l: &Layout) -> Result<&'a [f32]> {
    let data = s.as_slice::<f32>()?;
    match l.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => candle_core::bail!("depthwise-relu6 needs contiguous inputs"),
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
