//! Maximum-likelihood training of the decoder on cached image features.
//!
//! The loss is the mean over words of −log p(word | image, previous words) with teacher
//! forcing and padding masked; an attention decoder adds Show, Attend and Tell's
//! doubly-stochastic penalty λ·mean over images and cells of (1 − Σₜ αₜᵢ)², which asks every
//! cell to be looked at about once over the sentence. The dev split picks the best epoch; checkpoints are written
//! atomically each epoch so `--resume` loses at most the epoch in progress, and every random
//! draw (shuffle, dropout, scheduled sampling) comes from the seed and the epoch number, so a
//! resumed run ends exactly where an uninterrupted one does.

pub mod eval;
pub mod feature_cache;
pub mod optim;
pub mod scheduled_sampling;
pub mod self_critical;
pub mod weight_average;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{DType, Device, Tensor, D};
use candle_nn::{VarBuilder, VarMap};
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use self::feature_cache::Features;
use self::optim::AdamW;
use self::weight_average::WeightAverage;
use crate::data::{Dataset, Split};
use crate::metrics::Scores;
use crate::model::config::FORMAT_VERSION;
use crate::model::sentences::TrainingSentences;
use crate::model::{files, DecoderConfig, EncoderConfig, ModelConfig, ModelFiles};
use crate::model::{weights, Decoder};
use crate::vocab::{self, Vocab};
use crate::{Error, Result};

/// Which dev score picks the best epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Selection {
    /// CIDEr-D.
    Cider,
    /// BLEU-4.
    Bleu4,
}

/// Everything `seesay train` can be told.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Where the best model directory is written.
    pub out: PathBuf,
    /// Where cached features live.
    pub cache_dir: PathBuf,
    /// Most epochs to run.
    pub epochs: usize,
    /// Captions per batch.
    pub batch_size: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Decoupled weight decay.
    pub weight_decay: f64,
    /// Largest global gradient norm.
    pub clip: f64,
    /// Label smoothing ε (0 is plain maximum likelihood).
    pub label_smoothing: f64,
    /// Peak share of input words replaced by the model's own samples (0: teacher forcing only).
    pub scheduled_sampling: f64,
    /// Epochs without dev improvement before stopping.
    pub patience: usize,
    /// Seed for every random draw.
    pub seed: u64,
    /// Beam width for the dev evaluation.
    pub beam: usize,
    /// Words seen fewer times are unknown.
    pub min_count: usize,
    /// Decoder sizes except the vocabulary.
    pub embed_dim: usize,
    /// LSTM units.
    pub hidden_dim: usize,
    /// Dropout probability.
    pub dropout: f32,
    /// Add the projected image to every LSTM output too (the "merge" arrangement).
    pub merge_image: bool,
    /// Train a soft-attention decoder over the 7×7 grid (Show, Attend and Tell) instead.
    pub attention: bool,
    /// Width of the attention's hidden layer.
    pub attention_dim: usize,
    /// λ of the doubly-stochastic attention penalty (0 turns it off).
    pub attention_penalty: f64,
    /// Decay of the weight average evaluated beside the live weights (0 turns it off).
    pub ema_decay: f64,
    /// Which dev score picks the best epoch.
    pub select: Selection,
    /// Continue from the checkpoint in `out`.
    pub resume: bool,
    /// Use at most this many training images (for quick runs and tests).
    pub max_train_images: Option<usize>,
    /// Use at most this many dev images.
    pub max_dev_images: Option<usize>,
    /// Stop (as if killed) after this many epochs of this run.
    pub stop_after: Option<usize>,
    /// Store the shipped decoder weights as f16.
    pub f16: bool,
    /// Name written into the model's config.
    pub name: String,
}

