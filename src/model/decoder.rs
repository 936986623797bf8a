//! The Show-and-Tell decoder (Vinyals et al., 2015, "Show and Tell: A Neural Image Caption Generator").
//!
//! The image feature, projected to the embedding width, is the LSTM's first input (x₋₁);
//! then the start token and each word, embedded, are the next inputs, and a linear layer
//! turns each LSTM output into the next word's logits.

use candle_core::{DType, Device, IndexOp, Module, Tensor, D};
use candle_nn::rnn::{LSTMState, RNN};
use candle_nn::{Embedding, Linear, VarBuilder, LSTM};
use rand::rngs::StdRng;
use rand::Rng;

use super::config::DecoderConfig;
use crate::decode::StepDecoder;
use crate::{Error, Result};

/// The decoder's layers; keys are `img_proj`, `embed`, `lstm` (PyTorch nn.LSTM names) and `out`.
pub struct Decoder {
    cfg: DecoderConfig,
    img_proj: Linear,
    embed: Embedding,
    lstm: LSTM,
    // The same LSTM weights, kept to run whole sequences with one input projection.
    w_ih: Tensor,
    w_hh: Tensor,
    bias: Tensor,
    out: Linear,
}

impl Decoder {
    /// Builds the decoder from a `VarBuilder` (trained weights, or fresh variables for training).
    pub fn new(cfg: DecoderConfig, vb: VarBuilder) -> Result<Self> {
        let (e, h, v) = (cfg.embed_dim, cfg.hidden_dim, cfg.vocab_size);
        let img_proj = candle_nn::linear(cfg.feature_dim, e, vb.pp("img_proj"))?;
        let embed = candle_nn::embedding(v, e, vb.pp("embed"))?;
        let lstm = candle_nn::rnn::lstm(e, h, Default::default(), vb.pp("lstm"))?;
        let lv = vb.pp("lstm");
        let w_ih = lv.get((4 * h, e), "weight_ih_l0")?;
        let w_hh = lv.get((4 * h, h), "weight_hh_l0")?;
        let bias = (lv.get(4 * h, "bias_ih_l0")? + lv.get(4 * h, "bias_hh_l0")?)?;
        let out = candle_nn::linear(h, v, vb.pp("out"))?;
        Ok(Self {
            cfg,
            img_proj,
            embed,
            lstm,
            w_ih,
            w_hh,
            bias,
            out,
        })
    }

    /// The configuration the decoder was built with.
    pub fn config(&self) -> &DecoderConfig {
        &self.cfg
    }

    /// Feeds the image (x₋₁) into a zero state: the state the start token is fed to.
    pub fn image_state(&self, features: &Tensor) -> Result<LSTMState> {
        let x = self.img_proj.forward(features)?;
        let zero = self.lstm.zero_state(features.dim(0)?)?;
        Ok(self.lstm.step(&x, &zero)?)
    }

    /// One step for a batch: next-word log-probabilities (B, V) and the new state.
    pub fn step_tensor(&self, tokens: &Tensor, state: &LSTMState) -> Result<(Tensor, LSTMState)> {
        let x = self.embed.forward(tokens)?;
        let state = self.lstm.step(&x, state)?;
        let logits = self.out.forward(&state.h)?;
        Ok((candle_nn::ops::log_softmax(&logits, D::Minus1)?, state))
    }

