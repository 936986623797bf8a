//! Caption dataset readers (Flickr8k/Flickr30k token files, Karpathy split JSON, COCO caption JSON) behind one `open`.

pub mod coco;
pub mod flickr;
pub mod karpathy;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;

use crate::{Error, Result};

/// How many examples of each kind of problem a [`LoadReport`] keeps.
pub const MAX_EXAMPLES: usize = 5;

/// The formats `open` accepts, for error messages.
pub(crate) const ACCEPTED: &str =
    "accepted: a Flickr8k/Flickr30k folder (with Flickr8k.token.txt or \
     results_20130124.token and an images folder), a Karpathy split file (dataset_flickr8k.json, \
     dataset_flickr30k.json, dataset_coco.json) or a COCO caption file (captions_train2014.json, \
     captions_val2014.json)";

/// Which part of a dataset an image belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Images to train on (Karpathy's "restval" counts here too).
    Train,
    /// Images for validation while training ("dev" or "val").
    Dev,
    /// Held-out images for the final evaluation.
    Test,
    /// Images that no split list names.
    Unassigned,
}

impl Split {
    /// The four splits, in a fixed order.
    pub const ALL: [Split; 4] = [Split::Train, Split::Dev, Split::Test, Split::Unassigned];

    /// The split's lowercase name, as `Display` writes it and `FromStr` reads it.
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Dev => "dev",
            Split::Test => "test",
            Split::Unassigned => "unassigned",
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Split {
    type Err = Error;

    /// Reads "train" or "restval", "dev" or "val", "test", "unassigned" (any case).
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        let is = |name: &str| s.eq_ignore_ascii_case(name);
        if is("train") || is("restval") {
            Ok(Split::Train)
        } else if is("dev") || is("val") {
            Ok(Split::Dev)
        } else if is("test") {
            Ok(Split::Test)
        } else if is("unassigned") {
            Ok(Split::Unassigned)
        } else {
            Err(Error::Other(format!(
                "unknown split {s:?}: expected train (or restval), dev (or val), test or unassigned"
            )))
        }
    }
}

/// One image and its human captions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageEntry {
    /// The image's file name, e.g. "1000268201_693b08cb0e.jpg"; unique within a dataset.
    pub id: String,
    /// Where the image file is.
    pub path: PathBuf,
    /// Which split the image belongs to.
    pub split: Split,
    /// The captions, raw as in the file (not lowercased, punctuation kept), in file order.
    pub captions: Vec<String>,
}

/// A whole dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// A short name, e.g. "flickr8k", "flickr30k" or "coco".
    pub name: String,
    /// Every usable image, sorted by id.
    pub images: Vec<ImageEntry>,
}

impl Dataset {
    /// The images of one split, in id order.
    pub fn split(&self, s: Split) -> impl Iterator<Item = &ImageEntry> {
        self.images.iter().filter(move |image| image.split == s)
    }

    /// How many images belong to split `s`.
    pub fn count(&self, s: Split) -> usize {
        self.split(s).count()
    }

    /// The image with file name `id`, if the dataset has it.
    pub fn get(&self, id: &str) -> Option<&ImageEntry> {
        self.images
            .binary_search_by(|image| image.id.as_str().cmp(id))
            .ok()
            .and_then(|i| self.images.get(i))
    }

    /// How many captions the dataset holds in all.
    pub fn caption_count(&self) -> usize {
        self.images.iter().map(|image| image.captions.len()).sum()
    }
}

