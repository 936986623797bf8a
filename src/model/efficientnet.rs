//! EfficientNet-Lite0 (Tan & Le, 2019, "EfficientNet: Rethinking Model Scaling for CNNs"; the Lite variants),
//! the frozen image encoder.
//!
//! Lite drops squeeze-and-excitation, uses ReLU6 and fixes the stem (32) and head (1280)
//! widths. Keys follow the lukemelas EfficientNet-PyTorch layout. The encoder is only
//! ever run for inference, so every BatchNorm is folded into its convolution at load time.

use candle_core::{DType, Device, Module, Tensor, D};

use super::depthwise::depthwise_relu6;
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
}

struct MbConv {
    expand: Option<Pointwise>,
    depthwise: FoldedConv,
    project: Pointwise,
    stride: usize,
    residual: bool,
}

impl MbConv {
    /// Runs the block, calling `mark` after each of its layers with the layer's name.
    fn forward_marked(&self, x: &Tensor, mark: &mut dyn FnMut(&str)) -> Result<Tensor> {
        let fused = match self.expand.as_ref().and_then(|e| e.packed()) {
            Some(expand) if x.device().is_cpu() && x.dtype() == DType::F32 => Some(expand),
            _ => None,
        };
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
    fc: candle_nn::Linear,
}

impl EfficientNetLite0 {
    /// Builds the network from a checkpoint, checking every tensor's shape.
    pub fn load(w: &Weights) -> Result<Self> {
        let stem = FoldedConv::load(w, "_conv_stem", "_bn0", [STEM, 3, 3, 3])?;
        let mut blocks = Vec::new();
        let mut in_ch = STEM;
        for &(repeats, stride, k, out_ch, expand) in &STAGES {
            for r in 0..repeats {
                let i = blocks.len();
                let stride = if r == 0 { stride } else { 1 };
                let mid = in_ch * expand;
                let p = format!("_blocks.{i}");
                let expand_conv = if expand == 1 {
                    None
                } else {
                    Some(
                        FoldedConv::load(
                            w,
                            &format!("{p}._expand_conv"),
                            &format!("{p}._bn0"),
                            [mid, in_ch, 1, 1],
                        )?
                        .pointwise()?,
                    )
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
                )?
                .pointwise()?;
                blocks.push(MbConv {
                    expand: expand_conv,
                    depthwise,
                    project,
                    stride,
                    residual: stride == 1 && in_ch == out_ch,
                });
                in_ch = out_ch;
            }
        }
        let head =
            FoldedConv::load(w, "_conv_head", "_bn1", [FEATURE_DIM, in_ch, 1, 1])?.pointwise()?;
        let fc = candle_nn::Linear::new(
            w.get("_fc.weight", &[CLASSES, FEATURE_DIM])?,
            Some(w.get("_fc.bias", &[CLASSES])?),
        );
        Ok(Self {
            stem,
            blocks,
            head,
            fc,
        })
    }

    /// Runs a normalised (N, 3, H, W) batch through the network.
    pub fn forward(&self, x: &Tensor) -> Result<EncoderOutput> {
        super::on_pool(|| self.forward_marked(x, &mut |_: &str| {}, false))
    }

    /// The forward pass that also keeps the spatial grid before pooling (for attention).
    pub fn forward_grid(&self, x: &Tensor) -> Result<EncoderOutput> {
        super::on_pool(|| self.forward_marked(x, &mut |_: &str| {}, true))
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
            let shape = y
                .dims()
                .iter()
                .skip(1)
                .map(|d| d.to_string())
                .collect::<Vec<_>>();
            let label = format!("block {i:2} ({})", shape.join("x"));
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
