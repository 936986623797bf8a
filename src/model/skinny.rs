//! Linear layers applied to a few rows at a time: one beam-search step has only k rows.
//!
//! A general GEMM packs the whole weight matrix into cache-friendly panels on every call,
//! which for k = 3 rows costs more than the arithmetic. Here each weight row is read once,
//! straight from memory, and dotted with every input row while it sits in L1.
//!
//! Reading the weights is then the whole cost, so a model stored in f16 keeps its matrices
//! in f16 here ([`HalfMatrix`]): half the bytes per step, and the same values exactly.

use candle_core::{CpuStorage, CustomOp3, DType, Layout, Result, Shape, Tensor};

use super::cpu_storage::f32_slice;

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
    let out = rows_times(&x, m, k, &w.bits, &b);
    Tensor::from_vec(out, (m, n), &candle_core::Device::Cpu)
}

/// Output rows handed to one job: enough work to amortise handing it to another thread.
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
        let x = f32_slice(s1, l1, "few-rows-linear")?;
        let w = f32_slice(s2, l2, "few-rows-linear")?;
        let b = f32_slice(s3, l3, "few-rows-linear")?;
        let out = rows_times(x, m, k, w, b);
        Ok((CpuStorage::F32(out), Shape::from((m, n))))
    }
}

/// `x · wᵀ + b` for x (m, k) and w (n, k) row-major, as an (m, n) row-major vector.
fn rows_times<W: Weight>(x: &[f32], m: usize, k: usize, w: &[W], b: &[f32]) -> Vec<f32> {
    let n = b.len();
    // Computed as (N, M), each task owning whole weight rows, then transposed.
    let mut out_t = vec![0f32; n * m];
    let job = |(chunk, dst): (usize, &mut [f32])| {
        let first = chunk * CHUNK;
        for (i, outs) in dst.chunks_exact_mut(m).enumerate() {
            let row = first + i;
            dots(x, k, &w[row * k..(row + 1) * k], outs);
            for o in outs.iter_mut() {
                *o += b[row];
            }
        }
    };
    super::team::for_each_chunk_mut(
        &mut out_t,
        CHUNK * m,
        || (),
        |_, chunk, dst| job((chunk, dst)),
    );
    let mut out = vec![0f32; m * n];
    for (row, outs) in out_t.chunks_exact(m).enumerate() {
        for (j, &v) in outs.iter().enumerate() {
            out[j * n + row] = v;
        }
    }
    out
}

/// A weight element: f32, or f16 kept as its bits.
trait Weight: Copy + Sync + DotsAvx2 {
    fn value(self) -> f32;
}

impl Weight for f32 {
    fn value(self) -> f32 {
        self
    }
}

impl Weight for u16 {
    fn value(self) -> f32 {
        half::f16::from_bits(self).to_f32()
    }
}

/// `out[j] = x_j · w` for each of the `out.len()` rows of `xs` (each `k` long), reading the
/// weight row once for all of them.
fn dots<W: Weight>(xs: &[f32], k: usize, w: &[W], out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if super::has_avx2_fma() && std::arch::is_x86_feature_detected!("f16c") {
            // Groups of up to 4 rows: 8 accumulators, 2 weight registers, within 16 ymm.
            for (g, outs) in out.chunks_mut(4).enumerate() {
                let xs = &xs[g * 4 * k..(g * 4 + outs.len()) * k];
                // SAFETY: the features were just detected; slices are sized as the kernels read.
                unsafe {
                    match outs.len() {
                        1 => W::dots_avx2::<1>(xs, k, w, outs),
                        2 => W::dots_avx2::<2>(xs, k, w, outs),
                        3 => W::dots_avx2::<3>(xs, k, w, outs),
                        _ => W::dots_avx2::<4>(xs, k, w, outs),
                    }
                }
            }
            return;
        }
    }
    for (j, o) in out.iter_mut().enumerate() {
        let x = &xs[j * k..(j + 1) * k];
        // Eight partial sums, so the compiler can vectorise without reassociating one sum.
        let mut acc = [0f32; 8];
        let (cx, cw) = (x.chunks_exact(8), w.chunks_exact(8));
        let tail: f32 = cx
            .remainder()
            .iter()
            .zip(cw.remainder())
            .map(|(a, b)| a * b.value())
            .sum();
        for (a, b) in cx.zip(cw) {
            for i in 0..8 {
                acc[i] += a[i] * b[i].value();
            }
        }
        *o = acc.iter().sum::<f32>() + tail;
    }
}

