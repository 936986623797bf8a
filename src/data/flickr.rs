//! Reads the Flickr8k/Flickr30k layout: a token file of `IMAGE#N<TAB>caption` lines, an image folder and split lists.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::{
    dataset_error, file_name, sort_images, Dataset, ImageEntry, LoadReport, Split, ACCEPTED,
};
use crate::{Error, Result};

/// Token file names, Flickr8k's then Flickr30k's.
pub const TOKEN_FILES: [&str; 2] = ["Flickr8k.token.txt", "results_20130124.token"];

/// Sub-folders (besides the folder itself) where the token file and split lists may be.
const TEXT_DIRS: [&str; 2] = ["Flickr8k_text", "splits"];

/// Image folders, in the order they are looked for.
pub const IMAGE_DIRS: [&str; 7] = [
    "images",
    "Flicker8k_Dataset",
    "Flickr8k_Dataset",
    "Flickr8k_Dataset/Flicker8k_Dataset",
    "flickr30k-images",
    "flickr30k_images",
    "flickr30k_images/flickr30k_images",
];

/// How split list file names end, e.g. `Flickr_8k.trainImages.txt`.
const SPLIT_LISTS: [(&str, Split); 3] = [
    ("trainImages.txt", Split::Train),
    ("devImages.txt", Split::Dev),
    ("testImages.txt", Split::Test),
];

/// How much of a bad line an example quotes.
const QUOTE_CHARS: usize = 60;

/// True if `path`'s file name looks like a Flickr token file (`*.token.txt`, `*.token`).
pub fn is_token_file(path: &Path) -> bool {
    let name = file_name(path);
    TOKEN_FILES.contains(&name.as_str()) || name.ends_with(".token.txt") || name.ends_with(".token")
}

/// Reads a Flickr8k/Flickr30k folder: finds its token file (in the folder or `Flickr8k_text/`),
/// its image folder and its split lists (in the folder, `splits/` or beside the token file).
pub fn load(dir: &Path) -> Result<(Dataset, LoadReport)> {
    let token = std::iter::once(dir.to_path_buf())
        .chain(TEXT_DIRS.iter().map(|sub| dir.join(sub)))
        .flat_map(|base| TOKEN_FILES.iter().map(move |name| base.join(name)))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            dataset_error(
                dir,
                format!(
                    "a folder, but with no {} or {} in it (or in Flickr8k_text/); {ACCEPTED}",
                    TOKEN_FILES[0], TOKEN_FILES[1]
                ),
            )
        })?;
    load_with(dir, &token)
}

/// Reads a Flickr dataset given its token file; the image folder and split lists are looked
/// for beside it (or beside its `Flickr8k_text/` folder).
pub fn load_token_file(token: &Path) -> Result<(Dataset, LoadReport)> {
    let token_dir = match token.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let root = if file_name(&token_dir) == TEXT_DIRS[0] {
        token_dir
            .parent()
            .map_or(token_dir.clone(), Path::to_path_buf)
    } else {
        token_dir
    };
    load_with(&root, token)
}

/// One image's captions while the token file is read.
struct Pending {
    first_line: usize,
    captions: Vec<String>,
}

/// Where a split list names an image.
struct Listed {
    split: Split,
    list: String,
    line: usize,
}

