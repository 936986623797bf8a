//! `seesay tune`: fine-tune a trained model on the CIDEr-D of its own captions
//! (self-critical sequence training) and write the improved model directory.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use seesay::train::self_critical::{self, Baseline, SelfCriticalOptions};

/// Arguments of `seesay tune`.
#[derive(Debug, Args)]
pub struct TuneArgs {
    /// The model to start from, made by `seesay train` (default: the bundled model).
    #[arg(long, value_name = "DIR")]
    init: Option<PathBuf>,
    /// Where to write the tuned model directory (only when it beats the starting model on dev).
    #[arg(long, value_name = "DIR", default_value = "seesay-model-tuned")]
    out: PathBuf,
    #[command(flatten)]
    run: super::train::RunArgs,
    /// Most epochs to run.
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// Images per batch.
    #[arg(long, default_value_t = 32)]
    images_per_batch: usize,
    /// Captions sampled per image.
    #[arg(long, default_value_t = 5)]
    samples: usize,
    /// What each sample's reward is compared with: the mean of the image's other samples, or
    /// the model's greedy caption (the paper's).
    #[arg(long, value_enum, default_value = "samples")]
    baseline: BaselineArg,
    /// Learning rate (constant).
    #[arg(long, default_value_t = 5e-5)]
    lr: f64,
    /// Largest global gradient norm.
    #[arg(long, default_value_t = 5.0)]
    clip: f64,
    /// Epochs without dev improvement before stopping.
    #[arg(long, default_value_t = 3)]
    patience: usize,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum BaselineArg {
    Samples,
    Greedy,
}

/// Refuses options that would only fail after the features are loaded.
fn check(args: &TuneArgs) -> Result<()> {
    let positive = |x: f64| x.is_finite() && x > 0.0;
    anyhow::ensure!(
        positive(args.lr),
        "--lr must be a positive number; 5e-5 is typical"
    );
    anyhow::ensure!(
        positive(args.clip),
        "--clip must be a positive number; 5 is typical"
    );
    anyhow::ensure!(
        (2..=64).contains(&args.samples),
        "--samples must be between 2 and 64; 5 is typical"
    );
    anyhow::ensure!(
        args.images_per_batch > 0,
        "--images-per-batch must be at least 1; 32 is typical"
    );
    super::train::check_run(args.epochs, args.run.beam, &args.out)
}

/// Runs the fine-tuning and prints the summary.
pub fn run(args: &TuneArgs) -> Result<ExitCode> {
    check(args)?;
    let (device, data) = super::train::open_training_data(&args.run.data, args.run.device)?;
    let mut opts = SelfCriticalOptions::new(
        args.out.clone(),
        args.run.cache.clone().unwrap_or_else(super::default_cache),
    );
    opts.init = args.init.clone();
    opts.epochs = args.epochs;
    opts.images_per_batch = args.images_per_batch;
    opts.samples = args.samples;
    opts.baseline = match args.baseline {
        BaselineArg::Samples => Baseline::OtherSamples,
        BaselineArg::Greedy => Baseline::Greedy,
    };
    opts.lr = args.lr;
    opts.clip = args.clip;
    opts.patience = args.patience.max(1);
    opts.beam = args.run.beam;
    opts.seed = args.run.seed;
    opts.resume = args.run.resume;
    opts.max_train_images = args.run.max_train_images;
    opts.max_dev_images = args.run.max_dev_images;
    opts.stop_after = args.run.stop_after_epochs;
    let t0 = Instant::now();
    let report = self_critical::fine_tune(&data, &opts, &device)
        .context("self-critical fine-tuning failed")?;
    let start = report.history.first().map_or(0.0, |e| e.dev.cider_d);
    eprintln!(
        "done in {:.1} min: best epoch {} (dev CIDEr-D {:.4}; the starting model {:.4}){}",
        t0.elapsed().as_secs_f64() / 60.0,
        report.best_epoch,
        report.best_score,
        start,
        if report.stopped_early {
            ", stopped early"
        } else {
            ""
        }
    );
    if report.best_epoch > 0 {
        eprintln!("model written to {}", args.out.display());
    } else {
        eprintln!(
            "no epoch beat the starting model on dev, so no model was written; try another --lr"
        );
    }
    Ok(ExitCode::SUCCESS)
}
