//! EfficientNet-Lite0 (Tan & Le, 2019, "EfficientNet: Rethinking Model Scaling for CNNs"; the Lite variants),
//! the frozen image encoder.
//!
//! Lite drops squeeze-and-excitation, uses ReLU6 and fixes the stem (32) and head (1280)
//! widths. Keys follow the lukemelas EfficientNet-PyTorch layout. The encoder is only
//! ever run for inference, so every BatchNorm is folded into its convolution at load time.

use candle_core::{DType, Device, Module, Tensor, D};

use super::blocked::{self, BlockedDepthwise, BlockedMap, BlockedPointwise};
use super::depthwise::depthwise_relu6;
#[cfg(target_arch = "x86_64")]
use super::depthwise_project::DepthwiseProject;
use super::expand_depthwise::ExpandDepthwise;
use super::pointwise::{Activation, Pointwise};
use super::stem::conv_relu6;
use super::weights::Weights;
use crate::Result;

/// BatchNorm epsilon of the TensorFlow original.
const BN_EPS: f64 = 1e-3;
/// Channels of the stem convolution.
const STEM: usize = 32;
/// Width of the pooled feature.
pub const FEATURE_DIM: usize = 1280;
/// Number of ImageNet classes in the head.
pub const CLASSES: usize = 1000;

/// One stage: (repeats, stride, kernel, output channels, expansion).
const STAGES: [(usize, usize, usize, usize, usize); 7] = [
    (1, 1, 3, 16, 1),
    (2, 2, 3, 24, 6),
    (2, 2, 5, 40, 6),
    (3, 2, 3, 80, 6),
    (3, 1, 5, 112, 6),
    (4, 2, 5, 192, 6),
    (1, 1, 3, 320, 6),
];

/// A convolution with its BatchNorm folded in: weight (out, in, k, k) and bias (out).
struct FoldedConv {
    weight: Tensor,
    bias: Tensor,
}

impl FoldedConv {
    fn load(w: &Weights, conv: &str, bn: &str, shape: [usize; 4]) -> Result<Self> {
        let weight = w.get(&format!("{conv}.weight"), &shape)?;
        let out = shape[0];
        let gamma = w.get(&format!("{bn}.weight"), &[out])?;
        let beta = w.get(&format!("{bn}.bias"), &[out])?;
        let mean = w.get(&format!("{bn}.running_mean"), &[out])?;
        let var = w.get(&format!("{bn}.running_var"), &[out])?;
        let least = var
            .min(0)?
            .to_dtype(candle_core::DType::F32)?
            .to_scalar::<f32>()?;
        if least < 0.0 {
            return Err(crate::Error::Model {
                location: w.location().to_owned(),
                message: format!(
                    "`{bn}.running_var` holds a negative variance ({least}); a variance is never \
                     negative, so the encoder file is damaged"
                ),
            });
        }
        let scale = gamma.div(&(var + BN_EPS)?.sqrt()?)?;
        let weight = weight.broadcast_mul(&scale.reshape((out, 1, 1, 1))?)?;
        let bias = (beta - mean.mul(&scale)?)?;
        Ok(Self { weight, bias })
    }

    /// This 1x1 convolution as a fused pointwise layer.
    fn pointwise(&self) -> Result<Pointwise> {
        Ok(Pointwise::new(&self.weight, &self.bias)?)
    }

    /// Whether this layer can run on channel-blocked maps: on a CPU that has the kernels.
    fn can_block(&self) -> bool {
        self.weight.device().is_cpu() && blocked::available()
    }

    /// This 1x1 convolution packed for channel-blocked maps.
    fn blocked_pointwise(&self) -> Result<BlockedPointwise> {
        let (m, k) = (self.weight.dim(0)?, self.weight.dim(1)?);
        let (w, b) = self.host_values()?;
        Ok(BlockedPointwise::new(&w, &b, m, k))
    }

    /// This depthwise convolution packed for channel-blocked maps.
    fn blocked_depthwise(&self, stride: usize) -> Result<BlockedDepthwise> {
        let (c, k) = (self.weight.dim(0)?, self.weight.dim(2)?);
        let (w, b) = self.host_values()?;
        Ok(BlockedDepthwise::new(&w, &b, c, k, stride))
    }

    fn host_values(&self) -> Result<(Vec<f32>, Vec<f32>)> {
        Ok((
            self.weight
                .to_dtype(DType::F32)?
                .flatten_all()?
                .to_vec1::<f32>()?,
            self.bias.to_dtype(DType::F32)?.to_vec1::<f32>()?,
        ))
    }
}

