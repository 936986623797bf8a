//! A mutation test of decoding and preprocessing: the stable-Rust stand-in for a cargo-fuzz
//! target (which needs nightly). The bundled example JPEGs and pictures made here in every
//! other format are mutated with a fixed seed (bits flipped, header fields set to extremes,
//! bytes cut, repeated or spliced from another file) and each result must decode to a picture
//! or to a clean error: no panic (not even one the decoder guard catches), no Rust debug
//! output in a message, no case that runs for long.
//!
//! CI runs 2,000 cases within 15 s. Longer: `SEESAY_MUTATION_SECONDS=600
//! SEESAY_MUTATION_CASES=1000000 cargo test --release --test mutation -- --nocapture`
//! (`SEESAY_MUTATION_SEED` picks another sequence; failing inputs are written to
//! `SEESAY_MUTATION_OUT` when set).

use std::collections::BTreeMap;
use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use image::{DynamicImage, ImageFormat, RgbaImage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use seesay::{blank, preprocess};

mod common;
use common::{env_or, mutate};

/// The message of a panic caught by the decoder guard (see preprocess::guarded).
const CAUGHT_PANIC: &str = "the image decoder failed on it";

fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut out), format)
        .expect("encodes");
    out
}

/// The files mutated: the bundled example photos and a small picture in each other format.
fn seeds() -> Vec<(String, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/examples");
    let mut seeds: Vec<(String, Vec<u8>)> = ["astronaut", "chelsea", "coffee", "rocket"]
        .iter()
        .map(|n| {
            let bytes = std::fs::read(root.join(format!("{n}.jpg"))).expect("example photo");
            (format!("{n}.jpg"), bytes)
        })
        .collect();
    let rgba = DynamicImage::ImageRgba8(RgbaImage::from_fn(48, 40, |x, y| {
        image::Rgba([(x * 5) as u8, (y * 6) as u8, ((x ^ y) * 9) as u8, 200])
    }));
    let rgb = DynamicImage::ImageRgb8(rgba.to_rgb8());
    for (name, image, format) in [
        ("small.png", &rgba, ImageFormat::Png),
        ("small.gif", &rgba, ImageFormat::Gif),
        ("small.bmp", &rgb, ImageFormat::Bmp),
        ("small.webp", &rgba, ImageFormat::WebP),
        ("small.tiff", &rgb, ImageFormat::Tiff),
        ("small.jpg", &rgb, ImageFormat::Jpeg),
        ("small.ico", &rgba, ImageFormat::Ico),
    ] {
        seeds.push((name.to_owned(), encode(image, format)));
    }
    seeds
}

#[derive(Default)]
struct Tally {
    tried: usize,
    decoded: usize,
    warned: usize,
    plain: usize,
    errors: BTreeMap<String, usize>,
    failures: Vec<String>,
    slowest: (Duration, String),
}

/// The first words of an error message, to count kinds of error without their numbers.
fn kind(message: &str) -> String {
    message
        .split([':', '(', ','])
        .next()
        .unwrap_or(message)
        .chars()
        .filter(|c| !c.is_ascii_digit())
        .collect::<String>()
        .trim()
        .to_owned()
}

#[test]
fn mutated_pictures_decode_or_fail_cleanly() {
    let cases = env_or("SEESAY_MUTATION_CASES", 2_000usize);
    let budget = Duration::from_secs_f64(env_or("SEESAY_MUTATION_SECONDS", 15.0));
    let seed = env_or("SEESAY_MUTATION_SEED", 13u64);
    let out = std::env::var_os("SEESAY_MUTATION_OUT").map(PathBuf::from);
    let seeds = seeds();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut tally = Tally::default();
    let t0 = Instant::now();
    while tally.tried < cases && t0.elapsed() < budget {
        let (name, original) = &seeds[rng.random_range(0..seeds.len())];
        let other = &seeds[rng.random_range(0..seeds.len())].1;
        let mut bytes = original.clone();
        mutate(&mut rng, &mut bytes, other);
        let case = format!("case {} from {name}", tally.tried);
        tally.tried += 1;
        let started = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| match preprocess::decode(&bytes) {
            Ok(d) => {
                let prepared = preprocess::prepare(&d.image);
                assert_eq!(prepared.width(), preprocess::INPUT_SIZE);
                Ok((d.warnings.len(), blank::statement(&d.image).is_some()))
            }
            Err(e) => Err(e.to_string()),
        }));
        let took = started.elapsed();
        if took > tally.slowest.0 {
            tally.slowest = (took, case.clone());
        }
        let failure = match outcome {
            Ok(Ok((warnings, plain))) => {
                tally.decoded += 1;
                tally.warned += usize::from(warnings > 0);
                tally.plain += usize::from(plain);
                None
            }
            Ok(Err(message)) => {
                *tally.errors.entry(kind(&message)).or_default() += 1;
                let debug_like = message.contains(['{', '}']) || message.contains("Some(");
                if message.contains(CAUGHT_PANIC) {
                    Some(format!("{case}: a decoder panicked (caught): {message}"))
                } else if message.is_empty() || debug_like {
                    Some(format!("{case}: unclear message: {message:?}"))
                } else {
                    None
                }
            }
            Err(_) => Some(format!("{case}: panicked outside the decoder guard")),
        };
        if let Some(f) = failure {
            if let Some(dir) = &out {
                let _ = std::fs::create_dir_all(dir);
                let _ = std::fs::write(dir.join(format!("case-{}.bin", tally.tried - 1)), &bytes);
            }
            tally.failures.push(f);
        }
    }
    let errors: usize = tally.errors.values().sum();
    eprintln!(
        "mutation test (seed {seed}): {} cases in {:.1} s: {} decoded ({} with a warning, {} \
         stated plainly), {errors} clean errors, {} failures; slowest {:?} ({})",
        tally.tried,
        t0.elapsed().as_secs_f64(),
        tally.decoded,
        tally.warned,
        tally.plain,
        tally.failures.len(),
        tally.slowest.0,
        tally.slowest.1,
    );
    for (kind, n) in &tally.errors {
        eprintln!("  {n:6}  {kind}");
    }
    assert!(tally.tried >= 200, "too few cases ran: {}", tally.tried);
    assert!(
        tally.failures.is_empty(),
        "{} of {} cases failed:\n{}",
        tally.failures.len(),
        tally.tried,
        tally.failures.join("\n")
    );
}
