//! What a reading gives back: words and lines with their boxes and confidences, in order.

use serde::Serialize;

/// Confidence from which a word or line counts as read for sure.
pub const CONFIDENT: f32 = 0.7;

/// One recognised word.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Word {
    /// The word as read (UTF-8).
    pub text: String,
    /// How sure Tesseract is of it, from 0 to 1.
    pub confidence: f32,
    /// Where it is, `[x0, y0, x1, y1]` in the original picture's pixels (x1, y1 exclusive).
    pub bbox: [u32; 4],
}

/// One line of the reading: a line of text, or a table row whose cells are joined by " ; ".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    /// The words of the line, separated by spaces (cells of a table row by " ; ").
    pub text: String,
    /// The words' confidence, averaged with each word weighted by its length.
    pub confidence: f32,
    /// The box around all its words, in original pixels.
    pub bbox: [u32; 4],
    /// Its words, in reading order.
    pub words: Vec<Word>,
    /// Which block (paragraph, column, table, dialog part) it belongs to, counted in reading order.
    pub block: usize,
}

/// The text of a picture, in reading order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Reading {
    /// Lines in the order they should be read.
    pub lines: Vec<Line>,
    /// Width of the picture read, in pixels.
    pub width: u32,
    /// Height of the picture read, in pixels.
    pub height: u32,
}

impl Reading {
    /// All lines, joined by newlines.
    pub fn text(&self) -> String {
        let lines: Vec<&str> = self.lines.iter().map(|l| l.text.as_str()).collect();
        lines.join("\n")
    }

    /// Whether nothing was read.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The fraction of the picture covered by the boxes of confident lines (their areas
    /// summed, at most 1): a screen or a page is mostly text, a photo hardly any.
    pub fn coverage(&self) -> f32 {
        let area = f64::from(self.width) * f64::from(self.height);
        if area == 0.0 {
            return 0.0;
        }
        let covered: f64 = self
            .lines
            .iter()
            .filter(|l| l.confidence >= CONFIDENT)
            .map(|l| {
                let [x0, y0, x1, y1] = l.bbox.map(f64::from);
                (x1 - x0).max(0.0) * (y1 - y0).max(0.0)
            })
            // fold from +0: an empty f64 sum is -0, printed as "-0.000".
            .fold(0.0, |a, b| a + b);
        (covered / area).clamp(0.0, 1.0) as f32
    }

    /// The words read with confidence of at least [`CONFIDENT`], in reading order.
    pub fn confident_words(&self) -> Vec<&Word> {
        self.lines
            .iter()
            .flat_map(|l| &l.words)
            .filter(|w| w.confidence >= CONFIDENT)
            .collect()
    }
}

/// The length-weighted mean confidence of some words (0 for none).
pub fn mean_confidence<'a>(words: impl IntoIterator<Item = &'a Word>) -> f32 {
    let (mut sum, mut weight) = (0.0, 0.0);
    for w in words {
        let n = w.text.chars().count().max(1) as f32;
        sum += w.confidence * n;
        weight += n;
    }
    if weight > 0.0 {
        sum / weight
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, confidence: f32) -> Word {
        Word {
            text: text.into(),
            confidence,
            bbox: [0, 0, 10, 10],
        }
    }

    fn line(text: &str, confidence: f32, bbox: [u32; 4]) -> Line {
        Line {
            text: text.into(),
            confidence,
            bbox,
            words: vec![word(text, confidence)],
            block: 0,
        }
    }

    #[test]
    fn text_coverage_and_confident_words() {
        let reading = Reading {
            lines: vec![
                line("Save", 0.9, [0, 0, 50, 10]),
                line("xq", 0.2, [0, 20, 100, 40]),
            ],
            width: 100,
            height: 100,
        };
        assert_eq!(reading.text(), "Save\nxq");
        assert!((reading.coverage() - 0.05).abs() < 1e-6);
        let words: Vec<&str> = reading
            .confident_words()
            .iter()
            .map(|w| w.text.as_str())
            .collect();
        assert_eq!(words, ["Save"]);
        assert_eq!(Reading::default().coverage(), 0.0);
        let blank = Reading {
            width: 10,
            height: 10,
            ..Reading::default()
        };
        assert!(blank.coverage().is_sign_positive());
    }

    #[test]
    fn confidence_is_weighted_by_length() {
        let words = [word("abc", 1.0), word("d", 0.0)];
        assert!((mean_confidence(&words) - 0.75).abs() < 1e-6);
        assert_eq!(mean_confidence(&[]), 0.0);
    }
}
