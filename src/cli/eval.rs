//! `seesay eval`: caption a dataset split and score it as the COCO evaluation code does.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;

use seesay::data::Split;
use seesay::guided::GuidePolicy;
use seesay::metrics::Scores;
use seesay::model::Model;

use super::ModelArgs;

/// Arguments of `seesay eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The dataset: a Flickr8k/30k folder, a Karpathy split JSON, or a COCO captions JSON.
    #[arg(long, value_name = "PATH")]
    data: PathBuf,
    /// Which split to score: train, dev or test.
    #[arg(long, default_value = "test")]
    split: String,
    /// Beam width.
    #[arg(long = "beam", default_value_t = 3, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=64))]
    beam: usize,
    /// Print the scores as JSON.
    #[arg(long)]
    json: bool,
    /// Images to show with their generated and human captions.
    #[arg(long, default_value_t = 5)]
    examples: usize,
    /// Score at most this many images.
    #[arg(long, value_name = "N")]
    max_images: Option<usize>,
    /// Where to cache image features (default: ~/.cache/seesay).
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
    /// Also average in the decoders of these model folders (an ensemble; same vocabulary).
    #[arg(long = "with", value_name = "DIR")]
    with: Vec<PathBuf>,
    /// Plain beam search: do not let the ImageNet head's objects guide the captions.
    #[arg(long)]
    no_guide: bool,
    /// The top object group's probability from which its word is required (guidance).
    #[arg(long, value_name = "P")]
    guide_include_min: Option<f32>,
    /// Animal groups below this probability may not be named when a caption is redone.
    #[arg(long, value_name = "P")]
    guide_absent_max: Option<f32>,
    /// Write one JSON line per image (caption, CIDEr-D, confidence signals) to this file.
    #[arg(long, value_name = "FILE")]
    per_image: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(Serialize)]
struct Example {
    image: String,
    generated: String,
    human: Vec<String>,
}

#[derive(Serialize)]
struct Outcome {
    split: String,
    beam: usize,
    model: Scores,
    human: Scores,
    examples: Vec<Example>,
    seconds: f64,
}

