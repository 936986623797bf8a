//! Image features computed once by the frozen encoder and cached on disk.
//!
//! The cache is a safetensors file with one 1280-d tensor per image, named by the image id and
//! the file's size and modification time, so an image replaced under the same name is encoded
//! again instead of being scored with the old picture's features. The cache file's name
//! carries a hash of the encoder weights, so a changed encoder never reuses stale features.
//!
//! Attention models read the 7×7 grid before pooling instead: 49 × 1280 values per image,
//! kept in a file of its own (`grid-HASH.safetensors`, same keys) and stored as f16, about
//! 125 KB per image (750 MB for Flickr8k's 6,000 training images).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::data::ImageEntry;
use crate::model::attention::GRID_CELLS;
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

/// What a cache holds for each image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// The pooled 1280-d feature, stored as f32.
    Pooled,
    /// The grid before pooling, 49 cells × 1280 (row-major cells, each cell's feature
    /// together), stored as f16.
    Grid,
}

impl Layout {
    /// What a decoder reads: the grid if it attends, else the pooled feature.
    pub fn read_by(decoder: &crate::model::Decoder) -> Self {
        if decoder.attends() {
            Layout::Grid
        } else {
            Layout::Pooled
        }
    }

    /// Values per image.
    pub fn values_per_image(self) -> usize {
        match self {
            Layout::Pooled => FEATURE_DIM,
            Layout::Grid => GRID_CELLS * FEATURE_DIM,
        }
    }

    fn dtype(self) -> DType {
        match self {
            Layout::Pooled => DType::F32,
            Layout::Grid => DType::F16,
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Layout::Pooled => "features",
            Layout::Grid => "grid",
        }
    }
}

/// Between the image id and its file's stamp in a cache key; a stamp never holds it, so the
/// last one splits the key even when the id does.
const STAMP_SEPARATOR: char = '#';

/// What identifies one version of an image file: its size and modification time (ns), or
/// `None` when the file cannot be examined (it is then never served from the cache).
pub fn stamp(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!("{}b{}ns", meta.len(), modified.as_nanos()))
}

/// The key of an image's features in the cache file.
pub fn key(id: &str, stamp: &str) -> String {
    format!("{id}{STAMP_SEPARATOR}{stamp}")
}

/// The id in a cache key (keys of older caches, without a stamp, give `None`: never matched).
fn id_of(key: &str) -> Option<&str> {
    key.rsplit_once(STAMP_SEPARATOR).map(|(id, _)| id)
}

/// The cache file for one encoder inside `dir`.
pub fn cache_path(dir: &Path, encoder_sha256: &str) -> PathBuf {
    layout_path(dir, encoder_sha256, Layout::Pooled)
}

/// The cache file of one layout for one encoder inside `dir`.
pub fn layout_path(dir: &Path, encoder_sha256: &str, layout: Layout) -> PathBuf {
    let short = encoder_sha256.get(..16).unwrap_or(encoder_sha256);
    dir.join(format!("{}-{short}.safetensors", layout.prefix()))
}

/// Reads a cache file (features by [`key`]); a missing file is an empty cache, a damaged one an
/// error.
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
        .map(|(id, t)| Ok((id, t.to_dtype(DType::F32)?.to_vec1::<f32>()?)))
        .collect()
}

/// Writes the cache atomically (temporary file, then rename).
pub fn save(path: &Path, features: &Features) -> Result<()> {
    save_as(path, features, Layout::Pooled)
}

/// Writes a cache of one layout (in its stored type) atomically.
fn save_as(path: &Path, features: &Features, layout: Layout) -> Result<()> {
    let tensors: HashMap<String, Tensor> = features
        .iter()
        .map(|(id, f)| {
            let t = match layout.dtype() {
                // Converted value by value: no f32 copy of the whole grid cache on the way.
                DType::F16 => {
                    let half: Vec<half::f16> = f.iter().map(|&v| half::f16::from_f32(v)).collect();
                    Tensor::from_vec(half, f.len(), &Device::Cpu)?
                }
                _ => Tensor::from_slice(f, f.len(), &Device::Cpu)?,
            };
            Ok((id.clone(), t))
        })
        .collect::<Result<_>>()?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let tmp = path.with_extension("safetensors.tmp");
    candle_core::safetensors::save(&tensors, &tmp)?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// One image to encode: its cache key, its id and its file.
pub struct Job<'a> {
    /// Key in the cache (see [`key`]).
    pub key: String,
    /// The image id, as reported when the file cannot be read.
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
    fill_layout(cache, jobs, encoder, norm, device, path, Layout::Pooled)
}