impl TrainOptions {
    /// The recipe of the bundled Flickr8k model (assets/MODEL.md).
    pub fn new(out: PathBuf, cache_dir: PathBuf) -> Self {
        Self {
            out,
            cache_dir,
            epochs: 8,
            batch_size: 128,
            lr: 1.5e-3,
            weight_decay: 0.01,
            clip: 5.0,
            label_smoothing: 0.0,
            scheduled_sampling: 0.25,
            patience: 4,
            seed: 42,
            beam: 3,
            min_count: 5,
            embed_dim: 512,
            hidden_dim: 512,
            dropout: 0.4,
            merge_image: true,
            attention: false,
            attention_dim: 512,
            attention_penalty: 1.0,
            ema_decay: 0.998,
            select: Selection::Cider,
            resume: false,
            max_train_images: None,
            max_dev_images: None,
            stop_after: None,
            f16: false,
            name: "seesay-flickr8k".into(),
        }
    }
}

/// One line of the training history.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EpochSummary {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss (nats per word).
    pub train_loss: f64,
    /// Target words per second in training.
    pub tokens_per_s: f64,
    /// Wall time of the epoch, dev evaluation included.
    pub seconds: f64,
    /// Dev scores with beam search, of the better of the live and the averaged weights.
    pub dev: Scores,
    /// True when those scores came from the weight average.
    #[serde(default)]
    pub averaged: bool,
    /// Self-critical runs: the mean CIDEr-D of the greedy captions of the training images
    /// during the epoch (the reward's baseline).
    #[serde(default)]
    pub train_reward: Option<f64>,
}

/// What a finished run reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainReport {
    /// Every epoch so far.
    pub history: Vec<EpochSummary>,
    /// The epoch whose weights were kept.
    pub best_epoch: usize,
    /// Its selection score.
    pub best_score: f64,
    /// Words in the vocabulary.
    pub vocab_size: usize,
    /// Training captions used.
    pub train_captions: usize,
    /// True when the run stopped early (no improvement), false when it ran out of epochs.
    pub stopped_early: bool,
}

#[derive(Serialize, Deserialize)]
struct CheckpointState {
    epochs_done: usize,
    optimizer_steps: u64,
    seed: u64,
    decoder: DecoderConfig,
    #[serde(default)]
    ema_decay: f64,
    #[serde(default)]
    attention_penalty: f64,
    report: TrainReport,
}

const STATE_DIR: &str = "checkpoint";

