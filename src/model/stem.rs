//! The stem: a dense k x k convolution of the few input channels with its bias and ReLU6
//! fused, fast on the CPU.
//!
//! candle ran EfficientNet's stem (3 -> 32 channels, 3x3, stride 2) as two padding copies and
//! a general convolution, a quarter of the encoder's time in the per-layer profile
//! (bench/README.md). Here each input channel is split once into stride phases, as the
//! depthwise kernel does, and each output channel sums its k x k x C taps over them, every tap
//! one long vectorised loop. Other devices keep candle's ops.

use std::mem::MaybeUninit;

use candle_core::{CpuStorage, CustomOp3, DType, Layout, Result, Shape, Tensor};

use super::cpu_storage::f32_slice;
use super::cpu_storage::written_by;
use super::depthwise::{accumulate, clamp_out, same_padding, split_phases, Geometry};

/// `clamp(conv(x, w) + b, 0, 6)` with TF "same" padding.
///
/// `x` is (N, C, H, W), `w` is (O, C, k, k), `b` is (O).
pub fn conv_relu6(x: &Tensor, w: &Tensor, b: &Tensor, stride: usize) -> Result<Tensor> {
    if x.device().is_cpu() && x.dtype() == DType::F32 {
        let x = x.contiguous()?;
        let w = w.contiguous()?;
        let b = b.contiguous()?;
        return x.apply_op3_no_bwd(&w, &b, &DenseRelu6 { stride });
    }
    let (_, _, h, wd) = x.dims4()?;
    let (out, _, k, _) = w.dims4()?;
    let (pt, pb, _) = same_padding(h, k, stride);
    let (pl, pr, _) = same_padding(wd, k, stride);
    let x = x.pad_with_zeros(2, pt, pb)?.pad_with_zeros(3, pl, pr)?;
    x.conv2d(w, 0, stride, 1, 1)?
        .broadcast_add(&b.reshape((1, out, 1, 1))?)?
        .clamp(0f32, 6f32)
}

thread_local! {
    /// The last picture's stride phases, kept for the next picture of the same size, so that
    /// a fresh buffer (600 KB at 224 x 224) is not cleared on one thread before every picture.
    static PHASES: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

struct DenseRelu6 {
    stride: usize,
}

impl CustomOp3 for DenseRelu6 {
    fn name(&self) -> &'static str {
        "conv-relu6"
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
        let (out, wc, k, k2) = l2.shape().dims4()?;
        let x = f32_slice(s1, l1, "conv-relu6")?;
        let w = f32_slice(s2, l2, "conv-relu6")?;
        let b = f32_slice(s3, l3, "conv-relu6")?;
        if wc != c || k != k2 || b.len() != out {
            candle_core::bail!(
                "conv-relu6: input has {c} channels, the weight is {out}x{wc}x{k}x{k2} and the \
                 bias has {} values",
                b.len()
            );
        }
        let g = Geometry::new(h, wd, k, self.stride);
        let (plane, taps, per_channel) = (h * wd, c * k * k, g.phases_len());
        // Every input channel's taps, channel after channel as in the weights, over the
        // channels' phases laid end to end.
        let offsets: Vec<usize> = (0..c)
            .flat_map(|ch| g.offsets.iter().map(move |o| ch * per_channel + o))
            .collect();
        // SAFETY: every output channel's job writes its whole (ho, wo) plane (clamp_out).
        let dst = unsafe {
            written_by(n * out * g.ho * g.wo, |dst| {
                for (image, dst) in dst.chunks_exact_mut(out * g.ho * g.wo).enumerate() {
                    let mut phases = PHASES.with_borrow_mut(std::mem::take);
                    if phases.len() != c * per_channel {
                        // Padding and slack stay zero: split_phases writes only the
                        // picture, so a buffer of the same size is reused as it is.
                        phases = vec![0f32; c * per_channel];
                    }
                    let src = &x[image * c * plane..(image + 1) * c * plane];
                    super::team::for_each_chunk_mut(
                        &mut phases,
                        per_channel,
                        || (),
                        |_, ch, ph| split_phases(&g, &src[ch * plane..(ch + 1) * plane], ph),
                    );
                    #[cfg(target_arch = "x86_64")]
                    let done = blocked::run(&g, &phases, &offsets, w, b, dst);
                    #[cfg(not(target_arch = "x86_64"))]
                    let done = false;
                    if !done {
                        let job =
                            |acc: &mut Vec<f32>, (o, dst): (usize, &mut [MaybeUninit<f32>])| {
                                let kernel = &w[o * taps..(o + 1) * taps];
                                channel_relu6(&g, &phases, &offsets, kernel, b[o], acc, dst);
                            };
                        let acc = || vec![0f32; g.acc_len()];
                        super::team::for_each_chunk_mut(dst, g.ho * g.wo, acc, |a, o, dst| {
                            job(a, (o, dst))
                        });
                    }
                    PHASES.with_borrow_mut(|kept| *kept = phases);
                }
            })
        };
        Ok((CpuStorage::F32(dst), Shape::from((n, out, g.ho, g.wo))))
    }
}

