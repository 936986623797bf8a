//! The Show-and-Tell decoder (Vinyals et al., 2015, "Show and Tell: A Neural Image Caption Generator").
//!
//! The image feature, projected to the embedding width, is the LSTM's first input (x₋₁);
//! then the start token and each word, embedded, are the next inputs, and a linear layer
//! turns each LSTM output into the next word's logits.
//!
//! With `merge_image` the projected image is also added to every LSTM output before the
//! vocabulary layer (the "merge" arrangement of Tanti et al., 2018), so the image is not
//! forgotten as the caption grows.
//!
//! An attention decoder (`DecoderKind::Attention`, see [`super::attention`]) reads the 7×7
//! grid instead: no image input before the start token, and at each step the attended
//! context beside the word.

use candle_core::{DType, Device, IndexOp, Module, Tensor, D};
use candle_nn::rnn::{LSTMState, RNN};
use candle_nn::{Embedding, Linear, VarBuilder, LSTM};
use rand::rngs::StdRng;
use rand::Rng;

use super::attention::{Attend, Grid};
use super::config::DecoderConfig;
use super::skinny::{self, HalfMatrix};
use crate::decode::StepDecoder;
use crate::{Error, Result};

/// The decoder's layers; keys are `img_proj`, `embed`, `lstm` (PyTorch nn.LSTM names), `out`,
/// and `img_out` when the image is merged at the output; an attention decoder has no
/// `img_proj` and has the attention's keys ([`super::attention`]).
pub struct Decoder {
    cfg: DecoderConfig,
    img_proj: Option<Linear>,
    attend: Option<Attend>,
    img_out: Option<Linear>,
    embed: Embedding,
    lstm: LSTM,
    // The same LSTM weights, kept to run whole sequences with one input projection.
    w_ih: Tensor,
    w_hh: Tensor,
    // The two biases stay apart and are summed at each use: a sum made once would be a copy
    // that training (which updates the variables in place) never changes, so the forward pass
    // would run with the initial biases while the saved model holds the trained ones.
    bias_ih: Tensor,
    bias_hh: Tensor,
    no_bias: Tensor,
    out: Linear,
    half: Option<HalfWeights>,
}

/// The step's three matrices in f16, for a model whose weights were stored in f16.
struct HalfWeights {
    w_ih: HalfMatrix,
    w_hh: HalfMatrix,
    out: HalfMatrix,
}

impl Decoder {
    /// Builds the decoder from a `VarBuilder` (trained weights, or fresh variables for training).
    pub fn new(cfg: DecoderConfig, vb: VarBuilder) -> Result<Self> {
        let (e, h, v) = (cfg.embed_dim, cfg.hidden_dim, cfg.vocab_size);
        let (img_proj, attend) = if cfg.attends() {
            (None, Some(Attend::new(&cfg, &vb)?))
        } else {
            (
                Some(candle_nn::linear(cfg.feature_dim, e, vb.pp("img_proj"))?),
                None,
            )
        };
        let embed = candle_nn::embedding(v, e, vb.pp("embed"))?;
        let lstm = candle_nn::rnn::lstm(e, h, Default::default(), vb.pp("lstm"))?;
        let lv = vb.pp("lstm");
        let w_ih = lv.get((4 * h, e), "weight_ih_l0")?;
        let w_hh = lv.get((4 * h, h), "weight_hh_l0")?;
        let bias_ih = lv.get(4 * h, "bias_ih_l0")?;
        let bias_hh = lv.get(4 * h, "bias_hh_l0")?;
        let no_bias = Tensor::zeros(4 * h, DType::F32, vb.device())?;
        let out = candle_nn::linear(h, v, vb.pp("out"))?;
        let img_out = if cfg.merge_image && !cfg.attends() {
            Some(candle_nn::linear(cfg.feature_dim, h, vb.pp("img_out"))?)
        } else {
            None
        };
        Ok(Self {
            cfg,
            img_proj,
            attend,
            img_out,
            embed,
            lstm,
            w_ih,
            w_hh,
            bias_ih,
            bias_hh,
            no_bias,
            out,
            half: None,
        })
    }