/// A block's layers packed for channel-blocked maps.
struct BlockedLayers {
    expand: Option<BlockedPointwise>,
    depthwise: BlockedDepthwise,
    project: BlockedPointwise,
}

/// Planes of at most this many pixels run the blocked layers (14 x 14 and 7 x 7 for a
/// 224 x 224 input). Starting at 28 x 28 (784) measured no faster: there the NCHW kernels'
/// fused expansion and depthwise pass keeps the expanded map in L2, the blocked layers do
/// not.
const BLOCKED_PIXELS: usize = 196;

struct MbConv {
    expand: Option<Pointwise>,
    depthwise: FoldedConv,
    project: Pointwise,
    stride: usize,
    residual: bool,
    blocked: Option<BlockedLayers>,
}

impl MbConv {
    /// The block on channel-blocked maps, one per image (the caller checked `blocked`).
    fn forward_blocked(
        &self,
        maps: Vec<BlockedMap>,
        mark: &mut dyn FnMut(&str),
    ) -> Result<Vec<BlockedMap>> {
        let Some(b) = &self.blocked else {
            return Err(crate::Error::Other(
                "a block without blocked layers was asked to run them".into(),
            ));
        };
        let expanded: Option<Vec<BlockedMap>> = b
            .expand
            .as_ref()
            .map(|e| maps.iter().map(|m| e.apply(m, None, true)).collect());
        if expanded.is_some() {
            mark("expand 1x1");
        }
        let h: Vec<BlockedMap> = expanded
            .as_ref()
            .unwrap_or(&maps)
            .iter()
            .map(|m| b.depthwise.apply(m))
            .collect();
        mark("depthwise");
        let out = h
            .iter()
            .zip(&maps)
            .map(|(m, x)| b.project.apply(m, self.residual.then_some(x), false))
            .collect();
        mark("project 1x1");
        Ok(out)
    }

    /// Runs the block, calling `mark` after each of its layers with the layer's name.
    fn forward_marked(&self, x: &Tensor, mark: &mut dyn FnMut(&str)) -> Result<Tensor> {
        let fused = match self.expand.as_ref().and_then(|e| e.packed()) {
            Some(expand) if x.device().is_cpu() && x.dtype() == DType::F32 => Some(expand),
            _ => None,
        };
        #[cfg(target_arch = "x86_64")]
        if let Some(y) = self.depthwise_project(x)? {
            mark("depthwise + project 1x1");
            return Ok(y);
        }
        let h = match fused {
            Some(expand) => {
                let op = ExpandDepthwise {
                    expand,
                    stride: self.stride,
                };
                let h = x.contiguous()?.apply_op3_no_bwd(
                    &self.depthwise.weight.contiguous()?,
                    &self.depthwise.bias.contiguous()?,
                    &op,
                )?;
                mark("expand 1x1 + depthwise");
                h
            }
            None => self.expand_then_depthwise(x, mark)?,
        };
        let residual = self.residual.then_some(x);
        let y = self.project.forward(&h, Activation::Linear, residual)?;
        mark("project 1x1");
        Ok(y)
    }

    /// A block with no expansion and no residual as one fused pass on the CPU's vector
    /// kernels ([`DepthwiseProject`]), or `None` where it does not apply.
    #[cfg(target_arch = "x86_64")]
    fn depthwise_project(&self, x: &Tensor) -> Result<Option<Tensor>> {
        let project = match self.project.packed() {
            Some(p) if p.isa() != super::gemm_kernel::Isa::Portable => p,
            _ => return Ok(None),
        };
        if self.expand.is_some() || self.residual || !x.device().is_cpu() || x.dtype() != DType::F32
        {
            return Ok(None);
        }
        let op = DepthwiseProject {
            project,
            stride: self.stride,
        };
        Ok(Some(x.contiguous()?.apply_op3_no_bwd(
            &self.depthwise.weight.contiguous()?,
            &self.depthwise.bias.contiguous()?,
            &op,
        )?))
    }

    /// The expansion and the depthwise layer as separate ops (off the CPU, or with no expansion).
    fn expand_then_depthwise(&self, x: &Tensor, mark: &mut dyn FnMut(&str)) -> Result<Tensor> {
        let h = match &self.expand {
            Some(e) => {
                let h = e.forward(x, Activation::Relu6, None)?;
                mark("expand 1x1");
                h
            }
            None => x.clone(),
        };
        let h = depthwise_relu6(
            &h,
            &self.depthwise.weight,
            &self.depthwise.bias,
            self.stride,
        )?;
        mark("depthwise");
        Ok(h)
    }
}