/// One output channel: bias, every input channel's taps, clamp to [0, 6].
fn channel_relu6(
    g: &Geometry,
    phases: &[f32],
    offsets: &[usize],
    kernel: &[f32],
    bias: f32,
    acc: &mut [f32],
    dst: &mut [MaybeUninit<f32>],
) {
    #[cfg(target_arch = "x86_64")]
    {
        use super::gemm_kernel::Isa;
        match Isa::detect() {
            // SAFETY: detect() only returns sets this CPU has.
            Isa::Avx512 => {
                return unsafe { channel_relu6_avx512(g, phases, offsets, kernel, bias, acc, dst) }
            }
            Isa::Avx2 => {
                return unsafe { channel_relu6_avx2(g, phases, offsets, kernel, bias, acc, dst) }
            }
            Isa::Portable => {}
        }
    }
    channel_relu6_body::<false>(g, phases, offsets, kernel, bias, acc, dst);
}

/// The same code compiled for AVX-512, so the tap loops run sixteen lanes wide.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn channel_relu6_avx512(
    g: &Geometry,
    phases: &[f32],
    offsets: &[usize],
    kernel: &[f32],
    bias: f32,
    acc: &mut [f32],
    dst: &mut [MaybeUninit<f32>],
) {
    channel_relu6_body::<true>(g, phases, offsets, kernel, bias, acc, dst);
}

/// The same code compiled for AVX2 and FMA, so the tap loops run eight lanes wide.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn channel_relu6_avx2(
    g: &Geometry,
    phases: &[f32],
    offsets: &[usize],
    kernel: &[f32],
    bias: f32,
    acc: &mut [f32],
    dst: &mut [MaybeUninit<f32>],
) {
    channel_relu6_body::<true>(g, phases, offsets, kernel, bias, acc, dst);
}

/// All input channels' taps go through one pass over the accumulator.
#[inline(always)]
fn channel_relu6_body<const FMA: bool>(
    g: &Geometry,
    phases: &[f32],
    offsets: &[usize],
    kernel: &[f32],
    bias: f32,
    acc: &mut [f32],
    dst: &mut [MaybeUninit<f32>],
) {
    acc.fill(bias);
    accumulate::<FMA>(kernel, offsets, phases, acc);
    clamp_out(g, acc, dst);
}

/// The stem on x86: a strip of one output row is computed for 8 output channels at once, so
/// each value loaded from the phases feeds 8 multiply-adds, and the rows being read stay in
/// L1. The per-channel path read all of the phases (600 KB for a 224 x 224 picture) once per
/// output channel, from L2, and was bound by that traffic.
#[cfg(target_arch = "x86_64")]
mod blocked {
    use std::mem::MaybeUninit;

    use super::Geometry;
    use crate::model::gemm_kernel::lanes::{self, Lanes};
    use crate::model::gemm_kernel::Isa;
    use crate::model::team::{self, SendPtr};

    /// Output channels computed together.
    const CB: usize = 8;

