//! How far training moved the input word embedding from its random start, and the neighbours
//! of what it learned.
//!
//! `cargo run --release --example embedding_drift -- [MODEL_DIR] [--seed S] [WORD...]`
//! (default: the bundled model, seed 42, the model card's words). `seesay train` draws
//! `embed.weight` from N(0, 1) as the first tensor of its seeded initialisation; this redraws
//! it the same way (a copy of `train.rs`'s `seeded_init` for that tensor), removes from each
//! trained row its projection on the initial row, and ranks words by the cosine of what is
//! left. If the redrawn start does not match (another seed, or train.rs changed), the cosine
//! of trained and initial rows is near 0 and the tool says so.

use anyhow::{ensure, Context, Result};
use candle_core::{DType, Device};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The same draw as `train.rs`'s `normal` (Box-Muller).
fn normal(rng: &mut StdRng) -> f32 {
    let u1: f32 = rng.random_range(f32::EPSILON..1.0);
    let u2: f32 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f32::consts::PI * u2).cos()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    dot(a, b) / (dot(a, a) * dot(b, b)).sqrt().max(f32::MIN_POSITIVE)
}

fn main() -> Result<()> {
    let mut dir: Option<std::path::PathBuf> = None;
    let mut seed = 42u64;
    let mut words = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seed" => seed = args.next().context("--seed needs a number")?.parse()?,
            w if !w.contains('/') => words.push(w.to_owned()),
            path => dir = Some(path.into()),
        }
    }
    if words.is_empty() {
        words = ["car", "dog", "boy", "water", "red"]
            .map(String::from)
            .to_vec();
    }
    let files = match &dir {
        Some(d) => seesay::model::ModelFiles::read_dir(d)?,
        None => seesay::model::ModelFiles::bundled()?,
    };
    let (_, vocab, decoder) = seesay::model::load_decoder(&files, &Device::Cpu)?;
    let rows = decoder
        .embeddings()
        .to_dtype(DType::F32)?
        .to_vec2::<f32>()?;
    let width = rows.first().map_or(0, Vec::len);
    // train.rs: StdRng::seed_from_u64(seed ^ 0x005E_E5A1); "embed.weight" sorts first.
    let mut rng = StdRng::seed_from_u64(seed ^ 0x005E_E5A1);
    let init: Vec<Vec<f32>> = (0..rows.len())
        .map(|_| (0..width).map(|_| normal(&mut rng)).collect())
        .collect();
    let specials = 4;
    let n = (rows.len() - specials) as f32;
    let kept: f32 = rows
        .iter()
        .zip(&init)
        .skip(specials)
        .map(|(r, i)| cosine(r, i))
        .sum::<f32>()
        / n;
    let norm: f32 = rows
        .iter()
        .skip(specials)
        .map(|r| dot(r, r).sqrt())
        .sum::<f32>()
        / n;
    let learned: Vec<Vec<f32>> = rows
        .iter()
        .zip(&init)
        .map(|(r, i)| {
            let a = dot(r, i) / dot(i, i).max(f32::MIN_POSITIVE);
            r.iter().zip(i).map(|(x, y)| x - a * y).collect()
        })
        .collect();
    let moved: f32 = learned
        .iter()
        .skip(specials)
        .map(|r| dot(r, r).sqrt())
        .sum::<f32>()
        / n;
    println!(
        "mean cosine of each trained row with its redrawn start (seed {seed}): {kept:.3}; \
         mean row norm {norm:.2}; mean norm of what training added {moved:.2}"
    );
    ensure!(
        kept > 0.5,
        "the redrawn start does not match this model (another seed, or train.rs draws differently)"
    );
    for w in &words {
        let q = vocab.id(w) as usize;
        ensure!(
            q >= specials,
            "{w:?} is not a word of the model's vocabulary"
        );
        let mut scored: Vec<(f32, usize)> = (specials..rows.len())
            .filter(|&i| i != q)
            .map(|i| (cosine(&learned[q], &learned[i]), i))
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        let top: Vec<String> = scored
            .iter()
            .take(8)
            .map(|(c, i)| format!("{} {c:.3}", vocab.word(*i as u32)))
            .collect();
        println!("{w}: {}", top.join(", "));
    }
    Ok(())
}
