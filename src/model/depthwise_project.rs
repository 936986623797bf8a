//! A block without an expansion (EfficientNet's first): its depthwise convolution (ReLU6)
//! and projection (1x1, linear) as one pass on the CPU, a band of rows at a time.
//!
//! Run one after the other, the depthwise layer writes 32 planes of 112 x 112 (1.6 MB) and the
//! projection reads them back. Here each job convolves a few rows of every channel into a
//! buffer that stays in cache and projects them straight away, so the depthwise output
//! never exists. The sums run in the same order as the two layers', so the results are the
//! same.

use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape};

use super::cpu_storage::{f32_slice, written_by};
use super::depthwise::{rows_relu6, Geometry, Scratch};
use super::gemm_kernel::{Isa, PackedWeights};
use super::team::{self, SendPtr};

/// Output pixels per band, about (12 rows of 112): the band's depthwise output for 32
/// channels (172 KB) stays in L2 while the projection reads it. Measured with `seesay bench
/// --layers` against 224, 448 and 2688 pixels: with one thread 448 took 1.15 of this time
/// and 2688 the same; with two threads 448 the same and 2688 1.16 (five bands do not split
/// evenly over two threads).
const BAND_PIXELS: usize = 1344;

/// The fused op: apply it to x (N, C, H, W) with the depthwise weight (C, 1, k, k) and bias (C).
pub struct DepthwiseProject<'a> {
    /// The projection, C to M channels, folded and packed (not for the portable kernel).
    pub project: &'a PackedWeights,
    /// The depthwise stride.
    pub stride: usize,
}

/// Per-thread buffers: one band of depthwise output, and the depthwise scratch.
struct Buffers {
    band: Vec<f32>,
    depthwise: Scratch,
}

impl CustomOp3 for DepthwiseProject<'_> {
    fn name(&self) -> &'static str {
        "depthwise-project"
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
        let (dc, _, k, _) = l2.shape().dims4()?;
        let x = f32_slice(s1, l1, "depthwise-project")?;
        let w = f32_slice(s2, l2, "depthwise-project")?;
        let b = f32_slice(s3, l3, "depthwise-project")?;
        let isa = self.project.isa();
        if dc != c || c != self.project.cols() || b.len() != c || isa == Isa::Portable {
            candle_core::bail!(
                "depthwise-project: input has {c} channels, the depthwise weight {dc} and its \
                 bias {} values, the projection is {}x{} ({isa:?} kernel)",
                b.len(),
                self.project.rows(),
                self.project.cols()
            );
        }
        let m = self.project.rows();
        let g = Geometry::new(h, wd, k, self.stride);
        let (hw, out_plane) = (h * wd, g.ho * g.wo);
        let rows_per_band = (BAND_PIXELS / g.wo.max(1)).clamp(1, g.ho.max(1));
        let bands = g.ho.div_ceil(rows_per_band);
        let buffers = || Buffers {
            band: vec![0f32; c * rows_per_band * g.wo],
            depthwise: Scratch::new(&g),
        };
        let job = |buf: &mut Buffers, x: &[f32], band: usize, out: *mut f32| {
            let ys = band * rows_per_band..((band + 1) * rows_per_band).min(g.ho);
            let rows = g.input_rows(ys.clone());
            let width = ys.len() * g.wo;
            for ch in 0..c {
                let src = &x[ch * hw + rows.start * wd..ch * hw + rows.end * wd];
                // SAFETY: the set is not portable (checked above); the band buffer holds
                // `ys.len()` rows of this channel from `ch * width` on.
                unsafe {
                    rows_relu6(
                        isa,
                        &g,
                        (src, rows.start),
                        (&w[ch * k * k..(ch + 1) * k * k], b[ch]),
                        &mut buf.depthwise,
                        buf.band[ch * width..(ch + 1) * width].as_mut_ptr(),
                        ys.clone(),
                    )
                };
            }
            // SAFETY: `out` is this image's output; the band's pixels of each of the M planes
            // are this job's alone.
            unsafe {
                self.project.apply_cols_strided(
                    &buf.band[..c * width],
                    width,
                    0..width,
                    false,
                    out.add(ys.start * g.wo),
                    out_plane,
                )
            };
        };
        // SAFETY: the bands cover every output row, and each job writes all M planes' pixels
        // of its rows (apply_cols_strided writes every column it computes).
        let out = unsafe {
            written_by(n * m * out_plane, |out| {
                let out = SendPtr::new(out.as_mut_ptr().cast::<f32>());
                for i in 0..n {
                    let x = &x[i * c * hw..(i + 1) * c * hw];
                    let image = SendPtr::new(out.get().add(i * m * out_plane));
                    // Each thread takes its share of consecutive bands: the rows the stem
                    // wrote on that core, and those block 1 reads there (team::for_each_init).
                    team::for_each_init(bands, buffers, |buf, j| job(buf, x, j, image.get()));
                }
            })
        };
        Ok((CpuStorage::F32(out), Shape::from((n, m, g.ho, g.wo))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::depthwise::depthwise_relu6;
    use candle_core::{Device, Tensor};

    #[test]
    fn fused_matches_depthwise_then_projection() -> Result<()> {
        let dev = Device::Cpu;
        // Bands that divide the rows and that do not, both strides, a plane narrower than
        // a vector and one wider than a band.
        for (n, c, m, h, wd, k, s) in [
            (1, 32, 16, 40, 37, 3, 1),
            (2, 8, 5, 9, 7, 3, 2),
            (1, 16, 24, 23, 500, 5, 1),
            (1, 4, 20, 30, 64, 5, 2),
        ] {
            let x = Tensor::randn(0f32, 1.0, (n, c, h, wd), &dev)?;
            let dw = Tensor::randn(0f32, 0.5, (c, 1, k, k), &dev)?;
            let db = Tensor::randn(0f32, 0.5, c, &dev)?;
            let pw = Tensor::randn(0f32, 0.5, (m, c), &dev)?;
            let pb = Tensor::randn(0f32, 0.5, m, &dev)?;
            for isa in Isa::available().into_iter().filter(|i| *i != Isa::Portable) {
                let packed =
                    PackedWeights::new(isa, &pw.flatten_all()?.to_vec1()?, &pb.to_vec1()?, m, c);
                let fused = x.apply_op3_no_bwd(
                    &dw,
                    &db,
                    &DepthwiseProject {
                        project: &packed,
                        stride: s,
                    },
                )?;
                let mid = depthwise_relu6(&x, &dw, &db, s)?;
                let (ho, wo) = (mid.dim(2)?, mid.dim(3)?);
                let mut separate = vec![0f32; n * m * ho * wo];
                let hv: Vec<f32> = mid.flatten_all()?.to_vec1()?;
                for (i, out) in separate.chunks_exact_mut(m * ho * wo).enumerate() {
                    packed.apply(
                        &hv[i * c * ho * wo..(i + 1) * c * ho * wo],
                        ho * wo,
                        None,
                        false,
                        1,
                        out,
                    );
                }
                let fused: Vec<f32> = fused.flatten_all()?.to_vec1()?;
                assert_eq!(fused.len(), separate.len());
                for (j, (a, b)) in fused.iter().zip(&separate).enumerate() {
                    assert_eq!(
                        a.to_bits(),
                        b.to_bits(),
                        "{isa:?} {h}x{wd} k={k} s={s} at {j}"
                    );
                }
            }
        }
        Ok(())
    }
}
