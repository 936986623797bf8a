//! The GEMM inside a 1x1 convolution, `out = act(W · X + b (+ r))`, register-blocked for
//! AVX-512 and for AVX2 with FMA, chosen at run time.
//!
//! The `gemm` crate packs both matrices on every call and has no AVX-512 path on stable
//! Rust. Here the weights W (M, K) are packed once, when the model loads, into panels of
//! `MR` rows stored k-major, so the kernel's broadcasts walk memory in order. The pixels X
//! (K, N) are read in place: a tile reads K rows of NR pixels, at most 1152 x 48 floats
//! (216 KiB, in L2) for EfficientNet-Lite0, and that block is reused by every panel, so
//! packing it would cost a copy for nothing. Bias, residual and ReLU6 are applied while the
//! tile is still in registers, so each output is written once, and never read back.

use std::mem::MaybeUninit;
use std::sync::OnceLock;

/// The instruction set the pointwise kernels use on this CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// 16 lanes, 32 registers: tiles of 8 rows x 48 pixels.
    Avx512,
    /// 8 lanes with FMA, 16 registers: tiles of 4 rows x 24 pixels.
    Avx2,
    /// Neither: the `gemm` crate (NEON on aarch64, SSE on old x86-64).
    Portable,
}

impl Isa {
    /// The best set this CPU has, detected once. `SEESAY_ISA=avx2` or `portable` caps it,
    /// so one machine can compare the kernels in one run.
    pub fn detect() -> Self {
        static ISA: OnceLock<Isa> = OnceLock::new();
        *ISA.get_or_init(|| {
            let cap = std::env::var("SEESAY_ISA").unwrap_or_default();
            Self::available()
                .into_iter()
                .find(|isa| match cap.as_str() {
                    "avx2" => *isa != Isa::Avx512,
                    "portable" => *isa == Isa::Portable,
                    _ => true,
                })
                .unwrap_or(Isa::Portable)
        })
    }

    /// Every set this CPU can run, best first (for tests that compare them).
    pub fn available() -> Vec<Self> {
        let mut sets = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                sets.push(Isa::Avx512);
            }
            if super::has_avx2_fma() {
                sets.push(Isa::Avx2);
            }
        }
        sets.push(Isa::Portable);
        sets
    }

    /// Rows per weight panel, or `None` where the kernel is the `gemm` crate.
    fn panel_rows(self) -> Option<usize> {
        match self {
            Isa::Avx512 => Some(8),
            Isa::Avx2 => Some(4),
            Isa::Portable => None,
        }
    }
}

/// Rows of W that [`PackedWeights::apply_rows`] callers take at a time: a whole number of
/// panels for every kernel.
pub const GROUP_ROWS: usize = 8;

/// A 1x1 convolution's weights in the layout of one kernel.
pub struct PackedWeights {
    isa: Isa,
    /// Rows M and columns K of W.
    m: usize,
    k: usize,
    /// Rows per panel (1 for `Portable`, whose weights stay row-major).
    mr: usize,
    /// Panels of `mr` rows, each K x `mr` k-major; the last is padded with zero rows.
    data: Vec<f32>,
    /// The bias, one per row.
    bias: Vec<f32>,
}

impl PackedWeights {
    /// Packs W (`m` x `k`, row-major) and its bias for `isa`.
    pub fn new(isa: Isa, weight: &[f32], bias: &[f32], m: usize, k: usize) -> Self {
        assert_eq!(weight.len(), m * k, "weight is not {m} x {k}");
        assert_eq!(bias.len(), m, "bias is not {m} long");
        let Some(mr) = isa.panel_rows() else {
            return Self {
                isa,
                m,
                k,
                mr: 1,
                data: weight.to_vec(),
                bias: bias.to_vec(),
            };
        };
        let panels = m.div_ceil(mr);
        let mut data = vec![0f32; panels * mr * k];
        for p in 0..panels {
            let panel = &mut data[p * mr * k..(p + 1) * mr * k];
            for r in 0..mr.min(m - p * mr) {
                let row = &weight[(p * mr + r) * k..(p * mr + r + 1) * k];
                for (kk, &w) in row.iter().enumerate() {
                    panel[kk * mr + r] = w;
                }
            }
        }
        Self {
            isa,
            m,
            k,
            mr,
            data,
            bias: bias.to_vec(),
        }
    }

