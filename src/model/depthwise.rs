//! Depthwise convolution with fused bias and ReLU6, fast on the CPU.
//!
//! candle runs a grouped convolution as one convolution per group, which for a
//! depthwise layer (one group per channel, up to 1152 of them) is far too slow; on
//! the CPU this direct kernel is used instead, and other devices keep candle's op.

use std::mem::MaybeUninit;
use std::ops::Range;

use candle_core::{CpuStorage, CustomOp3, DType, Layout, Result, Shape, Tensor};

use super::cpu_storage::{f32_slice, written_by};

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
        let scratch = || Scratch::new(&geometry);
        #[cfg(target_arch = "x86_64")]
        {
            use super::gemm_kernel::Isa;
            let isa = Isa::detect();
            if isa != Isa::Portable {
                // Each thread takes the same band of rows in every plane: the band the stem
                // before it wrote on that core, and the pixels the projection after it reads
                // there (see team::for_each_init).
                let bands = super::team::threads().clamp(1, ho.max(1));
                let planes = n * c;
                let job = |scratch: &mut Scratch, j: usize, out: *mut f32| {
                    let (band, plane) = (j / planes, j % planes);
                    let ys = geometry.band_rows(band, bands);
                    let ch = plane % c;
                    let src = &x[plane * h * wd..(plane + 1) * h * wd];
                    let rows = geometry.input_rows(ys.clone());
                    // SAFETY: detect() gave this CPU's set, and the plane's rows `ys` are
                    // this job's alone.
                    unsafe {
                        rows_relu6(
                            isa,
                            &geometry,
                            (&src[rows.start * wd..rows.end * wd], rows.start),
                            (&w[ch * k * k..(ch + 1) * k * k], b[ch]),
                            scratch,
                            out.add(plane * ho * wo + ys.start * wo),
                            ys,
                        )
                    };
                };
                // SAFETY: the bands of each plane cover all of its rows, every pixel of
                // each (row_band).
                let out = unsafe {
                    written_by(n * c * ho * wo, |out: &mut [MaybeUninit<f32>]| {
                        let out = super::team::SendPtr::new(out.as_mut_ptr().cast::<f32>());
                        super::team::for_each_init(bands * planes, scratch, |s, j| {
                            job(s, j, out.get())
                        });
                    })
                };
                return Ok((CpuStorage::F32(out), Shape::from((n, c, ho, wo))));
            }
        }
        let job = |scratch: &mut Scratch, (plane, dst): (usize, &mut [MaybeUninit<f32>])| {
            let ch = plane % c;
            let src = &x[plane * h * wd..(plane + 1) * h * wd];
            let kernel = &w[ch * k * k..(ch + 1) * k * k];
            plane_relu6(&geometry, src, kernel, b[ch], scratch, dst);
        };
        // SAFETY: every plane's job writes its whole (ho, wo) chunk (clamp_out).
        let out = unsafe {
            written_by(n * c * ho * wo, |out| {
                super::team::for_each_chunk_mut(out, ho * wo, scratch, |s, plane, dst| {
                    job(s, (plane, dst))
                });
            })
        };
        Ok((CpuStorage::F32(out), Shape::from((n, c, ho, wo))))
    }
}

/// The accumulator's length is a multiple of this (one AVX-512 vector).
const ACC_ROUND: usize = 16;

/// Sizes of one layer's plane: input, kernel, stride, padding, phases and output.
pub(super) struct Geometry {
    h: usize,
    wd: usize,
    k: usize,
    s: usize,
    pt: usize,
    pl: usize,
    pub(super) pitch: usize,
    pub(super) phase_len: usize,
    pub(super) ho: usize,
    pub(super) wo: usize,
    /// Where each tap of the k x k kernel (row-major) starts reading in the phases; computed
    /// once per layer, since the divisions in it cost more than a small plane's arithmetic.
    pub(super) offsets: Vec<usize>,
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
        // Slack after each phase: the flat loop below reads up to k / s past a phase's end,
        // plus up to ACC_ROUND - 1 more where the accumulator is rounded up.
        let phase_len = phase_rows * pitch + k + ACC_ROUND;
        let mut offsets = Vec::with_capacity(k * k);
        for ky in 0..k {
            for kx in 0..k {
                let phase = (ky % s) * s + kx % s;
                offsets.push(phase * phase_len + (ky / s) * pitch + kx / s);
            }
        }
        Self {
            h,
            wd,
            k,
            s,
            pt,
            pl,
            pitch,
            phase_len,
            ho,
            wo,
            offsets,
        }
    }

    /// Output rows of band `r` of `bands` nearly equal bands.
    pub(super) fn band_rows(&self, r: usize, bands: usize) -> Range<usize> {
        r * self.ho / bands..(r + 1) * self.ho / bands
    }

    /// The input rows that output rows `out` read (the rest of their window is padding).
    pub(super) fn input_rows(&self, out: Range<usize>) -> Range<usize> {
        if out.is_empty() {
            return 0..0;
        }
        let first = (out.start * self.s).saturating_sub(self.pt);
        let end = ((out.end - 1) * self.s + self.k)
            .saturating_sub(self.pt)
            .min(self.h);
        first..end.max(first)
    }

    /// Floats of one plane's phases (all s x s of them).
    pub(super) fn phases_len(&self) -> usize {
        self.s * self.s * self.phase_len
    }

    /// Floats of the accumulator: the output rows at the full phase pitch, rounded up to
    /// whole vectors so that no tap ends in a scalar loop (the extra values are thrown away).
    pub(super) fn acc_len(&self) -> usize {
        (self.ho * self.pitch).next_multiple_of(ACC_ROUND)
    }
}

