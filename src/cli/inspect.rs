//! `seesay inspect`: look inside the caption model (word neighbours, novelty of its sentences,
//! where it looks).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde::Serialize;

use seesay::captioner::{CaptionOptions, Captioner};
use seesay::data::Split;
use seesay::guided::GuidePolicy;
use seesay::inspect::{occlusion, Novelty, NoveltyIndex};
use seesay::model::Model;

use super::ModelArgs;

/// Arguments of `seesay inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, Subcommand)]
enum What {
    /// The nearest words to WORD in the model's word embedding, by cosine similarity.
    Neighbours(NeighboursArgs),
    /// Caption a dataset split and count how many captions are new (not training captions).
    Novelty(NoveltyArgs),
    /// Caption IMAGE and say where in it the model looks for each word (by occlusion).
    Where(WhereArgs),
    /// Write a model folder's sentences.bin from the dataset it was trained on, so the app can
    /// tell new captions from copied ones (train and tune write it themselves).
    Sentences(SentencesArgs),
}

/// Arguments of `seesay inspect sentences`.
#[derive(Debug, Args)]
struct SentencesArgs {
    /// The dataset the model was trained on; its train split's captions are listed.
    #[arg(long, value_name = "PATH")]
    data: PathBuf,
    /// The model folder to write sentences.bin into.
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
}

/// Arguments of `seesay inspect where`.
#[derive(Debug, Args)]
struct WhereArgs {
    /// The picture.
    image: PathBuf,
    /// Look for this sentence's words instead of the model's own best caption.
    #[arg(long, value_name = "TEXT")]
    caption: Option<String>,
    /// Cells per side of the grid greyed out one at a time (grid² + 1 encoder passes).
    #[arg(long, default_value_t = occlusion::DEFAULT_GRID as u8, value_parser = clap::value_parser!(u8).range(1..=occlusion::MAX_GRID as i64))]
    grid: u8,
    /// Beam width for the caption.
    #[arg(long = "beam", default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=64))]
    beam: u16,
    /// Plain beam search: do not let the ImageNet head's objects guide the caption.
    #[arg(long)]
    no_guide: bool,
    /// Also print each word's map: the share of its drop in each cell, in percent.
    #[arg(long)]
    maps: bool,
    /// Print JSON: {"caption": …, "grid": N, "words": [{word, prob, drops, map, region, description}]}.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    model: ModelArgs,
}

/// Arguments of `seesay inspect novelty`.
#[derive(Debug, Args)]
struct NoveltyArgs {
    /// The dataset: its train split is the corpus, another split is captioned.
    #[arg(long, value_name = "PATH")]
    data: PathBuf,
    /// Which split to caption: dev or test.
    #[arg(long, default_value = "test")]
    split: String,
    /// Beam width.
    #[arg(long = "beam", default_value_t = 3, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=64))]
    beam: usize,
    /// Caption at most this many images.
    #[arg(long, value_name = "N")]
    max_images: Option<usize>,
    /// Examples to print with their closest training caption.
    #[arg(long, default_value_t = 8)]
    examples: usize,
    /// Plain beam search: do not let the ImageNet head's objects guide the captions.
    #[arg(long)]
    no_guide: bool,
    /// Where to cache image features (default: ~/.cache/seesay).
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    model: ModelArgs,
}

/// Arguments of `seesay inspect neighbours`.
#[derive(Debug, Args)]
struct NeighboursArgs {
    /// A word of the model's vocabulary.
    word: String,
    /// How many neighbours to list.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..))]
    count: u16,
    /// Which word table: input (`embed.weight`, the words the LSTM reads) or output
    /// (`out.weight`, the words it predicts).
    #[arg(long, default_value = "input", value_parser = ["input", "output"])]
    table: String,
    /// Print JSON: {"word": …, "neighbours": [{"word": …, "score": …}]}.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    model: ModelArgs,
}

/// Runs the inspection asked for.
pub fn run(args: &InspectArgs) -> Result<ExitCode> {
    match &args.what {
        What::Neighbours(a) => neighbours(a),
        What::Novelty(a) => novelty(a),
        What::Where(a) => looking(a),
        What::Sentences(a) => sentences(a),
    }
}

