//! Self-critical sequence training (Rennie et al., 2017, "Self-critical Sequence Training for
//! Image Captioning").
//!
//! Maximum likelihood teaches the decoder the next human word; beam search is then scored on
//! whole captions. Here a trained decoder is fine-tuned on what is scored: for each image it
//! samples a few captions, scores each by CIDEr-D against the image's human captions, and
//! raises the probability of the samples that beat a baseline and lowers the others. The loss
//! is −(r − b)·log p(sample), averaged over sampled words, with document frequencies from the
//! training captions. The baseline is the paper's, the model's own greedy caption, or the mean
//! reward of the image's other samples (Luo, 2020, "A Better Variant of Self-Critical Sequence
//! Training"), which centres each image's advantages on zero: when greedy captions score far
//! above samples, as after maximum likelihood, the greedy baseline makes almost every advantage
//! negative and the updates noisy.
//!
//! Like `train`, a run is seeded, checkpointed each epoch for `--resume`, and picks its epoch
//! on the dev split; the starting model's own dev score is the bar, so a run that never
//! improves on it writes nothing.

use std::path::PathBuf;
use std::time::Instant;

use candle_core::{DType, Device, Tensor, D};
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::optim::AdamW;
use super::{
    decoder_bytes, dev_scores, dev_split, diverged_message, feature_cache, read_checkpoint,
    restore_params, stack_features, trainable_decoder, training_sentences, write_checkpoint,
    CheckpointState, EpochSummary, TrainReport, STATE_DIR,
};
use crate::data::{Dataset, Split};
use crate::metrics::cider::CorpusCider;
use crate::metrics::tokenize;
use crate::model::config::FORMAT_VERSION;
use crate::model::weights::Weights;
use crate::model::{files, Decoder, ModelConfig, ModelFiles};
use crate::vocab::{self, Vocab};
use crate::{Error, Result};

/// Everything a self-critical run can be told.
#[derive(Debug, Clone)]
pub struct SelfCriticalOptions {
    /// The trained model to start from (None: the bundled one).
    pub init: Option<PathBuf>,
    /// Where the best model directory is written.
    pub out: PathBuf,
    /// Where cached features live.
    pub cache_dir: PathBuf,
    /// Most epochs to run.
    pub epochs: usize,
    /// Images per batch.
    pub images_per_batch: usize,
    /// Captions sampled per image.
    pub samples: usize,
    /// What each sample's reward is compared with.
    pub baseline: Baseline,
    /// Learning rate (constant: the model is already trained).
    pub lr: f64,
    /// Largest global gradient norm.
    pub clip: f64,
    /// Longest sampled caption, in words.
    pub max_len: usize,
    /// Epochs without dev improvement before stopping.
    pub patience: usize,
    /// Seed for every random draw.
    pub seed: u64,
    /// Beam width for the dev evaluation.
    pub beam: usize,
    /// Continue from the checkpoint in `out`.
    pub resume: bool,
    /// Use at most this many training images.
    pub max_train_images: Option<usize>,
    /// Use at most this many dev images.
    pub max_dev_images: Option<usize>,
    /// Stop (as if killed) after this many epochs of this run.
    pub stop_after: Option<usize>,
    /// Name written into the model's config.
    pub name: String,
}

impl SelfCriticalOptions {
    /// Defaults chosen on the Flickr8k dev split (assets/MODEL.md).
    pub fn new(out: PathBuf, cache_dir: PathBuf) -> Self {
        Self {
            init: None,
            out,
            cache_dir,
            epochs: 10,
            images_per_batch: 32,
            samples: 5,
            baseline: Baseline::OtherSamples,
            lr: 5e-5,
            clip: 5.0,
            max_len: 16,
            patience: 3,
            seed: 42,
            beam: 3,
            resume: false,
            max_train_images: None,
            max_dev_images: None,
            stop_after: None,
            name: "seesay-flickr8k-scst".into(),
        }
    }
}

