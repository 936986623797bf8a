//! An MBConv block's expansion (1x1, ReLU6) and depthwise convolution (ReLU6) as one pass on
//! the CPU.
//!
//! Run one after the other, the expansion writes its whole output, up to 96 x 112 x 112
//! floats (4.8 MB, more than L2 holds), and the depthwise layer reads it back from memory.
//! Here each thread expands eight channels at a time into a buffer that stays in L2 and
//! convolves them straight away, so the expanded tensor never exists.

use std::mem::MaybeUninit;

use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape};

use super::cpu_storage::{f32_slice, written_by};
#[cfg(target_arch = "x86_64")]
use super::depthwise::rows_relu6;
use super::depthwise::{plane_relu6, Geometry, Scratch};
use super::gemm_kernel::{PackedWeights, GROUP_ROWS};

/// The fused op: apply it to x (N, C, H, W) with the depthwise weight (E, 1, k, k) and bias (E).
pub struct ExpandDepthwise<'a> {
    /// The expansion, C to E channels, folded and packed.
    pub expand: &'a PackedWeights,
    /// The depthwise stride.
    pub stride: usize,
}

/// Per-thread buffers: one group of expanded channels, and the depthwise scratch.
struct Buffers {
    expanded: Vec<MaybeUninit<f32>>,
    depthwise: Scratch,
}

impl CustomOp3 for ExpandDepthwise<'_> {
    fn name(&self) -> &'static str {
        "expand-depthwise-relu6"
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
        let (e, _, k, _) = l2.shape().dims4()?;
        let x = f32_slice(s1, l1, "expand-depthwise")?;
        let w = f32_slice(s2, l2, "expand-depthwise")?;
        let b = f32_slice(s3, l3, "expand-depthwise")?;
        if c != self.expand.cols() || e != self.expand.rows() || b.len() != e {
            candle_core::bail!(
                "expand-depthwise: input has {c} channels, the expansion is {}x{}, the \
                 depthwise weight has {e} channels and its bias {} values",
                self.expand.rows(),
                self.expand.cols(),
                b.len()
            );
        }
        let g = Geometry::new(h, wd, k, self.stride);
        let (hw, out_plane) = (h * wd, g.ho * g.wo);
        // The expansion buffer is left unwritten: apply_rows writes every value a group
        // reads, and clearing it (400 KB at 112 x 112) cost each thread a pass per layer.
        let buffers = || Buffers {
            expanded: std::iter::repeat_with(MaybeUninit::uninit)
                .take(GROUP_ROWS * hw)
                .collect(),
            depthwise: Scratch::new(&g),
        };
        let job = |x: &[f32], buf: &mut Buffers, (group, dst): (usize, &mut [MaybeUninit<f32>])| {
            let first = group * GROUP_ROWS;
            let rows = dst.len() / out_plane;
            let expanded = &mut buf.expanded[..rows * hw];
            self.expand
                .apply_rows(x, hw, first..first + rows, true, expanded);
            // SAFETY: apply_rows wrote all of `expanded`.
            let expanded: &[f32] =
                unsafe { &*(expanded as *const [MaybeUninit<f32>] as *const [f32]) };
            for (r, plane) in dst.chunks_exact_mut(out_plane).enumerate() {
                let ch = first + r;
                plane_relu6(
                    &g,
                    &expanded[r * hw..(r + 1) * hw],
                    &w[ch * k * k..(ch + 1) * k * k],
                    b[ch],
                    &mut buf.depthwise,
                    plane,
                );
            }
        };
        #[cfg(target_arch = "x86_64")]
        if let Some(bands) = self.bands(&g, h) {
            let out = self.by_bands(x, (n, c, h, wd), (w, b, k), &g, bands);
            return Ok((CpuStorage::F32(out), Shape::from((n, e, g.ho, g.wo))));
        }
        // SAFETY: every group writes its whole chunk: each of its planes through plane_relu6.
        let out = unsafe {
            written_by(n * e * out_plane, |out| {
                for (i, image) in out.chunks_exact_mut(e * out_plane).enumerate() {
                    let x = &x[i * c * hw..(i + 1) * c * hw];
                    super::team::for_each_chunk_mut(
                        image,
                        GROUP_ROWS * out_plane,
                        buffers,
                        |buf, group, dst| job(x, buf, (group, dst)),
                    );
                }
            })
        };
        Ok((CpuStorage::F32(out), Shape::from((n, e, g.ho, g.wo))))
    }
}

/// Output rows a band must have at least. With two threads, blocks 1 and 2 (56 output rows)
/// took 0.85 and 0.99 of their time split by bands, and their projections 0.78 and 0.83
/// (`seesay bench --layers`, alternated with the build before, 6 times); blocks 3 and 5 (28
/// and 14 rows) took 1.07 and 1.14, so they stay split by channels.
const MIN_BAND_ROWS: usize = 24;

