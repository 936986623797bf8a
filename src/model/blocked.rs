//! The encoder's small late layers in a channel-blocked layout (NCHW16c), on x86.
//!
//! From 14 x 14 pixels down, a plane has 196 or 49 values: vectors laid along pixels
//! (NCHW) end a row of 49 with one lane in use of sixteen, and a 7 x 7 depthwise plane is
//! mostly padding and set-up. Laid out as blocks of 16 channels, one vector holds 16 channels
//! of one pixel: the 1x1 convolutions broadcast an input value and multiply a vector of 16
//! output channels' weights, the depthwise convolutions multiply a vector of 16 channels'
//! taps, and every lane is used whatever the picture size. The sums run in the same order as
//! the NCHW kernels', so the results are the same.

use std::mem::MaybeUninit;
use std::ops::Range;

#[cfg(target_arch = "x86_64")]
use super::gemm_kernel::lanes::{self, Lanes};
use super::gemm_kernel::Isa;
use super::team::{self, SendPtr};

/// Channels per block.
pub(super) const CB: usize = 16;

/// One cache line: 16 floats on a 64-byte boundary.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([f32; CB]);

/// Floats in whole cache lines, from a line boundary. A plain `Vec<f32>` may start anywhere
/// on a 16-byte boundary, and then every 16-channel vector of a blocked map, every packed
/// weight vector and every store straddles two lines (about half of the encoder's maps did).
struct Lines(Vec<Line>);

impl Lines {
    /// `len` zeros (`len` is a multiple of 16).
    fn zeroed(len: usize) -> Self {
        assert!(len.is_multiple_of(CB), "{len} floats are not whole lines");
        Self(vec![Line([0.0; CB]); len / CB])
    }

    /// `len` floats (a multiple of 16) that `fill` writes through the pointer it is given.
    ///
    /// # Safety
    /// `fill` must write every value.
    unsafe fn written_by(len: usize, fill: impl FnOnce(SendPtr<f32>)) -> Self {
        assert!(len.is_multiple_of(CB), "{len} floats are not whole lines");
        // SAFETY: the caller promises that every value is written.
        Self(unsafe {
            super::cpu_storage::written_by(len / CB, |lines: &mut [MaybeUninit<Line>]| {
                fill(SendPtr::new(lines.as_mut_ptr().cast()))
            })
        })
    }

    /// `values`, then zeros up to whole lines (a bias padded to whole channel blocks).
    fn zero_padded(values: &[f32]) -> Self {
        let mut lines = Self::zeroed(padded(values.len()));
        lines[..values.len()].copy_from_slice(values);
        lines
    }
}

impl std::ops::Deref for Lines {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        // SAFETY: a Line is 16 f32 with no padding (repr(C), size 64), so the lines are
        // 16 * len contiguous floats.
        unsafe { std::slice::from_raw_parts(self.0.as_ptr().cast(), self.0.len() * CB) }
    }
}

impl std::ops::DerefMut for Lines {
    fn deref_mut(&mut self) -> &mut [f32] {
        // SAFETY: as in deref, and the borrow is unique.
        unsafe { std::slice::from_raw_parts_mut(self.0.as_mut_ptr().cast(), self.0.len() * CB) }
    }
}

/// One image's activations as (C / 16, H * W, 16), C rounded up to whole blocks; the
/// channels past C are zero.
pub(super) struct BlockedMap {
    data: Lines,
    /// Channels, without the padding.
    c: usize,
    h: usize,
    w: usize,
}

impl BlockedMap {
    /// Re-lays one (C, H, W) image.
    pub(super) fn from_nchw(x: &[f32], c: usize, h: usize, w: usize) -> Self {
        assert_eq!(x.len(), c * h * w, "{c}x{h}x{w} input");
        let hw = h * w;
        let mut data = Lines::zeroed(padded(c) * hw);
        for (ch, plane) in x.chunks_exact(hw).enumerate() {
            let block = &mut data[(ch / CB) * hw * CB..(ch / CB + 1) * hw * CB];
            for (p, &v) in plane.iter().enumerate() {
                block[p * CB + ch % CB] = v;
            }
        }
        Self { data, c, h, w }
    }