/// Per-thread buffers: the padded input split into phases, and the output at full pitch.
pub(super) struct Scratch {
    phases: Vec<f32>,
    /// Made on first use: only the portable path has an accumulator.
    acc: Vec<f32>,
}

impl Scratch {
    /// Buffers for planes of this geometry; the phases' padding is zero and stays zero.
    pub(super) fn new(g: &Geometry) -> Self {
        Self {
            phases: vec![0f32; g.phases_len()],
            acc: Vec::new(),
        }
    }
}

/// One channel plane: pads `src` into phases, convolves, adds the bias, clamps to [0, 6].
pub(super) fn plane_relu6(
    g: &Geometry,
    src: &[f32],
    kernel: &[f32],
    bias: f32,
    scratch: &mut Scratch,
    dst: &mut [MaybeUninit<f32>],
) {
    #[cfg(target_arch = "x86_64")]
    {
        use super::gemm_kernel::Isa;
        let isa = Isa::detect();
        if isa != Isa::Portable {
            assert_eq!(kernel.len(), g.offsets.len(), "depthwise kernel size");
            assert_eq!(dst.len(), g.ho * g.wo, "depthwise output size");
            split_phases(g, src, &mut scratch.phases);
            // SAFETY: detect() only returns sets this CPU has; the sizes were checked above.
            unsafe { rows::plane(isa, g, &scratch.phases, kernel, bias, dst) };
            return;
        }
    }
    plane_relu6_body::<false>(g, src, kernel, bias, scratch, dst);
}

/// Output rows `ys` of one channel plane into `out` (row `ys.start` of the output plane, rows
/// `g.wo` apart), from `input`:
/// the plane's rows `g.input_rows(ys)`, starting with row `first`. Pads them into phases,
/// convolves, adds the bias and clamps, as [`plane_relu6`] does for a whole plane.
///
/// # Safety
/// `isa` is a vector set this CPU has, `kernel` has k x k weights, and `out` is valid for
/// `ys.len()` rows of `g.wo` values (`ys.end <= g.ho`), which nothing else writes meanwhile.
#[cfg(target_arch = "x86_64")]
pub(super) unsafe fn rows_relu6(
    isa: super::gemm_kernel::Isa,
    g: &Geometry,
    (input, first): (&[f32], usize),
    (kernel, bias): (&[f32], f32),
    scratch: &mut Scratch,
    out: *mut f32,
    ys: Range<usize>,
) {
    assert_eq!(kernel.len(), g.offsets.len(), "depthwise kernel size");
    split_phase_rows(g, input, first, &mut scratch.phases);
    // SAFETY: forwarded from the caller; the phases are the geometry's.
    unsafe { rows::plane_rows(isa, g, &scratch.phases, kernel, bias, out, ys) };
}

/// The vector path: each strip of output pixels sums its taps in registers and is clamped
/// and written once, straight to the output. The flat accumulator of the portable path
/// (filled, added into tap by tap, then clamped into the output) took three extra passes
/// over a plane that, at 112 x 112, does not fit in L1; its clamping pass alone was a fifth
/// of this kernel's profile. The sums run in the same order, so the results are the same.
#[cfg(target_arch = "x86_64")]
mod rows {
    use std::mem::MaybeUninit;
    use std::ops::Range;

    use super::Geometry;
    use crate::model::gemm_kernel::lanes::{self, Lanes};
    use crate::model::gemm_kernel::Isa;

