//! One picture in, one honest description out: what kind of picture it is, its text in
//! reading order, and a photo caption only where there is a photo.
//!
//! The caption model always runs (its encoder feature also tells the picture's kind, and
//! the caption is ready at once for a photo); the text recogniser runs on everything that is
//! not forced to be a photo, so a screenshot is read, never captioned as "a man in a blue
//! shirt", and a photo of a sign keeps its caption and adds the sign's words.

use std::time::Instant;

use image::{DynamicImage, RgbImage};
use serde::Serialize;

use crate::captioner::{CaptionOptions, Captioned, Captioner};
use crate::kind::{KindModel, PictureKind};
use crate::ocr::{Ocr, OcrError, Reading, CONFIDENT};
use crate::saying::sentence_case;
use crate::{blank, preprocess, regions, Result};

/// How to read a picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Decide from the picture itself.
    #[default]
    Auto,
    /// It is a photo: caption it, read no text.
    Photo,
    /// It is text: read it, even if it looks like a photo.
    Text,
}

impl std::str::FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(Mode::Auto),
            "photo" => Ok(Mode::Photo),
            "text" => Ok(Mode::Text),
            other => Err(format!("unknown mode {other:?}: use auto, photo or text")),
        }
    }
}

/// A photo found inside a screen, with its own caption.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhotoRegion {
    /// Where it is, `[x0, y0, x1, y1]` in pixels.
    pub bbox: [u32; 4],
    /// Its caption, as said.
    pub caption: String,
}

/// Where the time went, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct DescribeTimings {
    /// Caption model (decode, encode, search) and the kind classifier.
    pub caption_ms: f64,
    /// Text recognition.
    pub ocr_ms: f64,
    /// Captions of photo regions inside a screen.
    pub regions_ms: f64,
}

/// Everything seesay says about one picture.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Description {
    /// What the picture is.
    pub kind: PictureKind,
    /// The kind classifier's probabilities (photo, screen, document, chart).
    pub kind_probs: [f32; 4],
    /// The full sentence seesay speaks.
    pub spoken: String,
    /// The photo caption model's result for the whole picture (also for screens, where it
    /// is not spoken).
    pub captioned: Captioned,
    /// The text read, in reading order (absent for a photo read in photo mode).
    pub reading: Option<Reading>,
    /// Photos inside a screen, each with its caption.
    pub regions: Vec<PhotoRegion>,
    /// Something the user should know, e.g. that text reading is not installed.
    pub note: Option<String>,
    /// Where the time went.
    pub timings: DescribeTimings,
}

/// The caption model and the text recogniser, used together.
pub struct Describer {
    captioner: Captioner,
    /// Created on first use; a failure is kept (as its message) and not retried.
    ocr: Option<std::result::Result<Ocr, String>>,
}

impl Describer {
    /// Wraps a loaded caption model; the text recogniser is loaded when first needed.
    pub fn new(captioner: Captioner) -> Self {
        Self {
            captioner,
            ocr: None,
        }
    }

    /// The caption model.
    pub fn captioner(&self) -> &Captioner {
        &self.captioner
    }

    /// Reads, decodes and describes an image file.
    pub fn describe_file(
        &mut self,
        path: &std::path::Path,
        opts: &CaptionOptions,
        mode: Mode,
    ) -> Result<Description> {
        let t0 = Instant::now();
        let decoded = preprocess::load(path)?;
        let decode_ms = t0.elapsed().as_secs_f64() * 1000.0;
        let mut d = self.describe(&decoded.image, opts, mode)?;
        d.captioned.timings.decode_ms += decode_ms;
        d.warn(&decoded.warnings);
        Ok(d)
    }