/// The AVX2 kernel, written once for both weight types by this macro.
#[cfg(target_arch = "x86_64")]
trait DotsAvx2: Sized {
    /// # Safety
    /// AVX2, FMA and F16C must be present; `xs` holds `G` rows of `k`, `w` and `out` `k` and `G`.
    unsafe fn dots_avx2<const G: usize>(xs: &[f32], k: usize, w: &[Self], out: &mut [f32]);
}

#[cfg(not(target_arch = "x86_64"))]
trait DotsAvx2 {}
#[cfg(not(target_arch = "x86_64"))]
impl<T> DotsAvx2 for T {}

macro_rules! dots_avx2_for {
    ($t:ty, $kernel:ident, $load:ident) => {
        #[cfg(target_arch = "x86_64")]
        impl DotsAvx2 for $t {
            unsafe fn dots_avx2<const G: usize>(xs: &[f32], k: usize, w: &[$t], out: &mut [f32]) {
                // SAFETY: forwarded from the caller.
                unsafe { $kernel::<G>(xs, k, w, out) }
            }
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma,f16c")]
        unsafe fn $kernel<const G: usize>(xs: &[f32], k: usize, w: &[$t], out: &mut [f32]) {
            use std::arch::x86_64::*;
            let mut acc0 = [_mm256_setzero_ps(); G];
            let mut acc1 = [_mm256_setzero_ps(); G];
            let (px, pw) = (xs.as_ptr(), w.as_ptr());
            let mut i = 0;
            // SAFETY: every load reads 8 values at offsets below k in each row and in w.
            unsafe {
                while i + 16 <= k {
                    let w0 = $load(pw.add(i));
                    let w1 = $load(pw.add(i + 8));
                    for j in 0..G {
                        let x = px.add(j * k + i);
                        acc0[j] = _mm256_fmadd_ps(_mm256_loadu_ps(x), w0, acc0[j]);
                        acc1[j] = _mm256_fmadd_ps(_mm256_loadu_ps(x.add(8)), w1, acc1[j]);
                    }
                    i += 16;
                }
                if i + 8 <= k {
                    let w0 = $load(pw.add(i));
                    for j in 0..G {
                        acc0[j] = _mm256_fmadd_ps(_mm256_loadu_ps(px.add(j * k + i)), w0, acc0[j]);
                    }
                    i += 8;
                }
            }
            for j in 0..G {
                let mut lanes = [0f32; 8];
                // SAFETY: lanes holds exactly 8 floats.
                unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), _mm256_add_ps(acc0[j], acc1[j])) };
                let tail: f32 = (i..k).map(|t| xs[j * k + t] * w[t].value()).sum();
                out[j] = lanes.iter().sum::<f32>() + tail;
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
#[inline]
unsafe fn load_f32(p: *const f32) -> std::arch::x86_64::__m256 {
    // SAFETY: the caller reads 8 floats inside its slice.
    unsafe { std::arch::x86_64::_mm256_loadu_ps(p) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
#[inline]
unsafe fn load_f16(p: *const u16) -> std::arch::x86_64::__m256 {
    use std::arch::x86_64::*;
    // SAFETY: the caller reads 8 halves (16 bytes) inside its slice.
    unsafe { _mm256_cvtph_ps(_mm_loadu_si128(p.cast())) }
}

dots_avx2_for!(f32, dots_f32_avx2, load_f32);
dots_avx2_for!(u16, dots_f16_avx2, load_f16);

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
    fn dots_match_plain_sums_for_any_row_count() {
        for m in 1..=7 {
            for k in [5usize, 8, 16, 37] {
                let xs: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
                let w: Vec<f32> = (0..k).map(|i| 1.0 - i as f32 * 0.01).collect();
                let wh: Vec<u16> = w
                    .iter()
                    .map(|&v| half::f16::from_f32(v).to_bits())
                    .collect();
                let mut got = vec![0f32; m];
                let mut got_half = vec![0f32; m];
                dots(&xs, k, &w, &mut got);
                dots(&xs, k, &wh, &mut got_half);
                for j in 0..m {
                    let x = &xs[j * k..(j + 1) * k];
                    let plain: f32 = x.iter().zip(&w).map(|(a, b)| a * b).sum();
                    let plain_half: f32 = x.iter().zip(&wh).map(|(a, &b)| a * b.value()).sum();
                    assert!((got[j] - plain).abs() < 1e-4, "m {m} k {k} row {j}");
                    assert!(
                        (got_half[j] - plain_half).abs() < 1e-4,
                        "m {m} k {k} row {j}"
                    );
                }
            }
        }
    }
}