    /// Convolves one plane's phases into `dst` ((ho, wo)).
    ///
    /// # Safety
    /// `isa` is a vector set this CPU has; `kernel` has one weight per offset in `g`,
    /// `phases` is `g.phases_len()` long and `dst` is `g.ho * g.wo` long.
    pub(super) unsafe fn plane(
        isa: Isa,
        g: &Geometry,
        phases: &[f32],
        kernel: &[f32],
        bias: f32,
        dst: &mut [MaybeUninit<f32>],
    ) {
        debug_assert!(phases.len() >= g.phases_len() && dst.len() == g.ho * g.wo);
        let out = dst.as_mut_ptr().cast::<f32>();
        // SAFETY: forwarded from the caller; all rows of `dst`.
        unsafe { plane_rows(isa, g, phases, kernel, bias, out, 0..g.ho) }
    }

    /// [`plane`] for output rows `ys` only, into `out`: row `ys.start` of the output plane.
    ///
    /// # Safety
    /// As [`plane`], with `out` valid for `ys.len()` rows of `g.wo` values, which only this
    /// call writes meanwhile, and `ys.end <= g.ho`.
    pub(super) unsafe fn plane_rows(
        isa: Isa,
        g: &Geometry,
        phases: &[f32],
        kernel: &[f32],
        bias: f32,
        out: *mut f32,
        ys: Range<usize>,
    ) {
        debug_assert!(phases.len() >= g.phases_len() && ys.end <= g.ho);
        // SAFETY: forwarded from the caller.
        unsafe {
            match isa {
                Isa::Avx512 => plane_avx512(g, phases.as_ptr(), kernel, bias, out, ys),
                _ => plane_avx2(g, phases.as_ptr(), kernel, bias, out, ys),
            }
        }
    }

    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn plane_avx512(
        g: &Geometry,
        src: *const f32,
        kernel: &[f32],
        bias: f32,
        out: *mut f32,
        ys: Range<usize>,
    ) {
        // SAFETY: forwarded from the caller.
        unsafe { plane_with::<lanes::Avx512>(g, src, kernel, bias, out, ys) }
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn plane_avx2(
        g: &Geometry,
        src: *const f32,
        kernel: &[f32],
        bias: f32,
        out: *mut f32,
        ys: Range<usize>,
    ) {
        // SAFETY: forwarded from the caller.
        unsafe { plane_with::<lanes::Avx2>(g, src, kernel, bias, out, ys) }
    }

    /// Strips of up to four vectors along each row; narrow planes take two or four rows at
    /// once instead, so that every tap still feeds four independent sums.
    #[inline(always)]
    unsafe fn plane_with<L: Lanes>(
        g: &Geometry,
        src: *const f32,
        kernel: &[f32],
        bias: f32,
        out: *mut f32,
        ys: Range<usize>,
    ) {
        let per_row = g.wo.div_ceil(L::W);
        let band = match per_row {
            1 => 4,
            2 => 2,
            _ => 1,
        };
        let mut y = ys.start;
        // Output row y is row y - ys.start of `out`.
        let out = out.wrapping_sub(ys.start * g.wo);
        // SAFETY (all calls): ys.start <= y, y + R <= ys.end <= ho, and strips stay inside
        // the row (row_band), so every store lands in the caller's rows.
        unsafe {
            while y + band <= ys.end {
                match band {
                    4 => row_band::<L, 4>(g, src, kernel, bias, out, y),
                    2 => row_band::<L, 2>(g, src, kernel, bias, out, y),
                    _ => row_band::<L, 1>(g, src, kernel, bias, out, y),
                }
                y += band;
            }
            for y in y..ys.end {
                row_band::<L, 1>(g, src, kernel, bias, out, y);
            }
        }
    }

    /// Output rows `y..y + R`, in strips of at most four vectors, the last one masked.
    #[inline(always)]
    unsafe fn row_band<L: Lanes, const R: usize>(
        g: &Geometry,
        src: *const f32,
        kernel: &[f32],
        bias: f32,
        out: *mut f32,
        y: usize,
    ) {
        let mut x = 0;
        while x < g.wo {
            let vectors = (g.wo - x).div_ceil(L::W).min(4);
            let last = (g.wo - x - (vectors - 1) * L::W).min(L::W);
            // SAFETY: the strip's columns x..x + (vectors - 1) * W + last end at or before wo.
            unsafe {
                match vectors {
                    4 => strip::<L, 4, R>(g, src, kernel, bias, out, y, x, last),
                    3 => strip::<L, 3, R>(g, src, kernel, bias, out, y, x, last),
                    2 => strip::<L, 2, R>(g, src, kernel, bias, out, y, x, last),
                    _ => strip::<L, 1, R>(g, src, kernel, bias, out, y, x, last),
                }
            }
            x += vectors * L::W;
        }
    }

    /// `N` vectors of `R` rows from column `x`; the last vector of each row has `last` lanes.
    /// Each sum starts at the bias and adds the taps in kernel order, as the portable path.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    unsafe fn strip<L: Lanes, const N: usize, const R: usize>(
        g: &Geometry,
        src: *const f32,
        kernel: &[f32],
        bias: f32,
        out: *mut f32,
        y: usize,
        x: usize,
        last: usize,
    ) {
        // SAFETY: output row r reads phase rows y + r + ky / s at columns below
        // x + N * W <= wo + W - 1 + kx / s, inside the phases (each has slack after it);
        // partial vectors are masked. Writes stay inside output rows y..y + R.
        unsafe {
            let mut acc = [[L::splat(bias); N]; R];
            for (&w, &at) in kernel.iter().zip(&g.offsets) {
                let w = L::splat(w);
                for (r, acc) in acc.iter_mut().enumerate() {
                    let p = src.add(at + (y + r) * g.pitch + x);
                    for (v, acc) in acc.iter_mut().enumerate() {
                        let input = if v + 1 == N {
                            L::load_part(p.add(v * L::W), last)
                        } else {
                            L::load(p.add(v * L::W))
                        };
                        *acc = L::fma(w, input, *acc);
                    }
                }
            }
            for (r, acc) in acc.iter().enumerate() {
                let q = out.wrapping_add((y + r) * g.wo + x);
                for (v, &acc) in acc.iter().enumerate() {
                    if v + 1 == N {
                        L::store_part(q.add(v * L::W), L::clamp6(acc), last);
                    } else {
                        L::store(q.add(v * L::W), L::clamp6(acc));
                    }
                }
            }
        }
    }
}

