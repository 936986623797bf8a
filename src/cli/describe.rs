//! `seesay describe FOLDER`: caption a whole folder in batches, resumably, to JSON lines or CSV.

use std::collections::HashSet;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;

use seesay::captioner::{CaptionCandidate, CaptionOptions, Captioner};
use seesay::sources::file::{is_image_path, sniffs_as_image};

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
    #[arg(long = "beam", default_value_t = 3, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=64))]
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
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
}

/// What one picture gave: its captions, or a plain statement of what it is, and warnings.
struct Described<'a> {
    candidates: Option<&'a [CaptionCandidate]>,
    /// Said instead of the caption (a picture too small or of one colour).
    statement: Option<&'a str>,
    warnings: &'a [String],
    error: Option<String>,
}

/// Captions the folder and appends to the output.
pub fn run(args: &DescribeArgs) -> Result<ExitCode> {
    check_out(&args.out)?;
    let mut images = Vec::new();
    let mut walk = Walk::default();
    walk.folder(&args.folder, args.recursive, &mut images)
        .with_context(|| format!("cannot list {}", args.folder.display()))?;
    if walk.not_pictures > 0 {
        eprintln!(
            "seesay: skipped {} files that are not pictures seesay reads (JPEG, PNG, GIF, BMP, \
             WebP, TIFF), judged by their content",
            walk.not_pictures
        );
    }
    for (path, why) in &walk.skipped {
        eprintln!("seesay: skipped {}: {why}", path.display());
    }
    images.sort();
    let done = already_done(&args.out, args.format)?;
    let todo: Vec<PathBuf> = images
        .into_iter()
        .filter(|p| !done.contains(&path_text(p)))
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
            .map(|p| {
                seesay::preprocess::load(p).map(|d| {
                    let warnings: Vec<String> =
                        d.warnings.iter().map(|w| w.message().to_owned()).collect();
                    let statement = seesay::blank::statement(&d.image);
                    (seesay::preprocess::prepare(&d.image), warnings, statement)
                })
            })
            .collect();
        let mut ok_paths = Vec::new();
        let mut ok_images = Vec::new();
        let mut ok_notes = Vec::new();
        let writing = || format!("cannot write {}", args.out.display());
        for (path, r) in chunk.iter().zip(decoded) {
            match r {
                Ok((img, warnings, statement)) => {
                    ok_paths.push(path);
                    ok_images.push(img);
                    ok_notes.push((warnings, statement));
                }
                Err(e) => {
                    failed += 1;
                    let row = Described {
                        candidates: None,
                        statement: None,
                        warnings: &[],
                        error: Some(e.to_string()),
                    };
                    write_row(&mut out, args.format, path, row).with_context(writing)?;
                }
            }
        }
        let results = captioner.caption_prepared(&ok_images, &opts)?;
        for ((path, c), (warnings, statement)) in ok_paths.iter().zip(&results).zip(&ok_notes) {
            let row = Described {
                candidates: Some(&c.candidates),
                statement: statement.as_deref(),
                warnings,
                error: None,
            };
            write_row(&mut out, args.format, path, row).with_context(writing)?;
        }
        // Flushed per batch, so an interrupted run resumes after the last whole batch.
        out.flush()
            .map_err(seesay::open::plain)
            .with_context(writing)?;
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    // The CSV header of a run with nothing to describe is still in the buffer.
    out.flush()
        .map_err(seesay::open::plain)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
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

/// Refuses an output path that is a folder, a pipe or a device before any work is done.
fn check_out(out: &Path) -> Result<()> {
    let Ok(meta) = std::fs::metadata(out) else {
        return Ok(());
    };
    if meta.is_dir() {
        anyhow::bail!(
            "--out {}: this is a folder; give a file inside it, e.g. {}",
            out.display(),
            out.join("captions.jsonl").display()
        );
    }
    if !meta.is_file() {
        anyhow::bail!(
            "--out {}: this is {}, not a file",
            out.display(),
            seesay::open::kind_of(&meta)
        );
    }
    Ok(())
}

/// A walk through the folder: each folder visited once (a symlink loop is not followed
/// round), and a sub-folder that cannot be read is skipped with its reason, not fatal.
#[derive(Default)]
struct Walk {
    seen: HashSet<(u64, u64)>,
    skipped: Vec<(PathBuf, String)>,
    /// Files left out because their content is not a picture seesay reads.
    not_pictures: usize,
}

impl Walk {
    fn folder(
        &mut self,
        dir: &Path,
        recursive: bool,
        out: &mut Vec<PathBuf>,
    ) -> std::io::Result<()> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(dir).map_err(seesay::open::plain)?;
        if !self.seen.insert((meta.dev(), meta.ino())) {
            return Ok(());
        }
        for entry in std::fs::read_dir(dir).map_err(seesay::open::plain)? {
            let path = match entry {
                Ok(entry) => entry.path(),
                Err(e) => {
                    self.skipped
                        .push((dir.to_path_buf(), seesay::open::plain(e).to_string()));
                    continue;
                }
            };
            if path.is_dir() {
                if recursive {
                    if let Err(e) = self.folder(&path, true, out) {
                        self.skipped.push((path, e.to_string()));
                    }
                }
            } else if is_image_path(&path) {
                out.push(path);
            } else if sniffs_as_image(&path) == Some(true) {
                // A picture whose name does not say so (a JPEG saved as .heic).
                out.push(path);
            } else {
                self.not_pictures += 1;
            }
        }
        Ok(())
    }
}