    /// The instruction set the weights are packed for.
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// Output channels.
    pub fn rows(&self) -> usize {
        self.m
    }

    /// Input channels.
    pub fn cols(&self) -> usize {
        self.k
    }

    /// `out = act(W · x + b (+ residual))` for one image: x is (K, n), out and residual
    /// (M, n), all row-major. `threads` > 1 splits the work over the kernel team.
    pub fn apply(
        &self,
        x: &[f32],
        n: usize,
        residual: Option<&[f32]>,
        relu6: bool,
        threads: usize,
        out: &mut [f32],
    ) {
        // SAFETY: MaybeUninit<f32> has f32's layout, and only initialised values are written.
        let out = unsafe { &mut *(out as *mut [f32] as *mut [MaybeUninit<f32>]) };
        self.apply_uninit(x, n, residual, relu6, threads, out);
    }

    /// [`Self::apply`] into memory not yet written; every value of `out` is written.
    pub fn apply_uninit(
        &self,
        x: &[f32],
        n: usize,
        residual: Option<&[f32]>,
        relu6: bool,
        threads: usize,
        out: &mut [MaybeUninit<f32>],
    ) {
        assert_eq!(x.len(), self.k * n, "input is not {} x {n}", self.k);
        assert_eq!(out.len(), self.m * n, "output is not {} x {n}", self.m);
        if let Some(r) = residual {
            assert_eq!(r.len(), out.len(), "residual is not {} x {n}", self.m);
        }
        match self.isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => self.tiled(x, n, residual, relu6, threads, out, 48),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => self.tiled(x, n, residual, relu6, threads, out, 24),
            _ => self.with_gemm_crate(x, n, residual, relu6, threads, out),
        }
    }

    /// Splits the output into jobs of whole tiles and runs them, in parallel when asked.
    #[cfg(target_arch = "x86_64")]
    #[allow(clippy::too_many_arguments)]
    fn tiled(
        &self,
        x: &[f32],
        n: usize,
        residual: Option<&[f32]>,
        relu6: bool,
        threads: usize,
        out: &mut [MaybeUninit<f32>],
        nr: usize,
    ) {
        let job = Job {
            w: self,
            x: x.as_ptr(),
            ldx: n,
            n,
            ldo: n,
            residual: residual.map_or(std::ptr::null(), |r| r.as_ptr()),
            relu6,
            out: out.as_mut_ptr().cast(),
            row_base: 0,
        };
        let panels = self.m.div_ceil(self.mr);
        let tiles = n.div_ceil(nr);
        let macs = self.m * self.k * n;
        // Below about 100k multiply-adds a hand-off to another thread costs more than it saves.
        if threads <= 1 || macs < 100_000 {
            // SAFETY: the whole output, one job.
            unsafe { job.run(0..panels, 0..tiles) };
            return;
        }
        // Split along whichever side has enough pieces for every thread; pixels first,
        // because each column of tiles then reads its own part of X.
        if tiles >= 2 * threads {
            let per = tiles.div_ceil(threads * 2);
            super::team::for_each(tiles.div_ceil(per), |j| {
                let cols = j * per..((j + 1) * per).min(tiles);
                // SAFETY: jobs cover disjoint columns of the output.
                unsafe { job.run(0..panels, cols) };
            });
        } else {
            let per = panels.div_ceil(threads * 2).max(1);
            super::team::for_each(panels.div_ceil(per), |j| {
                let rows = j * per..((j + 1) * per).min(panels);
                // SAFETY: jobs cover disjoint rows of the output.
                unsafe { job.run(rows, 0..tiles) };
            });
        }
    }

    /// Rows `rows` of `act(W · x + b)` into `out` ((rows.len(), n)), on this thread: for a
    /// caller that splits the output channels over threads itself. `rows.start` must be a
    /// multiple of [`GROUP_ROWS`].
    pub fn apply_rows(
        &self,
        x: &[f32],
        n: usize,
        rows: std::ops::Range<usize>,
        relu6: bool,
        out: &mut [MaybeUninit<f32>],
    ) {
        assert_eq!(x.len(), self.k * n, "input is not {} x {n}", self.k);
        self.apply_rows_cols(x, n, 0..n, rows, relu6, out);
    }

    /// [`Self::apply_rows`] for the columns (pixels) `cols` of x only, whose rows are `ldx`
    /// apart: `out` is (rows.len(), cols.len()). Not for the portable kernel.
    pub fn apply_rows_cols(
        &self,
        x: &[f32],
        ldx: usize,
        cols: std::ops::Range<usize>,
        rows: std::ops::Range<usize>,
        relu6: bool,
        out: &mut [MaybeUninit<f32>],
    ) {
        let n = cols.len();
        assert!(
            cols.end <= ldx && x.len() >= (self.k - 1) * ldx + cols.end,
            "columns {cols:?} of a {} x {ldx} input of {} values",
            self.k,
            x.len()
        );
        assert!(
            rows.start.is_multiple_of(GROUP_ROWS)
                && rows.end <= self.m
                && (rows.end == self.m || rows.end.is_multiple_of(GROUP_ROWS)),
            "rows {rows:?} of {}",
            self.m
        );
        assert_eq!(
            out.len(),
            rows.len() * n,
            "output is not {} x {n}",
            rows.len()
        );
        match self.isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 | Isa::Avx2 => {
                // SAFETY: `out` holds rows.len() rows of n values (checked above).
                unsafe {
                    self.on_this_thread(
                        x[cols.start..].as_ptr(),
                        ldx,
                        n,
                        rows,
                        relu6,
                        (out.as_mut_ptr().cast(), n),
                    )
                };
            }
            _ => {
                assert!(
                    cols == (0..ldx),
                    "the portable kernel takes every column of its input"
                );
                let part = PackedWeights {
                    isa: Isa::Portable,
                    m: rows.len(),
                    k: self.k,
                    mr: 1,
                    data: self.data[rows.start * self.k..rows.end * self.k].to_vec(),
                    bias: self.bias[rows.clone()].to_vec(),
                };
                part.with_gemm_crate(x, n, None, relu6, 1, out);
            }
        }
    }

    /// `act(W · x + b)` for the columns (pixels) `cols` of x, whose rows are `ldx` apart,
    /// every output channel, on this thread, into `out`, whose rows are `ldo` apart: for a
    /// caller that computes its input a band of pixels at a time. Not for the portable kernel.
    ///
    /// # Safety
    /// `out` is valid for `self.rows()` rows of `cols.len()` values, `ldo` apart, which
    /// nothing else reads or writes meanwhile.
    #[cfg(target_arch = "x86_64")]
    pub unsafe fn apply_cols_strided(
        &self,
        x: &[f32],
        ldx: usize,
        cols: std::ops::Range<usize>,
        relu6: bool,
        out: *mut f32,
        ldo: usize,
    ) {
        let n = cols.len();
        assert!(
            cols.end <= ldx && x.len() >= (self.k - 1) * ldx + cols.end && n <= ldo,
            "columns {cols:?} of a {} x {ldx} input of {} values",
            self.k,
            x.len()
        );
        assert!(
            self.isa != Isa::Portable,
            "the portable kernel does not tile"
        );
        // SAFETY: forwarded from the caller.
        unsafe {
            self.on_this_thread(
                x[cols.start..].as_ptr(),
                ldx,
                n,
                0..self.m,
                relu6,
                (out, ldo),
            )
        };
    }

    /// Rows `rows` (from a multiple of [`GROUP_ROWS`]) of `act(W · x + b)` for `n` columns of
    /// x from `x` (rows `ldx` apart), as one job on this thread, into `out`: its row
    /// `rows.start` first, rows `ldo` apart.
    ///
    /// # Safety
    /// The kernel is not portable, `x` is valid for K rows of `n` values `ldx` apart, and
    /// `out` for `rows.len()` rows of `n` values `ldo` apart, which nothing else touches
    /// meanwhile.
    #[cfg(target_arch = "x86_64")]
    unsafe fn on_this_thread(
        &self,
        x: *const f32,
        ldx: usize,
        n: usize,
        rows: std::ops::Range<usize>,
        relu6: bool,
        (out, ldo): (*mut f32, usize),
    ) {
        let job = Job {
            w: self,
            x,
            ldx,
            n,
            ldo,
            residual: std::ptr::null(),
            relu6,
            out,
            row_base: rows.start,
        };
        let nr = if self.isa == Isa::Avx512 { 48 } else { 24 };
        let panels = rows.start / self.mr..rows.end.div_ceil(self.mr);
        // SAFETY: one job, on this thread, over exactly these rows (a last panel that reaches
        // past `rows.end` also reaches past `m`, whose rows are never stored).
        unsafe { job.run(panels, 0..n.div_ceil(nr)) };
    }

    /// The portable path: the `gemm` crate, on an output that starts as bias (+ residual).
    fn with_gemm_crate(
        &self,
        x: &[f32],
        n: usize,
        residual: Option<&[f32]>,
        relu6: bool,
        threads: usize,
        out: &mut [MaybeUninit<f32>],
    ) {
        for (o, (row, &b)) in out.chunks_exact_mut(n).zip(&self.bias).enumerate() {
            match residual {
                Some(r) => {
                    for (d, &v) in row.iter_mut().zip(&r[o * n..(o + 1) * n]) {
                        d.write(v + b);
                    }
                }
                None => row.fill(MaybeUninit::new(b)),
            }
        }
        // SAFETY: every value was just written (out is m x n, checked in `apply_uninit`).
        let out = unsafe { &mut *(out as *mut [MaybeUninit<f32>] as *mut [f32]) };
        let parallelism = if threads > 1 {
            gemm::Parallelism::Rayon(threads)
        } else {
            gemm::Parallelism::None
        };
        // SAFETY: out is (m, n), data (m, k) and x (k, n), all row-major and of exactly those
        // sizes (checked in `apply`); the strides below describe them.
        unsafe {
            gemm::gemm(
                self.m,
                n,
                self.k,
                out.as_mut_ptr(),
                1,
                n as isize,
                true,
                self.data.as_ptr(),
                1,
                self.k as isize,
                x.as_ptr(),
                1,
                n as isize,
                1.0,
                1.0,
                false,
                false,
                false,
                parallelism,
            );
        }
        if relu6 {
            for v in out.iter_mut() {
                *v = v.clamp(0.0, 6.0);
            }
        }
    }
}