    /// Teacher-forced LSTM outputs for whole captions, flattened to (B·T, H).
    ///
    /// `features` is (B, F); `inputs` is (B, T) token ids starting with the start token.
    /// Row b·T + t is the output that predicts the token after `inputs[b, t]`; apply
    /// [`Decoder::logits`] to the rows that matter. Dropout applies when an RNG is given;
    /// it draws the masks, so a seeded run repeats exactly.
    pub fn forward_sequence(
        &self,
        features: &Tensor,
        inputs: &Tensor,
        mut dropout: Option<&mut StdRng>,
    ) -> Result<Tensor> {
        let (b, t) = inputs.dims2()?;
        let (e, h) = (self.cfg.embed_dim, self.cfg.hidden_dim);
        let p = self.cfg.dropout;
        let mut img = self.img_proj.forward(features)?;
        if let Some(rng) = dropout.as_deref_mut() {
            img = apply_dropout(&img, p, rng)?;
        }
        let words = self.embed.forward(inputs)?;
        let x = Tensor::cat(&[img.unsqueeze(1)?, words], 1)?;
        // One big matmul for every step's input projection instead of one per step.
        let xw = x
            .reshape((b * (t + 1), e))?
            .matmul(&self.w_ih.t()?)?
            .broadcast_add(&self.bias)?
            .reshape((b, t + 1, 4 * h))?;
        let w_hh_t = self.w_hh.t()?;
        let mut hs = Vec::with_capacity(t);
        let mut state_h = Tensor::zeros((b, h), DType::F32, x.device())?;
        let mut state_c = state_h.clone();
        for step in 0..=t {
            let gates = (xw.i((.., step, ..))? + state_h.matmul(&w_hh_t)?)?;
            let chunks = gates.chunk(4, 1)?;
            let (ig, fg, gg, og) = match chunks.as_slice() {
                [a, b, c, d] => (a, b, c, d),
                _ => return Err(Error::Other("LSTM gates did not split in four".into())),
            };
            let ig = candle_nn::ops::sigmoid(ig)?;
            let fg = candle_nn::ops::sigmoid(fg)?;
            let gg = gg.tanh()?;
            let og = candle_nn::ops::sigmoid(og)?;
            state_c = ((fg * &state_c)? + (ig * gg)?)?;
            state_h = (og * state_c.tanh()?)?;
            if step > 0 {
                hs.push(state_h.clone());
            }
        }
        let mut hs = Tensor::stack(&hs, 1)?.reshape((b * t, h))?;
        if let Some(rng) = dropout {
            hs = apply_dropout(&hs, p, rng)?;
        }
        Ok(hs)
    }

    /// Vocabulary logits for LSTM outputs: (N, H) -> (N, V).
    pub fn logits(&self, hidden: &Tensor) -> Result<Tensor> {
        Ok(self.out.forward(hidden)?)
    }

    /// A view of this decoder as the step function beam search drives.
    pub fn stepper<'a>(&'a self, device: &'a Device) -> Stepper<'a> {
        Stepper {
            decoder: self,
            device,
        }
    }
}

/// Inverted dropout with a mask drawn from `rng`.
fn apply_dropout(x: &Tensor, p: f32, rng: &mut StdRng) -> Result<Tensor> {
    if p <= 0.0 {
        return Ok(x.clone());
    }
    let keep = 1.0 - p;
    let scale = 1.0 / keep;
    let mask: Vec<f32> = (0..x.elem_count())
        .map(|_| {
            if rng.random::<f32>() < keep {
                scale
            } else {
                0.0
            }
        })
        .collect();
    let mask = Tensor::from_vec(mask, x.shape(), x.device())?;
    Ok(x.mul(&mask)?)
}

/// The decoder seen through beam search's `step` seam.
pub struct Stepper<'a> {
    decoder: &'a Decoder,
    device: &'a Device,
}

impl StepDecoder for Stepper<'_> {
    type State = LSTMState;

    fn vocab_size(&self) -> usize {
        self.decoder.cfg.vocab_size
    }

    fn step(&self, tokens: &[u32], state: &LSTMState) -> Result<(Vec<f32>, LSTMState)> {
        let t = Tensor::from_slice(tokens, tokens.len(), self.device)?;
        let (log_probs, state) = self.decoder.step_tensor(&t, state)?;
        Ok((log_probs.flatten_all()?.to_vec1::<f32>()?, state))
    }

    fn select(&self, state: &LSTMState, rows: &[usize]) -> Result<LSTMState> {
        let idx: Vec<u32> = rows.iter().map(|&r| r as u32).collect();
        let idx = Tensor::from_vec(idx, rows.len(), self.device)?;
        Ok(LSTMState::new(
            state.h.index_select(&idx, 0)?,
            state.c.index_select(&idx, 0)?,
        ))
    }
}