/// Trains a decoder on `data` and writes the best epoch's model to `opts.out`.
pub fn train(data: &Dataset, opts: &TrainOptions, device: &Device) -> Result<TrainReport> {
    let encoder_files = ModelFiles::bundled()?;
    let enc_cfg = EncoderConfig::lite0();
    if opts.epochs == 0 {
        return Err(Error::Other(
            "training for 0 epochs would write no model; ask for at least 1".into(),
        ));
    }
    let train_imgs = limited(data.split(Split::Train), opts.max_train_images);
    let dev_imgs = limited(data.split(Split::Dev), opts.max_dev_images);
    if train_imgs.is_empty() || dev_imgs.is_empty() {
        return Err(Error::Other(format!(
            "the dataset needs train and dev images; found {} train and {} dev",
            train_imgs.len(),
            dev_imgs.len()
        )));
    }

    let layout = if opts.attention {
        feature_cache::Layout::Grid
    } else {
        feature_cache::Layout::Pooled
    };
    let features = feature_cache::cached_layout(
        &encoder_files,
        &enc_cfg,
        &data.name,
        train_imgs.iter().chain(&dev_imgs).copied(),
        &opts.cache_dir,
        device,
        layout,
    )?;
    let state_dir = opts.out.join(STATE_DIR);
    let resumed = if opts.resume {
        read_checkpoint(&state_dir)?
    } else {
        None
    };

    let vocab = match &resumed {
        Some((_, v, _)) => v.clone(),
        None => Vocab::build(
            train_imgs
                .iter()
                .flat_map(|e| e.captions.iter().map(String::as_str)),
            opts.min_count,
        ),
    };
    let dec_cfg = if opts.attention {
        DecoderConfig {
            embed_dim: opts.embed_dim,
            hidden_dim: opts.hidden_dim,
            dropout: opts.dropout,
            attention_dim: opts.attention_dim,
            ..DecoderConfig::attention(vocab.len())
        }
    } else {
        DecoderConfig {
            vocab_size: vocab.len(),
            embed_dim: opts.embed_dim,
            hidden_dim: opts.hidden_dim,
            dropout: opts.dropout,
            merge_image: opts.merge_image,
            ..DecoderConfig::nic(vocab.len())
        }
    };
    let penalty = if opts.attention {
        opts.attention_penalty
    } else {
        0.0
    };

    // Training examples: (row in the feature matrix, caption ids).
    let train_ids: Vec<&str> = train_imgs.iter().map(|e| e.id.as_str()).collect();
    let train_feats = stack_features(&features, &train_ids, layout, device)?;
    let mut examples: Vec<(u32, Vec<u32>)> = Vec::new();
    for (row, e) in train_imgs.iter().enumerate() {
        for c in &e.captions {
            let mut ids = vocab.encode(c);
            ids.truncate(MAX_TRAIN_WORDS);
            if !ids.is_empty() {
                examples.push((row as u32, ids));
            }
        }
    }

    // Written beside the model, so captions can be told new or copied from these.
    let sentences = training_sentences(&train_imgs).to_bytes();

    let (decoder, vars) = trainable_decoder(dec_cfg, device)?;
    seeded_init(&vars, opts.seed)?;
    let mut adam = AdamW::new(vars.clone(), opts.weight_decay)?;
    let mut average = if opts.ema_decay > 0.0 {
        Some(WeightAverage::new(vars.clone(), opts.ema_decay)?)
    } else {
        None
    };

    let mut report = TrainReport {
        history: Vec::new(),
        best_epoch: 0,
        best_score: f64::NEG_INFINITY,
        vocab_size: vocab.len(),
        train_captions: examples.len(),
        stopped_early: false,
    };
    let mut start_epoch = 0;
    if let Some((state, _, tensors)) = resumed {
        if state.decoder != dec_cfg
            || state.seed != opts.seed
            || state.ema_decay != opts.ema_decay
            || state.attention_penalty != penalty
        {
            return Err(Error::Other(
                "the checkpoint was made with other settings (sizes or seed); start afresh without --resume".into(),
            ));
        }
        restore_params(&vars, &tensors)?;
        adam.restore(&tensors, state.optimizer_steps)?;
        if let Some(avg) = average.as_mut() {
            avg.restore(&tensors)?;
        }
        start_epoch = state.epochs_done;
        report = state.report;
        eprintln!("resuming after epoch {start_epoch}");
    }

    let (dev_feats, dev_refs) = dev_split(&dev_imgs, &features);
    let steps_per_epoch = examples.len().div_ceil(opts.batch_size);
    let total_steps = (steps_per_epoch * opts.epochs).max(1);
    let quiet_bar = !std::io::IsTerminal::is_terminal(&std::io::stderr());

    for epoch in start_epoch..opts.epochs {
        if opts.stop_after.is_some_and(|n| epoch - start_epoch >= n) {
            return Ok(report);
        }
        if report.best_epoch > 0 && epoch - report.best_epoch >= opts.patience {
            report.stopped_early = true;
            break;
        }
        let t0 = Instant::now();
        let mut rng =
            StdRng::seed_from_u64(opts.seed.wrapping_mul(1_000_003).wrapping_add(epoch as u64));
        let batches = length_bucketed_batches(&examples, opts.batch_size, &mut rng);
        // Length buckets can make a few more batches than the schedule's steps per epoch.
        let bar = ProgressBar::new(batches.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("epoch {prefix} {bar:30} {pos}/{len}  {msg}  ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_prefix(format!("{}", epoch + 1));
        let (mut loss_sum, mut tokens) = (0f64, 0usize);
        for batch in &batches {
            let step = adam.steps() as usize;
            let lr = schedule(opts.lr, step, total_steps);
            let b = make_batch(&examples, batch, device)?;
            let feats = train_feats.index_select(&b.rows, 0)?;
            let inputs = if opts.scheduled_sampling > 0.0 {
                let rate = scheduled_sampling::rate(opts.scheduled_sampling, step, total_steps);
                scheduled_sampling::mix_inputs(&decoder, &feats, &b.inputs, rate, &mut rng)?
            } else {
                b.inputs.clone()
            };
            let (hidden, alphas) =
                decoder.forward_sequence_attending(&feats, &inputs, Some(&mut rng))?;
            // Only real words reach the vocabulary layer, the costliest matmul: padding is skipped.
            let logits = decoder.logits(&hidden.index_select(&b.positions, 0)?)?;
            let words_loss = token_loss(&logits, &b.targets, opts.label_smoothing)?;
            // The words' loss is what is reported, so runs with and without attention compare.
            let l = f64::from(words_loss.to_scalar::<f32>()?);
            let loss = match &alphas {
                Some(a) if penalty > 0.0 => {
                    let p = attention_penalty(a, &b.mask)?;
                    (&words_loss + (p * penalty)?)?
                }
                _ => words_loss,
            };
            let total = f64::from(loss.to_scalar::<f32>()?);
            // Checked before the step, so the weights kept in memory (and any checkpoint) are
            // never updated from a non-finite loss.
            if !(l.is_finite() && total.is_finite()) {
                // Read before finishing, which moves the bar to its end.
                let at = format!(
                    "the loss became {total} at epoch {}, batch {} of {}",
                    epoch + 1,
                    bar.position() + 1,
                    batches.len()
                );
                bar.finish_and_clear();
                return Err(diverged(&at, &report, opts));
            }
            let grads = loss.backward()?;
            adam.step(&grads, lr, opts.clip)?;
            if let Some(avg) = average.as_mut() {
                avg.update()?;
            }
            loss_sum += l * b.n_tokens as f64;
            tokens += b.n_tokens;
            let secs = t0.elapsed().as_secs_f64().max(1e-9);
            let msg = format!(
                "loss {:.3}  {:.0} tok/s",
                loss_sum / tokens as f64,
                tokens as f64 / secs
            );
            bar.inc(1);
            // Without a terminal the bar is hidden; a line every 100 batches shows progress in logs.
            if quiet_bar && bar.position().is_multiple_of(100) {
                eprintln!(
                    "epoch {} batch {}/{}  {msg}",
                    epoch + 1,
                    bar.position(),
                    batches.len()
                );
            }
            bar.set_message(msg);
        }
        let train_secs = t0.elapsed().as_secs_f64();
        bar.finish_and_clear();
        // A finite loss can still come with an overflowing gradient step.
        if !all_finite(&vars)? {
            let at = format!("the weights became non-finite during epoch {}", epoch + 1);
            return Err(diverged(&at, &report, opts));
        }
        let score_of = |dev: &Scores| match opts.select {
            Selection::Cider => dev.cider_d,
            Selection::Bleu4 => dev.bleu[3],
        };
        let dev_score = || dev_scores(&decoder, &vocab, &dev_feats, &dev_refs, opts.beam, device);
        let live = dev_score()?;
        let averaged = match &average {
            Some(avg) => Some(avg.with_average(dev_score)?),
            None => None,
        };
        let (dev, use_average) = match averaged {
            Some(a) if score_of(&a) > score_of(&live) => (a, true),
            _ => (live, false),
        };
        let summary = EpochSummary {
            epoch: epoch + 1,
            train_loss: loss_sum / tokens.max(1) as f64,
            tokens_per_s: tokens as f64 / train_secs.max(1e-9),
            seconds: t0.elapsed().as_secs_f64(),
            dev,
            averaged: use_average,
            train_reward: None,
        };
        let score = score_of(&dev);
        let improved = score > report.best_score;
        let averaged_note = match &averaged {
            Some(a) => format!(
                "  (average CIDEr-D {:.3} BLEU-4 {:.3})",
                a.cider_d, a.bleu[3]
            ),
            None => String::new(),
        };
        eprintln!(
            "epoch {:>2}  loss {:.3}  {:>6.0} tok/s  {:>5.0} s  dev BLEU-1 {:.3} BLEU-4 {:.3} ROUGE-L {:.3} CIDEr-D {:.3}{}{}",
            summary.epoch, summary.train_loss, summary.tokens_per_s, summary.seconds,
            live.bleu[0], live.bleu[3], live.rouge_l, live.cider_d, averaged_note,
            if improved { "  (best)" } else { "" }
        );
        report.history.push(summary);
        if improved {
            report.best_epoch = epoch + 1;
            report.best_score = score;
            let model_cfg = ModelConfig {
                format_version: FORMAT_VERSION,
                name: opts.name.clone(),
                encoder: enc_cfg.clone(),
                decoder: dec_cfg,
            };
            let weights = match (&average, use_average) {
                (Some(avg), true) => avg.with_average(|| decoder_bytes(&vars, opts.f16))?,
                _ => decoder_bytes(&vars, opts.f16)?,
            };
            files::write_dir(
                &opts.out,
                &model_cfg,
                &vocab,
                &encoder_files.encoder,
                &weights,
                Some(&sentences),
            )?;
        }
        write_checkpoint(
            &state_dir,
            &vars,
            &adam,
            average.as_ref(),
            &vocab,
            &CheckpointState {
                epochs_done: epoch + 1,
                optimizer_steps: adam.steps(),
                seed: opts.seed,
                decoder: dec_cfg,
                ema_decay: opts.ema_decay,
                attention_penalty: penalty,
                report: report.clone(),
            },
        )?;
    }
    Ok(report)
}

/// The training images' captions as the fingerprint list a model directory holds.
fn training_sentences(images: &[&crate::data::ImageEntry]) -> TrainingSentences {
    TrainingSentences::from_captions(
        images
            .iter()
            .flat_map(|e| e.captions.iter().map(String::as_str)),
    )
}

/// A decoder on fresh variables, and those variables by name (what training updates).
fn trainable_decoder(
    cfg: DecoderConfig,
    device: &Device,
) -> Result<(Decoder, Vec<(String, candle_core::Var)>)> {
    let varmap = VarMap::new();
    let decoder = Decoder::new(cfg, VarBuilder::from_varmap(&varmap, DType::F32, device))?;
    let vars = varmap
        .data()
        .lock()
        .map_err(|_| Error::Other("variable map lock poisoned".into()))?
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok((decoder, vars))
}

/// Sets every variable from a checkpoint's `param.NAME` tensors.
fn restore_params(
    vars: &[(String, candle_core::Var)],
    tensors: &HashMap<String, Tensor>,
) -> Result<()> {
    for (name, var) in vars {
        let t = tensors
            .get(&format!("param.{name}"))
            .ok_or_else(|| Error::Other(format!("checkpoint lacks {name}")))?;
        var.set(t)?;
    }
    Ok(())
}

/// The dev images' features and human captions; images whose file could not be read have no
/// feature and are left out of both lists.
fn dev_split<'a>(
    images: &[&crate::data::ImageEntry],
    features: &'a Features,
) -> (Vec<&'a [f32]>, Vec<Vec<String>>) {
    images
        .iter()
        .filter_map(|e| {
            features
                .get(&e.id)
                .map(|f| (f.as_slice(), e.captions.clone()))
        })
        .unzip()
}

/// The dev scores of `decoder`'s own captions (beam search, without the head's guidance): what
/// picks the epoch.
fn dev_scores(
    decoder: &Decoder,
    vocab: &Vocab,
    features: &[&[f32]],
    refs: &[Vec<String>],
    beam: usize,
    device: &Device,
) -> Result<Scores> {
    let hyps: Vec<String> = eval::caption_features(
        &[decoder],
        None,
        vocab,
        features,
        beam,
        20,
        &crate::guided::GuidePolicy::off(),
        device,
    )?
    .into_iter()
    .map(|c| c.text)
    .collect();
    Ok(crate::metrics::score(&hyps, refs))
}

/// True when no weight is NaN or infinite.
fn all_finite(vars: &[(String, candle_core::Var)]) -> Result<bool> {
    for (_, v) in vars {
        let values = v
            .as_tensor()
            .flatten_all()?
            .to_dtype(DType::F32)?
            .to_vec1::<f32>()?;
        if !values.iter().all(|x| x.is_finite()) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The error of a run whose loss or weights stopped being numbers.
fn diverged(at: &str, report: &TrainReport, opts: &TrainOptions) -> Error {
    Error::Other(diverged_message(at, report, &opts.out, opts.lr, opts.clip))
}

/// What to say when a run's loss or weights stopped being numbers: where it happened, what
/// was kept, and what to change.
fn diverged_message(at: &str, report: &TrainReport, out: &Path, lr: f64, clip: f64) -> String {
    let kept = if report.best_epoch > 0 {
        format!(
            "the model of epoch {} (the best before it) is kept in {}",
            report.best_epoch,
            out.display()
        )
    } else {
        "no model was written".to_owned()
    };
    format!(
        "training diverged: {at}; {kept}. Try a lower --lr (this run used {lr:?}) or a smaller \
         --clip (this run used {clip:?})"
    )
}

/// Draws every initial weight from `seed`, as PyTorch initialises these layers:
/// embeddings N(0, 1), LSTM weights and biases U(±1/√H), linear layers U(±1/√fan_in).
///
/// candle's own initialisers draw from an unseeded generator, which would make two runs
/// with the same seed differ.
fn seeded_init(vars: &[(String, candle_core::Var)], seed: u64) -> Result<()> {
    let mut sorted: Vec<&(String, candle_core::Var)> = vars.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut rng = StdRng::seed_from_u64(seed ^ 0x005E_E5A1);
    for (name, var) in sorted {
        let dims = var.dims().to_vec();
        let n: usize = dims.iter().product();
        let values: Vec<f32> = if name.starts_with("embed.") {
            (0..n).map(|_| normal(&mut rng)).collect()
        } else {
            let fan_in = if name.starts_with("lstm.") {
                dims.first().map_or(1, |d| d / 4)
            } else if dims.len() >= 2 {
                dims.get(1).copied().unwrap_or(1)
            } else {
                // A bias: its layer's fan-in is the width of the matching weight.
                let weight = name.replace(".bias", ".weight");
                vars.iter()
                    .find(|(k, _)| *k == weight)
                    .and_then(|(_, w)| w.dims().get(1).copied())
                    .unwrap_or(1)
            };
            let bound = 1.0 / (fan_in.max(1) as f32).sqrt();
            (0..n).map(|_| rng.random_range(-bound..bound)).collect()
        };
        var.set(&Tensor::from_vec(values, dims, var.device())?)?;
    }
    Ok(())
}

/// A standard normal draw (Box-Muller).
fn normal(rng: &mut StdRng) -> f32 {
    let u1: f32 = rng.random_range(f32::EPSILON..1.0);
    let u2: f32 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f32::consts::PI * u2).cos()
}

/// Longest caption used in training, in words (longer ones are cut).
const MAX_TRAIN_WORDS: usize = 30;

fn limited<'a>(
    it: impl Iterator<Item = &'a crate::data::ImageEntry>,
    max: Option<usize>,
) -> Vec<&'a crate::data::ImageEntry> {
    it.take(max.unwrap_or(usize::MAX)).collect()
}