    /// Back to (C, H, W).
    pub(super) fn to_nchw(&self) -> Vec<f32> {
        let hw = self.h * self.w;
        let mut out = vec![0f32; self.c * hw];
        for (ch, plane) in out.chunks_exact_mut(hw).enumerate() {
            let block = &self.data[(ch / CB) * hw * CB..(ch / CB + 1) * hw * CB];
            for (p, v) in plane.iter_mut().enumerate() {
                *v = block[p * CB + ch % CB];
            }
        }
        out
    }

    /// The mean of each channel over the pixels: the mean of each row, then of the rows, as
    /// the NCHW path pools. The 16 channels of a block are summed side by side, each in the
    /// same order as alone, so the compiler can keep them in one vector.
    pub(super) fn channel_means(&self) -> Vec<f32> {
        let hw = self.h * self.w;
        let (w, h) = (self.w as f32, self.h as f32);
        let mut out = Vec::with_capacity(padded(self.c));
        for block in self.data.chunks_exact(hw * CB) {
            let mut total = [0f32; CB];
            for row in block.chunks_exact(self.w * CB) {
                let mut sum = [0f32; CB];
                for pixel in row.chunks_exact(CB) {
                    for (s, v) in sum.iter_mut().zip(pixel) {
                        *s += v;
                    }
                }
                for (t, s) in total.iter_mut().zip(sum) {
                    *t += s / w;
                }
            }
            out.extend(total.map(|t| t / h));
        }
        out.truncate(self.c);
        out
    }

    /// Channels, height and width.
    pub(super) fn dims(&self) -> (usize, usize, usize) {
        (self.c, self.h, self.w)
    }

    /// A map that `fill` writes through the pointer it is given, with no zeroing pass
    /// first: the caller thread cleared each output alone, as long as the layer's own work
    /// took on two threads.
    ///
    /// # Safety
    /// `fill` must write every value, the padding channels' zeros included.
    unsafe fn written_by(c: usize, h: usize, w: usize, fill: impl FnOnce(SendPtr<f32>)) -> Self {
        // SAFETY: the caller promises that every value is written.
        let data = unsafe { Lines::written_by(padded(c) * h * w, fill) };
        Self { data, c, h, w }
    }
}

/// `c` rounded up to whole blocks.
fn padded(c: usize) -> usize {
    c.next_multiple_of(CB)
}

/// Whether this CPU has a blocked kernel set.
pub(super) fn available() -> bool {
    cfg!(target_arch = "x86_64") && Isa::detect() != Isa::Portable
}

/// A 1x1 convolution packed for blocked maps: weights as (M / 16, K, 16), so the 16 output
/// channels of one block and one input channel are one vector. M and K are rounded up to
/// whole blocks with zero weights and biases, so padding channels stay zero.
pub(super) struct BlockedPointwise {
    m: usize,
    k: usize,
    /// K rounded up.
    kp: usize,
    data: Lines,
    bias: Lines,
}

impl BlockedPointwise {
    /// Packs W (`m` x `k`, row-major) and its bias (`m`).
    pub(super) fn new(weight: &[f32], bias: &[f32], m: usize, k: usize) -> Self {
        assert!(weight.len() == m * k && bias.len() == m, "{m}x{k} weights");
        let kp = padded(k);
        let mut data = Lines::zeroed(padded(m) * kp);
        for (o, row) in weight.chunks_exact(k).enumerate() {
            for (kk, &v) in row.iter().enumerate() {
                data[(o / CB) * kp * CB + kk * CB + o % CB] = v;
            }
        }
        Self {
            m,
            k,
            kp,
            data,
            bias: Lines::zero_padded(bias),
        }
    }