    /// For inference on the CPU: keeps f16 copies of the step's matrices when f16 holds their
    /// values exactly (a model saved with --f16), so each beam step reads half the bytes.
    pub fn keep_half_weights(&mut self) -> Result<()> {
        let (Some(w_ih), Some(w_hh), Some(out)) = (
            HalfMatrix::exact(&self.w_ih)?,
            HalfMatrix::exact(&self.w_hh)?,
            HalfMatrix::exact(self.out.weight())?,
        ) else {
            return Ok(());
        };
        self.half = Some(HalfWeights { w_ih, w_hh, out });
        Ok(())
    }

    /// The configuration the decoder was built with.
    pub fn config(&self) -> &DecoderConfig {
        &self.cfg
    }

    /// The word embedding table (`embed.weight`, vocab × embed_dim), for inspecting the model.
    pub fn embeddings(&self) -> &Tensor {
        self.embed.embeddings()
    }

    /// The output layer's word rows (`out.weight`, vocab × hidden_dim): a second embedding,
    /// of the words the model predicts rather than reads.
    pub fn output_embeddings(&self) -> &Tensor {
        self.out.weight()
    }

    /// Whether this decoder attends over the grid (it then reads the grid, not the pooled feature).
    pub fn attends(&self) -> bool {
        self.attend.is_some()
    }

    /// What this decoder reads of an encoder's output: the grid as (N, 49, F) for an attention
    /// decoder (the encoder must have kept it), else the pooled feature (N, F).
    pub fn input(&self, encoded: &super::EncoderOutput) -> Result<Tensor> {
        if !self.attends() {
            return Ok(encoded.features.clone());
        }
        let grid = encoded.grid.as_ref().ok_or_else(|| {
            Error::Other(
                "this attention decoder needs the encoder's grid, which was not kept".into(),
            )
        })?;
        super::attention::cells(grid)
    }

    /// The state the start token is fed to. `features` is what [`Decoder::input`] gives: the
    /// pooled feature (B, F), which a NIC decoder feeds in first (x₋₁) from a zero state, or
    /// the grid (B, L, F), from which an attention decoder starts (a NIC decoder given a grid
    /// pools it).
    pub fn image_state(&self, features: &Tensor) -> Result<DecoderState> {
        if let Some(att) = &self.attend {
            let (grid, lstm) = att.start(features)?;
            return Ok(DecoderState {
                lstm,
                merged: None,
                grid: Some(grid),
                attention: None,
            });
        }
        let features = &pooled(features)?;
        let x = self.image_projection(features)?;
        let zero = self.lstm.zero_state(features.dim(0)?)?;
        let merged = match &self.img_out {
            Some(l) => Some(l.forward(features)?),
            None => None,
        };
        Ok(DecoderState {
            lstm: self.lstm.step(&x, &zero)?,
            merged,
            grid: None,
            attention: None,
        })
    }

    fn image_projection(&self, features: &Tensor) -> Result<Tensor> {
        let proj = self
            .img_proj
            .as_ref()
            .ok_or_else(|| Error::Other("the decoder has no image projection".into()))?;
        Ok(proj.forward(features)?)
    }

    /// The LSTM's two biases as one, as the variables hold them now.
    fn lstm_bias(&self) -> Result<Tensor> {
        Ok((&self.bias_ih + &self.bias_hh)?)
    }