/// The features of `ids` as one tensor: (N, F) pooled, or (N, 49, F) for the grid layout.
fn stack_features(
    features: &Features,
    ids: &[&str],
    layout: feature_cache::Layout,
    device: &Device,
) -> Result<Tensor> {
    let dim = layout.values_per_image();
    let mut flat = Vec::with_capacity(ids.len() * dim);
    for id in ids {
        match features.get(*id) {
            Some(f) => flat.extend_from_slice(f),
            // An unreadable image keeps a zero row; its captions still train the language model.
            None => flat.extend(std::iter::repeat_n(0f32, dim)),
        }
    }
    let t = Tensor::from_vec(flat, (ids.len(), dim), device)?;
    Ok(match layout {
        feature_cache::Layout::Pooled => t,
        feature_cache::Layout::Grid => t.reshape((
            ids.len(),
            crate::model::attention::GRID_CELLS,
            crate::model::efficientnet::FEATURE_DIM,
        ))?,
    })
}

/// Show, Attend and Tell's doubly-stochastic penalty for weights `alphas` (B, T, L) over the
/// real steps `mask` (B, T): the mean over images and cells of (1 − Σₜ αₜᵢ)².
fn attention_penalty(alphas: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let coverage = alphas.broadcast_mul(&mask.unsqueeze(2)?)?.sum(1)?;
    Ok(coverage.affine(-1.0, 1.0)?.sqr()?.mean_all()?)
}

