//! `seesay describe FOLDER`: caption a whole folder in batches, resumably, to JSON lines or CSV.

use std::collections::HashSet;
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;

use seesay::captioner::{CaptionCandidate, CaptionOptions, Captioner};
use seesay::sources::file::is_image_path;

use super::ModelArgs;

/// Arguments of `seesay describe`.
#[derive(Debug, Args)]
pub struct DescribeArgs {
    /// The folder of images.
    folder: PathBuf,
    /// Where to write the results; an existing file is resumed (its images are skipped).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    format: Format,
    /// Descend into sub-folders.
    #[arg(long, short = 'r')]
    recursive: bool,
    /// Images per encoder call and per batched beam search (default: 16 on a GPU, 1 on the
    /// CPU, where batching measured no faster).
    #[arg(long)]
    batch: Option<usize>,
    /// Beam width.
    #[arg(long = "beam", default_value_t = 3)]
    beam: usize,
    /// Candidates to keep per image.
    #[arg(long, default_value_t = 3)]
    candidates: usize,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Jsonl,
    Csv,
}

#[derive(Serialize)]
struct Row<'a> {
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    caption: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    probability: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    candidates: Option<&'a [CaptionCandidate]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Captions the folder and appends to the output.
pub fn run(args: &DescribeArgs) -> Result<ExitCode> {
    let mut images = Vec::new();
    walk(&args.folder, args.recursive, &mut images)
        .with_context(|| format!("cannot list {}", args.folder.display()))?;
    images.sort();
    let done = already_done(&args.out, args.format)?;
    let todo: Vec<PathBuf> = images
        .into_iter()
        .filter(|p| !done.contains(&p.display().to_string()))
        .collect();
    if !done.is_empty() {
        eprintln!(
            "resuming: {} images already in {}",
            done.len(),
            args.out.display()
        );
    }
    let device = args.model.device()?;
    let captioner = Captioner::load(&args.model.source(), &device)
        .context("cannot load the captioning model")?;
    let opts = CaptionOptions {
        beam_size: args.beam.max(1),
        candidates: args.candidates.clamp(1, args.beam.max(1)),
        ..CaptionOptions::default()
    };
    let fresh = !args.out.exists() || done.is_empty() && file_is_empty(&args.out);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&args.out)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let mut out = BufWriter::new(file);
    if fresh && args.format == Format::Csv {
        writeln!(out, "path,caption,probability,candidates,error")?;
    }
    let bar = ProgressBar::new(todo.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} images  {per_sec}  ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let t0 = Instant::now();
    let mut failed = 0usize;
    let batch = args
        .batch
        .unwrap_or(if device.is_cpu() { 1 } else { 16 })
        .max(1);
    for chunk in todo.chunks(batch) {
        let decoded: Vec<_> = chunk
            .par_iter()
            .map(|p| seesay::preprocess::load_image(p).map(|i| seesay::preprocess::prepare(&i)))
            .collect();
        let mut ok_paths = Vec::new();
        let mut ok_images = Vec::new();
        for (path, r) in chunk.iter().zip(decoded) {
            match r {
                Ok(img) => {
                    ok_paths.push(path);
                    ok_images.push(img);
                }
                Err(e) => {
                    failed += 1;
                    write_row(&mut out, args.format, path, None, Some(e.to_string()))?;
                }
            }
        }
        let results = captioner.caption_prepared(&ok_images, &opts)?;
        for (path, c) in ok_paths.iter().zip(&results) {
            write_row(&mut out, args.format, path, Some(&c.candidates), None)?;
        }
        // Flushed per batch, so an interrupted run resumes after the last whole batch.
        out.flush()?;
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "described {} images in {secs:.1} s ({:.1} images/s), {failed} unreadable",
        todo.len(),
        todo.len() as f64 / secs.max(1e-9)
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn walk(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if recursive {
                walk(&path, true, out)?;
            }
        } else if is_image_path(&path) {
            out.push(path);
        }
    }
    Ok(())
}

fn file_is_empty(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.len() == 0)
        .unwrap_or(true)
}

/// Paths already written to the output (successes and reported failures alike).
fn already_done(out: &Path, format: Format) -> Result<HashSet<String>> {
    let mut done = HashSet::new();
    let Ok(file) = std::fs::File::open(out) else {
        return Ok(done);
    };
    for line in std::io::BufReader::new(file).lines() {
        let line = line?;
        let path = match format {
            Format::Jsonl => serde_json::from_str::<serde_json::Value>(&line)
                .ok()
                .and_then(|v| v.get("path").and_then(|p| p.as_str()).map(str::to_owned)),
            Format::Csv => csv_first_field(&line),
        };
        if let Some(p) = path {
            done.insert(p);
        }
    }
    Ok(done)
}

fn write_row(
    out: &mut impl Write,
    format: Format,
    path: &Path,
    candidates: Option<&[CaptionCandidate]>,
    error: Option<String>,
) -> Result<()> {
    let best = candidates.and_then(|c| c.first());
    match format {
        Format::Jsonl => {
            let row = Row {
                path: path.display().to_string(),
                caption: best.map(|b| b.text.as_str()),
                probability: best.map(|b| b.prob),
                candidates,
                error,
            };
            serde_json::to_writer(&mut *out, &row)?;
            writeln!(out)?;
        }
        Format::Csv => {
            let cands = candidates
                .unwrap_or_default()
                .iter()
                .map(|c| format!("{} ({:.4})", c.text, c.prob))
                .collect::<Vec<_>>()
                .join(" | ");
            writeln!(
                out,
                "{},{},{},{},{}",
                csv(&path.display().to_string()),
                csv(best.map_or("", |b| b.text.as_str())),
                best.map_or(String::new(), |b| format!("{:.6}", b.prob)),
                csv(&cands),
                csv(error.as_deref().unwrap_or("")),
            )?;
        }
    }
    Ok(())
}

fn csv(field: &str) -> String {
    if field.contains([',', '"', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

fn csv_first_field(line: &str) -> Option<String> {
    if line.starts_with("path,") {
        return None;
    }
    if let Some(rest) = line.strip_prefix('"') {
        let mut field = String::new();
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    field.push('"');
                    chars.next();
                } else {
                    return Some(field);
                }
            } else {
                field.push(c);
            }
        }
        None
    } else {
        line.split(',').next().map(str::to_owned)
    }
}