    /// One step for a batch: next-word log-probabilities (B, V) and the new state.
    pub fn step_tensor(
        &self,
        tokens: &Tensor,
        state: &DecoderState,
    ) -> Result<(Tensor, DecoderState)> {
        if let Some(att) = &self.attend {
            return self.attend_step(att, tokens, state);
        }
        let x = self.embed.forward(tokens)?;
        let bias = self.lstm_bias()?;
        // A step has only k rows: skinny::linear skips the packing a general GEMM does.
        let half = self
            .half
            .as_ref()
            .filter(|_| tokens.dim(0).is_ok_and(|rows| rows <= skinny::MAX_ROWS));
        let gates = match half {
            Some(hw) => {
                (skinny::linear_half(&x, &hw.w_ih, &bias)?
                    + skinny::linear_half(&state.lstm.h, &hw.w_hh, &self.no_bias)?)?
            }
            None => {
                (skinny::linear(&x, &self.w_ih, &bias)?
                    + skinny::linear(&state.lstm.h, &self.w_hh, &self.no_bias)?)?
            }
        };
        let (h, c) = lstm_cell(&gates, &state.lstm.c)?;
        let lstm = LSTMState::new(h, c);
        let top = match &state.merged {
            Some(m) => (&lstm.h + m)?,
            None => lstm.h.clone(),
        };
        let out_bias = self
            .out
            .bias()
            .ok_or_else(|| Error::Other("the output layer has no bias".into()))?;
        let logits = match half {
            Some(hw) => skinny::linear_half(&top, &hw.out, out_bias)?,
            None => skinny::linear(&top, self.out.weight(), out_bias)?,
        };
        let state = DecoderState {
            lstm,
            merged: state.merged.clone(),
            grid: None,
            attention: None,
        };
        Ok((candle_nn::ops::log_softmax(&logits, D::Minus1)?, state))
    }

    /// One attention step: look (from the previous h), then the LSTM on the word and the context.
    fn attend_step(
        &self,
        att: &Attend,
        tokens: &Tensor,
        state: &DecoderState,
    ) -> Result<(Tensor, DecoderState)> {
        let grid = state
            .grid
            .as_ref()
            .ok_or_else(|| Error::Other("an attention state without its grid".into()))?;
        let (z, alpha) = att.attend(grid, &state.lstm.h)?;
        let x = self.embed.forward(tokens)?;
        let gates = ((skinny::linear(&x, &self.w_ih, &self.lstm_bias()?)?
            + skinny::linear(&state.lstm.h, &self.w_hh, &self.no_bias)?)?
            + skinny::linear(&z, &att.ctx_in, &self.no_bias)?)?;
        let (h, c) = lstm_cell(&gates, &state.lstm.c)?;
        let top = (&h + att.out(&z)?)?;
        let out_bias = self
            .out
            .bias()
            .ok_or_else(|| Error::Other("the output layer has no bias".into()))?;
        let logits = skinny::linear(&top, self.out.weight(), out_bias)?;
        let state = DecoderState {
            lstm: LSTMState::new(h, c),
            merged: None,
            grid: Some(grid.clone()),
            attention: Some(alpha),
        };
        Ok((candle_nn::ops::log_softmax(&logits, D::Minus1)?, state))
    }

    /// Teacher-forced LSTM outputs (plus the merged image) for whole captions, as (B·T, H).
    ///
    /// `features` is (B, F); `inputs` is (B, T) token ids starting with the start token.
    /// Row b·T + t is the output that predicts the token after `inputs[b, t]`; apply
    /// [`Decoder::logits`] to the rows that matter. Dropout applies when an RNG is given;
    /// it draws the masks, so a seeded run repeats exactly.
    pub fn forward_sequence(
        &self,
        features: &Tensor,
        inputs: &Tensor,
        dropout: Option<&mut StdRng>,
    ) -> Result<Tensor> {
        Ok(self
            .forward_sequence_attending(features, inputs, dropout)?
            .0)
    }