    /// `act(W · x + b (+ residual))`.
    pub(super) fn apply(
        &self,
        x: &BlockedMap,
        residual: Option<&BlockedMap>,
        relu6: bool,
    ) -> BlockedMap {
        assert_eq!(x.c, self.k, "pointwise input channels");
        if let Some(r) = residual {
            assert_eq!(r.data.len(), padded(self.m) * x.h * x.w, "residual size");
        }
        // SAFETY: the jobs below cover every output channel, padding included (whose zero
        // weights and biases give zeros), at every pixel.
        unsafe { BlockedMap::written_by(self.m, x.h, x.w, |out| self.run(x, residual, relu6, out)) }
    }

    /// The jobs of [`Self::apply`], writing into `out`.
    fn run(&self, x: &BlockedMap, residual: Option<&BlockedMap>, relu6: bool, out: SendPtr<f32>) {
        let isa = Isa::detect();
        let job = PointwiseJob {
            w: self,
            x: &x.data,
            pixels: x.h * x.w,
            residual: residual.map(|r| &r.data[..]),
            relu6,
            out,
        };
        // Jobs of at most three vectors of output channels (48 with AVX-512), as nearly equal
        // as they can be, or 16 channels (two vectors) with AVX2. A tile of three vectors by
        // nine pixels loads 12 values for its 27 multiply-adds; the two-vector tiles of up to
        // 14 pixels this replaced loaded 16 for 28. Measured with `seesay bench --layers`
        // against them, twelve rounds each: every blocked 1x1 layer and the head together
        // took 0.96 of their time with one thread (the 7 x 7 ones 0.91 to 0.97) and 0.98
        // with two.
        let m = padded(self.m);
        let blocks_per_job = if isa == Isa::Avx512 { 3 } else { 1 };
        let blocks = m / CB;
        let jobs = blocks.div_ceil(blocks_per_job);
        let mut bounds = vec![0];
        for j in 0..jobs {
            let b = blocks / jobs + usize::from(j < blocks % jobs);
            bounds.push(bounds[j] + b * CB);
        }
        // With few jobs two threads would split the work unevenly, so the pixels are split
        // too, into spans of nearly equal length.
        let tiles = bounds.len() - 1;
        let pixels = x.h * x.w;
        let threads = team::threads();
        let spans = (4 * threads).div_ceil(tiles).clamp(1, pixels.max(1));
        // Each thread starts on its own share of the jobs (see team::for_each_init). A layer
        // that narrows the channels (a projection) gives each thread its own pixels, with
        // every output channel: its large input is then read once, by one core. A layer that
        // widens them (an expansion, the head) gives each thread its own output channels,
        // with every pixel: its many weights are then read once. Measured with two threads
        // against the other order, `seesay bench --layers`: the 14 x 14 projections took
        // 0.76 to 0.95 of their time and the 7 x 7 ones 0.91 to 0.94; the 7 x 7 expansions
        // took 1.08 times as long in pixel order, and the head 1.05.
        let by_pixels = self.m < self.k;
        let spans = if by_pixels {
            spans.div_ceil(threads) * threads
        } else {
            spans
        };
        team::for_each(tiles * spans, |j| {
            let (t, part) = if by_pixels {
                (j % tiles, j / tiles)
            } else {
                (j / spans, j % spans)
            };
            let px = part * pixels / spans..(part + 1) * pixels / spans;
            if !px.is_empty() {
                job.run(isa, bounds[t]..bounds[t + 1], px);
            }
        });
    }
}

struct PointwiseJob<'a> {
    w: &'a BlockedPointwise,
    x: &'a [f32],
    pixels: usize,
    residual: Option<&'a [f32]>,
    relu6: bool,
    out: SendPtr<f32>,
}