    /// One picture's operands.
    struct Plan<'a> {
        g: &'a Geometry,
        phases: &'a [f32],
        offsets: &'a [usize],
        w: &'a [f32],
        b: &'a [f32],
    }

    /// Convolves one picture into `dst` ((O, ho, wo)) with the vector kernels; false, having
    /// written nothing, where the CPU has neither AVX-512 nor AVX2.
    pub(super) fn run(
        g: &Geometry,
        phases: &[f32],
        offsets: &[usize],
        w: &[f32],
        b: &[f32],
        dst: &mut [MaybeUninit<f32>],
    ) -> bool {
        let isa = Isa::detect();
        if isa == Isa::Portable {
            return false;
        }
        assert_eq!(dst.len(), b.len() * g.ho * g.wo, "stem output size");
        assert_eq!(w.len(), b.len() * offsets.len(), "stem weight size");
        let plan = Plan {
            g,
            phases,
            offsets,
            w,
            b,
        };
        let out = SendPtr::new(dst.as_mut_ptr().cast::<f32>());
        // Two jobs per thread, of whole rows of every channel. With jobs of 4 rows, two
        // threads were barely faster than one; 4 jobs of 28 rows took 0.74 of that time and
        // 56 jobs of 2 rows 1.12 (a micro-benchmark). The likely cause: each job boundary
        // splits a cache line in each of the 32 output planes (a row starts mid-line unless
        // the allocation happens to be line-aligned), and the two cores pass it back and forth.
        let per = g.ho.div_ceil(2 * team::threads()).max(1);
        team::for_each(g.ho.div_ceil(per), |j| {
            let rows = j * per..((j + 1) * per).min(g.ho);
            // SAFETY: detect() returned a set this CPU has; jobs write disjoint rows.
            unsafe {
                match isa {
                    Isa::Avx512 => rows_avx512(&plan, rows, out.get()),
                    _ => rows_avx2(&plan, rows, out.get()),
                }
            }
        });
        true
    }

    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn rows_avx512(p: &Plan, rows: std::ops::Range<usize>, dst: *mut f32) {
        // SAFETY: forwarded from the caller.
        // 8 channels x 3 vectors of sums, three of inputs and a weight: 28 of 32 registers.
        unsafe { rows_with::<lanes::Avx512, 3>(p, rows, dst) }
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn rows_avx2(p: &Plan, rows: std::ops::Range<usize>, dst: *mut f32) {
        // SAFETY: forwarded from the caller.
        unsafe { rows_with::<lanes::Avx2, 1>(p, rows, dst) }
    }

    /// Rows `rows` of every output channel, in strips of `V` vectors; a row's last strip
    /// has only as many vectors as its pixels fill, so no multiply-add is spent on lanes
    /// past the row's end (112 = 48 + 48 + 16 with AVX-512).
    #[inline(always)]
    unsafe fn rows_with<L: Lanes, const V: usize>(
        p: &Plan,
        rows: std::ops::Range<usize>,
        dst: *mut f32,
    ) {
        let wo = p.g.wo;
        let step = V * L::W;
        for y in rows {
            for x in (0..wo).step_by(step) {
                let count = (wo - x).min(step);
                // SAFETY: x + count <= wo, y < ho.
                unsafe {
                    match (count.div_ceil(L::W), count.is_multiple_of(L::W)) {
                        (n, true) if n == V => channels::<L, V, true>(p, y, x, count, dst),
                        (n, false) if n == V => channels::<L, V, false>(p, y, x, count, dst),
                        (1, true) => channels::<L, 1, true>(p, y, x, count, dst),
                        (1, false) => channels::<L, 1, false>(p, y, x, count, dst),
                        (2, true) => channels::<L, 2, true>(p, y, x, count, dst),
                        (2, false) => channels::<L, 2, false>(p, y, x, count, dst),
                        _ => channels::<L, V, false>(p, y, x, count, dst),
                    }
                }
            }
        }
    }

    /// Every output channel of one strip of `N` vectors, `CB` channels at a time.
    #[inline(always)]
    unsafe fn channels<L: Lanes, const N: usize, const FULL: bool>(
        p: &Plan,
        y: usize,
        x: usize,
        count: usize,
        dst: *mut f32,
    ) {
        let out = p.b.len();
        let mut o = 0;
        // SAFETY (all calls): o + C <= out; the caller keeps the strip inside row y.
        unsafe {
            while o + CB <= out {
                strip::<L, N, CB, FULL>(p, y, x, o, count, dst);
                o += CB;
            }
            for o in o..out {
                strip::<L, N, 1, FULL>(p, y, x, o, count, dst);
            }
        }
    }

    /// Output channels `o..o + C`, row `y`, columns `x..x + count`: the bias, every tap in
    /// the order of the per-channel path (so the sums are the same), then the clamp.
    #[inline(always)]
    unsafe fn strip<L: Lanes, const V: usize, const C: usize, const FULL: bool>(
        p: &Plan,
        y: usize,
        x: usize,
        o: usize,
        count: usize,
        dst: *mut f32,
    ) {
        let taps = p.offsets.len();
        let part = |v: usize| count.saturating_sub(v * L::W).min(L::W);
        // SAFETY: reads stay below (ho - 1) * pitch + wo + the largest offset, inside the
        // phases; partial vectors are masked. Writes stay inside channel o + c's row y.
        unsafe {
            let mut acc = [[L::zero(); V]; C];
            for (c, a) in acc.iter_mut().enumerate() {
                *a = [L::splat(p.b[o + c]); V];
            }
            let base = p.phases.as_ptr().add(y * p.g.pitch + x);
            for (t, &off) in p.offsets.iter().enumerate() {
                let src = base.add(off);
                let mut xs = [L::zero(); V];
                for (v, xv) in xs.iter_mut().enumerate() {
                    *xv = if FULL {
                        L::load(src.add(v * L::W))
                    } else {
                        L::load_part(src.add(v * L::W), part(v))
                    };
                }
                for (c, a) in acc.iter_mut().enumerate() {
                    let wv = L::splat(*p.w.get_unchecked((o + c) * taps + t));
                    for v in 0..V {
                        a[v] = L::fma(xs[v], wv, a[v]);
                    }
                }
            }
            let plane = p.g.ho * p.g.wo;
            for (c, a) in acc.iter().enumerate() {
                let d = dst.add((o + c) * plane + y * p.g.wo + x);
                for (v, &r) in a.iter().enumerate() {
                    let r = L::clamp6(r);
                    if FULL {
                        L::store(d.add(v * L::W), r);
                    } else if part(v) > 0 {
                        L::store_part(d.add(v * L::W), r, part(v));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn cpu_kernel_matches_candle_conv() -> Result<()> {
        let dev = Device::Cpu;
        // Channel counts below, at and past a block of 8; rows narrower than a strip, a
        // whole strip and more, ending in a full, a partial and a narrower strip.
        for (k, s, h, c, o) in [
            (3, 2, 10, 3, 5),
            (3, 2, 11, 3, 8),
            (3, 1, 9, 2, 5),
            (5, 2, 12, 1, 5),
            (3, 2, 64, 3, 11),
            (3, 2, 71, 3, 32),
            (3, 1, 40, 2, 17),
            (3, 2, 96, 3, 16),
            (3, 2, 63, 3, 8),
        ] {
            let x = Tensor::randn(0f32, 1.0, (2, c, h, h + 1), &dev)?;
            let w = Tensor::randn(0f32, 1.0, (o, c, k, k), &dev)?;
            let b = Tensor::randn(0f32, 1.0, o, &dev)?;
            let fast = conv_relu6(&x, &w, &b, s)?;
            let (pt, pb, _) = same_padding(h, k, s);
            let (pl, pr, _) = same_padding(h + 1, k, s);
            let slow = x
                .pad_with_zeros(2, pt, pb)?
                .pad_with_zeros(3, pl, pr)?
                .conv2d(&w, 0, s, 1, 1)?
                .broadcast_add(&b.reshape((1, o, 1, 1))?)?
                .clamp(0f32, 6f32)?;
            assert_eq!(fast.dims(), slow.dims());
            let diff = (fast - slow)?.abs()?.max_all()?.to_scalar::<f32>()?;
            assert!(diff < 1e-4, "k={k} s={s} h={h} c={c} o={o}: {diff}");
        }
        Ok(())
    }
}