    /// [`Decoder::forward_sequence`], and for an attention decoder the weights of every step,
    /// (B, T, L): row (b, t) is where the model looks for the word after `inputs[b, t]`.
    pub fn forward_sequence_attending(
        &self,
        features: &Tensor,
        inputs: &Tensor,
        mut dropout: Option<&mut StdRng>,
    ) -> Result<(Tensor, Option<Tensor>)> {
        if let Some(att) = &self.attend {
            let (hs, alphas) = self.attend_sequence(att, features, inputs, dropout)?;
            return Ok((hs, Some(alphas)));
        }
        let features = &pooled(features)?;
        let (b, t) = inputs.dims2()?;
        let (e, h) = (self.cfg.embed_dim, self.cfg.hidden_dim);
        let p = self.cfg.dropout;
        let mut img = self.image_projection(features)?;
        if let Some(rng) = dropout.as_deref_mut() {
            img = apply_dropout(&img, p, rng)?;
        }
        let mut words = self.embed.forward(inputs)?;
        if let Some(rng) = dropout.as_deref_mut() {
            words = apply_dropout(&words, p, rng)?;
        }
        let x = Tensor::cat(&[img.unsqueeze(1)?, words], 1)?;
        // One big matmul for every step's input projection instead of one per step.
        let xw = x
            .reshape((b * (t + 1), e))?
            .matmul(&self.w_ih.t()?)?
            .broadcast_add(&self.lstm_bias()?)?
            .reshape((b, t + 1, 4 * h))?;
        let w_hh_t = self.w_hh.t()?;
        let mut hs = Vec::with_capacity(t);
        let mut state_h = Tensor::zeros((b, h), DType::F32, x.device())?;
        let mut state_c = state_h.clone();
        for step in 0..=t {
            let gates = (xw.i((.., step, ..))? + state_h.matmul(&w_hh_t)?)?;
            (state_h, state_c) = lstm_cell(&gates, &state_c)?;
            if step > 0 {
                hs.push(state_h.clone());
            }
        }
        let mut hs = Tensor::stack(&hs, 1)?;
        if let Some(l) = &self.img_out {
            hs = hs.broadcast_add(&l.forward(features)?.unsqueeze(1)?)?;
        }
        let mut hs = hs.reshape((b * t, h))?;
        if let Some(rng) = dropout {
            hs = apply_dropout(&hs, p, rng)?;
        }
        Ok((hs, None))
    }

    /// The teacher-forced pass of an attention decoder: outputs (B·T, H) and weights (B, T, L).
    fn attend_sequence(
        &self,
        att: &Attend,
        grid: &Tensor,
        inputs: &Tensor,
        mut dropout: Option<&mut StdRng>,
    ) -> Result<(Tensor, Tensor)> {
        let (b, t) = inputs.dims2()?;
        let (e, h) = (self.cfg.embed_dim, self.cfg.hidden_dim);
        let p = self.cfg.dropout;
        let (grid, first) = att.start(grid)?;
        let mut words = self.embed.forward(inputs)?;
        if let Some(rng) = dropout.as_deref_mut() {
            words = apply_dropout(&words, p, rng)?;
        }
        let xw = words
            .reshape((b * t, e))?
            .matmul(&self.w_ih.t()?)?
            .broadcast_add(&self.lstm_bias()?)?
            .reshape((b, t, 4 * h))?;
        let w_hh_t = self.w_hh.t()?;
        let w_ctx_t = att.ctx_in.t()?;
        let (mut state_h, mut state_c) = (first.h, first.c);
        let mut hs = Vec::with_capacity(t);
        let mut alphas = Vec::with_capacity(t);
        for step in 0..t {
            let (z, alpha) = att.attend(&grid, &state_h)?;
            let gates =
                ((xw.i((.., step, ..))? + state_h.matmul(&w_hh_t)?)? + z.matmul(&w_ctx_t)?)?;
            (state_h, state_c) = lstm_cell(&gates, &state_c)?;
            hs.push((&state_h + att.out(&z)?)?);
            alphas.push(alpha);
        }
        let mut hs = Tensor::stack(&hs, 1)?.reshape((b * t, h))?;
        if let Some(rng) = dropout {
            hs = apply_dropout(&hs, p, rng)?;
        }
        Ok((hs, Tensor::stack(&alphas, 1)?))
    }