impl PointwiseJob<'_> {
    /// One job's tile of the output; jobs write disjoint tiles.
    #[cfg(target_arch = "x86_64")]
    fn run(&self, isa: Isa, channels: Range<usize>, pixels: Range<usize>) {
        // SAFETY: `isa` came from detect(), so this CPU has it.
        unsafe {
            match isa {
                Isa::Avx512 => self.run_avx512(channels, pixels),
                _ => self.run_avx2(channels, pixels),
            }
        }
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn run(&self, _: Isa, _: Range<usize>, _: Range<usize>) {
        unreachable!("the blocked layers run only on x86-64 (see available)")
    }
}

#[cfg(target_arch = "x86_64")]
impl PointwiseJob<'_> {
    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn run_avx512(&self, channels: Range<usize>, pixels: Range<usize>) {
        // 2 x 14 accumulators, two weight vectors and a broadcast: 31 of the 32 registers.
        // SAFETY: forwarded.
        unsafe { self.run_with::<lanes::Avx512, 14>(channels, pixels) }
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn run_avx2(&self, channels: Range<usize>, pixels: Range<usize>) {
        // 2 x 6 accumulators, two weight vectors and a broadcast: 15 of the 16 registers.
        // SAFETY: forwarded.
        unsafe { self.run_with::<lanes::Avx2, 6>(channels, pixels) }
    }

    /// Output channels `channels` (one to three vectors) for pixels `pixels`, in tiles of at
    /// most `P` pixels, as nearly equal as they can be.
    ///
    /// Equal tiles, because a short tail tile is slow for its size: with one or four
    /// pixels its few sums wait on each other's multiply-adds. A 7 x 7 plane was cut into
    /// 4 x 12 + 1 pixels, and the one-pixel tile cost about a third of a full one.
    #[inline(always)]
    unsafe fn run_with<L: Lanes, const P: usize>(
        &self,
        channels: Range<usize>,
        pixels: Range<usize>,
    ) {
        let vectors = channels.len() / L::W;
        // Three vectors of channels leave room for 3 x 9 sums.
        let most = if vectors == 3 { 9 } else { P };
        let count = pixels.len().div_ceil(most);
        let mut p = pixels.start;
        for t in 0..count {
            // The first `len % count` tiles take one pixel more.
            let size = pixels.len() / count + usize::from(t < pixels.len() % count);
            // SAFETY: p + size fits, channels are whole vectors inside M.
            unsafe {
                match vectors {
                    3 => self.tile_of::<L, 3>(channels.start, p, size),
                    2 => self.tile_of::<L, 2>(channels.start, p, size),
                    1 => self.tile_of::<L, 1>(channels.start, p, size),
                    _ => unreachable!("a job has one to three vectors of channels"),
                }
            }
            p += size;
        }
    }

    /// One tile of `size` (1 to 14) pixels, with its size as a constant.
    #[inline(always)]
    unsafe fn tile_of<L: Lanes, const NV: usize>(&self, o: usize, p: usize, size: usize) {
        // SAFETY: forwarded.
        unsafe {
            match size {
                1 => self.tile::<L, NV, 1>(o, p),
                2 => self.tile::<L, NV, 2>(o, p),
                3 => self.tile::<L, NV, 3>(o, p),
                4 => self.tile::<L, NV, 4>(o, p),
                5 => self.tile::<L, NV, 5>(o, p),
                6 => self.tile::<L, NV, 6>(o, p),
                7 => self.tile::<L, NV, 7>(o, p),
                8 => self.tile::<L, NV, 8>(o, p),
                9 => self.tile::<L, NV, 9>(o, p),
                10 => self.tile::<L, NV, 10>(o, p),
                11 => self.tile::<L, NV, 11>(o, p),
                12 => self.tile::<L, NV, 12>(o, p),
                13 => self.tile::<L, NV, 13>(o, p),
                14 => self.tile::<L, NV, 14>(o, p),
                _ => unreachable!("tiles have 1 to 14 pixels"),
            }
        }
    }

    /// `NV` vectors of output channels from `o` by `P` pixels from `p`, in registers.
    #[inline(always)]
    unsafe fn tile<L: Lanes, const NV: usize, const P: usize>(&self, o: usize, p: usize) {
        let (k, n) = (self.w.kp, self.pixels);
        // Where channel `ch`'s lane sits for pixel `px` in a blocked map of `n` pixels.
        let at = |ch: usize, px: usize| (ch / CB) * n * CB + px * CB + ch % CB;
        // SAFETY: every index below is inside its map or the packed weights (callers keep
        // o + NV * W <= M and p + P <= n).
        unsafe {
            let mut acc = [[L::zero(); NV]; P];
            let w = self.w.data.as_ptr();
            let x = self.x.as_ptr();
            for kk in 0..k {
                let mut wv = [L::zero(); NV];
                for (v, r) in wv.iter_mut().enumerate() {
                    let ch = o + v * L::W;
                    *r = L::load(w.add((ch / CB) * k * CB + kk * CB + ch % CB));
                }
                let xk = x.add(at(kk, p));
                for (j, row) in acc.iter_mut().enumerate() {
                    let xb = L::splat(*xk.add(j * CB));
                    for (v, w) in wv.iter().enumerate() {
                        row[v] = L::fma(xb, *w, row[v]);
                    }
                }
            }
            let out = self.out.get();
            let mut bias = [L::zero(); NV];
            for (v, b) in bias.iter_mut().enumerate() {
                *b = L::load(self.w.bias.as_ptr().add(o + v * L::W));
            }
            for (j, row) in acc.iter().enumerate() {
                for (v, &sum) in row.iter().enumerate() {
                    let i = at(o + v * L::W, p + j);
                    let mut y = L::add(sum, bias[v]);
                    if let Some(r) = self.residual {
                        y = L::add(y, L::load(r.as_ptr().add(i)));
                    }
                    if self.relu6 {
                        y = L::clamp6(y);
                    }
                    L::store(out.add(i), y);
                }
            }
        }
    }
}