/// What was odd in the files: counts and the first few examples, so the user can be told.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LoadReport {
    /// Lines or entries that could not be read and were skipped.
    pub bad_lines: usize,
    /// The first few of them (at most [`MAX_EXAMPLES`]), as "file:line: reason".
    pub bad_examples: Vec<String>,
    /// Captions dropped because their image has no file (or, in COCO, no entry in the image table).
    pub captions_without_image: usize,
    /// Examples (at most [`MAX_EXAMPLES`]) of dropped captions and of missing images.
    pub missing_examples: Vec<String>,
    /// Lines read despite a quirk, e.g. a space instead of a tab.
    pub fixed_lines: usize,
    /// Images that a split list or image table names but that were left out,
    /// because they have no file or no captions.
    pub missing_images: usize,
    /// The same images by the split they were listed for (in [`Split::ALL`] order), so an
    /// empty split can say which of its images are missing.
    pub left_out: [LeftOut; 4],
}

/// Images listed for one split but left out: how many, and the first few.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LeftOut {
    /// How many.
    pub count: usize,
    /// The first few (at most [`MAX_EXAMPLES`]), as "file:line: reason".
    pub examples: Vec<String>,
}

impl LoadReport {
    /// True when nothing odd was found.
    pub fn is_clean(&self) -> bool {
        self.bad_lines == 0
            && self.captions_without_image == 0
            && self.fixed_lines == 0
            && self.missing_images == 0
    }

    /// Counts a skipped line and keeps it as an example while there is room.
    pub(crate) fn bad(&mut self, example: String) {
        self.bad_lines += 1;
        push_example(&mut self.bad_examples, example);
    }

    /// Keeps an example of a missing image or dropped captions while there is room.
    pub(crate) fn missing(&mut self, example: String) {
        push_example(&mut self.missing_examples, example);
    }

    /// Counts an image listed for `split` but left out, keeping `example` while there is room.
    pub(crate) fn left_out(&mut self, split: Split, example: String) {
        self.missing_images += 1;
        let slot = &mut self.left_out[split_index(split)];
        slot.count += 1;
        push_example(&mut slot.examples, example.clone());
        self.missing(example);
    }

    /// The message for a split with no usable image: which of the images listed for it are
    /// missing, when that is why.
    pub fn empty_split(&self, split: Split) -> String {
        let left = &self.left_out[split_index(split)];
        if left.count == 0 {
            return format!("the {split} split of the dataset is empty: no image is listed for it");
        }
        let mut message = format!(
            "the {split} split of the dataset is empty: every image listed for it ({}) lacks a \
             file or captions:",
            left.count
        );
        for example in &left.examples {
            message.push_str("\n  ");
            message.push_str(example);
        }
        if left.count > left.examples.len() {
            message.push_str(&format!(
                "\n  … and {} more",
                left.count - left.examples.len()
            ));
        }
        message
    }
}

fn split_index(split: Split) -> usize {
    Split::ALL.iter().position(|&s| s == split).unwrap_or(0)
}

fn push_example(examples: &mut Vec<String>, example: String) {
    if examples.len() < MAX_EXAMPLES {
        examples.push(example);
    }
}

impl fmt::Display for LoadReport {
    /// A few lines for the user; "no problems found" when clean.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_clean() {
            return f.write_str("no problems found");
        }
        let mut parts = Vec::new();
        if self.bad_lines > 0 {
            parts.push(format!("{} unreadable lines skipped", self.bad_lines));
        }
        if self.fixed_lines > 0 {
            parts.push(format!("{} lines read despite a quirk", self.fixed_lines));
        }
        if self.captions_without_image > 0 {
            parts.push(format!(
                "{} captions without an image skipped",
                self.captions_without_image
            ));
        }
        if self.missing_images > 0 {
            parts.push(format!(
                "{} listed images left out (no file or no captions)",
                self.missing_images
            ));
        }
        write!(f, "{}", parts.join("; "))?;
        for example in self.bad_examples.iter().chain(&self.missing_examples) {
            write!(f, "\n  {example}")?;
        }
        Ok(())
    }
}