/// One call's operands, as raw pointers so that parallel jobs can write disjoint tiles.
#[cfg(target_arch = "x86_64")]
struct Job<'a> {
    w: &'a PackedWeights,
    /// X at the first column computed; its rows are `ldx` apart.
    x: *const f32,
    ldx: usize,
    /// Columns computed.
    n: usize,
    /// The output's (and residual's) rows are `ldo` apart.
    ldo: usize,
    /// Null when there is no residual.
    residual: *const f32,
    relu6: bool,
    /// The output, whose first row is W's row `row_base`.
    out: *mut f32,
    row_base: usize,
}

// SAFETY: the pointers come from slices that outlive the call, and jobs run on disjoint tiles.
#[cfg(target_arch = "x86_64")]
unsafe impl Sync for Job<'_> {}

#[cfg(target_arch = "x86_64")]
impl Job<'_> {
    /// Computes the tiles of the given weight panels and pixel-tile columns.
    ///
    /// # Safety
    /// No other thread may write those tiles meanwhile.
    unsafe fn run(&self, panels: std::ops::Range<usize>, tiles: std::ops::Range<usize>) {
        match self.w.isa {
            Isa::Avx512 => self.run_avx512(panels, tiles),
            Isa::Avx2 => self.run_avx2(panels, tiles),
            Isa::Portable => unreachable!("the portable path does not tile"),
        }
    }

    #[target_feature(enable = "avx512f")]
    unsafe fn run_avx512(&self, panels: std::ops::Range<usize>, tiles: std::ops::Range<usize>) {
        self.run_with::<lanes::Avx512, 8, 3>(panels, tiles);
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn run_avx2(&self, panels: std::ops::Range<usize>, tiles: std::ops::Range<usize>) {
        self.run_with::<lanes::Avx2, 4, 3>(panels, tiles);
    }

    /// Columns outside, panels inside: a column's K x NR block of X stays in cache while
    /// every panel of W passes over it.
    #[inline(always)]
    unsafe fn run_with<L: lanes::Lanes, const MR: usize, const NV: usize>(
        &self,
        panels: std::ops::Range<usize>,
        tiles: std::ops::Range<usize>,
    ) {
        let nr = NV * L::W;
        let (m, k, n, ldo) = (self.w.m, self.w.k, self.n, self.ldo);
        for t in tiles {
            let col = t * nr;
            let width = nr.min(n - col);
            for p in panels.clone() {
                let row = p * MR;
                let tile = Tile {
                    a: self.w.data.as_ptr().add(p * MR * k),
                    k,
                    x: self.x.add(col),
                    ldx: self.ldx,
                    ldo,
                    bias: self.w.bias.as_ptr().add(row),
                    rows: MR.min(m - row),
                    residual: if self.residual.is_null() {
                        self.residual
                    } else {
                        self.residual.add(row * ldo + col)
                    },
                    relu6: self.relu6,
                    out: self.out.add((row - self.row_base) * ldo + col),
                };
                if width == nr {
                    tile.compute::<L, MR, NV, true>(L::W);
                } else {
                    let vectors = width.div_ceil(L::W);
                    let tail = width - (vectors - 1) * L::W;
                    match vectors {
                        1 => tile.compute::<L, MR, 1, false>(tail),
                        2 => tile.compute::<L, MR, 2, false>(tail),
                        _ => tile.compute::<L, MR, NV, false>(tail),
                    }
                }
            }
        }
    }
}