/// Computes the output on rows of the full phase pitch: the few extra columns on the right
/// are thrown away, and in exchange each tap is one long loop over the whole plane, which
/// vectorises even when the plane is only 7 or 14 pixels wide.
#[inline(always)]
fn plane_relu6_body<const FMA: bool>(
    g: &Geometry,
    src: &[f32],
    kernel: &[f32],
    bias: f32,
    scratch: &mut Scratch,
    dst: &mut [MaybeUninit<f32>],
) {
    let Scratch { phases, acc } = scratch;
    split_phases(g, src, phases);
    acc.clear();
    acc.resize(g.acc_len(), bias);
    accumulate::<FMA>(kernel, &g.offsets, phases, acc);
    clamp_out(g, acc, dst);
}

/// Copies `src` (one (h, wd) plane) into its stride phases; padding and slack are never
/// written, so they must be zero from the allocation.
#[inline(always)]
pub(super) fn split_phases(g: &Geometry, src: &[f32], phases: &mut [f32]) {
    split_phase_rows(g, src, 0, phases);
}

/// [`split_phases`] for some rows of a plane: `rows` holds its rows from `first` on.
#[inline(always)]
fn split_phase_rows(g: &Geometry, rows: &[f32], first: usize, phases: &mut [f32]) {
    let (s, pitch) = (g.s, g.pitch);
    for (y, row) in rows.chunks_exact(g.wd).enumerate() {
        let y = y + first;
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
        let (evens, odds) = (row.len().div_ceil(2), row.len() / 2);
        // The two runs lie in different phases, so they never overlap.
        let (even_run, odd_run) = if even < odd {
            let (a, b) = phases.split_at_mut(odd);
            (&mut a[even..even + evens], &mut b[..odds])
        } else {
            let (a, b) = phases.split_at_mut(even);
            (&mut b[..evens], &mut a[odd..odd + odds])
        };
        deinterleave(row, even_run, odd_run);
    }
}

/// Copies the even-indexed values of `row` to `even` and the odd ones to `odd`, in pairs, a
/// shape the compiler turns into vector shuffles (a strided loop per phase stays scalar).
#[inline(always)]
fn deinterleave(row: &[f32], even: &mut [f32], odd: &mut [f32]) {
    let pairs = row.chunks_exact(2);
    if let [last] = pairs.remainder() {
        even[row.len() / 2] = *last;
    }
    for ((pair, e), o) in pairs.zip(even.iter_mut()).zip(odd.iter_mut()) {
        *e = pair[0];
        *o = pair[1];
    }
}

