//! Reads Karpathy's split files (`dataset_flickr8k.json`, `dataset_flickr30k.json`, `dataset_coco.json`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::{
    dataset_error, file_name, read_json, sort_images, Dataset, ImageEntry, LoadReport, RawJson,
    Split, ACCEPTED,
};
use crate::Result;

/// Reads a Karpathy split file; images are looked for in `images/` beside it, or for COCO in
/// the folder each entry's `filepath` names (e.g. `val2014/`) beside it or inside `images/`.
/// "restval" counts as [`Split::Train`], "val" as [`Split::Dev`].
pub fn load(path: &Path) -> Result<(Dataset, LoadReport)> {
    let raw = read_json(path)?;
    if !raw
        .images
        .iter()
        .flatten()
        .any(|image| image.sentences.is_some())
    {
        return Err(dataset_error(
            path,
            format!("not a Karpathy split file: no images[].sentences; {ACCEPTED}"),
        ));
    }
    from_raw(path, raw)
}

/// Builds the dataset from an already parsed Karpathy file.
pub(crate) fn from_raw(path: &Path, raw: RawJson) -> Result<(Dataset, LoadReport)> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let json_name = file_name(path);
    let name = raw.dataset.clone().unwrap_or_else(|| {
        let stem = path
            .file_stem()
            .map_or(String::new(), |s| s.to_string_lossy().into_owned());
        stem.strip_prefix("dataset_").unwrap_or(&stem).to_string()
    });
    let mut report = LoadReport::default();
    let mut seen: HashSet<String> = HashSet::new();
    let mut images: Vec<ImageEntry> = Vec::new();
    let mut first_tried: Option<PathBuf> = None;

    for (i, image) in raw.images.unwrap_or_default().into_iter().enumerate() {
        let at = format!("{json_name}: images[{i}]");
        let Some(filename) = image.filename.filter(|f| !f.trim().is_empty()) else {
            report.bad(format!("{at}: no filename"));
            continue;
        };
        if !seen.insert(filename.clone()) {
            report.bad(format!("{at}: {filename} appears twice"));
            continue;
        }
        let split = match image.split.as_deref() {
            None => Split::Unassigned,
            Some(s) => match s.parse::<Split>() {
                Ok(split) => split,
                Err(_) => {
                    report.bad(format!(
                        "{at}: unknown split {s:?} for {filename}, kept as unassigned"
                    ));
                    Split::Unassigned
                }
            },
        };
        let mut captions = Vec::new();
        for (j, sentence) in image.sentences.unwrap_or_default().into_iter().enumerate() {
            match sentence.raw {
                Some(raw) if !raw.trim().is_empty() => captions.push(raw.trim().to_string()),
                _ => report.bad(format!("{at}.sentences[{j}]: no raw caption")),
            }
        }
        if captions.is_empty() {
            report.left_out(split, format!("{at}: {filename} has no captions"));
            continue;
        }
        let candidates = candidates(&dir, image.filepath.as_deref(), &filename);
        let Some(file) = candidates.iter().find(|c| c.is_file()).cloned() else {
            report.captions_without_image += captions.len();
            let looked = candidates
                .iter()
                .map(|c| c.display().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            report.left_out(
                split,
                format!(
                    "{at}: {} captions for {filename}, which has no file (looked for {looked})",
                    captions.len()
                ),
            );
            if first_tried.is_none() {
                first_tried = candidates.into_iter().next();
            }
            continue;
        };
        images.push(ImageEntry {
            id: filename,
            path: file,
            split,
            captions,
        });
    }

    if images.is_empty() {
        let message = match first_tried {
            Some(tried) => format!(
                "no image of it has a file: e.g. looked for {} (images go in images/ beside the JSON)",
                tried.display()
            ),
            None => "no image with a file name and captions in it".to_string(),
        };
        return Err(dataset_error(path, message));
    }
    sort_images(&mut images);
    Ok((Dataset { name, images }, report))
}

/// Where an image may be: `filepath/filename` (COCO) beside the JSON or in `images/`, else `images/filename`.
fn candidates(dir: &Path, filepath: Option<&str>, filename: &str) -> Vec<PathBuf> {
    let images = dir.join("images");
    match filepath.filter(|f| !f.trim().is_empty()) {
        Some(sub) => vec![
            dir.join(sub).join(filename),
            images.join(sub).join(filename),
            images.join(filename),
        ],
        None => vec![images.join(filename), dir.join(filename)],
    }
}