/// Opens a dataset, detecting its format from what `path` is.
///
/// A folder is read as a Flickr8k/Flickr30k layout (as is a token file given directly);
/// a `.json` file is a Karpathy split file if its images have `sentences`, a COCO caption
/// file if it has `annotations`. Anything else is an [`Error::Dataset`] naming the accepted formats.
pub fn open(path: &Path) -> Result<(Dataset, LoadReport)> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(dataset_error(
                path,
                format!("no such file or folder; {ACCEPTED}"),
            ))
        }
        Err(e) => return Err(Error::io(path, e)),
    };
    if meta.is_dir() {
        return flickr::load(path);
    }
    if flickr::is_token_file(path) {
        return flickr::load_token_file(path);
    }
    let is_json = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
    if !is_json {
        return Err(dataset_error(
            path,
            format!("not a dataset this program can read; {ACCEPTED}"),
        ));
    }
    let raw = read_json(path)?;
    if raw
        .images
        .iter()
        .flatten()
        .any(|image| image.sentences.is_some())
    {
        karpathy::from_raw(path, raw)
    } else if raw.annotations.is_some() {
        coco::from_raw(path, raw)
    } else {
        Err(dataset_error(
            path,
            format!("JSON without images[].sentences (Karpathy) or annotations (COCO); {ACCEPTED}"),
        ))
    }
}

/// Builds an [`Error::Dataset`].
pub(crate) fn dataset_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Dataset {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// The name of `path`'s last component, for messages.
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Sorts images by id, the order `Dataset` promises.
pub(crate) fn sort_images(images: &mut [ImageEntry]) {
    images.sort_by(|a, b| a.id.cmp(&b.id));
}

/// Both JSON formats at once: every field optional, unknown fields ignored,
/// so one parse serves detection and reading.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawJson {
    /// Karpathy and COCO image tables.
    #[serde(default)]
    pub images: Option<Vec<RawImage>>,
    /// COCO captions.
    #[serde(default)]
    pub annotations: Option<Vec<RawAnnotation>>,
    /// Karpathy's dataset name.
    #[serde(default)]
    pub dataset: Option<String>,
}

/// One image of either JSON format.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawImage {
    /// Karpathy: the file name.
    #[serde(default)]
    pub filename: Option<String>,
    /// Karpathy (COCO only): the folder, e.g. "val2014".
    #[serde(default)]
    pub filepath: Option<String>,
    /// Karpathy: "train", "val", "test" or "restval".
    #[serde(default)]
    pub split: Option<String>,
    /// Karpathy: the captions.
    #[serde(default)]
    pub sentences: Option<Vec<RawSentence>>,
    /// COCO: the image id (a number).
    #[serde(default)]
    pub id: Option<serde_json::Value>,
    /// COCO: the file name.
    #[serde(default)]
    pub file_name: Option<String>,
}

/// One Karpathy caption (its `tokens` are not needed and not kept).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawSentence {
    /// The caption as written.
    #[serde(default)]
    pub raw: Option<String>,
}

/// One COCO caption.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawAnnotation {
    /// The id of the image it describes.
    #[serde(default)]
    pub image_id: Option<serde_json::Value>,
    /// The caption as written.
    #[serde(default)]
    pub caption: Option<String>,
}

/// Reads a JSON file as [`RawJson`]: bad syntax is an [`Error::Json`], a JSON of another
/// shape an [`Error::Dataset`] naming the accepted formats.
pub(crate) fn read_json(path: &Path) -> Result<RawJson> {
    let bytes = crate::open::read_limited(path, crate::open::TEXT_LIMIT, "caption files")
        .map_err(|e| Error::io(path, e))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(dataset_error(
            path,
            format!("the file is empty; {ACCEPTED}"),
        ));
    }
    serde_json::from_slice(&bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => dataset_error(
            path,
            format!("JSON of an unexpected shape ({e}); {ACCEPTED}"),
        ),
        _ => Error::Json {
            context: format!("reading {}", path.display()),
            source: e,
        },
    })
}

/// A JSON id (number or string) as a map key.
pub(crate) fn id_key(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::String(s) => Some(s.clone()),
        _ => None,
    }
}
