//! `seesay caption FILE...`: one line per file, or JSON with candidates and timings.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;

use seesay::captioner::{CaptionCandidate, CaptionOptions, Captioner, Timings};
use seesay::confidence::Confidence;
use seesay::describer::{Describer, Mode, PhotoRegion};
use seesay::guided::GuidePolicy;
use seesay::kind::PictureKind;
use seesay::objects::ObjectGroup;
use seesay::ocr::Line;

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
    /// With --json: compare the best caption with this dataset's training captions (novelty).
    #[arg(long, value_name = "DIR", requires = "json")]
    novelty_data: Option<PathBuf>,
    /// With --json: where the model looks for each word of the best caption, by greying out
    /// each cell of a grid in turn (slow: grid² + 1 encoder passes per file).
    #[arg(long = "where", alias = "occlusion", requires = "json")]
    where_: bool,
    /// With --json: for a model with attention, each word of each candidate with its 7×7
    /// attention weights (row-major, summing to 1).
    #[arg(long, requires = "json")]
    attention: bool,
    /// Cells per side of the --where grid.
    #[arg(long, default_value_t = seesay::inspect::occlusion::DEFAULT_GRID as u8, value_parser = clap::value_parser!(u8).range(1..=seesay::inspect::occlusion::MAX_GRID as i64))]
    grid: u8,
    /// Plain beam search: do not let the ImageNet head's objects guide the caption.
    #[arg(long)]
    no_guide: bool,
    /// How to read each picture: auto (decide), photo (caption only), text (read its text).
    #[arg(long, default_value = "auto", value_name = "auto|photo|text")]
    mode: Mode,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(Serialize)]
struct JsonLine<'a> {
    file: String,
    /// The full sentence seesay speaks.
    caption: &'a str,
    /// What the picture is: photo, screen, document or chart.
    kind: PictureKind,
    /// The kind classifier's probabilities (photo, screen, document, chart).
    kind_probs: [f32; 4],
    /// The text read, in reading order, one line per line.
    text: String,
    /// Each line read, with its box and confidence.
    lines: &'a [Line],
    /// Photos found inside a screen, with their captions.
    regions: &'a [PhotoRegion],
    /// Something the user should know (e.g. text reading is not installed).
    note: Option<&'a str>,
    /// What is wrong with the file (it ends early); also said first in `caption`.
    warnings: &'a [String],
    /// The photo caption model's best sentence for the whole picture.
    best: &'a str,
    probability: f32,
    confidence: &'a Confidence,
    objects: &'a [ObjectGroup],
    candidates: &'a [CaptionCandidate],
    timings_ms: JsonTimings,
    /// Whether the best caption is a training caption, and the closest one.
    #[serde(skip_serializing_if = "Option::is_none")]
    novelty: Option<seesay::inspect::Novelty>,
    /// With --where: for each word of the best caption, where the model looks.
    #[serde(rename = "where", skip_serializing_if = "Option::is_none")]
    where_: Option<seesay::inspect::Occlusion>,
    /// With --attention: each candidate's words with their attention weights.
    #[serde(skip_serializing_if = "Option::is_none")]
    attention: Option<Vec<CandidateAttention<'a>>>,
}

/// One candidate's words, each with where the model's attention was.
#[derive(Serialize)]
struct CandidateAttention<'a> {
    text: &'a str,
    /// Cells per side of the grid.
    grid: usize,
    words: Vec<WordAttention<'a>>,
}

#[derive(Serialize)]
struct WordAttention<'a> {
    word: &'a str,
    /// The grid's weights, row-major (row 0 is the top), summing to 1.
    weights: &'a [f32],
}

/// Each candidate's words with their attention weights.
fn attention_of(candidates: &[CaptionCandidate]) -> Result<Vec<CandidateAttention<'_>>> {
    candidates
        .iter()
        .map(|c| {
            let maps = c
                .attention
                .as_ref()
                .context("a candidate came without its attention weights")?;
            Ok(CandidateAttention {
                text: &c.text,
                grid: seesay::model::attention::GRID_SIDE,
                words: c
                    .words
                    .iter()
                    .zip(maps)
                    .map(|(w, m)| WordAttention {
                        word: &w.word,
                        weights: m,
                    })
                    .collect(),
            })
        })
        .collect()
}

