//! `seesay train`: fit the decoder on a captioning dataset and write a model directory.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use candle_core::Device;
use seesay::data::{Dataset, Split};
use seesay::device::DeviceChoice;
use seesay::train::{Selection, TrainOptions};

/// Arguments of `seesay train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Where to write the trained model directory.
    #[arg(long, value_name = "DIR", default_value = "seesay-model")]
    out: PathBuf,
    #[command(flatten)]
    run: RunArgs,
    /// Most epochs to run.
    #[arg(long, default_value_t = 8)]
    epochs: usize,
    /// Captions per batch.
    #[arg(long, default_value_t = 128)]
    batch_size: usize,
    /// Peak learning rate (warm-up, then cosine decay).
    #[arg(long, default_value_t = 1.5e-3)]
    lr: f64,
    /// Dropout probability on the image projection, word embeddings and LSTM output.
    #[arg(long, default_value_t = 0.4)]
    dropout: f32,
    /// Decoupled weight decay (AdamW) on weight matrices.
    #[arg(long, default_value_t = 0.01)]
    weight_decay: f64,
    /// Feed the image only as the first input, as the paper does, without also adding it to
    /// every LSTM output ("merge", which the dev split preferred).
    #[arg(long)]
    no_merge_image: bool,
    /// Train a soft-attention decoder over the encoder's 7×7 grid (Show, Attend and Tell)
    /// instead of Show and Tell's; the grid is cached (f16, about 125 KB per image) beside the
    /// pooled features. The image merge does not apply.
    #[arg(long)]
    attention: bool,
    /// Width of the attention's hidden layer (with --attention).
    #[arg(long, default_value_t = 512, value_name = "N", requires = "attention")]
    attention_dim: usize,
    /// λ of the doubly-stochastic attention penalty, λ·mean over images and cells of
    /// (1 − Σₜ αₜᵢ)², with --attention (0 turns it off).
    #[arg(
        long,
        default_value_t = 1.0,
        value_name = "LAMBDA",
        requires = "attention"
    )]
    attention_penalty: f64,
    /// Decay of the weight average scored beside the live weights each epoch (0: off).
    #[arg(long, default_value_t = 0.998)]
    ema: f64,
    /// Label smoothing (0 is plain maximum likelihood).
    #[arg(long, default_value_t = 0.0)]
    label_smoothing: f64,
    /// Scheduled sampling: the share of input words replaced by the model's own samples,
    /// rising linearly from 0 to this value over training (0: plain teacher forcing).
    #[arg(long, default_value_t = 0.25, value_name = "P")]
    scheduled_sampling: f64,
    /// Largest global gradient norm.
    #[arg(long, default_value_t = 5.0)]
    clip: f64,
    /// Epochs without dev improvement before stopping.
    #[arg(long, default_value_t = 4)]
    patience: usize,
    /// Which dev score picks the best epoch.
    #[arg(long, value_enum, default_value = "cider")]
    select: SelectArg,
    /// LSTM units (and embedding width).
    #[arg(long, default_value_t = 512)]
    hidden: usize,
    /// Store the decoder weights as f16 (half the size).
    #[arg(long)]
    f16: bool,
}

/// What `train` and `tune` both take: the data, the dev evaluation, the seed, resuming, and
/// where to run.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The dataset: a Flickr8k/30k folder, a Karpathy split JSON, or a COCO captions JSON (for
    /// tune, the one the model was trained on).
    #[arg(long, value_name = "PATH")]
    pub data: PathBuf,
    /// Where to cache image features (default: ~/.cache/seesay).
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Beam width for the dev evaluation.
    #[arg(long, default_value_t = 3)]
    pub beam: usize,
    /// Seed of every random draw.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Continue from the checkpoint in --out.
    #[arg(long)]
    pub resume: bool,
    /// Use at most this many training images.
    #[arg(long, value_name = "N")]
    pub max_train_images: Option<usize>,
    /// Use at most this many dev images.
    #[arg(long, value_name = "N")]
    pub max_dev_images: Option<usize>,
    /// Stop after this many epochs of this run, as if killed (for testing --resume).
    #[arg(long, hide = true)]
    pub stop_after_epochs: Option<usize>,
    /// Where to run: auto, cpu or cuda.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SelectArg {
    Cider,
    Bleu4,
}

