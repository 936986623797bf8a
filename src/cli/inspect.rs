//! `seesay inspect`: look inside the caption model (word neighbours, novelty of its sentences).

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

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
    }
}

fn neighbours(args: &NeighboursArgs) -> Result<ExitCode> {
    let device = args.model.device()?;
    let files = args
        .model
        .source()
        .files()
        .context("cannot load the captioning model")?;
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