    /// A caption replayed by teacher forcing: each word's log-probability and, for an
    /// attention decoder, where the model looked for it (the same numbers the search saw).
    /// `features` is one image's input (what [`Decoder::input`] gives, one row); `tokens` the
    /// words, without start or end.
    pub fn replay(&self, features: &Tensor, tokens: &[u32]) -> Result<Replay> {
        let Some((_, head)) = tokens.split_last() else {
            return Ok(Replay {
                log_probs: Vec::new(),
                attention: self.attends().then(Vec::new),
            });
        };
        let device = features.device();
        let mut ids = Vec::with_capacity(tokens.len());
        ids.push(crate::vocab::START_ID);
        ids.extend_from_slice(head);
        let inputs = Tensor::from_vec(ids, (1, tokens.len()), device)?;
        let (hs, alphas) = self.forward_sequence_attending(features, &inputs, None)?;
        let targets = Tensor::from_slice(tokens, (tokens.len(), 1), device)?;
        let log_probs = candle_nn::ops::log_softmax(&self.logits(&hs)?, D::Minus1)?
            .gather(&targets, 1)?
            .flatten_all()?
            .to_dtype(DType::F32)?
            .to_vec1::<f32>()?;
        let attention = match alphas {
            Some(a) => Some(a.squeeze(0)?.to_dtype(DType::F32)?.to_vec2::<f32>()?),
            None => None,
        };
        Ok(Replay {
            log_probs,
            attention,
        })
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

/// The LSTM cell after its matmuls: gates (B, 4H) in PyTorch's i, f, g, o order and the
/// previous cell state give the new (h, c).
fn lstm_cell(gates: &Tensor, c: &Tensor) -> Result<(Tensor, Tensor)> {
    let chunks = gates.chunk(4, 1)?;
    let (ig, fg, gg, og) = match chunks.as_slice() {
        [a, b, c, d] => (a, b, c, d),
        _ => return Err(Error::Other("LSTM gates did not split in four".into())),
    };
    let ig = candle_nn::ops::sigmoid(ig)?;
    let fg = candle_nn::ops::sigmoid(fg)?;
    let gg = gg.tanh()?;
    let og = candle_nn::ops::sigmoid(og)?;
    let c = ((fg * c)? + (ig * gg)?)?;
    let h = (og * c.tanh()?)?;
    Ok((h, c))
}

/// The pooled feature (B, F) of a grid (B, L, F); a pooled feature as it is.
fn pooled(features: &Tensor) -> Result<Tensor> {
    Ok(match features.rank() {
        3 => features.mean(1)?,
        _ => features.clone(),
    })
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

/// One caption replayed by [`Decoder::replay`].
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    /// log p(word | image, previous words), one per word.
    pub log_probs: Vec<f32>,
    /// For an attention decoder, one row of weights per word (row-major 7×7, summing to 1).
    pub attention: Option<Vec<Vec<f32>>>,
}

/// What the decoder carries from one word to the next, one row per caption.
#[derive(Debug, Clone)]
pub struct DecoderState {
    /// The LSTM's hidden and cell state.
    pub lstm: LSTMState,
    /// The image's contribution to every output, when the image is merged.
    merged: Option<Tensor>,
    /// The grid an attention decoder reads.
    grid: Option<Grid>,
    /// Where an attention decoder looked for the word of the last step, (B, L).
    attention: Option<Tensor>,
}

impl DecoderState {
    /// The attention weights (B, L) of the step that made this state; `None` before the first
    /// step and for decoders without attention.
    pub fn attention(&self) -> Option<&Tensor> {
        self.attention.as_ref()
    }
}

/// The decoder seen through beam search's `step` seam.
pub struct Stepper<'a> {
    decoder: &'a Decoder,
    device: &'a Device,
}

impl StepDecoder for Stepper<'_> {
    type State = DecoderState;

    fn vocab_size(&self) -> usize {
        self.decoder.cfg.vocab_size
    }

