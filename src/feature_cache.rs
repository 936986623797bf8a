//! Image features computed once by the frozen encoder and cached on disk.
//!
//! The cache is a safetensors file with one 1280-d tensor per image id. Its file name
//! carries a hash of the encoder weights, so a changed encoder never reuses stale features.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{Device, Tensor};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::data::ImageEntry;
use crate::model::efficientnet::FEATURE_DIM;
use crate::model::{EfficientNetLite0, EncoderConfig, ModelFiles};
use crate::preprocess::{self, Normalization};
use crate::{Error, Result};

/// Images encoded per forward pass.
const BATCH: usize = 16;
/// Images between two saves, so a killed run loses little.
const SAVE_EVERY: usize = 1024;

/// Features by image id.
pub type Features = HashMap<String, Vec<f32>>;

/// The cache file for one encoder inside `dir`.
pub fn cache_path(dir: &Path, encoder_sha256: &str) -> PathBuf {
    let short = encoder_sha256.get(..16).unwrap_or(encoder_sha256);
    dir.join(format!("features-{short}.safetensors"))
}

/// Reads a cache file; a missing file is an empty cache, a damaged one an error.
pub fn load(path: &Path) -> Result<Features> {
    if !path.exists() {
        return Ok(Features::new());
    }
    let bytes = crate::open::read_limited(path, crate::open::MODEL_LIMIT, "feature caches")
        .map_err(|e| Error::io(path, e))?;
    let tensors = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu).map_err(|e| {
        Error::Other(format!(
            "feature cache {} is damaged ({e}); delete it to rebuild",
            path.display()
        ))
    })?;
    tensors
        .into_iter()
        .map(|(id, t)| Ok((id, t.to_vec1::<f32>()?)))
        .collect()
}

/// Writes the cache atomically (temporary file, then rename).
pub fn save(path: &Path, features: &Features) -> Result<()> {
    let tensors: HashMap<String, Tensor> = features
        .iter()
        .map(|(id, f)| Ok((id.clone(), Tensor::from_slice(f, f.len(), &Device::Cpu)?)))
        .collect::<Result<_>>()?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let tmp = path.with_extension("safetensors.tmp");
    candle_core::safetensors::save(&tensors, &tmp)?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// One image to encode: its id and file.
pub struct Job<'a> {
    /// Key in the cache.
    pub id: &'a str,
    /// Where the image is.
    pub path: &'a Path,
}

/// Computes the features that `cache` lacks, saving progress to `path` as it goes.
///
/// Unreadable images are skipped and returned as (id, message) so the caller can report them.
pub fn fill(
    cache: &mut Features,
    jobs: &[Job<'_>],
    encoder: &EfficientNetLite0,
    norm: &Normalization,
    device: &Device,
    path: &Path,
) -> Result<Vec<(String, String)>> {
    let todo: Vec<&Job> = jobs.iter().filter(|j| !cache.contains_key(j.id)).collect();
    let mut failures = Vec::new();
    if todo.is_empty() {
        return Ok(failures);
    }
    let bar = ProgressBar::new(todo.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("encoding {bar:30} {pos}/{len} images  {per_sec}  ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let mut since_save = 0;
    for chunk in todo.chunks(BATCH) {
        let decoded: Vec<(&str, Result<image::RgbImage>)> = chunk
            .par_iter()
            .map(|j| {
                (
                    j.id,
                    preprocess::load_image(j.path).map(|i| preprocess::prepare(&i)),
                )
            })
            .collect();
        let mut ids = Vec::with_capacity(chunk.len());
        let mut images = Vec::with_capacity(chunk.len());
        for (id, r) in decoded {
            match r {
                Ok(img) => {
                    ids.push(id);
                    images.push(img);
                }
                Err(e) => failures.push((id.to_owned(), e.to_string())),
            }
        }
        if !images.is_empty() {
            let x = preprocess::to_tensor(&images, norm, device)?;
            let f = encoder.forward(&x)?.features.to_device(&Device::Cpu)?;
            for (id, row) in ids.iter().zip(f.to_vec2::<f32>()?) {
                debug_assert_eq!(row.len(), FEATURE_DIM);
                cache.insert((*id).to_owned(), row);
            }
        }
        bar.inc(chunk.len() as u64);
        since_save += chunk.len();
        if since_save >= SAVE_EVERY {
            save(path, cache)?;
            since_save = 0;
        }
    }
    save(path, cache)?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "encoded {} images in {secs:.0} s ({:.1} images/s)",
        todo.len(),
        todo.len() as f64 / secs.max(1e-9)
    );
    Ok(failures)
}

/// Cached features for `entries`, computing what is missing. Images that cannot be read are reported and left out.
pub fn cached<'a>(
    encoder_files: &ModelFiles,
    enc_cfg: &EncoderConfig,
    dataset_name: &str,
    entries: impl Iterator<Item = &'a ImageEntry>,
    cache_dir: &Path,
    device: &Device,
) -> Result<Features> {
    let hash = encoder_files.encoder_sha256();
    let path = cache_path(&cache_dir.join(sanitize(dataset_name)), &hash);
    let mut cache = load(&path)?;
    let entries: Vec<&ImageEntry> = entries.collect();
    let jobs: Vec<Job> = entries
        .iter()
        .map(|e| Job {
            id: &e.id,
            path: &e.path,
        })
        .collect();
    if jobs.iter().any(|j| !cache.contains_key(j.id)) {
        let encoder = crate::model::load_encoder(encoder_files, device)?;
        let failures = fill(
            &mut cache,
            &jobs,
            &encoder,
            &enc_cfg.normalization,
            device,
            &path,
        )?;
        if !failures.is_empty() {
            eprintln!(
                "{} images could not be read and are left out:",
                failures.len()
            );
            for (id, e) in failures.iter().take(5) {
                eprintln!("  {id}: {e}");
            }
        }
    }
    Ok(cache)
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
