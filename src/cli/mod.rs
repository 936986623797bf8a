//! Parses the command line and dispatches to one module per verb.

/// `println!` that returns the write's error instead of panicking, so a closed pipe
/// (`seesay eval ... | head -3`) ends the verb quietly (see `main`).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

mod bench;
mod caption;
mod describe;
mod eval;
mod inspect;
mod kind;
mod shortcut;
mod speak;
mod train;
mod tune;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

use seesay::captioner::ModelSource;
use seesay::device::DeviceChoice;
use seesay::remote::Request;

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
    /// Describe the screen now: asks the running seesay, or describes and speaks here (bind it
    /// to a key in the desktop's keyboard settings; this is what works on Wayland).
    #[arg(long, conflicts_with_all = ["paths", "describe_window"])]
    describe_screen: bool,
    /// Describe the active window now, like --describe-screen.
    #[arg(long, conflicts_with = "paths")]
    describe_window: bool,
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// Caption image files and print one line per file.
    Caption(caption::CaptionArgs),
    /// Train a decoder on a captioning dataset.
    Train(train::TrainArgs),
    /// Fine-tune a trained model on the CIDEr-D of its own captions (self-critical training).
    Tune(tune::TuneArgs),
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

    /// The model's files, read once (a model is built from them, and feature caches are keyed
    /// by them).
    pub fn files(&self) -> Result<seesay::model::ModelFiles> {
        use anyhow::Context as _;
        self.source()
            .files()
            .context("cannot load the captioning model")
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
        Some(Verb::Tune(args)) => tune::run(&args),
        Some(Verb::Describe(args)) => describe::run(&args),
        Some(Verb::Eval(args)) => eval::run(&args),
        Some(Verb::Speak(args)) => speak::run(&args),
        Some(Verb::Bench(args)) => bench::run(&args),
        Some(Verb::KindTrain(args)) => kind::run(&args),
        Some(Verb::Inspect(args)) => inspect::run(&args),
        None => {
            // `seesay captoin x.jpg` is a mistyped verb, not a picture to open in a window.
            if let Some(unknown) = cli.paths.iter().find(|p| std::fs::metadata(p).is_err()) {
                anyhow::bail!(
                    "unknown command or file: {}\n(commands: caption, describe, eval, train, \
                     tune, speak, bench, inspect, kind-train; `seesay --help` says more; the app opens only \
                     existing pictures and folders)",
                    unknown.display()
                );
            }
            let model = cli.model.map_or(ModelSource::Bundled, ModelSource::Dir);
            if cli.describe_screen {
                return shortcut::run(Request::DescribeScreen, model);
            }
            if cli.describe_window {
                return shortcut::run(Request::DescribeWindow, model);
            }
            seesay::app::run(cli.paths, model)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Tells the user what was odd in the dataset files.
/// Reads a dataset and tells what was odd in its files.
pub fn open_dataset(
    path: &std::path::Path,
) -> Result<(seesay::data::Dataset, seesay::data::LoadReport)> {
    use anyhow::Context as _;
    let (data, report) = seesay::data::open(path)
        .with_context(|| format!("cannot read the dataset at {}", path.display()))?;
    print_load_report(&report);
    Ok((data, report))
}

/// Prints what was odd in a dataset's files.
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
            "dataset: {} captions name an image that does not exist",
            r.captions_without_image
        );
    }
    if r.missing_images > 0 {
        eprintln!(
            "dataset: {} images listed for a split were left out (no file or no captions)",
            r.missing_images
        );
    }
    if r.captions_without_image > 0 || r.missing_images > 0 {
        eprintln!("dataset: e.g.:");
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