fn looking(args: &WhereArgs) -> Result<ExitCode> {
    let device = args.model.device()?;
    let captioner = Captioner::load(&args.model.source(), &device)
        .context("cannot load the captioning model")?;
    let decoded = seesay::preprocess::load(&args.image)
        .with_context(|| format!("cannot read the picture {}", args.image.display()))?;
    for w in &decoded.warnings {
        eprintln!("seesay: {}: {}", args.image.display(), w.message());
    }
    let caption = match &args.caption {
        Some(text) => text.clone(),
        None => {
            let opts = CaptionOptions {
                beam_size: usize::from(args.beam),
                candidates: 1,
                guide: GuidePolicy::unless(args.no_guide),
                ..CaptionOptions::default()
            };
            let captioned = captioner.caption_image(&decoded.image, &opts)?;
            captioned
                .best()
                .map(|b| b.text.clone())
                .context("the model gave no caption")?
        }
    };
    let t0 = std::time::Instant::now();
    let found = captioner
        .occlusion(&decoded.image, &caption, usize::from(args.grid))
        .with_context(|| {
            format!(
                "cannot find where the model looks in {}",
                args.image.display()
            )
        })?;
    let took = t0.elapsed().as_secs_f64();
    if args.json {
        let out = serde_json::json!({
            "image": args.image.display().to_string(),
            "caption": caption,
            "grid": found.grid,
            "seconds": took,
            "words": found.words,
        });
        println!("{out}");
        return Ok(ExitCode::SUCCESS);
    }
    println!("{caption}");
    for w in &found.words {
        println!("  {:<14} p {:.2}  {}", w.word, w.prob, w.description);
        if args.maps {
            for row in &w.map {
                let cells: Vec<String> =
                    row.iter().map(|v| format!("{:>3.0}", 100.0 * v)).collect();
                println!("      {}", cells.join(" "));
            }
        }
    }
    eprintln!(
        "({}×{} grid, {} encoder passes, {:.1} s)",
        found.grid,
        found.grid,
        found.grid * found.grid + 1,
        took
    );
    Ok(ExitCode::SUCCESS)
}

