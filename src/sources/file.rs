//! Image files and folders: which files are images, a folder's images in order, and what a
//! path given by the user (command line, drop, paste, dialog) opens.

use std::path::{Path, PathBuf};

/// File extensions seesay opens (lower case).
pub const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "gif", "bmp", "webp", "tif", "tiff"];

/// True when the path's extension is one of [`IMAGE_EXTENSIONS`].
pub fn is_image_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Whether a file's first bytes are those of a picture format seesay reads, whatever its name
/// says (a JPEG saved as .heic, a PNG without an extension). `None` when it cannot be read.
pub fn sniffs_as_image(path: &Path) -> Option<bool> {
    let (mut file, _) = crate::open::open_regular(path).ok()?;
    let mut head = [0u8; 64];
    let n = crate::open::read_head(&mut file, &mut head).ok()?;
    Some(image::guess_format(&head[..n]).is_ok())
}

/// The image files directly inside `dir`, sorted by name (case-insensitive, numbers in order).
pub fn list_images(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("Cannot open the folder {}: {e}", dir.display()))?;
    let mut images: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && is_image_path(p))
        .collect();
    images.sort_by_key(|p| natural_key(p));
    Ok(images)
}

/// What opening a path means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    /// A single image, browsed together with the other images of its folder.
    Image {
        /// The image to show.
        path: PathBuf,
        /// The images of its folder, in order (contains `path`); empty when unreadable.
        siblings: Vec<PathBuf>,
    },
    /// A folder: browse its images from the first.
    Folder {
        /// The folder.
        dir: PathBuf,
        /// Its images, in order (never empty).
        images: Vec<PathBuf>,
    },
}

/// Decides what a path opens, with a message the user can read when it opens nothing.
pub fn resolve(path: &Path) -> Result<Opened, String> {
    if path.is_dir() {
        let images = list_images(path)?;
        if images.is_empty() {
            return Err(format!("The folder {} holds no images.", path.display()));
        }
        return Ok(Opened::Folder {
            dir: path.to_path_buf(),
            images,
        });
    }
    if !path.exists() {
        return Err(format!("{} does not exist.", path.display()));
    }
    if let Ok(meta) = std::fs::metadata(path) {
        if !meta.is_file() {
            return Err(format!(
                "{} is {}, not a picture file.",
                path.display(),
                crate::open::kind_of(&meta)
            ));
        }
    }
    let siblings = path
        .parent()
        .filter(|_| is_image_path(path))
        .map(|dir| {
            if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            }
        })
        .and_then(|dir| list_images(dir).ok())
        .map(|list| {
            let abs = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
            let me = abs(path);
            if list.iter().any(|p| abs(p) == me) {
                list
            } else {
                Vec::new()
            }
        })
        .unwrap_or_default();
    Ok(Opened::Image {
        path: path.to_path_buf(),
        siblings,
    })
}

/// Splits a file name into text and number runs so "img2" sorts before "img10".
fn natural_key(path: &Path) -> Vec<(String, u64)> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let mut key = Vec::new();
    let mut text = String::new();
    let mut digits = String::new();
    for c in name.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            if !digits.is_empty() {
                key.push((
                    std::mem::take(&mut text),
                    digits.parse().unwrap_or(u64::MAX),
                ));
                digits.clear();
            }
            text.push(c);
        }
    }
    key.push((text, digits.parse().unwrap_or(0)));
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_puts_2_before_10() {
        let mut v = [PathBuf::from("img10.jpg"), PathBuf::from("img2.jpg")];
        v.sort_by_key(|p| natural_key(p));
        assert_eq!(v[0], PathBuf::from("img2.jpg"));
    }

    #[test]
    fn recognises_image_extensions() {
        assert!(is_image_path(Path::new("a/B.JPG")));
        assert!(!is_image_path(Path::new("notes.txt")));
    }

    #[test]
    fn content_not_the_name_tells_a_picture() {
        let dir = tempfile::tempdir().unwrap();
        let jpeg = dir.path().join("holiday.heic");
        std::fs::copy(
            concat!(env!("CARGO_MANIFEST_DIR"), "/assets/examples/chelsea.jpg"),
            &jpeg,
        )
        .unwrap();
        assert_eq!(sniffs_as_image(&jpeg), Some(true));
        let text = dir.path().join("notes.png");
        std::fs::write(&text, b"just some words").unwrap();
        assert_eq!(sniffs_as_image(&text), Some(false));
        assert_eq!(sniffs_as_image(&dir.path().join("missing")), None);
    }
}
