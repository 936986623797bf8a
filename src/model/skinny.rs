//! Linear layers applied to a few rows at a time: one beam-search step has only k rows.
//!
//! A general GEMM packs the whole weight matrix into cache-friendly panels on every call,
//! which for k = 3 rows costs more than the arithmetic. Here each weight row is read once,
//! straight from memory, and dotted with every input row while it sits in L1.
//!
//! Reading the weights is then the whole cost, so a model stored in f16 keeps its matrices
//! in f16 here ([`HalfMatrix`]): half the bytes per step, and the same values exactly.

use candle_core::{CpuStorage, CustomOp3, DType, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// Most rows for which the direct kernel beats candle's matmul.
pub const MAX_ROWS: usize = 16;

/// `x · wᵀ + b` for x (M, K), w (N, K) and b (N): the direct kernel on the CPU when M is
/// small, candle's matmul otherwise.
pub fn linear(x: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    let rows = x.dim(0)?;
    if x.device().is_cpu() && x.dtype() == DType::F32 && rows <= MAX_ROWS {
        let x = x.contiguous()?;
        return x.apply_op3_no_bwd(w, b, &FewRows);
    }
    x.matmul(&w.t()?)?.broadcast_add(b)
}

struct FewRows;

/// A weight matrix (N, K) kept as f16 bits, for [`linear_half`].
pub struct HalfMatrix {
    bits: Vec<u16>,
    rows: usize,
    cols: usize,
}

impl HalfMatrix {
    /// Keeps `w` (N, K) as f16 when it holds only values f16 represents exactly, so that
    /// nothing changes but speed; `None` otherwise (or off the CPU).
    pub fn exact(w: &Tensor) -> Result<Option<Self>> {
        if !w.device().is_cpu() {
            return Ok(None);
        }
        let (rows, cols) = w.dims2()?;
        let values = w.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
        let mut bits = Vec::with_capacity(values.len());
        for v in values {
            let h = half::f16::from_f32(v);
            if h.to_f32().to_bits() != v.to_bits() {
                return Ok(None);
            }
            bits.push(h.to_bits());
        }
        Ok(Some(Self { bits, rows, cols }))
    }
}

/// `x · wᵀ + b` with `w` in f16, for x (M, K) on the CPU with M ≤ [`MAX_ROWS`].
pub fn linear_half(x: &Tensor, w: &HalfMatrix, b: &Tensor) -> Result<Tensor> {
    let (m, k) = x.dims2()?;
    if m > MAX_ROWS || k != w.cols || b.elem_count() != w.rows {
        candle_core::bail!(
            "linear_half: ({m}, {k}) · ({}, {})ᵀ + ({})",
            w.rows,
            w.cols,
            b.elem_count()
        );
    }
    let x = x
        .to_dtype(DType::F32)?
        .contiguous()?
        .flatten_all()?
        .to_vec1::<f32>()?;
    let b = b.to_dtype(DType::F32)?.to_vec1::<f32>()?;
    let n = w.rows;
    let mut out_t = vec![0f32; n * m];
    out_t
        .par_chunks_mut(CHUNK * m)
        .enumerate()
        .for_each(|(chunk, dst)| {
            let first = chunk * CHUNK;
            for (i, outs) in dst.chunks_exact_mut(m).enumerate() {
                let row = first + i;
                let wrow = &w.bits[row * k..(row + 1) * k];
                for (j, o) in outs.iter_mut().enumerate() {
                    *o = dot_half(&x[j * k..(j + 1) * k], wrow) + b[row];
                }
            }
        });
    let mut out = vec![0f32; m * n];
    for (row, outs) in out_t.chunks_exact(m).enumerate() {
        for (j, &v) in outs.iter().enumerate() {
            out[j * n + row] = v;
        }
    }
    Tensor::from_vec(out, (m, n), &candle_core::Device::Cpu)
}

/// Dot product of f32 values with f16 weights, with AVX2, FMA and F16C when present.
fn dot_half(a: &[f32], b: &[u16]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
            && std::arch::is_x86_feature_detected!("f16c")
        {
            // SAFETY: the features were just detected.
            return unsafe { dot_half_avx2(a, b) };
        }
    }
    a.iter()
        .zip(b)
        .map(|(x, &y)| x * half::f16::from_bits(y).to_f32())
        .sum()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn dot_half_avx2(a: &[f32], b: &[u16]) -> f32 {
    use std::arch::x86_64::*;
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc0 = _mm256_setzero_ps();
    let mut acc1 = _mm256_setzero_ps();
    let mut i = 0;
    // SAFETY: every load reads 8 values at i + 8 <= n, inside both slices.
    unsafe {
        while i + 16 <= n {
            let w0 = _mm256_cvtph_ps(_mm_loadu_si128(pb.add(i).cast()));
            let w1 = _mm256_cvtph_ps(_mm_loadu_si128(pb.add(i + 8).cast()));
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i)), w0, acc0);
            acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i + 8)), w1, acc1);
            i += 16;
        }
        if i + 8 <= n {
            let w0 = _mm256_cvtph_ps(_mm_loadu_si128(pb.add(i).cast()));
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i)), w0, acc0);
            i += 8;
        }
    }
    let mut lanes = [0f32; 8];
    // SAFETY: lanes holds exactly 8 floats.
    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), _mm256_add_ps(acc0, acc1)) };
    let tail: f32 = a[i..n]
        .iter()
        .zip(&b[i..n])
        .map(|(x, &y)| x * half::f16::from_bits(y).to_f32())
        .sum();
    lanes.iter().sum::<f32>() + tail
}

