//! From Tesseract's lines and words to a [`Reading`]: junk dropped, lines split and put in
//! reading order, boxes brought back to the original picture's pixels.

use super::junk;
use super::layout::{self, Rect, Segment};
use super::reading::{mean_confidence, Line, Reading, Word};

/// A word as Tesseract gave it, in the enlarged picture's pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct RawWord {
    /// The recognised text.
    pub text: String,
    /// Confidence from 0 to 1.
    pub confidence: f32,
    /// Box in the enlarged picture.
    pub rect: Rect,
}

/// A line as Tesseract gave it: its box and its words in reading order.
#[derive(Debug, Clone, PartialEq)]
pub struct RawLine {
    /// Box in the enlarged picture.
    pub rect: Rect,
    /// Words in Tesseract's order (right to left for right-to-left scripts).
    pub words: Vec<RawWord>,
}

/// Builds the reading of a `width` x `height` picture that was read `scale` times enlarged.
pub fn assemble(lines: &[RawLine], scale: u32, width: u32, height: u32) -> Reading {
    let scale = scale.max(1);
    let to_original = |r: &Rect| -> [u32; 4] {
        let s = scale as i32;
        let clamp = |v: i32, max: u32| v.clamp(0, max as i32) as u32;
        [
            clamp(r[0] / s, width),
            clamp(r[1] / s, height),
            clamp((r[2] + s - 1) / s, width),
            clamp((r[3] + s - 1) / s, height),
        ]
    };
    let mut pieces: Vec<Vec<Word>> = Vec::new();
    let mut segments: Vec<Segment> = Vec::new();
    for line in lines {
        let words: Vec<&RawWord> = line
            .words
            .iter()
            .filter(|w| {
                let t = w.text.trim();
                !t.is_empty() && !junk::is_rule(t) && !junk::is_stray(t, w.confidence)
            })
            .collect();
        let rects: Vec<Rect> = words.iter().map(|w| w.rect).collect();
        // Word heights, not the line's box, which can take in a button's outline.
        let height = layout::median_height(&rects);
        for range in layout::split_line(&rects, height) {
            let piece: Vec<Word> = words[range.clone()]
                .iter()
                .map(|w| Word {
                    text: w.text.trim().to_owned(),
                    confidence: w.confidence.clamp(0.0, 1.0),
                    bbox: to_original(&w.rect),
                })
                .collect();
            let confidence = mean_confidence(&piece);
            let texts: Vec<(&str, f32)> = piece
                .iter()
                .map(|w| (w.text.as_str(), w.confidence))
                .collect();
            if junk::is_noise(&texts, confidence) {
                continue;
            }
            let rect = rects[range.clone()]
                .iter()
                .copied()
                .reduce(|a, b| {
                    [
                        a[0].min(b[0]),
                        a[1].min(b[1]),
                        a[2].max(b[2]),
                        a[3].max(b[3]),
                    ]
                })
                .unwrap_or(line.rect);
            let rtl = piece.len() > 1 && rects[range.start][0] > rects[range.end - 1][0];
            segments.push(Segment { rect, rtl });
            pieces.push(piece);
        }
    }
    let lines = layout::reading_order(&segments)
        .into_iter()
        .map(|row| {
            let cells: Vec<&Vec<Word>> = row.segments.iter().map(|&s| &pieces[s]).collect();
            let text = cells
                .iter()
                .map(|ws| {
                    let texts: Vec<&str> = ws.iter().map(|w| w.text.as_str()).collect();
                    texts.join(" ")
                })
                .collect::<Vec<_>>()
                .join(" ; ");
            let words: Vec<Word> = cells.into_iter().flatten().cloned().collect();
            let bbox = words
                .iter()
                .map(|w| w.bbox)
                .reduce(|a, b| {
                    [
                        a[0].min(b[0]),
                        a[1].min(b[1]),
                        a[2].max(b[2]),
                        a[3].max(b[3]),
                    ]
                })
                .unwrap_or_default();
            Line {
                text,
                confidence: mean_confidence(&words),
                bbox,
                words,
                block: row.block,
            }
        })
        .collect();
    Reading {
        lines,
        width,
        height,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, confidence: f32, rect: Rect) -> RawWord {
        RawWord {
            text: text.into(),
            confidence,
            rect,
        }
    }

    #[test]
    fn boxes_return_to_original_pixels_and_junk_is_dropped() {
        // Read at x2: a dialog line, a border "|" inside it, and a noisy line.
        let lines = [
            RawLine {
                rect: [20, 20, 200, 52],
                words: vec![
                    word("Save", 0.95, [20, 20, 90, 52]),
                    word("|", 0.9, [95, 20, 99, 52]),
                    word("changes?", 0.9, [100, 20, 201, 52]),
                ],
            },
            RawLine {
                rect: [20, 100, 80, 130],
                words: vec![word("~:;", 0.3, [20, 100, 80, 130])],
            },
        ];
        let reading = assemble(&lines, 2, 100, 100);
        assert_eq!(reading.text(), "Save changes?");
        let line = &reading.lines[0];
        assert_eq!(line.words[0].bbox, [10, 10, 45, 26]);
        // Clamped to the picture.
        assert_eq!(line.bbox, [10, 10, 100, 26]);
    }

    #[test]
    fn a_line_across_two_cells_becomes_a_table_row() {
        let row = |y: i32, a: &str, b: &str| RawLine {
            rect: [0, y, 300, y + 16],
            words: vec![
                word(a, 0.9, [0, y, 60, y + 16]),
                word(b, 0.9, [200, y, 260, y + 16]),
            ],
        };
        let lines = [row(0, "Name", "City"), row(30, "Alice", "Paris")];
        let reading = assemble(&lines, 1, 400, 100);
        assert_eq!(reading.text(), "Name ; City\nAlice ; Paris");
        assert_eq!(reading.lines[1].words.len(), 2);
    }
}