impl ExpandDepthwise<'_> {
    /// How many bands of output rows to split each plane into, one per thread, or `None` to
    /// split by channels only: with one thread, on the portable kernel, on small planes
    /// ([`MIN_BAND_ROWS`]), or where the rows each band must expand beyond its own (its
    /// kernel's reach into the next band) would add more than a tenth to the expansion.
    #[cfg(target_arch = "x86_64")]
    fn bands(&self, g: &Geometry, h: usize) -> Option<usize> {
        let bands = super::team::threads().min(g.ho);
        if bands < 2
            || self.expand.isa() == super::gemm_kernel::Isa::Portable
            || g.ho < MIN_BAND_ROWS * bands
        {
            return None;
        }
        let expanded: usize = (0..bands)
            .map(|r| g.input_rows(g.band_rows(r, bands)).len())
            .sum();
        (expanded * 10 <= h * 11).then_some(bands)
    }

    /// The op split by bands of output rows as well as by groups of channels. Each thread
    /// takes the same band of every plane: the pixels the projection before it wrote on
    /// that core, and those the projection after it reads there (see team::for_each_init).
    /// Split by channels only, each thread read the whole input, half of it from the other
    /// core, and wrote every pixel of its channels, which the next projection then read
    /// from both cores.
    #[cfg(target_arch = "x86_64")]
    fn by_bands(
        &self,
        x: &[f32],
        (n, c, h, wd): (usize, usize, usize, usize),
        (w, b, k): (&[f32], &[f32], usize),
        g: &Geometry,
        bands: usize,
    ) -> Vec<f32> {
        let e = self.expand.rows();
        let (hw, out_plane) = (h * wd, g.ho * g.wo);
        let groups = e.div_ceil(GROUP_ROWS);
        let most = (0..bands)
            .map(|r| g.input_rows(g.band_rows(r, bands)).len())
            .max()
            .unwrap_or(0);
        let buffers = || Buffers {
            expanded: std::iter::repeat_with(MaybeUninit::uninit)
                .take(GROUP_ROWS * most * wd)
                .collect(),
            depthwise: Scratch::new(g),
        };
        let isa = self.expand.isa();
        let job = |buf: &mut Buffers, x: &[f32], j: usize, out: *mut f32| {
            let (ys, group) = (g.band_rows(j / groups, bands), j % groups);
            let rows = g.input_rows(ys.clone());
            let first = group * GROUP_ROWS;
            let planes = GROUP_ROWS.min(e - first);
            let width = rows.len() * wd;
            let expanded = &mut buf.expanded[..planes * width];
            self.expand.apply_rows_cols(
                x,
                hw,
                rows.start * wd..rows.end * wd,
                first..first + planes,
                true,
                expanded,
            );
            // SAFETY: apply_rows_cols wrote all of `expanded`.
            let expanded: &[f32] =
                unsafe { &*(expanded as *const [MaybeUninit<f32>] as *const [f32]) };
            for (r, band) in expanded.chunks_exact(width.max(1)).enumerate() {
                let ch = first + r;
                // SAFETY: the set is this CPU's (not portable, checked in `bands`); `out` is
                // this image's output, and the plane's rows `ys` are this job's alone.
                unsafe {
                    rows_relu6(
                        isa,
                        g,
                        (band, rows.start),
                        (&w[ch * k * k..(ch + 1) * k * k], b[ch]),
                        &mut buf.depthwise,
                        out.add(ch * out_plane + ys.start * g.wo),
                        ys.clone(),
                    )
                };
            }
        };
        // SAFETY: every job writes its band of rows of each of its group's planes, and the
        // bands cover every row (plane_rows writes every pixel of the rows it is given).
        unsafe {
            written_by(n * e * out_plane, |out: &mut [MaybeUninit<f32>]| {
                let out = super::team::SendPtr::new(out.as_mut_ptr().cast::<f32>());
                for i in 0..n {
                    let x = &x[i * c * hw..(i + 1) * c * hw];
                    let image = super::team::SendPtr::new(out.get().add(i * e * out_plane));
                    super::team::for_each_init(bands * groups, buffers, |buf, j| {
                        job(buf, x, j, image.get())
                    });
                }
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::depthwise::depthwise_relu6;
    use crate::model::gemm_kernel::Isa;
    use candle_core::{Device, Tensor};

    #[test]
    fn fused_matches_expansion_then_depthwise() -> Result<()> {
        let dev = Device::Cpu;
        // Expanded channels that are and are not a whole number of groups; both strides;
        // planes small enough to split by channels only, and large enough to split by bands
        // of rows when two threads run (the last two).
        for (n, c, e, h, k, s) in [
            (2, 4, 12, 9, 3, 1),
            (1, 6, 24, 14, 5, 2),
            (1, 3, 8, 7, 3, 2),
            (2, 4, 20, 56, 3, 1),
            (1, 6, 16, 96, 5, 2),
        ] {
            let x = Tensor::randn(0f32, 1.0, (n, c, h, h + 1), &dev)?;
            let ew = Tensor::randn(0f32, 0.5, (e, c), &dev)?;
            let eb = Tensor::randn(0f32, 0.5, e, &dev)?;
            let dw = Tensor::randn(0f32, 0.5, (e, 1, k, k), &dev)?;
            let db = Tensor::randn(0f32, 0.5, e, &dev)?;
            for isa in Isa::available() {
                let packed =
                    PackedWeights::new(isa, &ew.flatten_all()?.to_vec1()?, &eb.to_vec1()?, e, c);
                let fused = x.apply_op3_no_bwd(
                    &dw,
                    &db,
                    &ExpandDepthwise {
                        expand: &packed,
                        stride: s,
                    },
                )?;
                let expanded = ew
                    .broadcast_left(n)?
                    .matmul(&x.reshape((n, c, h * (h + 1)))?)?
                    .broadcast_add(&eb.reshape((1, e, 1))?)?
                    .clamp(0f32, 6f32)?
                    .reshape((n, e, h, h + 1))?;
                let separate = depthwise_relu6(&expanded, &dw, &db, s)?;
                assert_eq!(fused.dims(), separate.dims());
                let diff = (fused - separate)?.abs()?.max_all()?.to_scalar::<f32>()?;
                assert!(diff < 1e-4, "{isa:?} e={e} k={k} s={s}: {diff}");
            }
        }
        Ok(())
    }
}