    /// Describes a decoded image.
    pub fn describe(
        &mut self,
        image: &DynamicImage,
        opts: &CaptionOptions,
        mode: Mode,
    ) -> Result<Description> {
        let t0 = Instant::now();
        let captioned = self.captioner.caption_image(image, opts)?;
        let guess = KindModel::bundled()
            .filter(|m| m.dim() == captioned.feature.len())
            .map(|m| m.classify(&captioned.feature));
        let kind_probs = guess.map_or([1.0, 0.0, 0.0, 0.0], |g| g.probs);
        let guessed = guess.map_or(PictureKind::Photo, |g| g.kind);
        let kind = match mode {
            Mode::Auto => guessed,
            Mode::Photo => PictureKind::Photo,
            Mode::Text if guessed == PictureKind::Photo => PictureKind::Document,
            Mode::Text => guessed,
        };
        let caption_ms = ms(t0);

        let t1 = Instant::now();
        let rgb = preprocess::to_rgb(image);
        let (reading, note) = if mode == Mode::Photo {
            (None, None)
        } else {
            match self.ocr() {
                Ok(ocr) => match ocr.read(&rgb) {
                    Ok(r) => (Some(r), None),
                    Err(e) => (None, Some(format!("Could not read the text: {e}"))),
                },
                Err(e) => (None, Some(e)),
            }
        };
        let ocr_ms = ms(t1);
        // A screen, page or chart is text; one with no confident word read is far more likely
        // a photo the kind classifier has not seen the like of (a cup on white, a tool), and
        // hiding a photo behind "I could not read any text" is the worse mistake.
        let kind = match &reading {
            Some(r) if mode == Mode::Auto && r.confident_words().is_empty() => PictureKind::Photo,
            _ => kind,
        };

        let t2 = Instant::now();
        let regions = if kind == PictureKind::Screen {
            self.photo_regions(&rgb, reading.as_ref(), opts)?
        } else {
            Vec::new()
        };
        let regions_ms = ms(t2);

        // A picture too small or of one colour: the plain statement, whatever its kind.
        let spoken = match blank::statement(image) {
            Some(statement) => statement,
            None => compose(
                kind,
                &captioned,
                reading.as_ref(),
                &regions,
                note.as_deref(),
            ),
        };
        Ok(Description {
            kind,
            kind_probs,
            spoken,
            captioned,
            reading,
            regions,
            note,
            timings: DescribeTimings {
                caption_ms,
                ocr_ms,
                regions_ms,
            },
        })
    }

    fn ocr(&mut self) -> std::result::Result<&mut Ocr, String> {
        let slot = self
            .ocr
            .get_or_insert_with(|| Ocr::new().map_err(|e: OcrError| e.to_string()));
        slot.as_mut().map_err(|e| e.clone())
    }

    /// Captions the large photo-like areas of a screen that the model also calls photos.
    fn photo_regions(
        &self,
        rgb: &RgbImage,
        reading: Option<&Reading>,
        opts: &CaptionOptions,
    ) -> Result<Vec<PhotoRegion>> {
        let text: Vec<[u32; 4]> = reading
            .map(|r| r.lines.iter().map(|l| l.bbox).collect())
            .unwrap_or_default();
        let mut out = Vec::new();
        for bbox in regions::photo_regions(rgb, &text) {
            let crop = image::imageops::crop_imm(
                rgb,
                bbox[0],
                bbox[1],
                bbox[2] - bbox[0],
                bbox[3] - bbox[1],
            )
            .to_image();
            let captioned = self
                .captioner
                .caption_image(&DynamicImage::ImageRgb8(crop), opts)?;
            let is_photo = KindModel::bundled()
                .filter(|m| m.dim() == captioned.feature.len())
                .is_none_or(|m| m.classify(&captioned.feature).kind == PictureKind::Photo);
            if is_photo {
                out.push(PhotoRegion {
                    bbox,
                    caption: captioned.spoken,
                });
            }
        }
        Ok(out)
    }
}

