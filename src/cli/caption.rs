//! `seesay caption FILE...`: one line per file, or JSON with candidates and timings.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;

use seesay::captioner::{CaptionCandidate, CaptionOptions, Captioner, Timings};
use seesay::confidence::Confidence;
use seesay::guided::GuidePolicy;
use seesay::objects::ObjectGroup;

use super::ModelArgs;

/// Arguments of `seesay caption`.
#[derive(Debug, Args)]
pub struct CaptionArgs {
    /// Image files (JPEG, PNG, GIF, BMP, WebP, TIFF).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Beam width; 1 is greedy decoding.
    #[arg(long = "beam", default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=64))]
    beam: u16,
    /// How many candidates to report with --json (at most the beam width).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=64))]
    candidates: u16,
    /// Longest caption, in words.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=100))]
    max_len: u16,
    /// Rank candidates by mean log-probability per word.
    #[arg(long)]
    length_norm: bool,
    /// Print one JSON object per file with candidates, per-word probabilities and timings.
    #[arg(long)]
    json: bool,
    /// Plain beam search: do not let the ImageNet head's objects guide the caption.
    #[arg(long)]
    no_guide: bool,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(Serialize)]
struct JsonLine<'a> {
    file: String,
    /// The full sentence seesay speaks.
    caption: &'a str,
    /// The best candidate's own text.
    best: &'a str,
    probability: f32,
    confidence: &'a Confidence,
    objects: &'a [ObjectGroup],
    candidates: &'a [CaptionCandidate],
    timings_ms: Timings,
}

/// Captions every file; a bad file is reported and the others still run.
pub fn run(args: &CaptionArgs) -> Result<ExitCode> {
    let device = args.model.device()?;
    let captioner = Captioner::load(&args.model.source(), &device)
        .context("cannot load the captioning model")?;
    let opts = CaptionOptions {
        beam_size: usize::from(args.beam),
        candidates: usize::from(args.candidates.min(args.beam)),
        max_len: usize::from(args.max_len),
        length_norm: args.length_norm,
        guide: if args.no_guide {
            GuidePolicy::off()
        } else {
            GuidePolicy::default()
        },
    };
    let mut failed = 0usize;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for file in &args.files {
        match captioner.caption_file(file, &opts) {
            Ok(c) => {
                let Some(best) = c.best() else { continue };
                if args.json {
                    let line = JsonLine {
                        file: file.display().to_string(),
                        caption: &c.spoken,
                        best: &best.text,
                        probability: best.prob,
                        confidence: &c.confidence,
                        objects: &c.objects,
                        candidates: &c.candidates,
                        timings_ms: c.timings,
                    };
                    serde_json::to_writer(&mut out, &line)?;
                    writeln!(out)?;
                } else {
                    writeln!(out, "{}: {}", file.display(), c.spoken)?;
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("seesay: {}: {e}", file.display());
            }
        }
    }
    out.flush()?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
