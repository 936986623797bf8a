//! `seesay bench FILE...`: times each stage of captioning in this process, for comparing
//! against the PyTorch peer in bench/ (which measures the same stages the same way).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;

use seesay::captioner::{CaptionOptions, Captioner};
use seesay::decode::{self, StepDecoder};
use seesay::{preprocess, vocab};

use super::ModelArgs;

/// Arguments of `seesay bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Image files to time (each stage is timed on each file).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Timed repetitions of each stage per file (the median is reported).
    #[arg(long, default_value_t = 20)]
    reps: usize,
    /// Untimed repetitions first.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// Beam width.
    #[arg(long, default_value_t = 3)]
    beam: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    model: ModelArgs,
}

/// Median milliseconds per image of each stage, averaged over the files.
#[derive(Debug, Serialize)]
struct Report {
    program: &'static str,
    threads: usize,
    files: usize,
    reps: usize,
    beam: usize,
    /// Read, decode and resize a file to the encoder's input.
    preprocess_ms: f64,
    /// The CNN on one prepared image.
    encoder_ms: f64,
    /// Beam search from one image feature.
    beam_ms: f64,
    /// File path to best caption, everything included.
    end_to_end_ms: f64,
}

/// Times `f` `warmup + reps` times and returns the median of the timed runs, in ms.
fn median_ms(warmup: usize, reps: usize, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    for _ in 0..warmup {
        f()?;
    }
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps.max(1) {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// Times the stages and prints the report.
pub fn run(args: &BenchArgs) -> Result<ExitCode> {
    let device = args.model.device()?;
    let captioner =
        Captioner::load(&args.model.source(), &device).context("cannot load the model")?;
    let model = captioner.model();
    let norm = model.config.encoder.normalization;
    let opts = CaptionOptions {
        beam_size: args.beam.max(1),
        candidates: 1,
        ..CaptionOptions::default()
    };
    let params = opts.beam_params();
    let stepper = model.decoder.stepper(&device);
    let (w, r) = (args.warmup, args.reps);
    let mut sums = [0f64; 4];
    for path in &args.files {
        let name = path.display();
        let prepared = preprocess::prepare(
            &preprocess::load_image(path).with_context(|| format!("cannot read {name}"))?,
        );
        sums[0] += median_ms(w, r, || {
            preprocess::prepare(&preprocess::load_image(path)?);
            Ok(())
        })?;
        let pixels = preprocess::to_tensor(std::slice::from_ref(&prepared), &norm, &device)?;
        sums[1] += median_ms(w, r, || {
            // Reading the result back waits for devices that run asynchronously.
            model.encode(&pixels)?.features.to_vec2::<f32>()?;
            Ok(())
        })?;
        let features = model.encode(&pixels)?.features;
        let state = model.decoder.image_state(&features)?;
        sums[2] += median_ms(w, r, || {
            let init = stepper.select(&state, &[0])?;
            decode::beam_search(&stepper, init, vocab::START_ID, vocab::END_ID, &params)?;
            Ok(())
        })?;
        sums[3] += median_ms(w, r, || {
            captioner.caption_file(path, &opts)?;
            Ok(())
        })?;
    }
    let n = args.files.len() as f64;
    let report = Report {
        program: "seesay",
        threads: candle_core::utils::get_num_threads(),
        files: args.files.len(),
        reps: r,
        beam: opts.beam_size,
        preprocess_ms: sums[0] / n,
        encoder_ms: sums[1] / n,
        beam_ms: sums[2] / n,
        end_to_end_ms: sums[3] / n,
    };
    if args.json {
        outln!("{}", serde_json::to_string(&report)?)?;
    } else {
        outln!(
            "{} thread(s), beam {}, median of {} runs, mean over {} file(s)",
            report.threads,
            report.beam,
            report.reps,
            report.files
        )?;
        outln!("  preprocess  {:8.2} ms", report.preprocess_ms)?;
        outln!("  encoder     {:8.2} ms", report.encoder_ms)?;
        outln!("  beam search {:8.2} ms", report.beam_ms)?;
        outln!("  end to end  {:8.2} ms", report.end_to_end_ms)?;
    }
    Ok(ExitCode::SUCCESS)
}