/// Runs the evaluation and prints the table.
pub fn run(args: &EvalArgs) -> Result<ExitCode> {
    let split: Split = args
        .split
        .parse()
        .map_err(|e| anyhow::anyhow!("--split: {e}"))?;
    let device = args.model.device()?;
    // Read once: the model is built from these files, and the feature cache is keyed by them.
    let files = args.model.files()?;
    let model = Model::load(&files, &device).context("cannot load the captioning model")?;
    let (data, report) = super::open_dataset(&args.data)?;
    let entries: Vec<_> = data
        .split(split)
        .take(args.max_images.unwrap_or(usize::MAX))
        .collect();
    anyhow::ensure!(!entries.is_empty(), report.empty_split(split));
    let t0 = Instant::now();
    // An attention model reads the grid (its own cache file), any other the pooled feature.
    let features = seesay::train::feature_cache::cached_layout(
        &files,
        &model.config.encoder,
        &data.name,
        entries.iter().copied(),
        &args.cache.clone().unwrap_or_else(super::default_cache),
        &device,
        seesay::train::feature_cache::Layout::read_by(&model.decoder),
    )?;
    let kept: Vec<_> = entries
        .iter()
        .filter_map(|e| features.get(&e.id).map(|f| (*e, f.as_slice())))
        .collect();
    anyhow::ensure!(
        !kept.is_empty(),
        "none of the {} images of the {split} split could be read (the reasons are above)",
        entries.len()
    );
    let feats: Vec<&[f32]> = kept.iter().map(|(_, f)| *f).collect();
    let mut others = Vec::new();
    for dir in &args.with {
        let other_files = seesay::model::ModelFiles::read_dir(dir)
            .with_context(|| format!("cannot load the model in {}", dir.display()))?;
        // The members read the features of this model's encoder, so it must be the same one.
        anyhow::ensure!(
            other_files.encoder_sha256() == files.encoder_sha256(),
            "{} was trained on another encoder; an ensemble needs one encoder",
            dir.display()
        );
        // Only its decoder is used: the features come from this model's encoder.
        let (_, vocab, decoder) = seesay::model::load_decoder(&other_files, &device)
            .with_context(|| format!("cannot load the model in {}", dir.display()))?;
        anyhow::ensure!(
            vocab.to_text() == model.vocab.to_text(),
            "{} has another vocabulary; an ensemble needs one vocabulary",
            dir.display()
        );
        others.push(decoder);
    }
    let decoders: Vec<&seesay::model::Decoder> =
        std::iter::once(&model.decoder).chain(&others).collect();
    let mut policy = GuidePolicy::unless(args.no_guide);
    if let Some(p) = args.guide_include_min {
        policy.include_min = p;
    }
    if let Some(p) = args.guide_absent_max {
        policy.absent_max = p;
    }
    let captions = seesay::train::eval::caption_features(
        &decoders,
        Some(&model.encoder),
        &model.vocab,
        &feats,
        args.beam,
        20,
        &policy,
        &device,
    )?;
    let hyps: Vec<String> = captions.iter().map(|c| c.text.clone()).collect();
    let refs: Vec<Vec<String>> = kept.iter().map(|(e, _)| e.captions.clone()).collect();
    if let Some(path) = &args.per_image {
        write_per_image(path, &kept, &captions, &hyps, &refs)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let outcome = Outcome {
        split: split.to_string(),
        beam: args.beam,
        model: seesay::metrics::score(&hyps, &refs),
        human: seesay::train::eval::human_scores(&refs),
        examples: kept
            .iter()
            .zip(&hyps)
            .take(args.examples)
            .map(|((e, _), h)| Example {
                image: e.id.clone(),
                generated: h.clone(),
                human: e.captions.clone(),
            })
            .collect(),
        seconds: t0.elapsed().as_secs_f64(),
    };
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&outcome)?)?;
    } else {
        print_table(&outcome)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per image: what calibrating the confidence needs.
fn write_per_image(
    path: &std::path::Path,
    kept: &[(&seesay::data::ImageEntry, &[f32])],
    captions: &[seesay::train::eval::FeatureCaption],
    hyps: &[String],
    refs: &[Vec<String>],
) -> Result<()> {
    #[derive(Serialize)]
    struct Line<'a> {
        image: &'a str,
        caption: &'a str,
        cider_d: Option<f64>,
        guided: bool,
        signals: &'a seesay::confidence::Signals,
    }
    let scores = seesay::metrics::cider_d_per_image(hyps, refs);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for (((e, _), c), score) in kept.iter().zip(captions).zip(scores) {
        let line = Line {
            image: &e.id,
            caption: &c.text,
            cider_d: score,
            guided: c.constraint.is_some(),
            signals: &c.signals,
        };
        serde_json::to_writer(&mut out, &line)?;
        std::io::Write::write_all(&mut out, b"\n")?;
    }
    std::io::Write::flush(&mut out)?;
    Ok(())
}

fn print_table(o: &Outcome) -> Result<()> {
    outln!(
        "{:<8} {:>7} {:>7} {:>7} {:>7} {:>8} {:>8} {:>7}",
        "",
        "BLEU-1",
        "BLEU-2",
        "BLEU-3",
        "BLEU-4",
        "ROUGE-L",
        "CIDEr-D",
        "images"
    )?;
    for (name, s) in [("seesay", &o.model), ("human", &o.human)] {
        outln!(
            "{:<8} {:>7.3} {:>7.3} {:>7.3} {:>7.3} {:>8.3} {:>8.3} {:>7}",
            name,
            s.bleu[0],
            s.bleu[1],
            s.bleu[2],
            s.bleu[3],
            s.rouge_l,
            s.cider_d,
            s.images
        )?;
    }
    outln!(
        "({} split, beam {}; the human row scores each image's first caption against the other four)",
        o.split, o.beam
    )?;
    for ex in &o.examples {
        outln!("\n{}\n  seesay: {}", ex.image, ex.generated)?;
        for h in &ex.human {
            outln!("  human:  {h}")?;
        }
    }
    Ok(())
}
