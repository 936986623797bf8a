//! Reads the text of pictures with seesay's OCR and times it, from decoded image to text.
//!
//! `cargo run --release --example read_text -- FILE... [--scale N] [--reps N] [--json]`
//! Tesseract runs on one thread, as in seesay, unless `OMP_THREAD_LIMIT` says otherwise.

use std::time::Instant;

use seesay::ocr::{Ocr, ReadOptions};

fn main() -> anyhow::Result<()> {
    seesay::ocr::use_one_thread();
    let mut files = Vec::new();
    let mut options = ReadOptions::default();
    let (mut reps, mut json) = (1usize, false);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--scale" => options.scale = args.next().and_then(|s| s.parse().ok()),
            "--reps" => reps = args.next().and_then(|s| s.parse().ok()).unwrap_or(1),
            "--json" => json = true,
            _ => files.push(a),
        }
    }
    let start = Instant::now();
    let mut ocr = Ocr::new()?;
    eprintln!(
        "Tesseract {} started in {:.0} ms",
        ocr.version(),
        start.elapsed().as_secs_f64() * 1e3
    );
    for file in files {
        let image = image::open(&file)?.to_rgb8();
        let (mut times, mut cpu) = (Vec::new(), Vec::new());
        let mut reading = None;
        for _ in 0..reps.max(1) {
            let (t, c) = (Instant::now(), thread_cpu_ms());
            reading = Some(ocr.read_with(&image, &options)?);
            times.push(t.elapsed().as_secs_f64() * 1e3);
            cpu.push(
                thread_cpu_ms()
                    .zip(c)
                    .map(|(b, a)| b - a)
                    .unwrap_or(f64::NAN),
            );
        }
        times.sort_by(f64::total_cmp);
        cpu.sort_by(f64::total_cmp);
        let Some(reading) = reading else { continue };
        let t = Instant::now();
        let prepared = seesay::ocr::prepare(&image, options.scale);
        let prepare_ms = t.elapsed().as_secs_f64() * 1e3;
        eprintln!(
            "{file}: {}x{}, glyph height {:?}, x{}, inverted {}: {:.0} ms, this thread's CPU \
             {:.0} ms (medians of {}; preparing the picture {prepare_ms:.1} ms of it), {} lines, \
             coverage {:.3}",
            image.width(),
            image.height(),
            prepared.glyph_height,
            prepared.scale,
            prepared.inverted,
            times[times.len() / 2],
            cpu[cpu.len() / 2],
            times.len(),
            reading.lines.len(),
            reading.coverage()
        );
        if json {
            println!("{}", serde_json::to_string(&reading)?);
        } else {
            for line in &reading.lines {
                println!("[{} {:.2}] {}", line.block, line.confidence, line.text);
            }
        }
    }
    Ok(())
}

/// CPU time this thread has run, in ms (Linux; a busy machine barely changes it, unlike
/// wall time). With one OpenMP thread all of Tesseract's work is on this thread.
fn thread_cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e6)
}