fn neighbours(args: &NeighboursArgs) -> Result<ExitCode> {
    let device = args.model.device()?;
    let files = args.model.files()?;
    let (_, vocab, decoder) =
        seesay::model::load_decoder(&files, &device).context("cannot load the captioning model")?;
    let table = if args.table == "output" {
        decoder.output_embeddings()
    } else {
        decoder.embeddings()
    };
    let found = seesay::inspect::nearest_words(table, &vocab, &args.word, usize::from(args.count))?;
    if args.json {
        let out = serde_json::json!({
            "word": args.word,
            "table": args.table,
            "neighbours": found,
        });
        println!("{out}");
    } else {
        for n in &found {
            println!("{:<16} {:.3}", n.word, n.score);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn sentences(args: &SentencesArgs) -> Result<ExitCode> {
    anyhow::ensure!(
        args.model.is_dir(),
        "--model {} is not a folder: give the model folder made by `seesay train`",
        args.model.display()
    );
    let (data, _) = super::open_dataset(&args.data)?;
    let listed = seesay::model::sentences::TrainingSentences::from_captions(
        data.split(Split::Train)
            .flat_map(|e| e.captions.iter().map(String::as_str)),
    );
    anyhow::ensure!(
        !listed.is_empty(),
        "the dataset at {} has no training captions",
        args.data.display()
    );
    let path = args.model.join(seesay::model::files::SENTENCES_FILE);
    seesay::model::files::atomic_write(&path, &listed.to_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!(
        "{} distinct training sentences listed in {}",
        listed.len(),
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Reads a dataset and indexes its training captions, for `caption --novelty-data`.
pub fn training_index(path: &Path) -> Result<NoveltyIndex> {
    let (data, _) = super::open_dataset(path)?;
    let index = NoveltyIndex::from_dataset(&data, Split::Train);
    anyhow::ensure!(
        index.caption_count() > 0,
        "the dataset at {} has no training captions",
        path.display()
    );
    Ok(index)
}

#[derive(Serialize)]
struct NoveltyExample {
    image: String,
    caption: String,
    novelty: Novelty,
}

#[derive(Serialize)]
struct NoveltyOutcome {
    split: String,
    beam: usize,
    images: usize,
    training_captions: usize,
    novel: usize,
    novel_share: f64,
    /// Captions that are training captions, by the sentence: the most copied first.
    most_copied: Vec<(String, usize)>,
    examples: Vec<NoveltyExample>,
}

fn novelty(args: &NoveltyArgs) -> Result<ExitCode> {
    let split: Split = args
        .split
        .parse()
        .map_err(|e| anyhow::anyhow!("--split: {e}"))?;
    let device = args.model.device()?;
    let files = args.model.files()?;
    let model = Model::load(&files, &device).context("cannot load the captioning model")?;
    let (data, report) = super::open_dataset(&args.data)?;
    let index = NoveltyIndex::from_dataset(&data, Split::Train);
    anyhow::ensure!(
        index.caption_count() > 0,
        "the dataset has no training captions to compare with"
    );
    let entries: Vec<_> = data
        .split(split)
        .take(args.max_images.unwrap_or(usize::MAX))
        .collect();
    anyhow::ensure!(!entries.is_empty(), report.empty_split(split));
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
    let feats: Vec<&[f32]> = kept.iter().map(|(_, f)| *f).collect();
    let policy = GuidePolicy::unless(args.no_guide);
    let captions = seesay::train::eval::caption_features(
        &[&model.decoder],
        Some(&model.encoder),
        &model.vocab,
        &feats,
        args.beam,
        20,
        &policy,
        &device,
    )?;
    let checked: Vec<NoveltyExample> = kept
        .iter()
        .zip(&captions)
        .map(|((e, _), c)| NoveltyExample {
            image: e.id.clone(),
            caption: c.text.clone(),
            novelty: index.check(&c.text),
        })
        .collect();
    let novel = checked.iter().filter(|c| c.novelty.novel).count();
    let mut copied: std::collections::BTreeMap<String, usize> = Default::default();
    for c in checked.iter().filter(|c| !c.novelty.novel) {
        *copied.entry(c.novelty.closest.clone()).or_default() += 1;
    }
    let mut most_copied: Vec<(String, usize)> = copied.into_iter().collect();
    most_copied.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    most_copied.truncate(5);
    // Examples alternate new and copied captions, so both kinds are seen.
    let (new, old): (Vec<_>, Vec<_>) = checked.into_iter().partition(|c| c.novelty.novel);
    let mut examples = Vec::new();
    let (mut new, mut old) = (new.into_iter(), old.into_iter());
    while examples.len() < args.examples {
        let before = examples.len();
        examples.extend(new.next());
        if examples.len() < args.examples {
            examples.extend(old.next());
        }
        if examples.len() == before {
            break;
        }
    }
    let outcome = NoveltyOutcome {
        split: split.to_string(),
        beam: args.beam,
        images: captions.len(),
        training_captions: index.caption_count(),
        novel,
        novel_share: novel as f64 / captions.len().max(1) as f64,
        most_copied,
        examples,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        print_novelty(&outcome);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_novelty(o: &NoveltyOutcome) {
    println!(
        "{} of {} top-1 captions ({:.1}%) are new: no training caption ({} of them) is the same sentence.",
        o.novel,
        o.images,
        100.0 * o.novel_share,
        o.training_captions
    );
    println!("({} split, beam {})", o.split, o.beam);
    if !o.most_copied.is_empty() {
        println!("\nmost often said training captions:");
        for (sentence, n) in &o.most_copied {
            println!("  {n:>4} × {sentence}");
        }
    }
    for ex in &o.examples {
        let n = &ex.novelty;
        if n.novel {
            println!(
                "\n{}\n  seesay:  {} (new)\n  closest: {} (overlap {:.2})",
                ex.image, ex.caption, n.closest, n.overlap
            );
        } else {
            println!(
                "\n{}\n  seesay:  {} (the same as {} training caption{})",
                ex.image,
                ex.caption,
                n.same_as,
                if n.same_as == 1 { "" } else { "s" }
            );
        }
    }
}
