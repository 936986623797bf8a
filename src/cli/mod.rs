//! Parses the command line and dispatches to one module per verb.

mod bench;
mod caption;
mod describe;
mod eval;
mod inspect;
mod kind;
mod speak;
mod train;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

use seesay::captioner::ModelSource;
use seesay::device::DeviceChoice;

/// seesay tells you what is in a picture, out loud.
#[derive(Debug, Parser)]
#[command(name = "seesay", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    verb: Option<Verb>,
    /// Images or folders to open in the app.
    paths: Vec<PathBuf>,
    /// A model directory made by `seesay train`, for the app (default: the bundled model).
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// Caption image files and print one line per file.
    Caption(caption::CaptionArgs),
    /// Train a decoder on a captioning dataset.
    Train(train::TrainArgs),
    /// Caption a whole folder to JSON lines or CSV (batched, resumable).
    Describe(describe::DescribeArgs),
    /// Score a model on a dataset split (BLEU, ROUGE-L, CIDEr-D, and a human row).
    #[command(alias = "evaluate")]
    Eval(eval::EvalArgs),
    /// Speak text aloud with the system's speech engine (checks that speech works).
    Speak(speak::SpeakArgs),
    /// Time each stage of captioning on this machine (see bench/compare.sh).
    Bench(bench::BenchArgs),
    /// Fit the photo / screen / document / chart classifier (assets/kind.json) and measure it.
    KindTrain(kind::KindTrainArgs),
    /// Look inside the model: word neighbours, novelty of its captions.
    Inspect(inspect::InspectArgs),
}

/// Options every model-using verb shares.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// A model directory made by `seesay train` (default: the bundled model).
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// Where to run the model: auto, cpu or cuda.
    #[arg(long, default_value = "auto", value_name = "auto|cpu|cuda")]
    pub device: DeviceChoice,
}

impl ModelArgs {
    /// Which model to load.
    pub fn source(&self) -> ModelSource {
        match &self.model {
            Some(dir) => ModelSource::Dir(dir.clone()),
            None => ModelSource::Bundled,
        }
    }

    /// Opens the device, telling the user when `auto` fell back to the CPU.
    pub fn device(&self) -> Result<candle_core::Device> {
        let selected = seesay::device::select(self.device)?;
        if let Some(note) = selected.note {
            eprintln!("seesay: {note}");
        }
        Ok(selected.device)
    }
}

/// Parses the arguments and runs the verb.
pub fn run() -> Result<ExitCode> {
    let cli = Cli::parse();
    match cli.verb {
        Some(Verb::Caption(args)) => caption::run(&args),
        Some(Verb::Train(args)) => train::run(&args),
        Some(Verb::Describe(args)) => describe::run(&args),
        Some(Verb::Eval(args)) => eval::run(&args),
        Some(Verb::Speak(args)) => speak::run(&args),
        Some(Verb::Bench(args)) => bench::run(&args),
        Some(Verb::KindTrain(args)) => kind::run(&args),
        Some(Verb::Inspect(args)) => inspect::run(&args),
        None => {
            let model = cli.model.map_or(ModelSource::Bundled, ModelSource::Dir);
            seesay::app::run(cli.paths, model)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Tells the user what was odd in the dataset files.
pub fn print_load_report(r: &seesay::data::LoadReport) {
    if r.fixed_lines > 0 {
        eprintln!(
            "dataset: {} lines had a quirk and were read anyway",
            r.fixed_lines
        );
    }
    if r.bad_lines > 0 {
        eprintln!("dataset: {} malformed lines skipped, e.g.:", r.bad_lines);
        for e in &r.bad_examples {
            eprintln!("  {e}");
        }
    }
    if r.captions_without_image > 0 {
        eprintln!(
            "dataset: {} captions name an image that does not exist, e.g.:",
            r.captions_without_image
        );
        for e in &r.missing_examples {
            eprintln!("  {e}");
        }
    }
}

/// The default feature cache: $XDG_CACHE_HOME/seesay or ~/.cache/seesay.
pub fn default_cache() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("seesay")
}