/// Time spent in one layer of the encoder, for `seesay bench --layers`.
#[derive(Debug, Clone)]
pub struct LayerTime {
    /// Which layer, with its input shape: "block 3 expand 1x1 (24x56x56)".
    pub name: String,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// What one forward pass gives: the caption feature.
pub struct EncoderOutput {
    /// Pooled 1280-d feature, (N, 1280).
    pub features: Tensor,
    /// The head's output before pooling, (N, 1280, 7, 7), when asked for
    /// ([`EfficientNetLite0::forward_grid`]): what an attention decoder reads.
    pub grid: Option<Tensor>,
}

/// EfficientNet-Lite0 with folded BatchNorms, ready for inference.
pub struct EfficientNetLite0 {
    stem: FoldedConv,
    blocks: Vec<MbConv>,
    head: Pointwise,
    head_blocked: Option<BlockedPointwise>,
    /// The first block that can run on channel-blocked maps (all after it can too).
    blocked_from: Option<usize>,
    fc: candle_nn::Linear,
}

impl EfficientNetLite0 {
    /// Builds the network from a checkpoint, checking every tensor's shape.
    pub fn load(w: &Weights) -> Result<Self> {
        let stem = FoldedConv::load(w, "_conv_stem", "_bn0", [STEM, 3, 3, 3])?;
        let mut blocks = Vec::new();
        let mut in_ch = STEM;
        // Each block's input side for the encoder's input size (the stem halves it).
        let mut side = (crate::preprocess::INPUT_SIZE as usize).div_ceil(2);
        for &(repeats, stride, k, out_ch, expand) in &STAGES {
            for r in 0..repeats {
                let i = blocks.len();
                let stride = if r == 0 { stride } else { 1 };
                let mid = in_ch * expand;
                let p = format!("_blocks.{i}");
                let expand_conv = if expand == 1 {
                    None
                } else {
                    Some(FoldedConv::load(
                        w,
                        &format!("{p}._expand_conv"),
                        &format!("{p}._bn0"),
                        [mid, in_ch, 1, 1],
                    )?)
                };
                let depthwise = FoldedConv::load(
                    w,
                    &format!("{p}._depthwise_conv"),
                    &format!("{p}._bn1"),
                    [mid, 1, k, k],
                )?;
                let project = FoldedConv::load(
                    w,
                    &format!("{p}._project_conv"),
                    &format!("{p}._bn2"),
                    [out_ch, mid, 1, 1],
                )?;
                // Packed only where the encoder's own input size will run them: a second copy
                // of every block's weights would cost memory and start-up for nothing.
                let blocked = if depthwise.can_block() && side * side <= BLOCKED_PIXELS {
                    Some(BlockedLayers {
                        expand: expand_conv
                            .as_ref()
                            .map(|e| e.blocked_pointwise())
                            .transpose()?,
                        depthwise: depthwise.blocked_depthwise(stride)?,
                        project: project.blocked_pointwise()?,
                    })
                } else {
                    None
                };
                side = side.div_ceil(stride);
                blocks.push(MbConv {
                    expand: expand_conv.as_ref().map(|e| e.pointwise()).transpose()?,
                    depthwise,
                    project: project.pointwise()?,
                    stride,
                    residual: stride == 1 && in_ch == out_ch,
                    blocked,
                });
                in_ch = out_ch;
            }
        }
        let head = FoldedConv::load(w, "_conv_head", "_bn1", [FEATURE_DIM, in_ch, 1, 1])?;
        let head_blocked = if head.can_block() && side * side <= BLOCKED_PIXELS {
            Some(head.blocked_pointwise()?)
        } else {
            None
        };
        let head = head.pointwise()?;
        // The blocked layers run from the first block after which every block, and the
        // head, has them.
        let blocked_from = head_blocked.as_ref().map(|_| {
            blocks
                .iter()
                .rposition(|b| b.blocked.is_none())
                .map_or(0, |last| last + 1)
        });
        let fc = candle_nn::Linear::new(
            w.get("_fc.weight", &[CLASSES, FEATURE_DIM])?,
            Some(w.get("_fc.bias", &[CLASSES])?),
        );
        Ok(Self {
            stem,
            blocks,
            head,
            head_blocked,
            blocked_from,
            fc,
        })
    }