/// A depthwise k x k convolution with TF "same" padding, bias and ReLU6, for blocked maps:
/// taps as (C / 16, k * k, 16), C rounded up with zero taps and biases.
pub(super) struct BlockedDepthwise {
    c: usize,
    k: usize,
    stride: usize,
    taps: Lines,
    bias: Lines,
}

impl BlockedDepthwise {
    /// Packs (C, 1, k, k) weights and their bias (C).
    pub(super) fn new(weight: &[f32], bias: &[f32], c: usize, k: usize, stride: usize) -> Self {
        assert!(
            weight.len() == c * k * k && bias.len() == c,
            "{c}x{k}x{k} taps"
        );
        let mut taps = Lines::zeroed(padded(c) * k * k);
        for (ch, kernel) in weight.chunks_exact(k * k).enumerate() {
            for (t, &v) in kernel.iter().enumerate() {
                taps[(ch / CB) * k * k * CB + t * CB + ch % CB] = v;
            }
        }
        Self {
            c,
            k,
            stride,
            taps,
            bias: Lines::zero_padded(bias),
        }
    }

    /// `clamp(depthwise(x) + b, 0, 6)`.
    pub(super) fn apply(&self, x: &BlockedMap) -> BlockedMap {
        assert_eq!(x.c, self.c, "depthwise channels");
        let (k, s) = (self.k, self.stride);
        let (pt, pb, ho) = super::depthwise::same_padding(x.h, k, s);
        let (pl, pr, wo) = super::depthwise::same_padding(x.w, k, s);
        let g = PadGeometry {
            h: x.h,
            w: x.w,
            pt,
            pl,
            hp: x.h + pt + pb,
            wp: x.w + pl + pr,
            ho,
            wo,
        };
        let isa = Isa::detect();
        let run = |dst: SendPtr<f32>| {
            team::for_each_init(
                padded(self.c) / CB,
                || Lines::zeroed(g.hp * g.wp * CB),
                |padded, b| {
                    let src = &x.data[b * x.h * x.w * CB..(b + 1) * x.h * x.w * CB];
                    g.pad(src, padded);
                    // SAFETY: the output holds every block; each job writes only its own.
                    unsafe { self.block(isa, &g, padded, b, dst.get().add(b * ho * wo * CB)) };
                },
            )
        };
        // SAFETY: every block's job writes its whole (ho, wo, 16) output (block_with covers
        // every pixel of every row with all 16 lanes); padding blocks get zero taps and bias.
        unsafe { BlockedMap::written_by(self.c, ho, wo, run) }
    }