fn file_is_empty(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.len() == 0)
        .unwrap_or(true)
}

/// Paths already written to the output (successes and reported failures alike).
///
/// A last row cut short (a crash, a full disk) is removed from the file, so its picture is
/// described again instead of the next row being appended onto it; a line that is not UTF-8
/// is ignored with a note naming it; a file in the other format is refused, not appended to.
fn already_done(out: &Path, format: Format) -> Result<HashSet<String>> {
    let mut done = HashSet::new();
    if !out.exists() {
        return Ok(done);
    }
    let mut bytes = seesay::open::read_limited(out, seesay::open::TEXT_LIMIT, "outputs")
        .with_context(|| format!("cannot read {} to resume it", out.display()))?;
    if bytes.last().is_some_and(|&b| b != b'\n') {
        let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        std::fs::OpenOptions::new()
            .write(true)
            .open(out)
            .and_then(|f| f.set_len(keep as u64))
            .with_context(|| format!("cannot remove the cut last row of {}", out.display()))?;
        bytes.truncate(keep);
        eprintln!(
            "seesay: the last row of {} was cut short (an interrupted run); it is removed and \
             its picture described again",
            out.display()
        );
    }
    let first = bytes
        .split(|&b| b == b'\n')
        .find(|l| !l.trim_ascii().is_empty());
    if let Some(first) = first {
        let found = if first.starts_with(b"{") {
            Format::Jsonl
        } else {
            Format::Csv
        };
        if found != format {
            let name = |f: Format| match f {
                Format::Jsonl => "jsonl",
                Format::Csv => "csv",
            };
            anyhow::bail!(
                "{} holds {} rows, but --format {} was asked: resume it with --format {}, or \
                 write to another --out",
                out.display(),
                name(found),
                name(format),
                name(found)
            );
        }
    }
    let mut not_utf8 = 0usize;
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let Ok(line) = std::str::from_utf8(line) else {
            not_utf8 += 1;
            if not_utf8 <= 3 {
                eprintln!(
                    "seesay: {}:{}: not UTF-8 text; the line is ignored",
                    out.display(),
                    i + 1
                );
            }
            continue;
        };
        let path = match format {
            Format::Jsonl => serde_json::from_str::<serde_json::Value>(line)
                .ok()
                .and_then(|v| v.get("path").and_then(|p| p.as_str()).map(str::to_owned)),
            Format::Csv => csv_first_field(line),
        };
        if let Some(p) = path {
            done.insert(p);
        }
    }
    Ok(done)
}

fn write_row(out: &mut impl Write, format: Format, path: &Path, row: Described) -> Result<()> {
    let Described {
        candidates,
        statement,
        warnings,
        error,
    } = row;
    let best = candidates.and_then(|c| c.first());
    let caption = statement.or(best.map(|b| b.text.as_str()));
    match format {
        Format::Jsonl => {
            let row = Row {
                path: path_text(path),
                caption,
                probability: best.map(|b| b.prob),
                candidates,
                error,
                warnings,
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
                csv(&path_text(path)),
                // No column for warnings (old files are resumed): said first, as when spoken.
                csv(&format!(
                    "{}{}",
                    warning_prefix(warnings),
                    caption.unwrap_or("")
                )),
                best.map_or(String::new(), |b| format!("{:.6}", b.prob)),
                csv(&cands),
                csv(error.as_deref().unwrap_or("")),
            )?;
        }
    }
    Ok(())
}

fn warning_prefix(warnings: &[String]) -> String {
    warnings.iter().map(|w| format!("Warning: {w}. ")).collect()
}

/// The path as written to the output, losslessly: backslashes, control characters and bytes
/// that are not UTF-8 are escaped (`\\`, `\n`, `\u{7f}`, `\xff`), so every row is one line and
/// two names never print the same; other names are written as they are.
fn path_text(path: &Path) -> String {
    use std::fmt::Write as _;
    use std::os::unix::ffi::OsStrExt;
    let mut text = String::new();
    for chunk in path.as_os_str().as_bytes().utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => text.push_str("\\\\"),
                '\n' => text.push_str("\\n"),
                '\r' => text.push_str("\\r"),
                '\t' => text.push_str("\\t"),
                c if c.is_control() => {
                    let _ = write!(text, "\\u{{{:x}}}", u32::from(c));
                }
                c => text.push(c),
            }
        }
        for byte in chunk.invalid() {
            let _ = write!(text, "\\x{byte:02x}");
        }
    }
    text
}

/// One CSV field. Line breaks in free text (an error message naming an odd file) become
/// spaces, so a row is always one line and a resume reads it back whole.
fn csv(field: &str) -> String {
    let field = field.replace(['\n', '\r'], " ");
    if field.contains([',', '"']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field
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
