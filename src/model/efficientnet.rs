//! EfficientNet-Lite0 (Tan & Le, 2019, "EfficientNet: Rethinking Model Scaling for CNNs"; the Lite variants),
//! the frozen image encoder.
//!
//! Lite drops squeeze-and-excitation, uses ReLU6 and fixes the stem (32) and head (1280)
//! widths. Keys follow the lukemelas EfficientNet-PyTorch layout. The encoder is only
//! ever run for inference, so every BatchNorm is folded into its convolution at load time.

use candle_core::{Device, Module, Tensor, D};

use super::depthwise::{depthwise_relu6, same_padding};
use super::pointwise::{Activation, Pointwise};
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

fn relu6(x: &Tensor) -> Result<Tensor> {
    Ok(x.clamp(0f32, 6f32)?)
}

struct MbConv {
    expand: Option<Pointwise>,
    depthwise: FoldedConv,
    project: Pointwise,
    stride: usize,
    residual: bool,
}

impl MbConv {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = match &self.expand {
            Some(e) => e.forward(x, Activation::Relu6, None)?,
            None => x.clone(),
        };
        let h = depthwise_relu6(
            &h,
            &self.depthwise.weight,
            &self.depthwise.bias,
            self.stride,
        )?;
        let residual = self.residual.then_some(x);
        Ok(self.project.forward(&h, Activation::Linear, residual)?)
    }
}

/// What one forward pass gives: the caption feature.
pub struct EncoderOutput {
    /// Pooled 1280-d feature, (N, 1280).
    pub features: Tensor,
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
        let (_, _, h, wd) = x.dims4()?;
        let (pt, pb, _) = same_padding(h, 3, 2);
        let (pl, pr, _) = same_padding(wd, 3, 2);
        let xp = x.pad_with_zeros(2, pt, pb)?.pad_with_zeros(3, pl, pr)?;
        let y = xp.conv2d(&self.stem.weight, 0, 2, 1, 1)?;
        let mut y = relu6(&y.broadcast_add(&self.stem.bias.reshape((1, STEM, 1, 1))?)?)?;
        for block in &self.blocks {
            y = block.forward(&y)?;
        }
        let y = self.head.forward(&y, Activation::Relu6, None)?;
        let features = y.mean(D::Minus1)?.mean(D::Minus1)?;
        Ok(EncoderOutput { features })
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