struct Batch {
    rows: Tensor,
    inputs: Tensor,
    /// Flat (b·T + t) indices of the positions holding a real target.
    positions: Tensor,
    /// The target at each of those positions.
    targets: Tensor,
    /// (B, T): 1 at those positions, 0 at padding.
    mask: Tensor,
    n_tokens: usize,
}

/// Shuffled batches of captions of similar length, so little time goes into padding.
///
/// Captions are shuffled, cut into pools of 50 batches, each pool sorted by length and
/// split into batches, and the batches shuffled again.
fn length_bucketed_batches(
    examples: &[(u32, Vec<u32>)],
    batch_size: usize,
    rng: &mut StdRng,
) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..examples.len()).collect();
    order.shuffle(rng);
    let mut batches = Vec::new();
    for pool in order.chunks_mut(batch_size * 50) {
        pool.sort_by_key(|&i| examples.get(i).map_or(0, |e| e.1.len()));
        batches.extend(pool.chunks(batch_size).map(<[usize]>::to_vec));
    }
    batches.shuffle(rng);
    batches
}

fn make_batch(examples: &[(u32, Vec<u32>)], picks: &[usize], device: &Device) -> Result<Batch> {
    let chosen: Vec<&(u32, Vec<u32>)> = picks.iter().filter_map(|&i| examples.get(i)).collect();
    let t = chosen.iter().map(|(_, c)| c.len() + 1).max().unwrap_or(1);
    let b = chosen.len();
    let mut inputs = vec![vocab::PAD_ID; b * t];
    let mut positions = Vec::new();
    let mut targets = Vec::new();
    let mut mask = vec![0f32; b * t];
    for (i, (_, caption)) in chosen.iter().enumerate() {
        let row = i * t;
        inputs[row] = vocab::START_ID;
        for (j, &w) in caption.iter().enumerate() {
            inputs[row + j + 1] = w;
            positions.push((row + j) as u32);
            targets.push(w);
        }
        positions.push((row + caption.len()) as u32);
        targets.push(vocab::END_ID);
        mask[row..=row + caption.len()].fill(1.0);
    }
    let rows: Vec<u32> = chosen.iter().map(|(r, _)| *r).collect();
    let n_tokens = targets.len();
    Ok(Batch {
        rows: Tensor::from_vec(rows, b, device)?,
        inputs: Tensor::from_vec(inputs, (b, t), device)?,
        positions: Tensor::from_vec(positions, n_tokens, device)?,
        targets: Tensor::from_vec(targets, n_tokens, device)?,
        mask: Tensor::from_vec(mask, (b, t), device)?,
        n_tokens,
    })
}