/// What a sampled caption's reward is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Baseline {
    /// The reward of the model's greedy caption of the image (Rennie et al., 2017).
    Greedy,
    /// The mean reward of the image's other sampled captions (Luo, 2020).
    OtherSamples,
}

/// Each sample's advantage: its reward minus the baseline, `rewards` holding one image's
/// samples.
fn advantages(rewards: &[f64], greedy: f64, baseline: Baseline) -> Vec<f32> {
    let n = rewards.len();
    let total: f64 = rewards.iter().sum();
    rewards
        .iter()
        .map(|&r| {
            let b = match baseline {
                Baseline::Greedy => greedy,
                Baseline::OtherSamples if n > 1 => (total - r) / (n - 1) as f64,
                Baseline::OtherSamples => r,
            };
            (r - b) as f32
        })
        .collect()
}

/// A caption drawn from the decoder: its words, and whether it ended with the end token
/// (one cut at the length limit did not choose to end, so the end is not trained).
#[derive(Debug, Clone, PartialEq)]
pub struct Drawn {
    /// Word ids, without start or end.
    pub words: Vec<u32>,
    /// True when the decoder chose the end token.
    pub ended: bool,
}

/// Draws one caption per row of `features` (B, F): the most likely word at each step when
/// `rng` is None (greedy), otherwise a word sampled from the predicted distribution. The
/// padding and start tokens are never drawn. No gradient is kept.
pub fn draw(
    decoder: &Decoder,
    features: &Tensor,
    max_len: usize,
    mut rng: Option<&mut StdRng>,
) -> Result<Vec<Drawn>> {
    let rows = features.dim(0)?;
    let device = features.device();
    let mut state = decoder.image_state(&features.detach())?;
    let mut tokens = vec![vocab::START_ID; rows];
    let mut out = vec![
        Drawn {
            words: Vec::new(),
            ended: false
        };
        rows
    ];
    for _ in 0..max_len {
        if out.iter().all(|d| d.ended) {
            break;
        }
        let input = Tensor::from_vec(tokens.clone(), rows, device)?;
        let (log_probs, next) = decoder.step_tensor(&input, &state)?;
        state = next;
        let log_probs = log_probs.to_vec2::<f32>()?;
        for ((drawn, token), row) in out.iter_mut().zip(tokens.iter_mut()).zip(&log_probs) {
            if drawn.ended {
                continue;
            }
            let word = match rng.as_deref_mut() {
                Some(rng) => sample(row, rng.random::<f64>()),
                None => argmax(row),
            };
            if word == vocab::END_ID {
                drawn.ended = true;
            } else {
                drawn.words.push(word);
            }
            *token = word;
        }
    }
    Ok(out)
}

/// Whether a token may be drawn: the padding and start tokens never follow a word.
fn drawable(i: usize) -> bool {
    i != vocab::PAD_ID as usize && i != vocab::START_ID as usize
}

fn argmax(log_probs: &[f32]) -> u32 {
    let mut best = (vocab::END_ID as usize, f32::NEG_INFINITY);
    for (i, &lp) in log_probs.iter().enumerate() {
        if drawable(i) && lp > best.1 {
            best = (i, lp);
        }
    }
    best.0 as u32
}

/// The token whose cumulative probability first exceeds `u` times the drawable mass.
fn sample(log_probs: &[f32], u: f64) -> u32 {
    let mass: f64 = log_probs
        .iter()
        .enumerate()
        .filter(|(i, _)| drawable(*i))
        .map(|(_, &lp)| f64::from(lp).exp())
        .sum();
    let target = u * mass;
    let mut acc = 0.0;
    let mut last = vocab::END_ID as usize;
    for (i, &lp) in log_probs.iter().enumerate() {
        if !drawable(i) {
            continue;
        }
        acc += f64::from(lp).exp();
        last = i;
        if target < acc {
            return i as u32;
        }
    }
    last as u32
}

/// A batch of drawn captions as teacher-forced inputs, with each trained word's advantage.
struct Weighted {
    inputs: Tensor,
    positions: Tensor,
    targets: Tensor,
    advantages: Tensor,
}