/// One MR x (NV lanes-wide vectors) block of the output and what it reads.
#[cfg(target_arch = "x86_64")]
struct Tile {
    /// The weight panel, K x MR k-major.
    a: *const f32,
    k: usize,
    /// X at this tile's first pixel, rows `ldx` apart.
    x: *const f32,
    ldx: usize,
    /// Output (and residual) rows are `ldo` apart.
    ldo: usize,
    /// The bias of this tile's first row.
    bias: *const f32,
    /// Rows of the panel that exist (the last panel may be padded).
    rows: usize,
    /// The residual at this tile, or null.
    residual: *const f32,
    relu6: bool,
    /// The output at this tile, rows `ldo` apart.
    out: *mut f32,
}

#[cfg(target_arch = "x86_64")]
impl Tile {
    /// Accumulates the tile in registers, then adds bias and residual, clamps and stores.
    /// Unless `FULL`, only the first `tail` lanes of the last vector exist.
    #[inline(always)]
    unsafe fn compute<L: lanes::Lanes, const MR: usize, const NV: usize, const FULL: bool>(
        &self,
        tail: usize,
    ) {
        let mut acc = [[L::zero(); NV]; MR];
        let mut a = self.a;
        let mut x = self.x;
        for _ in 0..self.k {
            let mut b = [L::zero(); NV];
            for (v, bv) in b.iter_mut().enumerate() {
                *bv = if !FULL && v + 1 == NV {
                    L::load_part(x.add(v * L::W), tail)
                } else {
                    L::load(x.add(v * L::W))
                };
            }
            for (r, row) in acc.iter_mut().enumerate() {
                let w = L::splat(*a.add(r));
                for (v, bv) in b.iter().enumerate() {
                    row[v] = L::fma(w, *bv, row[v]);
                }
            }
            a = a.add(MR);
            x = x.add(self.ldx);
        }
        for (r, row) in acc.iter().enumerate().take(self.rows) {
            let bias = L::splat(*self.bias.add(r));
            for (v, &sum) in row.iter().enumerate() {
                let at = r * self.ldo + v * L::W;
                let part = !FULL && v + 1 == NV;
                let mut y = L::add(sum, bias);
                if !self.residual.is_null() {
                    let res = self.residual.add(at);
                    y = L::add(
                        y,
                        if part {
                            L::load_part(res, tail)
                        } else {
                            L::load(res)
                        },
                    );
                }
                if self.relu6 {
                    y = L::clamp6(y);
                }
                if part {
                    L::store_part(self.out.add(at), y, tail);
                } else {
                    L::store(self.out.add(at), y);
                }
            }
        }
    }
}