/// Refuses options that would only fail (or silently train nothing) after the dataset and
/// the features are loaded, saying what a sensible value is.
fn check(args: &TrainArgs) -> Result<()> {
    let positive = |x: f64| x.is_finite() && x > 0.0;
    anyhow::ensure!(
        positive(args.lr),
        "--lr must be a positive number; 1.5e-3 is typical"
    );
    anyhow::ensure!(
        (0.0..1.0).contains(&args.dropout),
        "--dropout must be in [0, 1); 0.4 is typical"
    );
    anyhow::ensure!(
        (0.0..1.0).contains(&args.label_smoothing),
        "--label-smoothing must be in [0, 1); 0 turns it off"
    );
    anyhow::ensure!(
        positive(args.clip),
        "--clip must be a positive number; 5 is typical"
    );
    anyhow::ensure!(
        args.weight_decay.is_finite() && args.weight_decay >= 0.0,
        "--weight-decay must be 0 or more; 0.01 is typical"
    );
    anyhow::ensure!(
        args.hidden > 0,
        "--hidden must be at least 1; 512 is typical"
    );
    anyhow::ensure!(
        args.attention_dim > 0,
        "--attention-dim must be at least 1; 512 is typical"
    );
    anyhow::ensure!(
        args.attention_penalty.is_finite() && args.attention_penalty >= 0.0,
        "--attention-penalty must be 0 or more; 1 is typical"
    );
    check_run(args.epochs, args.run.beam, &args.out)
}

/// The checks `train` and `tune` share: the epochs, the dev beam width, and the output folder.
pub(super) fn check_run(epochs: usize, beam: usize, out: &Path) -> Result<()> {
    anyhow::ensure!(epochs > 0, "--epochs must be at least 1");
    anyhow::ensure!(
        (1..=64).contains(&beam),
        "--beam must be between 1 and 64; 3 is typical"
    );
    anyhow::ensure!(
        !out.exists() || out.is_dir(),
        "--out {} exists and is not a folder: choose a folder for the model",
        out.display()
    );
    Ok(())
}

/// Opens the device and a dataset that has train and dev images, reporting its quirks.
pub(super) fn open_training_data(data: &Path, device: DeviceChoice) -> Result<(Device, Dataset)> {
    let selected = seesay::device::select(device)?;
    if let Some(note) = &selected.note {
        eprintln!("seesay: {note}");
    }
    let (dataset, report) = super::open_dataset(data)?;
    for split in [Split::Train, Split::Dev] {
        anyhow::ensure!(dataset.count(split) > 0, report.empty_split(split));
    }
    Ok((selected.device, dataset))
}

/// Runs training and prints the summary.
pub fn run(args: &TrainArgs) -> Result<ExitCode> {
    check(args)?;
    let (device, data) = open_training_data(&args.run.data, args.run.device)?;
    let mut opts = TrainOptions::new(
        args.out.clone(),
        args.run.cache.clone().unwrap_or_else(super::default_cache),
    );
    opts.epochs = args.epochs;
    opts.batch_size = args.batch_size.max(1);
    opts.lr = args.lr;
    opts.dropout = args.dropout;
    opts.label_smoothing = args.label_smoothing;
    if !(0.0..=1.0).contains(&args.scheduled_sampling) {
        anyhow::bail!("--scheduled-sampling must be in [0, 1]; 0.25 is typical");
    }
    opts.scheduled_sampling = args.scheduled_sampling;
    opts.weight_decay = args.weight_decay;
    opts.merge_image = !args.no_merge_image;
    opts.attention = args.attention;
    opts.attention_dim = args.attention_dim;
    opts.attention_penalty = args.attention_penalty;
    if !(0.0..1.0).contains(&args.ema) {
        anyhow::bail!("--ema must be in [0, 1): 0 turns the weight average off, 0.998 is typical");
    }
    opts.ema_decay = args.ema;
    opts.clip = args.clip;
    opts.patience = args.patience.max(1);
    opts.select = match args.select {
        SelectArg::Cider => Selection::Cider,
        SelectArg::Bleu4 => Selection::Bleu4,
    };
    opts.beam = args.run.beam.max(1);
    opts.seed = args.run.seed;
    opts.embed_dim = args.hidden;
    opts.hidden_dim = args.hidden;
    opts.resume = args.run.resume;
    opts.f16 = args.f16;
    opts.max_train_images = args.run.max_train_images;
    opts.max_dev_images = args.run.max_dev_images;
    opts.stop_after = args.run.stop_after_epochs;
    let t0 = Instant::now();
    let report = seesay::train::train(&data, &opts, &device).context("training failed")?;
    let secs = t0.elapsed().as_secs_f64();
    let train_tok: f64 = report.history.iter().map(|e| e.tokens_per_s).sum::<f64>()
        / report.history.len().max(1) as f64;
    eprintln!(
        "done in {:.1} min: best epoch {} (score {:.4}), vocabulary {} words, {} training captions, mean {:.0} tokens/s{}",
        secs / 60.0,
        report.best_epoch,
        report.best_score,
        report.vocab_size,
        report.train_captions,
        train_tok,
        if report.stopped_early { ", stopped early" } else { "" }
    );
    eprintln!("model written to {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}