    /// Runs a normalised (N, 3, H, W) batch through the network.
    pub fn forward(&self, x: &Tensor) -> Result<EncoderOutput> {
        self.forward_marked(x, &mut |_: &str| {}, false)
    }

    /// The forward pass that also keeps the spatial grid before pooling (for attention).
    pub fn forward_grid(&self, x: &Tensor) -> Result<EncoderOutput> {
        self.forward_marked(x, &mut |_: &str| {}, true)
    }

    /// The forward pass, timing each layer (CPU ops finish before they return, so the clock
    /// between two layers is that layer's time there; on other devices it is launch time).
    pub fn forward_timed(&self, x: &Tensor) -> Result<(EncoderOutput, Vec<LayerTime>)> {
        let mut times = Vec::new();
        let mut last = std::time::Instant::now();
        let out = self.forward_marked(
            x,
            &mut |name: &str| {
                let now = std::time::Instant::now();
                times.push(LayerTime {
                    name: name.to_owned(),
                    seconds: (now - last).as_secs_f64(),
                });
                last = now;
            },
            false,
        )?;
        Ok((out, times))
    }

    fn forward_marked(
        &self,
        x: &Tensor,
        mark: &mut dyn FnMut(&str),
        keep_grid: bool,
    ) -> Result<EncoderOutput> {
        let mut y = conv_relu6(x, &self.stem.weight, &self.stem.bias, 2)?;
        mark("stem 3x3");
        for (i, block) in self.blocks.iter().enumerate() {
            let (_, c, h, w) = y.dims4()?;
            let label = format!("block {i:2} ({c}x{h}x{w})");
            let blocked = self.blocked_from.is_some_and(|from| i >= from)
                && h * w <= BLOCKED_PIXELS
                && y.device().is_cpu()
                && y.dtype() == DType::F32;
            if blocked {
                return self.blocked_tail(&y, i, mark, keep_grid);
            }
            y = block.forward_marked(&y, &mut |layer: &str| mark(&format!("{label} {layer}")))?;
        }
        let y = self.head.forward(&y, Activation::Relu6, None)?;
        mark("head 1x1");
        let features = y.mean(D::Minus1)?.mean(D::Minus1)?;
        mark("pool");
        Ok(EncoderOutput {
            features,
            grid: keep_grid.then_some(y),
        })
    }

    /// Blocks `first..`, the head and the pooling on channel-blocked maps: the pooled
    /// features (N, 1280), and the grid before pooling in NCHW when `keep_grid`.
    fn blocked_tail(
        &self,
        y: &Tensor,
        first: usize,
        mark: &mut dyn FnMut(&str),
        keep_grid: bool,
    ) -> Result<EncoderOutput> {
        let (n, c, h, w) = y.dims4()?;
        let values = y.flatten_all()?.to_vec1::<f32>()?;
        let mut maps: Vec<BlockedMap> = values
            .chunks_exact(c * h * w)
            .map(|image| BlockedMap::from_nchw(image, c, h, w))
            .collect();
        mark("to blocked layout");
        for (i, block) in self.blocks.iter().enumerate().skip(first) {
            let (c, h, w) = maps[0].dims();
            let label = format!("block {i:2} ({c}x{h}x{w}, blocked)");
            maps = block
                .forward_blocked(maps, &mut |layer: &str| mark(&format!("{label} {layer}")))?;
        }
        let head = self
            .head_blocked
            .as_ref()
            .ok_or_else(|| crate::Error::Other("the head has no blocked layer".into()))?;
        let maps: Vec<BlockedMap> = maps.iter().map(|m| head.apply(m, None, true)).collect();
        mark("head 1x1");
        let features: Vec<f32> = maps.iter().flat_map(|m| m.channel_means()).collect();
        mark("pool");
        let grid = if keep_grid {
            let (c, h, w) = maps[0].dims();
            let values: Vec<f32> = maps.iter().flat_map(|m| m.to_nchw()).collect();
            Some(Tensor::from_vec(values, (n, c, h, w), y.device())?)
        } else {
            None
        };
        Ok(EncoderOutput {
            features: Tensor::from_vec(features, (n, FEATURE_DIM), y.device())?,
            grid,
        })
    }

    /// ImageNet class logits (N, 1000) for pooled features; captioning never needs them,
    /// so the forward pass leaves them out.
    pub fn classify(&self, features: &Tensor) -> Result<Tensor> {
        Ok(self.fc.forward(features)?)
    }

    /// The device the weights live on.
    pub fn device(&self) -> &Device {
        self.fc.weight().device()
    }
}