/// The vector operations the tile needs, for each instruction set. The functions are
/// `inline(always)` and carry no target features themselves: they are inlined into the
/// `target_feature` entry points above, which is where the instructions become legal.
#[cfg(target_arch = "x86_64")]
pub(super) mod lanes {
    use std::arch::x86_64::*;

    /// A vector of f32 lanes.
    pub trait Lanes {
        type V: Copy;
        const W: usize;
        unsafe fn zero() -> Self::V;
        unsafe fn splat(v: f32) -> Self::V;
        unsafe fn load(p: *const f32) -> Self::V;
        /// The first `n` lanes (1..=W); the rest are zero and never read from memory.
        unsafe fn load_part(p: *const f32, n: usize) -> Self::V;
        unsafe fn store(p: *mut f32, v: Self::V);
        /// Stores the first `n` lanes only.
        unsafe fn store_part(p: *mut f32, v: Self::V, n: usize);
        /// `a * b + c`.
        unsafe fn fma(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
        unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
        /// min(max(v, 0), 6), keeping NaN as `f32::clamp` does.
        unsafe fn clamp6(v: Self::V) -> Self::V;
    }

    pub struct Avx512;

    impl Avx512 {
        #[inline(always)]
        fn mask(n: usize) -> __mmask16 {
            ((1u32 << n) - 1) as __mmask16
        }
    }