/// Mean over words of the cross-entropy, with optional label smoothing.
fn token_loss(logits: &Tensor, targets: &Tensor, smoothing: f64) -> Result<Tensor> {
    let lsm = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let nll = lsm.gather(&targets.unsqueeze(1)?, 1)?.squeeze(1)?.neg()?;
    let per_token = if smoothing > 0.0 {
        let uniform = lsm.mean(D::Minus1)?.neg()?;
        ((nll * (1.0 - smoothing))? + (uniform * smoothing)?)?
    } else {
        nll
    };
    Ok(per_token.mean_all()?)
}

/// Linear warm-up over the first 500 steps, then cosine decay to 5% of the peak.
fn schedule(peak: f64, step: usize, total: usize) -> f64 {
    let warm = 500.min(total / 10).max(1);
    if step < warm {
        return peak * (step + 1) as f64 / warm as f64;
    }
    let progress = (step - warm) as f64 / (total - warm).max(1) as f64;
    let cos = 0.5 * (1.0 + (std::f64::consts::PI * progress.min(1.0)).cos());
    peak * (0.05 + 0.95 * cos)
}

fn decoder_bytes(vars: &[(String, candle_core::Var)], f16: bool) -> Result<Vec<u8>> {
    let dtype = if f16 { DType::F16 } else { DType::F32 };
    let tensors: HashMap<String, Tensor> = vars
        .iter()
        .map(|(k, v)| {
            Ok((
                k.clone(),
                v.as_tensor().to_dtype(dtype)?.to_device(&Device::Cpu)?,
            ))
        })
        .collect::<Result<_>>()?;
    weights::to_bytes(tensors)
}