/// [`fill`] for a cache of the given layout.
fn fill_layout(
    cache: &mut Features,
    jobs: &[Job<'_>],
    encoder: &EfficientNetLite0,
    norm: &Normalization,
    device: &Device,
    path: &Path,
    layout: Layout,
) -> Result<Vec<(String, String)>> {
    let todo: Vec<&Job> = jobs
        .iter()
        .filter(|j| !cache.contains_key(&j.key))
        .collect();
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
        let decoded: Vec<(&Job, Result<image::RgbImage>)> = chunk
            .par_iter()
            .map(|j| {
                (
                    *j,
                    preprocess::load_image(j.path).map(|i| preprocess::prepare(&i)),
                )
            })
            .collect();
        let mut done = Vec::with_capacity(chunk.len());
        let mut images = Vec::with_capacity(chunk.len());
        for (job, r) in decoded {
            match r {
                Ok(img) => {
                    done.push(job);
                    images.push(img);
                }
                Err(e) => failures.push((job.id.to_owned(), e.to_string())),
            }
        }
        if !images.is_empty() {
            let x = preprocess::to_tensor(&images, norm, device)?;
            let f = match layout {
                Layout::Pooled => encoder.forward(&x)?.features,
                Layout::Grid => {
                    let grid = encoder
                        .forward_grid(&x)?
                        .grid
                        .ok_or_else(|| Error::Other("the encoder did not keep its grid".into()))?;
                    crate::model::attention::cells(&grid)?.flatten_from(1)?
                }
            };
            let f = f.to_dtype(DType::F32)?.to_device(&Device::Cpu)?;
            for (job, row) in done.iter().zip(f.to_vec2::<f32>()?) {
                debug_assert_eq!(row.len(), layout.values_per_image());
                cache.insert(job.key.clone(), row);
            }
        }
        bar.inc(chunk.len() as u64);
        since_save += chunk.len();
        if since_save >= SAVE_EVERY {
            save_as(path, cache, layout)?;
            since_save = 0;
        }
    }
    save_as(path, cache, layout)?;
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
    cached_layout(
        encoder_files,
        enc_cfg,
        dataset_name,
        entries,
        cache_dir,
        device,
        Layout::Pooled,
    )
}

/// [`cached`] for either layout: the grid (for attention models) has its own file, so the
/// pooled cache is untouched.
pub fn cached_layout<'a>(
    encoder_files: &ModelFiles,
    enc_cfg: &EncoderConfig,
    dataset_name: &str,
    entries: impl Iterator<Item = &'a ImageEntry>,
    cache_dir: &Path,
    device: &Device,
    layout: Layout,
) -> Result<Features> {
    let hash = encoder_files.encoder_sha256();
    let path = layout_path(&cache_dir.join(sanitize(dataset_name)), &hash, layout);
    let mut cache = load(&path)?;
    let entries: Vec<&ImageEntry> = entries.collect();
    let jobs: Vec<Job> = entries
        .iter()
        .map(|e| Job {
            // A file that cannot be examined gets a key no cache holds; reading it then fails
            // and is reported like any unreadable image.
            key: key(
                &e.id,
                &stamp(&e.path).unwrap_or_else(|| "unreadable".into()),
            ),
            id: &e.id,
            path: &e.path,
        })
        .collect();
    // Features of the images' earlier versions (and of keys without a stamp, from older
    // caches) would only grow the file.
    let current: HashMap<&str, &str> = jobs.iter().map(|j| (j.id, j.key.as_str())).collect();
    cache.retain(|k, _| id_of(k).is_some_and(|id| current.get(id).is_none_or(|now| now == k)));
    if jobs.iter().any(|j| !cache.contains_key(&j.key)) {
        let encoder = crate::model::load_encoder(encoder_files, device)?;
        let failures = fill_layout(
            &mut cache,
            &jobs,
            &encoder,
            &enc_cfg.normalization,
            device,
            &path,
            layout,
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
    // Each image's features under its plain id, from the key of its file as it is now.
    Ok(jobs
        .iter()
        .filter_map(|j| cache.get(&j.key).map(|f| (j.id.to_owned(), f.clone())))
        .collect())
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