    impl Lanes for Avx512 {
        type V = __m512;
        const W: usize = 16;
        #[inline(always)]
        unsafe fn zero() -> __m512 {
            _mm512_setzero_ps()
        }
        #[inline(always)]
        unsafe fn splat(v: f32) -> __m512 {
            _mm512_set1_ps(v)
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> __m512 {
            _mm512_loadu_ps(p)
        }
        #[inline(always)]
        unsafe fn load_part(p: *const f32, n: usize) -> __m512 {
            _mm512_maskz_loadu_ps(Self::mask(n), p)
        }
        #[inline(always)]
        unsafe fn store(p: *mut f32, v: __m512) {
            _mm512_storeu_ps(p, v)
        }
        #[inline(always)]
        unsafe fn store_part(p: *mut f32, v: __m512, n: usize) {
            _mm512_mask_storeu_ps(p, Self::mask(n), v)
        }
        #[inline(always)]
        unsafe fn fma(a: __m512, b: __m512, c: __m512) -> __m512 {
            _mm512_fmadd_ps(a, b, c)
        }
        #[inline(always)]
        unsafe fn add(a: __m512, b: __m512) -> __m512 {
            _mm512_add_ps(a, b)
        }
        #[inline(always)]
        unsafe fn clamp6(v: __m512) -> __m512 {
            // max/min return their second operand when either is NaN: v goes second.
            _mm512_min_ps(_mm512_set1_ps(6.0), _mm512_max_ps(_mm512_setzero_ps(), v))
        }
    }

    pub struct Avx2;

    impl Avx2 {
        #[inline(always)]
        unsafe fn mask(n: usize) -> __m256i {
            _mm256_cmpgt_epi32(
                _mm256_set1_epi32(n as i32),
                _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
            )
        }
    }