#[derive(Serialize)]
struct JsonTimings {
    #[serde(flatten)]
    caption: Timings,
    ocr_ms: f64,
    regions_ms: f64,
}

/// Where the model looks for each word of `caption` in the picture at `file`.
fn looking(
    describer: &Describer,
    file: &std::path::Path,
    caption: &str,
    grid: usize,
) -> Result<seesay::inspect::Occlusion> {
    let decoded = seesay::preprocess::load(file)?;
    describer
        .captioner()
        .occlusion(&decoded.image, caption, grid)
        .context("cannot find where the model looks")
}

/// Captions every file; a bad file is reported and the others still run.
pub fn run(args: &CaptionArgs) -> Result<ExitCode> {
    let device = args.model.device()?;
    let captioner = Captioner::load(&args.model.source(), &device)
        .context("cannot load the captioning model")?;
    if args.attention && !captioner.model().decoder.attends() {
        let model = match args.model.source() {
            seesay::captioner::ModelSource::Bundled => {
                format!("the bundled model ({})", captioner.name())
            }
            seesay::captioner::ModelSource::Dir(dir) => {
                format!("the model in {} ({})", dir.display(), captioner.name())
            }
        };
        anyhow::bail!(
            "--attention: {model} has no attention (it is a Show-and-Tell decoder), so it \
             has no attention weights to print; find where it looks by occlusion instead: \
             `seesay inspect where FILE` or `seesay caption --json --where FILE`"
        );
    }
    let mut describer = Describer::new(captioner);
    let novelty = match &args.novelty_data {
        Some(dir) => Some(super::inspect::training_index(dir)?),
        None => None,
    };
    let mut told = false;
    let opts = CaptionOptions {
        beam_size: usize::from(args.beam),
        candidates: usize::from(args.candidates.min(args.beam)),
        max_len: usize::from(args.max_len),
        length_norm: args.length_norm,
        guide: GuidePolicy::unless(args.no_guide),
    };
    let mut failed = 0usize;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for file in &args.files {
        match describer.describe_file(file, &opts, args.mode) {
            Ok(d) => {
                let c = &d.captioned;
                let Some(best) = c.best() else { continue };
                if let (Some(note), false) = (&d.note, told || args.json) {
                    eprintln!("seesay: {note}");
                    told = true;
                }
                if args.json {
                    let where_ = if args.where_ {
                        match looking(&describer, file, &best.text, usize::from(args.grid)) {
                            Ok(o) => Some(o),
                            Err(e) => {
                                failed += 1;
                                eprintln!("seesay: {}: {e:#}", file.display());
                                continue;
                            }
                        }
                    } else {
                        None
                    };
                    let attention = if args.attention {
                        Some(attention_of(&c.candidates)?)
                    } else {
                        None
                    };
                    let empty = Vec::new();
                    let line = JsonLine {
                        file: file.display().to_string(),
                        caption: &d.spoken,
                        kind: d.kind,
                        kind_probs: d.kind_probs,
                        text: d.reading.as_ref().map(|r| r.text()).unwrap_or_default(),
                        lines: d.reading.as_ref().map_or(&empty, |r| &r.lines),
                        regions: &d.regions,
                        note: d.note.as_deref(),
                        warnings: &c.warnings,
                        best: &best.text,
                        probability: best.prob,
                        confidence: &c.confidence,
                        objects: &c.objects,
                        candidates: &c.candidates,
                        timings_ms: JsonTimings {
                            caption: c.timings,
                            ocr_ms: d.timings.ocr_ms,
                            regions_ms: d.timings.regions_ms,
                        },
                        novelty: novelty.as_ref().map(|i| i.check(&best.text)),
                        where_,
                        attention,
                    };
                    serde_json::to_writer(&mut out, &line)?;
                    writeln!(out)?;
                } else {
                    writeln!(out, "{}: {}", file.display(), d.spoken)?;
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
