//! Criterion benchmarks of every stage of captioning, on the bundled model.
//!
//! Run with `cargo bench --bench caption`. The photos are made at start from the bundled
//! examples, re-encoded at 640x480 and 4000x3000, so decode times are for real JPEGs.

use std::io::Cursor;
use std::time::Duration;

use candle_core::Device;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use image::{DynamicImage, ImageFormat};
use seesay::captioner::{CaptionOptions, Captioner, ModelSource};
use seesay::decode::{self, StepDecoder};
use seesay::describer::{Describer, Mode};
use seesay::preprocess;
use seesay::vocab;

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/examples/coffee.jpg");
    let img = image::open(path).expect("bundled example").resize_exact(
        width,
        height,
        image::imageops::FilterType::Triangle,
    );
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img.to_rgb8())
        .write_to(&mut out, ImageFormat::Jpeg)
        .expect("encodes");
    out.into_inner()
}

fn benches(c: &mut Criterion) {
    let device = Device::Cpu;
    let captioner = match Captioner::load(&ModelSource::Bundled, &device) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("no bundled model to benchmark: {e}");
            return;
        }
    };
    let model = captioner.model();
    let small = jpeg(640, 480);
    let large = jpeg(4000, 3000);

    let mut g = c.benchmark_group("preprocess");
    for (name, bytes) in [("640x480", &small), ("4000x3000", &large)] {
        g.bench_function(name, |b| {
            b.iter(|| preprocess::prepare(&preprocess::decode_image(bytes).expect("decodes")))
        });
    }
    g.finish();

    let prepared = preprocess::prepare(&preprocess::decode_image(&small).expect("decodes"));
    let norm = model.config.encoder.normalization;
    let pixels =
        preprocess::to_tensor(std::slice::from_ref(&prepared), &norm, &device).expect("tensor");
    c.bench_function("encoder/1", |b| {
        b.iter(|| model.encode(&pixels).expect("forward"))
    });

    let features = model.encode(&pixels).expect("forward").features;
    let state = model.decoder.image_state(&features).expect("state");
    let stepper = model.decoder.stepper(&device);
    let mut g = c.benchmark_group("beam");
    for k in [1usize, 3, 5] {
        let params = CaptionOptions {
            beam_size: k,
            candidates: 1,
            ..CaptionOptions::default()
        }
        .beam_params();
        g.bench_with_input(BenchmarkId::from_parameter(k), &k, |b, _| {
            b.iter(|| {
                let init = stepper.select(&state, &[0]).expect("select");
                decode::beam_search(&stepper, init, vocab::START_ID, vocab::END_ID, &params)
                    .expect("search")
            })
        });
    }
    g.finish();

    // The same search with a constraint ("must say cup"), and with one constraint plus 30
    // excluded words, as guidance runs it: beside the plain k = 3 above.
    let mut g = c.benchmark_group("guided_beam");
    let params = CaptionOptions::default().beam_params();
    let words = &model.vocab;
    let cup = vec![words.id("cup"), words.id("cups")];
    let excluded: Vec<u32> = (100..130).collect();
    for (name, guide) in [
        (
            "include_1",
            decode::Guide {
                include: vec![cup.clone()],
                exclude: Vec::new(),
            },
        ),
        (
            "include_1_exclude_30",
            decode::Guide {
                include: vec![cup],
                exclude: excluded,
            },
        ),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let init = stepper.select(&state, &[0]).expect("select");
                decode::guided_search_batch(
                    &stepper,
                    init,
                    vocab::START_ID,
                    vocab::END_ID,
                    &params,
                    std::slice::from_ref(&guide),
                )
                .expect("search")
            })
        });
    }
    g.finish();

    let opts = CaptionOptions::default();
    c.bench_function("end_to_end/640x480_jpeg", |b| {
        b.iter(|| {
            let img = preprocess::decode_image(&small).expect("decodes");
            captioner.caption_image(&img, &opts).expect("captions")
        })
    });

    // Throughput over a folder: 100 different photos (Flickr8k's, when the dataset is beside
    // the repository), decoded and resized beforehand, captioned one by one and in batches.
    let images = folder_of_100();
    let mut g = c.benchmark_group("batch");
    g.throughput(Throughput::Elements(images.len() as u64));
    g.sample_size(10);
    for size in [1usize, 16] {
        g.bench_with_input(BenchmarkId::new("100_images", size), &size, |b, &size| {
            b.iter(|| {
                for chunk in images.chunks(size) {
                    captioner.caption_prepared(chunk, &opts).expect("captions");
                }
            })
        });
    }
    g.finish();
}

/// A 1280×800 screenshot (a settings window, rendered by tools/screens) from decoded image to
/// its full spoken reading, and its parts: the caption model with the kind classifier, and
/// the text reader alone. Run on one core as `RAYON_NUM_THREADS=1 cargo bench --bench caption
/// -- screen` (Tesseract already runs on one thread).
fn screen_benches(c: &mut Criterion) {
    seesay::ocr::use_one_thread();
    let Ok(captioner) = Captioner::load(&ModelSource::Bundled, &Device::Cpu) else {
        return;
    };
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/screens/settings_1280x800.png"
    );
    let image = preprocess::load_image(std::path::Path::new(path)).expect("decodes");
    let rgb = image.to_rgb8();
    let opts = CaptionOptions::default();
    let mut g = c.benchmark_group("screen_1280x800");
    g.sample_size(10);
    g.bench_function("caption_and_kind", |b| {
        b.iter(|| {
            let c = captioner.caption_image(&image, &opts).expect("captions");
            seesay::kind::KindModel::bundled().map(|m| m.classify(&c.feature))
        })
    });
    match seesay::ocr::Ocr::new() {
        Ok(mut ocr) => {
            g.bench_function("text_reading", |b| {
                b.iter(|| ocr.read(&rgb).expect("reads"))
            });
        }
        Err(e) => eprintln!("no text reading to benchmark: {e}"),
    }
    let mut describer = Describer::new(captioner);
    g.bench_function("full_description", |b| {
        b.iter(|| {
            describer
                .describe(&image, &opts, Mode::Auto)
                .expect("describes")
        })
    });
    g.finish();
}

fn folder_of_100() -> Vec<image::RgbImage> {
    let root = env!("CARGO_MANIFEST_DIR");
    let flickr = std::path::Path::new(root).join("../shared/data/flickr8k/images");
    let mut paths: Vec<_> = std::fs::read_dir(&flickr)
        .map(|dir| dir.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.sort();
    paths.truncate(100);
    if paths.len() < 100 {
        eprintln!("Flickr8k not found: the folder bench cycles the bundled examples");
        let examples: Vec<_> = ["astronaut", "chelsea", "coffee", "rocket"]
            .iter()
            .map(|n| std::path::PathBuf::from(format!("{root}/assets/examples/{n}.jpg")))
            .collect();
        paths = examples.iter().cycle().take(100).cloned().collect();
    }
    paths
        .iter()
        .map(|p| preprocess::prepare(&preprocess::load_image(p).expect("decodes")))
        .collect()
}

criterion_group! {
    name = caption;
    config = Criterion::default().measurement_time(Duration::from_secs(5)).sample_size(20);
    targets = benches, screen_benches
}
criterion_main!(caption);