    impl Lanes for Avx2 {
        type V = __m256;
        const W: usize = 8;
        #[inline(always)]
        unsafe fn zero() -> __m256 {
            _mm256_setzero_ps()
        }
        #[inline(always)]
        unsafe fn splat(v: f32) -> __m256 {
            _mm256_set1_ps(v)
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> __m256 {
            _mm256_loadu_ps(p)
        }
        #[inline(always)]
        unsafe fn load_part(p: *const f32, n: usize) -> __m256 {
            _mm256_maskload_ps(p, Self::mask(n))
        }
        #[inline(always)]
        unsafe fn store(p: *mut f32, v: __m256) {
            _mm256_storeu_ps(p, v)
        }
        #[inline(always)]
        unsafe fn store_part(p: *mut f32, v: __m256, n: usize) {
            _mm256_maskstore_ps(p, Self::mask(n), v)
        }
        #[inline(always)]
        unsafe fn fma(a: __m256, b: __m256, c: __m256) -> __m256 {
            _mm256_fmadd_ps(a, b, c)
        }
        #[inline(always)]
        unsafe fn add(a: __m256, b: __m256) -> __m256 {
            _mm256_add_ps(a, b)
        }
        #[inline(always)]
        unsafe fn clamp6(v: __m256) -> __m256 {
            _mm256_min_ps(_mm256_set1_ps(6.0), _mm256_max_ps(_mm256_setzero_ps(), v))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain triple loop, in f64, as the reference.
    fn reference(
        w: &[f32],
        b: &[f32],
        x: &[f32],
        r: Option<&[f32]>,
        relu6: bool,
        (m, k, n): (usize, usize, usize),
    ) -> Vec<f32> {
        let mut out = vec![0f32; m * n];
        for o in 0..m {
            for p in 0..n {
                let mut s = b[o] as f64;
                for kk in 0..k {
                    s += w[o * k + kk] as f64 * x[kk * n + p] as f64;
                }
                if let Some(r) = r {
                    s += r[o * n + p] as f64;
                }
                let v = s as f32;
                out[o * n + p] = if relu6 { v.clamp(0.0, 6.0) } else { v };
            }
        }
        out
    }

    fn values(len: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).max(1);
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s % 2001) as f32 / 1000.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn every_kernel_matches_the_reference_on_ragged_shapes() {
        // Rows not a multiple of any panel, pixels not a multiple of any tile, and the
        // encoder's own small shapes.
        let shapes = [
            (5, 3, 7),
            (16, 32, 100),
            (13, 9, 49),
            (40, 24, 196),
            (24, 144, 61),
        ];
        for isa in Isa::available() {
            for &(m, k, n) in &shapes {
                let w = values(m * k, 1);
                let b = values(m, 2);
                let x = values(k * n, 3);
                let r = values(m * n, 4);
                let packed = PackedWeights::new(isa, &w, &b, m, k);
                for (residual, relu6) in [(None, true), (Some(&r[..]), false), (Some(&r), true)] {
                    for threads in [1, 2] {
                        let mut out = vec![f32::NAN; m * n];
                        packed.apply(&x, n, residual, relu6, threads, &mut out);
                        let want = reference(&w, &b, &x, residual, relu6, (m, k, n));
                        for (i, (g, e)) in out.iter().zip(&want).enumerate() {
                            assert!(
                                (g - e).abs() < 1e-4,
                                "{isa:?} {m}x{k}x{n} at {i}: {g} against {e}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn large_enough_layers_split_over_threads_the_same() {
        for isa in Isa::available() {
            for (m, k, n) in [(96, 16, 3136), (1152, 192, 49)] {
                let w = values(m * k, 5);
                let b = values(m, 6);
                let x = values(k * n, 7);
                let packed = PackedWeights::new(isa, &w, &b, m, k);
                let mut one = vec![0f32; m * n];
                let mut two = vec![0f32; m * n];
                packed.apply(&x, n, None, true, 1, &mut one);
                packed.apply(&x, n, None, true, 2, &mut two);
                assert_eq!(one, two, "{isa:?} {m}x{k}x{n}");
            }
        }
    }

    #[test]
    fn nan_survives_the_clamp() {
        for isa in Isa::available() {
            let packed = PackedWeights::new(isa, &[f32::NAN, 1.0], &[0.0], 1, 2);
            let mut out = vec![0f32; 3];
            packed.apply(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 3, None, true, 1, &mut out);
            assert!(out.iter().all(|v| v.is_nan()), "{isa:?}: {out:?}");
        }
    }
}