impl Description {
    /// Adds the warnings about the picture's file, each said before the description (see
    /// `Captioned::warn`).
    pub fn warn(&mut self, warnings: &[preprocess::Warning]) {
        let spoken: String = warnings.iter().map(|w| w.spoken()).collect();
        self.spoken.insert_str(0, &spoken);
        self.captioned.warn(warnings);
    }
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// Ends a piece of text with a stop, so the voice pauses after it.
fn with_stop(text: &str) -> String {
    let text = text.trim();
    if text.ends_with(['.', '!', '?', ':', ';']) {
        text.to_owned()
    } else {
        format!("{text}.")
    }
}

/// Whether a line is a row of cells (the reader joins a table row's cells with " ; ").
fn is_row(text: &str) -> bool {
    text.contains(" ; ")
}

/// A row of two to five short cells at the very end of a screen: a dialog's buttons.
fn buttons(text: &str) -> Option<Vec<&str>> {
    let cells: Vec<&str> = text.split(" ; ").map(str::trim).collect();
    let short = cells.iter().all(|c| {
        !c.is_empty()
            && c.split_whitespace().count() <= 3
            && c.len() <= 24
            && !c.chars().any(|ch| ch.is_ascii_digit())
    });
    ((2..=5).contains(&cells.len()) && short).then_some(cells)
}

/// The reading as spoken text: lines of one paragraph run on, paragraphs and table rows end
/// with a stop, table cells are separated by commas, and on a screen a last row of a few
/// short cells is said as "Buttons: …".
fn spoken_reading(reading: &Reading, kind: PictureKind) -> String {
    let lines: Vec<&crate::ocr::Line> = reading
        .lines
        .iter()
        .filter(|l| !l.text.trim().is_empty())
        .collect();
    let mut out: Vec<String> = Vec::new();
    let mut paragraph = String::new();
    for (i, line) in lines.iter().enumerate() {
        let text = line.text.trim();
        let last = i + 1 == lines.len();
        if is_row(text) {
            if !paragraph.is_empty() {
                out.push(with_stop(&std::mem::take(&mut paragraph)));
            }
            let after_row = i > 0 && is_row(&lines[i - 1].text);
            match buttons(text).filter(|_| last && !after_row && kind == PictureKind::Screen) {
                Some(cells) => out.push(format!("Buttons: {}.", cells.join(", "))),
                None => out.push(with_stop(&text.replace(" ; ", ", "))),
            }
            continue;
        }
        if paragraph.is_empty() {
            paragraph = text.to_owned();
        } else if let Some(stem) = paragraph.strip_suffix('-') {
            // A word broken at the end of a line.
            paragraph = format!("{stem}{text}");
        } else {
            paragraph = format!("{paragraph} {text}");
        }
        // A line runs on into the next only when it fills most of its block's width, as
        // wrapped paragraph text does; headings, terminal lines and list items stop.
        let widest = lines
            .iter()
            .filter(|l| l.block == line.block)
            .map(|l| l.bbox[2].saturating_sub(l.bbox[0]))
            .max()
            .unwrap_or(0);
        let wide = line.bbox[2].saturating_sub(line.bbox[0]) * 10 >= widest * 7;
        let runs_on = wide
            && lines
                .get(i + 1)
                .is_some_and(|n| n.block == line.block && !is_row(&n.text));
        if !runs_on {
            out.push(with_stop(&std::mem::take(&mut paragraph)));
        }
    }
    out.join(" ")
}

/// Confident text worth adding to a photo's caption ("Text in the picture: NO PARKING").
fn confident_text(reading: &Reading) -> Option<String> {
    let lines: Vec<&str> = reading
        .lines
        .iter()
        .filter(|l| {
            l.confidence >= CONFIDENT
                && l.words.iter().any(|w| {
                    w.confidence >= CONFIDENT
                        && w.text.chars().filter(|c| c.is_alphanumeric()).count() >= 2
                })
        })
        .map(|l| l.text.as_str())
        .collect();
    (!lines.is_empty()).then(|| lines.join(" "))
}

/// The sentence for a described picture.
pub fn compose(
    kind: PictureKind,
    captioned: &Captioned,
    reading: Option<&Reading>,
    regions: &[PhotoRegion],
    note: Option<&str>,
) -> String {
    let text = reading.map(|r| spoken_reading(r, kind));
    let text = text.filter(|t| !t.is_empty());
    let missing = || match note {
        Some(n) => n.to_owned(),
        None => "I could not read any text in it.".to_owned(),
    };
    match kind {
        PictureKind::Photo => {
            let mut said = captioned.spoken.clone();
            if let Some(t) = reading.and_then(confident_text) {
                said.push_str(&format!(" Text in the picture: {}", sentence_case(&t)));
            }
            said
        }
        PictureKind::Screen => {
            let mut said = String::from("Screenshot.");
            for r in regions {
                said.push_str(&format!(" Picture: {}", r.caption));
            }
            said.push(' ');
            said.push_str(&text.unwrap_or_else(missing));
            said
        }
        PictureKind::Document => match (reading, text) {
            (Some(r), Some(t)) => {
                let n = r.lines.len();
                let lines = if n == 1 { "line" } else { "lines" };
                format!("A document of {n} {lines}: {t}")
            }
            _ => format!("A document. {}", missing()),
        },
        PictureKind::Chart => match text {
            Some(t) => format!("A chart: {t}"),
            None => format!("A chart. {}", missing()),
        },
    }
}