const CHECKPOINT_FILE: &str = "state.safetensors";

/// One file holds weights, optimiser moments, vocabulary and progress, so a single
/// rename makes the whole checkpoint appear at once.
fn write_checkpoint(
    dir: &Path,
    vars: &[(String, candle_core::Var)],
    adam: &AdamW,
    average: Option<&WeightAverage>,
    vocab: &Vocab,
    state: &CheckpointState,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut tensors = adam.state();
    if let Some(avg) = average {
        tensors.extend(avg.state()?);
    }
    for (k, v) in vars {
        tensors.insert(format!("param.{k}"), v.as_tensor().to_device(&Device::Cpu)?);
    }
    let json = serde_json::to_vec(state).map_err(|e| Error::Json {
        context: "writing the checkpoint".into(),
        source: e,
    })?;
    let vocab_text = vocab.to_text().into_bytes();
    for (key, bytes) in [("meta.state", json), ("meta.vocab", vocab_text)] {
        let n = bytes.len();
        tensors.insert(key.into(), Tensor::from_vec(bytes, n, &Device::Cpu)?);
    }
    files::atomic_write(&dir.join(CHECKPOINT_FILE), &weights::to_bytes(tensors)?)
}

type Resumed = (CheckpointState, Vocab, HashMap<String, Tensor>);

fn read_checkpoint(dir: &Path) -> Result<Option<Resumed>> {
    let path = dir.join(CHECKPOINT_FILE);
    if !path.exists() {
        eprintln!("no checkpoint in {}; starting afresh", dir.display());
        return Ok(None);
    }
    let damaged = |what: &str| {
        Error::Other(format!(
            "checkpoint {} is damaged ({what}); delete it to start afresh",
            path.display()
        ))
    };
    let mut tensors =
        candle_core::safetensors::load(&path, &Device::Cpu).map_err(|e| damaged(&e.to_string()))?;
    let mut text = |key: &str| -> Result<Vec<u8>> {
        let t = tensors.remove(key).ok_or_else(|| damaged(key))?;
        Ok(t.to_vec1::<u8>()?)
    };
    let state: CheckpointState =
        serde_json::from_slice(&text("meta.state")?).map_err(|e| damaged(&e.to_string()))?;
    let vocab_text = String::from_utf8(text("meta.vocab")?).map_err(|e| damaged(&e.to_string()))?;
    let vocab = Vocab::parse(&vocab_text).map_err(|e| damaged(&e))?;
    Ok(Some((state, vocab, tensors)))
}