    /// One channel block into `out`.
    ///
    /// # Safety
    /// `out` must hold the block's (ho, wo, 16) output, written by no one else meanwhile.
    #[cfg(target_arch = "x86_64")]
    unsafe fn block(&self, isa: Isa, g: &PadGeometry, padded: &[f32], b: usize, out: *mut f32) {
        // SAFETY: `isa` came from detect(), so this CPU has it; the caller vouches for `out`.
        unsafe {
            match isa {
                Isa::Avx512 => self.block_avx512(g, padded, b, out),
                _ => self.block_avx2(g, padded, b, out),
            }
        }
    }

    #[cfg(not(target_arch = "x86_64"))]
    unsafe fn block(&self, _: Isa, _: &PadGeometry, _: &[f32], _: usize, _: *mut f32) {
        unreachable!("the blocked layers run only on x86-64 (see available)")
    }
}

#[cfg(target_arch = "x86_64")]
impl BlockedDepthwise {
    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn block_avx512(&self, g: &PadGeometry, padded: &[f32], b: usize, out: *mut f32) {
        // SAFETY (both): forwarded.
        match (self.k, self.stride) {
            (3, 1) => unsafe { self.block_with::<lanes::Avx512, 1, 8, 3, 1>(g, padded, b, out) },
            (3, 2) => unsafe { self.block_with::<lanes::Avx512, 1, 8, 3, 2>(g, padded, b, out) },
            (5, 1) => unsafe { self.block_with::<lanes::Avx512, 1, 8, 5, 1>(g, padded, b, out) },
            (5, 2) => unsafe { self.block_with::<lanes::Avx512, 1, 8, 5, 2>(g, padded, b, out) },
            _ => unsafe { self.block_with::<lanes::Avx512, 1, 8, 0, 0>(g, padded, b, out) },
        }
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn block_avx2(&self, g: &PadGeometry, padded: &[f32], b: usize, out: *mut f32) {
        // SAFETY (both): forwarded.
        match (self.k, self.stride) {
            (3, 1) => unsafe { self.block_with::<lanes::Avx2, 2, 2, 3, 1>(g, padded, b, out) },
            (3, 2) => unsafe { self.block_with::<lanes::Avx2, 2, 2, 3, 2>(g, padded, b, out) },
            (5, 1) => unsafe { self.block_with::<lanes::Avx2, 2, 2, 5, 1>(g, padded, b, out) },
            (5, 2) => unsafe { self.block_with::<lanes::Avx2, 2, 2, 5, 2>(g, padded, b, out) },
            _ => unsafe { self.block_with::<lanes::Avx2, 2, 2, 0, 0>(g, padded, b, out) },
        }
    }

    /// One channel block: each output row `X` pixels at a time, then 4, 2, 1. `K` and
    /// `S` are the kernel size and stride when known at compile time (0: read them from self).
    #[inline(always)]
    unsafe fn block_with<
        L: Lanes,
        const NV: usize,
        const X: usize,
        const K: usize,
        const S: usize,
    >(
        &self,
        g: &PadGeometry,
        padded: &[f32],
        b: usize,
        out: *mut f32,
    ) {
        for oy in 0..g.ho {
            let mut ox = 0;
            // SAFETY (both calls): ox + pixels <= wo.
            unsafe {
                while ox + X <= g.wo {
                    self.pixels::<L, NV, X, K, S>(g, padded, b, oy, ox, out);
                    ox += X;
                }
                // A lone pixel is one chain of dependent multiply-adds: run the rest of the
                // row in as few pieces as possible.
                if X > 4 && ox + 4 <= g.wo {
                    self.pixels::<L, NV, 4, K, S>(g, padded, b, oy, ox, out);
                    ox += 4;
                }
                if X > 2 && ox + 2 <= g.wo {
                    self.pixels::<L, NV, 2, K, S>(g, padded, b, oy, ox, out);
                    ox += 2;
                }
                while ox < g.wo {
                    self.pixels::<L, NV, 1, K, S>(g, padded, b, oy, ox, out);
                    ox += 1;
                }
            }
        }
    }

    /// Output pixels `ox..ox + X` of row `oy`: bias, then the taps in row-major order. Each
    /// input vector of a kernel row is loaded once and used by every output pixel and tap
    /// that reads it.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn pixels<L: Lanes, const NV: usize, const X: usize, const K: usize, const S: usize>(
        &self,
        g: &PadGeometry,
        padded: &[f32],
        b: usize,
        oy: usize,
        ox: usize,
        out: *mut f32,
    ) {
        let k = if K == 0 { self.k } else { K };
        let s = if S == 0 { self.stride } else { S };
        // Input vectors one kernel row of X outputs reads: (X - 1) * s + k, at most this.
        const SPAN: usize = 24;
        let span = (X - 1) * s + k;
        assert!(span <= SPAN, "a depthwise row of {span} inputs");
        // SAFETY: padded rows oy * s + ky < hp and columns ox * s + span <= wp; the taps,
        // bias and output indices are inside their blocks.
        unsafe {
            let taps = self.taps.as_ptr().add(b * k * k * CB);
            for v in 0..NV {
                let lane = v * L::W;
                let mut acc = [L::load(self.bias.as_ptr().add(b * CB + lane)); X];
                for ky in 0..k {
                    let line = padded
                        .as_ptr()
                        .add(((oy * s + ky) * g.wp + ox * s) * CB + lane);
                    let mut xs = [L::zero(); SPAN];
                    for (i, x) in xs.iter_mut().enumerate().take(span) {
                        *x = L::load(line.add(i * CB));
                    }
                    for kx in 0..k {
                        let w = L::load(taps.add((ky * k + kx) * CB + lane));
                        for (j, a) in acc.iter_mut().enumerate() {
                            *a = L::fma(xs[j * s + kx], w, *a);
                        }
                    }
                }
                for (j, &sum) in acc.iter().enumerate() {
                    L::store(out.add((oy * g.wo + ox + j) * CB + lane), L::clamp6(sum));
                }
            }
        }
    }
}