fn load_with(root: &Path, token: &Path) -> Result<(Dataset, LoadReport)> {
    let mut bases = vec![root.to_path_buf()];
    if let Some(token_dir) = token.parent() {
        if !token_dir.as_os_str().is_empty() && token_dir != root {
            bases.push(token_dir.to_path_buf());
        }
    }
    let mut report = LoadReport::default();

    let (captions, token_name) = read_token_file(token, &mut report)?;
    let images_dir = find_images_dir(&bases)?;
    let files = list_files(&images_dir)?;
    let images_dir_name = format!("{}/", file_name(&images_dir));

    // Keep images that have a file; report captions whose image has none.
    let mut pending: Vec<(String, Pending)> = captions.into_iter().collect();
    pending.sort_by_key(|(_, p)| p.first_line);
    let mut kept: HashMap<String, Vec<String>> = HashMap::with_capacity(pending.len());
    let mut no_file: HashSet<String> = HashSet::new();
    for (id, p) in pending {
        if files.contains(&id) {
            kept.insert(id, p.captions);
        } else {
            report.captions_without_image += p.captions.len();
            report.missing(format!(
                "{token_name}:{}: {} captions for {id}, which has no file in {images_dir_name}",
                p.first_line,
                p.captions.len()
            ));
            no_file.insert(id);
        }
    }
    if kept.is_empty() {
        return Err(dataset_error(
            token,
            format!(
                "none of the {} images it names has a file in {}",
                no_file.len(),
                images_dir.display()
            ),
        ));
    }

    let listed = read_split_lists(&bases, &mut report)?;
    let mut listed_missing: Vec<(&String, &Listed)> = listed
        .iter()
        .filter(|(id, _)| !kept.contains_key(id.as_str()))
        .collect();
    listed_missing.sort_by(|a, b| (&a.1.list, a.1.line).cmp(&(&b.1.list, b.1.line)));
    for (id, at) in listed_missing {
        let why = if files.contains(id) {
            format!("no captions in {token_name}")
        } else if no_file.contains(id) {
            format!("no file in {images_dir_name}")
        } else {
            format!("no captions in {token_name} and no file in {images_dir_name}")
        };
        report.left_out(
            at.split,
            format!(
                "{}:{}: {id} is listed for {} but has {why}",
                at.list, at.line, at.split
            ),
        );
    }

    let mut images: Vec<ImageEntry> = kept
        .into_iter()
        .map(|(id, captions)| ImageEntry {
            path: images_dir.join(&id),
            split: listed.get(&id).map_or(Split::Unassigned, |at| at.split),
            id,
            captions,
        })
        .collect();
    sort_images(&mut images);
    let name = if token_name == TOKEN_FILES[1] {
        "flickr30k".to_string()
    } else {
        "flickr8k".to_string()
    };
    Ok((Dataset { name, images }, report))
}

/// Reads the token file into captions per image id, counting bad and fixed lines.
fn read_token_file(
    token: &Path,
    report: &mut LoadReport,
) -> Result<(HashMap<String, Pending>, String)> {
    let bytes = crate::open::read_limited(token, crate::open::TEXT_LIMIT, "caption files")
        .map_err(|e| Error::io(token, e))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(dataset_error(
            token,
            "the token file is empty: expected lines of IMAGE#N<TAB>caption",
        ));
    }
    let token_name = file_name(token);
    let mut captions: HashMap<String, Pending> = HashMap::new();
    for (i, line) in lines(&bytes) {
        let lineno = i + 1;
        let Ok(line) = std::str::from_utf8(line) else {
            report.bad(format!("{token_name}:{lineno}: not UTF-8 text"));
            continue;
        };
        if line.trim().is_empty() {
            continue;
        }
        match parse_token_line(line) {
            Ok((id, caption, fixed)) => {
                if fixed {
                    report.fixed_lines += 1;
                }
                captions
                    .entry(id.to_string())
                    .or_insert_with(|| Pending {
                        first_line: lineno,
                        captions: Vec::new(),
                    })
                    .captions
                    .push(caption.to_string());
            }
            Err(reason) => {
                let quote: String = line.chars().take(QUOTE_CHARS).collect();
                report.bad(format!("{token_name}:{lineno}: {reason}: {quote:?}"));
            }
        }
    }
    if captions.is_empty() {
        let first = report
            .bad_examples
            .first()
            .map_or(String::new(), |e| format!(", e.g. {e}"));
        return Err(dataset_error(
            token,
            format!(
                "no line could be read as IMAGE#N<TAB>caption ({} bad lines{first})",
                report.bad_lines
            ),
        ));
    }
    Ok((captions, token_name))
}

/// Splits a file into numbered lines (from 0), dropping `\r` line ends and a UTF-8 byte order mark.
fn lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .enumerate()
}

/// Parses `IMAGE#N<TAB>caption` into (image, caption, read-despite-a-quirk).
/// A space instead of the tab is accepted and flagged as a quirk.
fn parse_token_line(line: &str) -> std::result::Result<(&str, &str, bool), &'static str> {
    let (key, caption, fixed) = if let Some((key, caption)) = line.split_once('\t') {
        (key, caption, false)
    } else if let Some((key, caption)) = line.trim_start().split_once(' ') {
        (key, caption, true)
    } else {
        return Err("no tab between image and caption");
    };
    let key = key.trim();
    let Some((id, n)) = key.rsplit_once('#') else {
        return Err("no #N after the image name");
    };
    if id.is_empty() {
        return Err("no image name");
    }
    if id.chars().any(char::is_whitespace) {
        return Err("image name contains a space");
    }
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the caption number after # is not a number");
    }
    let caption = caption.trim();
    if caption.is_empty() {
        return Err("empty caption");
    }
    Ok((id, caption, fixed))
}

