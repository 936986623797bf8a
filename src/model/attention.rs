//! Soft attention over the encoder's 7×7 grid (Xu et al., 2015, "Show, Attend and Tell: Neural
//! Image Caption Generation with Visual Attention", the deterministic form).
//!
//! Before each word, the LSTM's previous hidden state h scores every cell aᵢ of the grid,
//! eᵢ = wᵀ tanh(W_a aᵢ + U_a h); α = softmax(e) says where the model looks, and the context
//! z = β Σᵢ αᵢ aᵢ, gated by β = σ(f_β(h)) (the paper's gating scalar), is fed to the LSTM
//! with the word and added, through L_z, to its output before the vocabulary layer (the
//! paper's deep output, without its word term). The first h and c are tanh of a linear map
//! of the mean cell (the paper's f_init).
//!
//! Keys: `att.feat` (W_a), `att.hidden` (U_a), `att.score` (w), `att.beta` (f_β), `ctx_in`
//! (the LSTM's input weights for z, beside `lstm.weight_ih_l0` for the word), `ctx_out` (L_z),
//! `init_h`, `init_c`.

use candle_core::{Module, Tensor, D};
use candle_nn::rnn::LSTMState;
use candle_nn::{Linear, VarBuilder};

use super::config::DecoderConfig;
use crate::{Error, Result};

/// Cells per side of the encoder's grid (224 / 32).
pub const GRID_SIDE: usize = 7;
/// Cells of the grid.
pub const GRID_CELLS: usize = GRID_SIDE * GRID_SIDE;

/// The attention's layers.
pub struct Attend {
    feat: Linear,
    hidden: Linear,
    score: Tensor,
    beta: Linear,
    /// (4H, F): the LSTM's input weights for the context.
    pub(super) ctx_in: Tensor,
    ctx_out: Linear,
    init_h: Linear,
    init_c: Linear,
}

/// The grid of a batch of images, with its cells already projected by W_a (computed once per
/// image, not once per word).
#[derive(Debug, Clone)]
pub struct Grid {
    /// (B, L, F): the cells.
    cells: Tensor,
    /// (B, L, A): W_a aᵢ + b.
    projected: Tensor,
}

impl Grid {
    /// The rows `idx` of the grid, in that order.
    pub fn select(&self, idx: &Tensor) -> Result<Self> {
        Ok(Self {
            cells: self.cells.index_select(idx, 0)?,
            projected: self.projected.index_select(idx, 0)?,
        })
    }
}

impl Attend {
    /// Builds the layers (trained weights, or fresh variables for training).
    pub fn new(cfg: &DecoderConfig, vb: &VarBuilder) -> Result<Self> {
        let (f, h, a) = (cfg.feature_dim, cfg.hidden_dim, cfg.attention_dim);
        if a == 0 {
            return Err(Error::Other(
                "an attention decoder needs attention_dim of at least 1".into(),
            ));
        }
        let att = vb.pp("att");
        Ok(Self {
            feat: candle_nn::linear(f, a, att.pp("feat"))?,
            hidden: candle_nn::linear(h, a, att.pp("hidden"))?,
            score: att.pp("score").get((1, a), "weight")?,
            beta: candle_nn::linear(h, 1, att.pp("beta"))?,
            ctx_in: vb.pp("ctx_in").get((4 * h, f), "weight")?,
            ctx_out: candle_nn::linear(f, h, vb.pp("ctx_out"))?,
            init_h: candle_nn::linear(f, h, vb.pp("init_h"))?,
            init_c: candle_nn::linear(f, h, vb.pp("init_c"))?,
        })
    }

    /// Every tensor with the shape the config implies (for checking a model's file).
    pub fn shapes(cfg: &DecoderConfig) -> Vec<(&'static str, Vec<usize>)> {
        let (f, h, a) = (cfg.feature_dim, cfg.hidden_dim, cfg.attention_dim);
        vec![
            ("att.feat.weight", vec![a, f]),
            ("att.feat.bias", vec![a]),
            ("att.hidden.weight", vec![a, h]),
            ("att.hidden.bias", vec![a]),
            ("att.score.weight", vec![1, a]),
            ("att.beta.weight", vec![1, h]),
            ("att.beta.bias", vec![1]),
            ("ctx_in.weight", vec![4 * h, f]),
            ("ctx_out.weight", vec![h, f]),
            ("ctx_out.bias", vec![h]),
            ("init_h.weight", vec![h, f]),
            ("init_h.bias", vec![h]),
            ("init_c.weight", vec![h, f]),
            ("init_c.bias", vec![h]),
        ]
    }

    /// The grid `cells` (B, L, F) projected once, and the LSTM's first state.
    pub fn start(&self, cells: &Tensor) -> Result<(Grid, LSTMState)> {
        let (_, l, _) = cells.dims3().map_err(|_| not_a_grid(cells))?;
        if l == 0 {
            return Err(not_a_grid(cells));
        }
        let cells = cells.contiguous()?;
        let projected = self.feat.forward(&cells)?;
        let mean = cells.mean(1)?;
        let h = self.init_h.forward(&mean)?.tanh()?;
        let c = self.init_c.forward(&mean)?.tanh()?;
        Ok((Grid { cells, projected }, LSTMState::new(h, c)))
    }

    /// Where the state `h` (B, H) looks: the gated context z (B, F) and the weights α (B, L).
    pub fn attend(&self, grid: &Grid, h: &Tensor) -> Result<(Tensor, Tensor)> {
        let (b, l, a) = grid.projected.dims3()?;
        let uh = self.hidden.forward(h)?.unsqueeze(1)?;
        let e = grid.projected.broadcast_add(&uh)?.tanh()?;
        let scores = e
            .reshape((b * l, a))?
            .matmul(&self.score.t()?)?
            .reshape((b, l))?;
        // softmax (not softmax_last_dim): training differentiates through it.
        let alpha = candle_nn::ops::softmax(&scores, D::Minus1)?;
        let z = alpha.unsqueeze(1)?.matmul(&grid.cells)?.squeeze(1)?;
        let beta = candle_nn::ops::sigmoid(&self.beta.forward(h)?)?;
        Ok((z.broadcast_mul(&beta)?, alpha))
    }

    /// The context's contribution to the output before the vocabulary layer: L_z z.
    pub fn out(&self, z: &Tensor) -> Result<Tensor> {
        Ok(self.ctx_out.forward(z)?)
    }
}

/// The grid, as an attention decoder reads it, from the encoder's (N, F, 7, 7) output:
/// (N, 49, F), cell k at row k / 7 and column k % 7.
pub fn cells(grid: &Tensor) -> Result<Tensor> {
    let (n, f, h, w) = grid.dims4()?;
    Ok(grid.reshape((n, f, h * w))?.transpose(1, 2)?.contiguous()?)
}

fn not_a_grid(t: &Tensor) -> Error {
    Error::Other(format!(
        "an attention decoder reads the encoder's grid (images × cells × features), not a \
         tensor of shape {:?}",
        t.dims()
    ))
}
