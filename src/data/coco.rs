//! Reads COCO caption annotations (`captions_train2014.json`, `captions_val2014.json` and the like).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{
    dataset_error, file_name, id_key, read_json, sort_images, Dataset, ImageEntry, LoadReport,
    RawJson, Split, ACCEPTED,
};
use crate::Result;

/// Reads a COCO caption file. The split comes from its name: Train if it contains "train",
/// Dev if "val", else Test. Images are looked for in a folder named after the split and year
/// (`train2014/`) beside the JSON or beside its folder, or in `images/`.
pub fn load(path: &Path) -> Result<(Dataset, LoadReport)> {
    let raw = read_json(path)?;
    if raw.annotations.is_none() {
        return Err(dataset_error(
            path,
            format!("not a COCO caption file: no \"annotations\"; {ACCEPTED}"),
        ));
    }
    from_raw(path, raw)
}

/// The split a COCO file name stands for.
pub fn split_of(file_name: &str) -> Split {
    let lower = file_name.to_ascii_lowercase();
    if lower.contains("train") {
        Split::Train
    } else if lower.contains("val") {
        Split::Dev
    } else {
        Split::Test
    }
}

/// The image folder a COCO file name points to, e.g. "train2014" for `captions_train2014.json`.
fn split_folder(file_name: &str) -> Option<String> {
    let lower = file_name.to_ascii_lowercase();
    ["train", "val", "test"].iter().find_map(|key| {
        let start = lower.find(key)?;
        let rest = lower.get(start..)?;
        let len = key.len()
            + rest
                .get(key.len()..)?
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
        rest.get(..len).map(str::to_string)
    })
}

/// One image of the table while captions are gathered.
struct TableImage {
    file_name: String,
    index: usize,
    captions: Vec<String>,
}

/// Builds the dataset from an already parsed COCO file.
pub(crate) fn from_raw(path: &Path, raw: RawJson) -> Result<(Dataset, LoadReport)> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let json_name = file_name(path);
    let split = split_of(&json_name);
    let images_dir = find_images_dir(&dir, split_folder(&json_name).as_deref())
        .ok_or_else(|| {
            let folder = split_folder(&json_name).unwrap_or_else(|| "train2014".to_string());
            dataset_error(
                path,
                format!(
                    "no image folder: looked for {folder}/ beside it and beside its folder, and images/"
                ),
            )
        })?;
    let images_dir_name = format!("{}/", file_name(&images_dir));
    let mut report = LoadReport::default();

    let mut table: HashMap<String, TableImage> = HashMap::new();
    for (i, image) in raw.images.unwrap_or_default().into_iter().enumerate() {
        let at = format!("{json_name}: images[{i}]");
        let Some(key) = image.id.as_ref().and_then(id_key) else {
            report.bad(format!("{at}: no id"));
            continue;
        };
        let Some(file) = image.file_name.filter(|f| !f.trim().is_empty()) else {
            report.bad(format!("{at}: no file_name"));
            continue;
        };
        if table.contains_key(&key) {
            report.bad(format!("{at}: id {key} appears twice"));
            continue;
        }
        table.insert(
            key,
            TableImage {
                file_name: file,
                index: i,
                captions: Vec::new(),
            },
        );
    }

    for (i, annotation) in raw.annotations.unwrap_or_default().into_iter().enumerate() {
        let at = format!("{json_name}: annotations[{i}]");
        let Some(key) = annotation.image_id.as_ref().and_then(id_key) else {
            report.bad(format!("{at}: no image_id"));
            continue;
        };
        let caption = match annotation.caption {
            Some(c) if !c.trim().is_empty() => c.trim().to_string(),
            _ => {
                report.bad(format!("{at}: no caption"));
                continue;
            }
        };
        match table.get_mut(&key) {
            Some(image) => image.captions.push(caption),
            None => {
                report.captions_without_image += 1;
                report.missing(format!(
                    "{at}: caption for image id {key}, which is not in the images table"
                ));
            }
        }
    }

    let mut table: Vec<TableImage> = table.into_values().collect();
    table.sort_by_key(|image| image.index);
    let mut images = Vec::with_capacity(table.len());
    let mut seen_files: HashMap<String, usize> = HashMap::new();
    for image in table {
        let at = format!("{json_name}: images[{}]", image.index);
        if image.captions.is_empty() {
            report.left_out(split, format!("{at}: {} has no captions", image.file_name));
            continue;
        }
        if let Some(first) = seen_files.insert(image.file_name.clone(), image.index) {
            report.bad(format!(
                "{at}: {} is already images[{first}]",
                image.file_name
            ));
            continue;
        }
        let file = images_dir.join(&image.file_name);
        if !file.is_file() {
            report.captions_without_image += image.captions.len();
            report.left_out(
                split,
                format!(
                    "{at}: {} captions for {}, which has no file in {images_dir_name}",
                    image.captions.len(),
                    image.file_name
                ),
            );
            continue;
        }
        images.push(ImageEntry {
            id: image.file_name,
            path: file,
            split,
            captions: image.captions,
        });
    }
    if images.is_empty() {
        return Err(dataset_error(
            path,
            format!(
                "no image with captions has a file in {}",
                images_dir.display()
            ),
        ));
    }
    sort_images(&mut images);
    Ok((
        Dataset {
            name: "coco".to_string(),
            images,
        },
        report,
    ))
}

/// The first existing folder of: `<split><year>/` beside the JSON, beside its folder
/// (the usual `annotations/` layout) or inside `images/`, then `images/` itself.
fn find_images_dir(dir: &Path, folder: Option<&str>) -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(folder) = folder {
        candidates.push(dir.join(folder));
        if let Some(parent) = dir.parent() {
            candidates.push(parent.join(folder));
        }
        candidates.push(dir.join("images").join(folder));
    }
    candidates.push(dir.join("images"));
    candidates.into_iter().find(|c| c.is_dir())
}

#[cfg(test)]
mod tests {
    use super::{split_folder, split_of};
    use crate::data::Split;

    #[test]
    fn split_and_folder_from_name() {
        assert_eq!(split_of("captions_train2014.json"), Split::Train);
        assert_eq!(split_of("captions_val2017.json"), Split::Dev);
        assert_eq!(split_of("image_info_test2015.json"), Split::Test);
        assert_eq!(
            split_folder("captions_train2014.json").as_deref(),
            Some("train2014")
        );
        assert_eq!(
            split_folder("captions_val2017.json").as_deref(),
            Some("val2017")
        );
        assert_eq!(split_folder("captions.json"), None);
    }
}
