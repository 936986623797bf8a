//! `seesay bench FILE...`: times each stage of captioning in this process, for comparing
//! against the PyTorch peer in bench/ (which measures the same stages the same way).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;

use seesay::captioner::{CaptionOptions, Captioner};
use seesay::decode::{self, StepDecoder};
use seesay::guided::GuidePolicy;
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
    /// Plain beam search in the end-to-end stage, as the peers in bench/ run it.
    #[arg(long)]
    no_guide: bool,
    /// Also caption every JPEG in this folder once, one at a time, and report images per second.
    #[arg(long, value_name = "DIR")]
    folder: Option<PathBuf>,
    /// Also time each encoder layer on the first file (median over the runs) and print the table.
    #[arg(long)]
    layers: bool,
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
    /// Whether the end-to-end stage let the ImageNet head guide the search.
    guided: bool,
    /// Images captioned per second over `--folder`, one at a time.
    #[serde(skip_serializing_if = "Option::is_none")]
    folder_images_per_s: Option<f64>,
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
        guide: GuidePolicy::unless(args.no_guide),
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
        let input = model.decoder.input(&model.encode(&pixels)?)?;
        let state = model.decoder.image_state(&input)?;
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
    if args.layers {
        if let Some(path) = args.files.first() {
            layer_table(model, path, &norm, &device, w, r)?;
        }
    }
    let folder_images_per_s = match &args.folder {
        Some(dir) => Some(folder_throughput(&captioner, dir, &opts)?),
        None => None,
    };
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
        guided: !args.no_guide,
        folder_images_per_s,
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
        if let Some(ips) = report.folder_images_per_s {
            outln!("  folder      {ips:8.2} images/s")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Captions each JPEG of `dir` once (after one untimed), one image at a time; images per second.
fn folder_throughput(captioner: &Captioner, dir: &Path, opts: &CaptionOptions) -> Result<f64> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("jpg")))
        .collect();
    files.sort();
    let Some(first) = files.first() else {
        anyhow::bail!("the folder {} holds no .jpg file to time", dir.display());
    };
    captioner.caption_file(first, opts)?;
    let t = Instant::now();
    for path in &files {
        captioner
            .caption_file(path, opts)
            .with_context(|| format!("cannot caption {}", path.display()))?;
    }
    Ok(files.len() as f64 / t.elapsed().as_secs_f64())
}

/// Prints each encoder layer's median time on one file, slowest share first within order.
fn layer_table(
    model: &seesay::model::Model,
    path: &Path,
    norm: &preprocess::Normalization,
    device: &candle_core::Device,
    warmup: usize,
    reps: usize,
) -> Result<()> {
    let prepared = preprocess::prepare(
        &preprocess::load_image(path).with_context(|| format!("cannot read {}", path.display()))?,
    );
    let pixels = preprocess::to_tensor(std::slice::from_ref(&prepared), norm, device)?;
    for _ in 0..warmup {
        model.encoder.forward_timed(&pixels)?;
    }
    let mut runs = Vec::with_capacity(reps.max(1));
    for _ in 0..reps.max(1) {
        runs.push(model.encoder.forward_timed(&pixels)?.1);
    }
    // The fastest run is printed beside the median: on a shared machine it moves less.
    let medians: Vec<(String, f64, f64)> = runs[0]
        .iter()
        .enumerate()
        .map(|(i, layer)| {
            let mut t: Vec<f64> = runs.iter().map(|r| r[i].seconds * 1e3).collect();
            t.sort_by(f64::total_cmp);
            (layer.name.clone(), t[t.len() / 2], t[0])
        })
        .collect();
    let total: f64 = medians.iter().map(|(_, t, _)| t).sum();
    let fastest: f64 = medians.iter().map(|(_, _, t)| t).sum();
    outln!(
        "encoder layers, median ms of {} runs ({total:.2} ms in all; fastest runs {fastest:.2}):",
        runs.len()
    )?;
    for (name, t, min) in &medians {
        outln!(
            "  {t:7.3} ms {:5.1}%  ({min:6.3})  {name}",
            100.0 * t / total
        )?;
    }
    Ok(())
}