fn weighted_batch(drawn: &[Drawn], advantages: &[f32], device: &Device) -> Result<Weighted> {
    let t = drawn.iter().map(|d| d.words.len() + 1).max().unwrap_or(1);
    let mut inputs = vec![vocab::PAD_ID; drawn.len() * t];
    let (mut positions, mut targets, mut weights) = (Vec::new(), Vec::new(), Vec::new());
    for (i, (d, &a)) in drawn.iter().zip(advantages).enumerate() {
        let row = i * t;
        inputs[row] = vocab::START_ID;
        for (j, &w) in d.words.iter().enumerate() {
            inputs[row + j + 1] = w;
            positions.push((row + j) as u32);
            targets.push(w);
            weights.push(a);
        }
        if d.ended {
            positions.push((row + d.words.len()) as u32);
            targets.push(vocab::END_ID);
            weights.push(a);
        }
    }
    let n = targets.len();
    Ok(Weighted {
        inputs: Tensor::from_vec(inputs, (drawn.len(), t), device)?,
        positions: Tensor::from_vec(positions, n, device)?,
        targets: Tensor::from_vec(targets, n, device)?,
        advantages: Tensor::from_vec(weights, n, device)?,
    })
}

/// The words of a drawn caption as the metrics tokenise them.
fn tokens_of(d: &Drawn, vocab: &Vocab) -> Vec<String> {
    let words: Vec<&str> = d.words.iter().map(|&w| vocab.word(w)).collect();
    tokenize(&words.join(" "))
}