/// The first image folder found under any of `bases`.
fn find_images_dir(bases: &[PathBuf]) -> Result<PathBuf> {
    bases
        .iter()
        .flat_map(|base| IMAGE_DIRS.iter().map(move |sub| base.join(sub)))
        .find(|candidate| candidate.is_dir())
        .ok_or_else(|| {
            let root = bases.first().map_or(Path::new("."), PathBuf::as_path);
            dataset_error(
                root,
                format!(
                    "no image folder: looked for {}/ here",
                    IMAGE_DIRS.join("/, ")
                ),
            )
        })
}

/// The names of the files in `dir`.
fn list_files(dir: &Path) -> Result<HashSet<String>> {
    let mut names = HashSet::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let is_file = match entry.file_type() {
            Ok(t) if t.is_file() => true,
            Ok(t) if t.is_symlink() => path.is_file(),
            _ => false,
        };
        if is_file {
            if let Ok(name) = entry.file_name().into_string() {
                names.insert(name);
            }
        }
    }
    Ok(names)
}

/// Reads the split lists (`*trainImages.txt`, `*devImages.txt`, `*testImages.txt`) found in
/// `bases` or their `splits/` folders: image id → where it is listed.
fn read_split_lists(bases: &[PathBuf], report: &mut LoadReport) -> Result<HashMap<String, Listed>> {
    let dirs: Vec<PathBuf> = bases
        .iter()
        .flat_map(|base| [base.clone(), base.join("splits")])
        .filter(|dir| dir.is_dir())
        .collect();
    let mut listed: HashMap<String, Listed> = HashMap::new();
    for (suffix, split) in SPLIT_LISTS {
        let Some(list) = find_list(&dirs, suffix)? else {
            continue;
        };
        let list_name = file_name(&list);
        let bytes = crate::open::read_limited(&list, crate::open::TEXT_LIMIT, "split lists")
            .map_err(|e| Error::io(&list, e))?;
        for (i, line) in lines(&bytes) {
            let lineno = i + 1;
            let Ok(line) = std::str::from_utf8(line) else {
                report.bad(format!("{list_name}:{lineno}: not UTF-8 text"));
                continue;
            };
            let id = line.trim();
            if id.is_empty() {
                continue;
            }
            if let Some(before) = listed.get(id) {
                report.bad(format!(
                    "{list_name}:{lineno}: {id} is already listed in {}:{}",
                    before.list, before.line
                ));
                continue;
            }
            listed.insert(
                id.to_string(),
                Listed {
                    split,
                    list: list_name.clone(),
                    line: lineno,
                },
            );
        }
    }
    Ok(listed)
}

/// The first file (by name, folder by folder) whose name ends with `suffix`.
fn find_list(dirs: &[PathBuf], suffix: &str) -> Result<Option<PathBuf>> {
    for dir in dirs {
        let mut found: Vec<PathBuf> = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
            let entry = entry.map_err(|e| Error::io(dir, e))?;
            let path = entry.path();
            if file_name(&path).ends_with(suffix) && path.is_file() {
                found.push(path);
            }
        }
        found.sort();
        if let Some(first) = found.into_iter().next() {
            return Ok(Some(first));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::parse_token_line;

    #[test]
    fn parses_lines_and_quirks() {
        assert_eq!(
            parse_token_line("a.jpg#0\tA dog ."),
            Ok(("a.jpg", "A dog .", false))
        );
        assert_eq!(
            parse_token_line("a.jpg#1 A dog runs ."),
            Ok(("a.jpg", "A dog runs .", true))
        );
        assert_eq!(
            parse_token_line("a.jpg.1#4\tx"),
            Ok(("a.jpg.1", "x", false))
        );
        assert!(parse_token_line("garbage").is_err());
        assert!(parse_token_line("a.jpg\tno number").is_err());
        assert!(parse_token_line("a.jpg#x\tbad number").is_err());
        assert!(parse_token_line("a.jpg#2\t   ").is_err());
        assert!(parse_token_line("#2\tno name").is_err());
    }
}