/// Output rows handed to one task: enough work to amortise rayon's cost.
const CHUNK: usize = 64;

impl CustomOp3 for FewRows {
    fn name(&self) -> &'static str {
        "few-rows-linear"
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
        let (m, k) = l1.shape().dims2()?;
        let (n, k2) = l2.shape().dims2()?;
        if k != k2 || l3.shape().elem_count() != n {
            candle_core::bail!(
                "few-rows-linear: shapes ({m}, {k}) · ({n}, {k2})ᵀ + ({})",
                l3.shape().elem_count()
            );
        }
        let x = slice_of(s1, l1)?;
        let w = slice_of(s2, l2)?;
        let b = slice_of(s3, l3)?;
        // Computed as (N, M), each task owning whole weight rows, then transposed.
        let mut out_t = vec![0f32; n * m];
        out_t
            .par_chunks_mut(CHUNK * m)
            .enumerate()
            .for_each(|(chunk, dst)| {
                let first = chunk * CHUNK;
                for (i, outs) in dst.chunks_exact_mut(m).enumerate() {
                    let row = first + i;
                    let wrow = &w[row * k..(row + 1) * k];
                    for (j, o) in outs.iter_mut().enumerate() {
                        *o = dot(&x[j * k..(j + 1) * k], wrow) + b[row];
                    }
                }
            });
        let mut out = vec![0f32; m * n];
        for (row, outs) in out_t.chunks_exact(m).enumerate() {
            for (j, &v) in outs.iter().enumerate() {
                out[j * n + row] = v;
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((m, n))))
    }
}

/// Dot product, with AVX2 and FMA when the processor has them.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the features were just detected.
            return unsafe { dot_avx2(a, b) };
        }
    }
    dot_portable(a, b)
}

fn dot_portable(a: &[f32], b: &[f32]) -> f32 {
    // Eight independent sums let the compiler vectorise without reassociating one sum.
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
    use std::arch::x86_64::*;
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc0 = _mm256_setzero_ps();
    let mut acc1 = _mm256_setzero_ps();
    let mut i = 0;
    // SAFETY: every load reads 8 floats at i < n - 15 or i < n - 7, inside both slices.
    unsafe {
        while i + 16 <= n {
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)), acc0);
            acc1 = _mm256_fmadd_ps(
                _mm256_loadu_ps(pa.add(i + 8)),
                _mm256_loadu_ps(pb.add(i + 8)),
                acc1,
            );
            i += 16;
        }
        if i + 8 <= n {
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)), acc0);
            i += 8;
        }
    }
    let mut lanes = [0f32; 8];
    // SAFETY: lanes holds exactly 8 floats.
    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), _mm256_add_ps(acc0, acc1)) };
    let tail: f32 = a[i..n].iter().zip(&b[i..n]).map(|(x, y)| x * y).sum();
    lanes.iter().sum::<f32>() + tail
}

fn slice_of<'a>(s: &'a CpuStorage, l: &Layout) -> Result<&'a [f32]> {
    let data = s.as_slice::<f32>()?;
    match l.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => candle_core::bail!("few-rows-linear needs contiguous inputs"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn matches_candle_matmul() -> Result<()> {
        let dev = Device::Cpu;
        for (m, k, n) in [(1, 512, 2538), (3, 1024, 2048), (5, 37, 130), (16, 9, 3)] {
            let x = Tensor::randn(0f32, 1.0, (m, k), &dev)?;
            let w = Tensor::randn(0f32, 1.0, (n, k), &dev)?;
            let b = Tensor::randn(0f32, 1.0, n, &dev)?;
            let fast = linear(&x, &w, &b)?;
            let slow = x.matmul(&w.t()?)?.broadcast_add(&b)?;
            let diff = (fast - slow)?.abs()?.max_all()?.to_scalar::<f32>()?;
            assert!(diff < 1e-3 * (k as f32).sqrt(), "({m},{k},{n}): {diff}");
        }
        Ok(())
    }

    #[test]
    fn half_weights_give_the_f32_result() -> Result<()> {
        let dev = Device::Cpu;
        let (m, k, n) = (3, 200, 70);
        let x = Tensor::randn(0f32, 1.0, (m, k), &dev)?;
        // Values f16 holds exactly, as a model stored in f16 has.
        let w = Tensor::randn(0f32, 1.0, (n, k), &dev)?
            .to_dtype(DType::F16)?
            .to_dtype(DType::F32)?;
        let b = Tensor::randn(0f32, 1.0, n, &dev)?;
        let half = HalfMatrix::exact(&w)?.expect("f16 values are exact");
        let diff = (linear_half(&x, &half, &b)? - linear(&x, &w, &b)?)?
            .abs()?
            .max_all()?
            .to_scalar::<f32>()?;
        assert!(diff < 1e-3, "{diff}");
        // A value f16 cannot hold is refused rather than rounded.
        let w32 = Tensor::new(&[[0.1f32, 1.0]], &dev)?;
        assert!(HalfMatrix::exact(&w32)?.is_none());
        Ok(())
    }

    #[test]
    fn portable_dot_matches_a_plain_sum() {
        let a: Vec<f32> = (0..37).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..37).map(|i| 1.0 - i as f32 * 0.01).collect();
        let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot_portable(&a, &b) - plain).abs() < 1e-3);
        assert!((dot(&a, &b) - plain).abs() < 1e-3);
    }
}