/// Fine-tunes the decoder of `opts.init` on `data` and writes the best dev epoch to `opts.out`.
pub fn fine_tune(
    data: &Dataset,
    opts: &SelfCriticalOptions,
    device: &Device,
) -> Result<TrainReport> {
    if opts.epochs == 0 || opts.samples == 0 || opts.images_per_batch == 0 {
        return Err(Error::Other(
            "self-critical training needs at least 1 epoch, 1 sample and 1 image per batch".into(),
        ));
    }
    if opts.baseline == Baseline::OtherSamples && opts.samples < 2 {
        return Err(Error::Other(
            "the other-samples baseline needs at least 2 samples per image".into(),
        ));
    }
    let files = match &opts.init {
        Some(dir) => ModelFiles::read_dir(dir)?,
        None => ModelFiles::bundled()?,
    };
    let (config, init_vocab, _) = crate::model::load_decoder(&files, device)?;
    if config.decoder.attends() {
        return Err(Error::Other(format!(
            "{} has an attention decoder, and self-critical tuning supports only Show-and-Tell \
             (NIC) decoders so far; train the attention model with `seesay train --attention` \
             and use it as it is",
            files.location
        )));
    }
    let train_imgs: Vec<_> = data
        .split(Split::Train)
        .take(opts.max_train_images.unwrap_or(usize::MAX))
        .collect();
    let dev_imgs: Vec<_> = data
        .split(Split::Dev)
        .take(opts.max_dev_images.unwrap_or(usize::MAX))
        .collect();
    if train_imgs.is_empty() || dev_imgs.is_empty() {
        return Err(Error::Other(format!(
            "the dataset needs train and dev images; found {} train and {} dev",
            train_imgs.len(),
            dev_imgs.len()
        )));
    }
    let features = feature_cache::cached(
        &files,
        &config.encoder,
        &data.name,
        train_imgs.iter().chain(&dev_imgs).copied(),
        &opts.cache_dir,
        device,
    )?;
    // Only images with features and captions are sampled; their references are tokenised once.
    let train: Vec<(&str, Vec<Vec<String>>)> = train_imgs
        .iter()
        .filter(|e| features.contains_key(&e.id) && !e.captions.is_empty())
        .map(|e| {
            let refs = e.captions.iter().map(|c| tokenize(c)).collect();
            (e.id.as_str(), refs)
        })
        .collect();
    let sentences = training_sentences(&train_imgs).to_bytes();
    let reward = CorpusCider::new(&train.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>());
    let ids: Vec<&str> = train.iter().map(|(id, _)| *id).collect();
    let train_feats = stack_features(&features, &ids, feature_cache::Layout::Pooled, device)?;
    let (dev_feats, dev_refs) = dev_split(&dev_imgs, &features);

    // Fresh variables, then the starting model's weights (in f32, whatever they were stored in).
    let (decoder, vars) = trainable_decoder(config.decoder, device)?;
    let decoder_file = files
        .decoder
        .as_deref()
        .ok_or_else(|| Error::Other("the starting model has no decoder".into()))?;
    let initial = Weights::from_bytes(decoder_file, &files.location, device)?;
    for (name, var) in &vars {
        let shape = var.dims().to_vec();
        var.set(&initial.get(name, &shape)?.to_dtype(DType::F32)?)?;
    }
    let mut adam = AdamW::new(vars.clone(), 0.0)?;

    let dev_score = |decoder: &Decoder| {
        dev_scores(
            decoder,
            &init_vocab,
            &dev_feats,
            &dev_refs,
            opts.beam,
            device,
        )
    };

    let state_dir = opts.out.join(STATE_DIR);
    let resumed = if opts.resume {
        read_checkpoint(&state_dir)?
    } else {
        None
    };
    let mut report;
    let mut start_epoch = 0;
    match resumed {
        Some((state, vocab, tensors)) => {
            if state.decoder != config.decoder || state.seed != opts.seed || vocab != init_vocab {
                return Err(Error::Other(
                    "the checkpoint was made from another model or seed; start afresh without --resume"
                        .into(),
                ));
            }
            restore_params(&vars, &tensors)?;
            adam.restore(&tensors, state.optimizer_steps)?;
            start_epoch = state.epochs_done;
            report = state.report;
            eprintln!("resuming after epoch {start_epoch}");
        }
        None => {
            // Epoch 0 is the starting model: the bar every epoch must beat to be written.
            let t0 = Instant::now();
            let dev = dev_score(&decoder)?;
            eprintln!(
                "start     dev BLEU-4 {:.3} CIDEr-D {:.3}  ({:.0} s)",
                dev.bleu[3],
                dev.cider_d,
                t0.elapsed().as_secs_f64()
            );
            report = TrainReport {
                history: vec![EpochSummary {
                    epoch: 0,
                    train_loss: 0.0,
                    tokens_per_s: 0.0,
                    seconds: t0.elapsed().as_secs_f64(),
                    dev,
                    averaged: false,
                    train_reward: None,
                }],
                best_epoch: 0,
                best_score: dev.cider_d,
                vocab_size: init_vocab.len(),
                train_captions: train.len() * opts.samples,
                stopped_early: false,
            };
        }
    }

    let quiet_bar = !std::io::IsTerminal::is_terminal(&std::io::stderr());
    for epoch in start_epoch..opts.epochs {
        if opts.stop_after.is_some_and(|n| epoch - start_epoch >= n) {
            return Ok(report);
        }
        if epoch - report.best_epoch >= opts.patience {
            report.stopped_early = true;
            break;
        }
        let t0 = Instant::now();
        let mut rng = StdRng::seed_from_u64(
            (opts.seed ^ 0x5C57)
                .wrapping_mul(1_000_003)
                .wrapping_add(epoch as u64),
        );
        let mut order: Vec<usize> = (0..train.len()).collect();
        order.shuffle(&mut rng);
        let batches: Vec<&[usize]> = order.chunks(opts.images_per_batch).collect();
        let bar = ProgressBar::new(batches.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("scst {prefix} {bar:30} {pos}/{len}  {msg}  ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_prefix(format!("{}", epoch + 1));
        let (mut sample_sum, mut greedy_sum, mut drawn_count, mut greedy_count) =
            (0f64, 0f64, 0usize, 0usize);
        let (mut loss_sum, mut tokens) = (0f64, 0usize);
        for batch in &batches {
            let rows: Vec<u32> = batch.iter().map(|&i| i as u32).collect();
            let feats =
                train_feats.index_select(&Tensor::from_vec(rows, batch.len(), device)?, 0)?;
            let greedy = draw(&decoder, &feats, opts.max_len, None)?;
            let repeated: Vec<u32> = (0..batch.len() as u32)
                .flat_map(|i| std::iter::repeat_n(i, opts.samples))
                .collect();
            let n = repeated.len();
            let feats_k = feats.index_select(&Tensor::from_vec(repeated, n, device)?, 0)?;
            let drawn = draw(&decoder, &feats_k, opts.max_len, Some(&mut rng))?;
            let mut advantage = Vec::with_capacity(drawn.len());
            for (b, &image) in batch.iter().enumerate() {
                let refs = &train[image].1;
                let base = reward.score(&tokens_of(&greedy[b], &init_vocab), refs);
                greedy_sum += base;
                greedy_count += 1;
                let rewards: Vec<f64> = drawn[b * opts.samples..(b + 1) * opts.samples]
                    .iter()
                    .map(|d| reward.score(&tokens_of(d, &init_vocab), refs))
                    .collect();
                sample_sum += rewards.iter().sum::<f64>();
                drawn_count += rewards.len();
                advantage.extend(advantages(&rewards, base, opts.baseline));
            }
            let w = weighted_batch(&drawn, &advantage, device)?;
            if w.targets.dim(0)? == 0 || advantage.iter().all(|&a| a == 0.0) {
                bar.inc(1);
                continue;
            }
            let hidden = decoder.forward_sequence(&feats_k, &w.inputs, None)?;
            let logits = decoder.logits(&hidden.index_select(&w.positions, 0)?)?;
            let log_p = candle_nn::ops::log_softmax(&logits, D::Minus1)?
                .gather(&w.targets.unsqueeze(1)?, 1)?
                .squeeze(1)?;
            let loss = (log_p * &w.advantages)?.neg()?.mean_all()?;
            let l = f64::from(loss.to_scalar::<f32>()?);
            if !l.is_finite() {
                bar.finish_and_clear();
                return Err(Error::Other(diverged_message(
                    &format!("the loss became {l} in epoch {}", epoch + 1),
                    &report,
                    &opts.out,
                    opts.lr,
                    opts.clip,
                )));
            }
            let grads = loss.backward()?;
            adam.step(&grads, opts.lr, opts.clip)?;
            let n_tokens = w.targets.dim(0)?;
            loss_sum += l * n_tokens as f64;
            tokens += n_tokens;
            bar.inc(1);
            let msg = format!(
                "reward: samples {:.3}, greedy {:.3}",
                sample_sum / drawn_count.max(1) as f64,
                greedy_sum / greedy_count.max(1) as f64
            );
            if quiet_bar && bar.position().is_multiple_of(50) {
                eprintln!(
                    "scst epoch {} batch {}/{}  {msg}",
                    epoch + 1,
                    bar.position(),
                    batches.len()
                );
            }
            bar.set_message(msg);
        }
        let train_secs = t0.elapsed().as_secs_f64();
        bar.finish_and_clear();
        if !super::all_finite(&vars)? {
            return Err(Error::Other(diverged_message(
                &format!("the weights became non-finite during epoch {}", epoch + 1),
                &report,
                &opts.out,
                opts.lr,
                opts.clip,
            )));
        }
        let dev = dev_score(&decoder)?;
        let improved = dev.cider_d > report.best_score;
        let summary = EpochSummary {
            epoch: epoch + 1,
            train_loss: loss_sum / tokens.max(1) as f64,
            tokens_per_s: tokens as f64 / train_secs.max(1e-9),
            seconds: t0.elapsed().as_secs_f64(),
            dev,
            averaged: false,
            train_reward: Some(greedy_sum / greedy_count.max(1) as f64),
        };
        eprintln!(
            "epoch {:>2}  reward: samples {:.3}, greedy {:.3}  {:>5.0} s  dev BLEU-1 {:.3} BLEU-4 {:.3} ROUGE-L {:.3} CIDEr-D {:.3}{}",
            summary.epoch,
            sample_sum / drawn_count.max(1) as f64,
            greedy_sum / greedy_count.max(1) as f64,
            summary.seconds,
            dev.bleu[0],
            dev.bleu[3],
            dev.rouge_l,
            dev.cider_d,
            if improved { "  (best)" } else { "" }
        );
        report.history.push(summary);
        if improved {
            report.best_epoch = epoch + 1;
            report.best_score = dev.cider_d;
            let model_cfg = ModelConfig {
                format_version: FORMAT_VERSION,
                name: opts.name.clone(),
                encoder: config.encoder.clone(),
                decoder: config.decoder,
            };
            files::write_dir(
                &opts.out,
                &model_cfg,
                &init_vocab,
                &files.encoder,
                &decoder_bytes(&vars, false)?,
                Some(&sentences),
            )?;
        }
        write_checkpoint(
            &state_dir,
            &vars,
            &adam,
            None,
            &init_vocab,
            &CheckpointState {
                epochs_done: epoch + 1,
                optimizer_steps: adam.steps(),
                seed: opts.seed,
                decoder: config.decoder,
                ema_decay: 0.0,
                attention_penalty: 0.0,
                report: report.clone(),
            },
        )?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_follows_the_distribution_and_never_draws_padding_or_start() {
        // Padding and start hold most of the mass; they must be skipped, not renormalised into.
        let probs = [0.4f32, 0.3, 0.1, 0.1, 0.1];
        let log_probs: Vec<f32> = probs.iter().map(|p| p.ln()).collect();
        let mut counts = [0usize; 5];
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..30_000 {
            counts[sample(&log_probs, rng.random::<f64>()) as usize] += 1;
        }
        assert_eq!((counts[0], counts[1]), (0, 0));
        for c in &counts[2..] {
            assert!(
                (*c as f64 / 30_000.0 - 1.0 / 3.0).abs() < 0.02,
                "{counts:?}"
            );
        }
        assert_eq!(argmax(&log_probs), 2);
    }

    #[test]
    fn the_other_samples_baseline_centres_each_images_advantages() {
        let rewards = [0.2, 0.5, 1.1];
        let a = advantages(&rewards, 0.9, Baseline::OtherSamples);
        // 0.2 against the mean of 0.5 and 1.1, and so on.
        for (got, want) in a.iter().zip([-0.6f32, -0.15, 0.75]) {
            assert!((got - want).abs() < 1e-6, "{a:?}");
        }
        assert!(a.iter().sum::<f32>().abs() < 1e-6);
        let g = advantages(&rewards, 0.9, Baseline::Greedy);
        for (got, want) in g.iter().zip([-0.7f32, -0.4, 0.2]) {
            assert!((got - want).abs() < 1e-6, "{g:?}");
        }
    }

    #[test]
    fn only_captions_that_ended_train_the_end_token() {
        let drawn = [
            Drawn {
                words: vec![5, 6],
                ended: true,
            },
            Drawn {
                words: vec![7],
                ended: false,
            },
        ];
        let w = weighted_batch(&drawn, &[0.5, -1.0], &Device::Cpu).expect("batch");
        assert_eq!(
            w.inputs.to_vec2::<u32>().expect("inputs"),
            vec![vec![1, 5, 6], vec![1, 7, 0]]
        );
        assert_eq!(
            w.targets.to_vec1::<u32>().expect("targets"),
            vec![5, 6, vocab::END_ID, 7]
        );
        assert_eq!(
            w.positions.to_vec1::<u32>().expect("positions"),
            vec![0, 1, 2, 3]
        );
        assert_eq!(
            w.advantages.to_vec1::<f32>().expect("advantages"),
            vec![0.5, 0.5, 0.5, -1.0]
        );
    }
}