/// `acc += Σ kernel[t] · phases[offsets[t]..]` over the taps, a chunk of the accumulator at a time: the chunk
/// stays in registers through every tap and is written once, where one pass per tap would
/// read and write the whole accumulator k² times. `FMA` fuses the multiply-add (only where
/// the caller was compiled with FMA: elsewhere `mul_add` is a slow library call).
#[inline(always)]
pub(super) fn accumulate<const FMA: bool>(
    kernel: &[f32],
    offsets: &[usize],
    phases: &[f32],
    acc: &mut [f32],
) {
    let taps = || kernel.iter().copied().zip(offsets.iter().copied());
    const CHUNK: usize = 64;
    let n = acc.len();
    let full = n / CHUNK * CHUNK;
    for base in (0..full).step_by(CHUNK) {
        let mut local = [0f32; CHUNK];
        local.copy_from_slice(&acc[base..base + CHUNK]);
        for (w, at) in taps() {
            let src = &phases[at + base..at + base + CHUNK];
            for (l, &v) in local.iter_mut().zip(src) {
                *l = madd::<FMA>(w, v, *l);
            }
        }
        acc[base..base + CHUNK].copy_from_slice(&local);
    }
    // The rest in vectors of 16 (the accumulator's length is rounded to them), then singly.
    let sixteens = full + (n - full) / 16 * 16;
    for base in (full..sixteens).step_by(16) {
        let mut local = [0f32; 16];
        local.copy_from_slice(&acc[base..base + 16]);
        for (w, at) in taps() {
            let src = &phases[at + base..at + base + 16];
            for (l, &v) in local.iter_mut().zip(src) {
                *l = madd::<FMA>(w, v, *l);
            }
        }
        acc[base..base + 16].copy_from_slice(&local);
    }
    for (w, at) in taps() {
        for (o, &v) in acc[sixteens..]
            .iter_mut()
            .zip(&phases[at + sixteens..at + n])
        {
            *o = madd::<FMA>(w, v, *o);
        }
    }
}

#[inline(always)]
fn madd<const FMA: bool>(w: f32, v: f32, acc: f32) -> f32 {
    if FMA {
        w.mul_add(v, acc)
    } else {
        acc + w * v
    }
}

/// Writes the accumulator's valid columns to `dst`, clamped to [0, 6].
#[inline(always)]
pub(super) fn clamp_out(g: &Geometry, acc: &[f32], dst: &mut [MaybeUninit<f32>]) {
    for (oy, out_row) in dst.chunks_exact_mut(g.wo).enumerate().take(g.ho) {
        let row = &acc[oy * g.pitch..oy * g.pitch + g.wo];
        for (o, v) in out_row.iter_mut().zip(row) {
            o.write(v.clamp(0.0, 6.0));
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

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn vector_rows_give_the_flat_paths_bits() {
        use crate::model::gemm_kernel::Isa;
        // Wide rows (whole strips and a masked tail), narrow ones (bands of 2 and 4 rows,
        // with leftover rows), both strides and kernel sizes.
        for (h, wd, k, s) in [
            (40, 37, 3, 1),
            (23, 70, 5, 2),
            (9, 7, 3, 1),
            (13, 20, 5, 1),
            (30, 112, 3, 2),
            (11, 150, 5, 1),
        ] {
            let g = Geometry::new(h, wd, k, s);
            let src: Vec<f32> = (0..h * wd)
                .map(|i| (i * 7919 % 1000) as f32 / 250.0 - 1.0)
                .collect();
            let kernel: Vec<f32> = (0..k * k).map(|i| (i as f32 * 0.37).sin()).collect();
            let mut flat = vec![MaybeUninit::new(f32::NAN); g.ho * g.wo];
            plane_relu6_body::<true>(&g, &src, &kernel, 0.3, &mut Scratch::new(&g), &mut flat);
            for isa in Isa::available().into_iter().filter(|i| *i != Isa::Portable) {
                let mut scratch = Scratch::new(&g);
                split_phases(&g, &src, &mut scratch.phases);
                let mut fast = vec![MaybeUninit::new(f32::NAN); g.ho * g.wo];
                // SAFETY: the set is this CPU's; the sizes are the geometry's.
                unsafe { rows::plane(isa, &g, &scratch.phases, &kernel, 0.3, &mut fast) };
                for (i, (a, b)) in fast.iter().zip(&flat).enumerate() {
                    // SAFETY: both were filled with NaN before the kernels wrote them.
                    let (a, b) = unsafe { (a.assume_init(), b.assume_init()) };
                    assert_eq!(
                        a.to_bits(),
                        b.to_bits(),
                        "{isa:?} {h}x{wd} k{k} s{s} at {i}"
                    );
                }
            }
        }
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