    fn step(&self, tokens: &[u32], state: &DecoderState) -> Result<(Vec<f32>, DecoderState)> {
        let t = Tensor::from_slice(tokens, tokens.len(), self.device)?;
        let (log_probs, state) = self.decoder.step_tensor(&t, state)?;
        Ok((log_probs.flatten_all()?.to_vec1::<f32>()?, state))
    }

    fn select(&self, state: &DecoderState, rows: &[usize]) -> Result<DecoderState> {
        let idx: Vec<u32> = rows.iter().map(|&r| r as u32).collect();
        let idx = Tensor::from_vec(idx, rows.len(), self.device)?;
        let merged = match &state.merged {
            Some(m) => Some(m.index_select(&idx, 0)?),
            None => None,
        };
        let grid = match &state.grid {
            Some(g) => Some(g.select(&idx)?),
            None => None,
        };
        let attention = match &state.attention {
            Some(a) => Some(a.index_select(&idx, 0)?),
            None => None,
        };
        Ok(DecoderState {
            lstm: LSTMState::new(
                state.lstm.h.index_select(&idx, 0)?,
                state.lstm.c.index_select(&idx, 0)?,
            ),
            merged,
            grid,
            attention,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_nn::VarMap;

    /// The largest absolute difference between two tensors of one shape.
    fn max_abs_diff(a: &Tensor, b: &Tensor) -> Result<f32> {
        Ok((a - b)?.abs()?.max_all()?.to_scalar::<f32>()?)
    }

    /// Beam search steps one word at a time; training runs whole captions at once. Both
    /// must give the same next-word distribution, with and without the image merge.
    #[test]
    fn stepping_matches_the_teacher_forced_pass() -> Result<()> {
        let dev = Device::Cpu;
        for merge_image in [false, true] {
            let cfg = DecoderConfig {
                kind: Default::default(),
                attention_dim: 0,
                vocab_size: 40,
                feature_dim: 24,
                embed_dim: 16,
                hidden_dim: 20,
                dropout: 0.5,
                merge_image,
            };
            let vm = VarMap::new();
            let dec = Decoder::new(cfg, VarBuilder::from_varmap(&vm, DType::F32, &dev))?;
            let feats = Tensor::randn(0f32, 1.0, (2, 24), &dev)?;
            let inputs = Tensor::new(&[[1u32, 5, 9, 4], [1, 7, 7, 30]], &dev)?;
            let hidden = dec.forward_sequence(&feats, &inputs, None)?;
            let whole = candle_nn::ops::log_softmax(&dec.logits(&hidden)?, D::Minus1)?
                .reshape((2, 4, 40))?;
            let mut state = dec.image_state(&feats)?;
            for t in 0..4 {
                let (step, next) = dec.step_tensor(&inputs.i((.., t))?.contiguous()?, &state)?;
                let diff = max_abs_diff(&step, &whole.i((.., t, ..))?)?;
                assert!(diff < 1e-4, "merge {merge_image}, step {t}: {diff}");
                state = next;
            }
        }
        Ok(())
    }

    /// The attention decoder, too: stepping and the teacher-forced pass give the same next-word
    /// distributions and the same weights, and each step's weights over the cells sum to 1.
    #[test]
    fn attention_stepping_matches_the_teacher_forced_pass() -> Result<()> {
        let dev = Device::Cpu;
        let cfg = DecoderConfig {
            vocab_size: 40,
            feature_dim: 24,
            embed_dim: 16,
            hidden_dim: 20,
            attention_dim: 12,
            dropout: 0.5,
            ..DecoderConfig::attention(40)
        };
        let vm = VarMap::new();
        let dec = Decoder::new(cfg, VarBuilder::from_varmap(&vm, DType::F32, &dev))?;
        assert!(dec.attends());
        // Some layers start at zero (a uniform attention): random weights make every part count.
        for v in vm.all_vars() {
            v.set(&Tensor::randn(0f32, 0.5, v.shape(), &dev)?)?;
        }
        let grid = Tensor::randn(0f32, 1.0, (2, 49, 24), &dev)?;
        let inputs = Tensor::new(&[[1u32, 5, 9, 4], [1, 7, 7, 30]], &dev)?;
        let (hidden, alphas) = dec.forward_sequence_attending(&grid, &inputs, None)?;
        let alphas = alphas.expect("weights");
        assert_eq!(alphas.dims(), &[2, 4, 49]);
        let whole =
            candle_nn::ops::log_softmax(&dec.logits(&hidden)?, D::Minus1)?.reshape((2, 4, 40))?;
        let mut state = dec.image_state(&grid)?;
        assert!(state.attention().is_none());
        for t in 0..4 {
            let (step, next) = dec.step_tensor(&inputs.i((.., t))?.contiguous()?, &state)?;
            let diff = max_abs_diff(&step, &whole.i((.., t, ..))?)?;
            assert!(diff < 1e-4, "step {t}: {diff}");
            let alpha = next.attention().expect("the step's weights");
            let diff = max_abs_diff(alpha, &alphas.i((.., t, ..))?)?;
            assert!(diff < 1e-5, "weights of step {t}: {diff}");
            for row in alpha.to_vec2::<f32>()? {
                let sum: f32 = row.iter().sum();
                assert!((sum - 1.0).abs() < 1e-5, "{sum}");
            }
            state = next;
        }
        // The replay of a caption gives the weights and probabilities the steps gave.
        let replay = dec.replay(&grid.i(1..2)?, &[7, 7, 30])?;
        let maps = replay.attention.expect("weights");
        assert_eq!(maps.len(), 3);
        let last = alphas.i((1, 2, ..))?.to_vec1::<f32>()?;
        for (a, b) in maps[2].iter().zip(&last) {
            assert!((a - b).abs() < 1e-5);
        }
        let lp = whole.i((1, 2, 30))?.to_scalar::<f32>()?;
        assert!((replay.log_probs[2] - lp).abs() < 1e-4);
        Ok(())
    }

    /// Training updates the variables in place: both passes must see the biases as they are
    /// now, not as they were when the decoder was built (all zeros, in candle's LSTM).
    #[test]
    fn both_passes_use_the_lstm_biases_as_they_are_now() -> Result<()> {
        let dev = Device::Cpu;
        let cfg = DecoderConfig {
            kind: Default::default(),
            attention_dim: 0,
            vocab_size: 30,
            feature_dim: 12,
            embed_dim: 8,
            hidden_dim: 10,
            dropout: 0.0,
            merge_image: true,
        };
        let vm = VarMap::new();
        let dec = Decoder::new(cfg, VarBuilder::from_varmap(&vm, DType::F32, &dev))?;
        let feats = Tensor::randn(0f32, 1.0, (1, 12), &dev)?;
        let inputs = Tensor::new(&[[1u32, 5, 9]], &dev)?;
        let before = dec.forward_sequence(&feats, &inputs, None)?;
        let state = dec.image_state(&feats)?;
        let (step_before, _) = dec.step_tensor(&Tensor::new(&[1u32], &dev)?, &state)?;
        let data = vm.data().lock().map_err(|_| Error::Other("lock".into()))?;
        let bias = data.get("lstm.bias_ih_l0").expect("the LSTM's input bias");
        bias.set(&Tensor::full(0.5f32, 40, &dev)?)?;
        drop(data);
        let changed = |a: &Tensor, b: &Tensor| -> Result<f32> {
            Ok((a - b)?.abs()?.max_all()?.to_scalar::<f32>()?)
        };
        let after = dec.forward_sequence(&feats, &inputs, None)?;
        assert!(changed(&before, &after)? > 1e-3);
        let state = dec.image_state(&feats)?;
        let (step_after, _) = dec.step_tensor(&Tensor::new(&[1u32], &dev)?, &state)?;
        assert!(changed(&step_before, &step_after)? > 1e-3);
        Ok(())
    }
}