/// A block's plane before and after zero padding, and the output size.
struct PadGeometry {
    h: usize,
    w: usize,
    pt: usize,
    pl: usize,
    hp: usize,
    wp: usize,
    ho: usize,
    wo: usize,
}

impl PadGeometry {
    /// Copies one block's (H, W, 16) plane into the middle of `padded`; the border stays zero.
    fn pad(&self, src: &[f32], padded: &mut [f32]) {
        for y in 0..self.h {
            let from = &src[y * self.w * CB..(y + 1) * self.w * CB];
            let at = ((y + self.pt) * self.wp + self.pl) * CB;
            padded[at..at + self.w * CB].copy_from_slice(from);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::depthwise::depthwise_relu6;
    use crate::model::pointwise::{Activation, Pointwise};
    use candle_core::{Device, Result, Tensor};

    fn blocked(t: &Tensor) -> Result<BlockedMap> {
        let (_, c, h, w) = t.dims4()?;
        Ok(BlockedMap::from_nchw(
            &t.flatten_all()?.to_vec1::<f32>()?,
            c,
            h,
            w,
        ))
    }

    fn max_diff(a: &[f32], b: &[f32]) -> f32 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }

    #[test]
    fn layout_round_trips_and_means_match() -> Result<()> {
        let x = Tensor::randn(0f32, 1.0, (1, 40, 7, 5), &Device::Cpu)?;
        let b = blocked(&x)?;
        assert_eq!(b.to_nchw(), x.flatten_all()?.to_vec1::<f32>()?);
        let means = x.mean(3)?.mean(2)?.flatten_all()?.to_vec1::<f32>()?;
        assert!(max_diff(&b.channel_means(), &means) < 1e-6);
        Ok(())
    }

    #[test]
    fn pointwise_matches_the_nchw_kernel() -> Result<()> {
        if !available() {
            return Ok(());
        }
        let dev = Device::Cpu;
        // Channel counts of one, two and several blocks; pixel counts around every step.
        for (c, o, h, w) in [
            (16, 48, 7, 7),
            (80, 80, 14, 14),
            (32, 16, 3, 1),
            (48, 64, 2, 5),
            (16, 32, 5, 3),
            (16, 16, 1, 1),
            (32, 48, 29, 1),
            (64, 112, 3, 3),
            (32, 192, 7, 7),
        ] {
            let x = Tensor::randn(0f32, 1.0, (1, c, h, w), &dev)?;
            let weight = Tensor::randn(0f32, 1.0, (o, c, 1, 1), &dev)?;
            let bias = Tensor::randn(0f32, 1.0, o, &dev)?;
            let residual = Tensor::randn(0f32, 1.0, (1, o, h, w), &dev)?;
            let nchw = Pointwise::new(&weight, &bias)?;
            let packed = BlockedPointwise::new(
                &weight.flatten_all()?.to_vec1::<f32>()?,
                &bias.to_vec1::<f32>()?,
                o,
                c,
            );
            for (act, r) in [
                (Activation::Relu6, None),
                (Activation::Linear, Some(&residual)),
            ] {
                let want = nchw.forward(&x, act, r)?.flatten_all()?.to_vec1::<f32>()?;
                let rb = r.map(blocked).transpose()?;
                let got = packed
                    .apply(&blocked(&x)?, rb.as_ref(), matches!(act, Activation::Relu6))
                    .to_nchw();
                let diff = max_diff(&got, &want);
                assert!(diff < 1e-4, "{o}x{c} at {h}x{w}: {diff}");
            }
        }
        Ok(())
    }

    #[test]
    fn depthwise_matches_the_nchw_kernel() -> Result<()> {
        if !available() {
            return Ok(());
        }
        let dev = Device::Cpu;
        for (c, h, k, s) in [
            (16, 7, 5, 1),
            (32, 14, 3, 1),
            (48, 14, 5, 2),
            (16, 9, 3, 2),
            (40, 12, 5, 2),
            (24, 28, 3, 1),
        ] {
            let x = Tensor::randn(0f32, 1.0, (1, c, h, h + 2), &dev)?;
            let weight = Tensor::randn(0f32, 1.0, (c, 1, k, k), &dev)?;
            let bias = Tensor::randn(0f32, 1.0, c, &dev)?;
            let want = depthwise_relu6(&x, &weight, &bias, s)?
                .flatten_all()?
                .to_vec1::<f32>()?;
            let packed = BlockedDepthwise::new(
                &weight.flatten_all()?.to_vec1::<f32>()?,
                &bias.to_vec1::<f32>()?,
                c,
                k,
                s,
            );
            let got = packed.apply(&blocked(&x)?).to_nchw();
            let diff = max_diff(&got, &want);
            assert!(
                diff < 1e-4,
                "{c} channels {h}x{} k={k} s={s}: {diff}",
                h + 2
            );
        }
        Ok(())
    }
}
