//! Finds the folder holding Tesseract's English data, without ever downloading anything.

use std::path::{Path, PathBuf};

/// The language seesay reads.
pub const LANGUAGE: &str = "eng";

/// Where Debian's tesseract-ocr-eng (5.x, then 4.x) and other common installs put the data.
const KNOWN_DIRS: &[&str] = &[
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
    "/opt/homebrew/share/tessdata",
];

/// The folders to look in, in order: `TESSDATA_PREFIX` (the folder itself, or its
/// `tessdata/` as Tesseract 3 expected) when set, then the known install places.
pub fn candidates(prefix: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(p) = prefix {
        dirs.push(p.to_path_buf());
        dirs.push(p.join("tessdata"));
    }
    dirs.extend(KNOWN_DIRS.iter().map(PathBuf::from));
    dirs
}

/// The first candidate folder that holds `eng.traineddata`, or every folder searched.
pub fn find(prefix: Option<&Path>) -> Result<PathBuf, Vec<PathBuf>> {
    let dirs = candidates(prefix);
    let file = format!("{LANGUAGE}.traineddata");
    match dirs.iter().find(|d| d.join(&file).is_file()) {
        Some(d) => Ok(d.clone()),
        None => Err(dirs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_is_searched_first_and_may_hold_tessdata() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("tessdata");
        std::fs::create_dir(&nested).unwrap();
        std::fs::write(nested.join("eng.traineddata"), b"x").unwrap();
        assert_eq!(find(Some(dir.path())).unwrap(), nested);
        let c = candidates(Some(dir.path()));
        assert_eq!(c[0], dir.path());
        assert!(c.iter().any(|d| d.ends_with("tesseract-ocr/5/tessdata")));
    }

    #[test]
    fn a_folder_without_data_is_reported_as_searched() {
        let dir = tempfile::tempdir().unwrap();
        let searched = find(Some(dir.path()));
        // The known folders may hold data on this machine; the empty prefix never does.
        if let Err(dirs) = searched {
            assert_eq!(dirs[0], dir.path());
        }
    }
}
