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
use seesay::decode::{self, BeamParams, StepDecoder};
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
        let params = BeamParams {
            beam_size: k,
            n_best: 1,
            max_len: 20,
            length_norm: false,
            banned: vec![vocab::PAD_ID, vocab::START_ID, vocab::UNK_ID],
        };
        g.bench_with_input(BenchmarkId::from_parameter(k), &k, |b, _| {
            b.iter(|| {
                let init = stepper.select(&state, &[0]).expect("select");
                decode::beam_search(&stepper, init, vocab::START_ID, vocab::END_ID, &params)
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

    // Throughput over a folder-sized batch: 100 decoded 640x480 photos, encoder batches of 16.
    let images: Vec<_> = (0..100).map(|_| prepared.clone()).collect();
    let mut g = c.benchmark_group("batch");
    g.throughput(Throughput::Elements(images.len() as u64));
    g.sample_size(10);
    g.bench_function("100_images", |b| {
        b.iter(|| {
            for chunk in images.chunks(16) {
                captioner.caption_prepared(chunk, &opts).expect("captions");
            }
        })
    });
    g.finish();
}

criterion_group! {
    name = caption;
    config = Criterion::default().measurement_time(Duration::from_secs(5)).sample_size(20);
    targets = benches
}
criterion_main!(caption);
