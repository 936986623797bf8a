//! Reading text from rendered screenshots (tests/fixtures/screens, rendered from HTML whose
//! text is in expected.json): the words are found, in reading order, with their boxes.
//!
//! Tesseract is a requirement of these tests (scripts/install-deps.sh installs it); where it
//! is missing they fail with the packages to install rather than pass silently.

use std::path::{Path, PathBuf};

use seesay::ocr::{Ocr, Reading};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/screens")
}

/// Starts Tesseract, or fails the test saying what to install.
fn ocr() -> Ocr {
    // One OpenMP thread, as seesay runs it; set once, before any test loads Tesseract (tests
    // only load it through here, so no thread reads the environment meanwhile).
    static ONE_THREAD: std::sync::Once = std::sync::Once::new();
    ONE_THREAD.call_once(seesay::ocr::use_one_thread);
    Ocr::new().unwrap_or_else(|e| {
        panic!("{e}\n(the text-reading tests need Tesseract: bash scripts/install-deps.sh)")
    })
}

/// The lines and their `[x, y, w, h]` boxes that a fixture was rendered with.
fn expected(name: &str) -> (Vec<String>, Vec<[u32; 4]>) {
    let json = std::fs::read_to_string(fixtures().join("expected.json")).expect("expected.json");
    let all: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    let entry = &all[name];
    let text = entry["text"]
        .as_array()
        .unwrap_or_else(|| panic!("{name} in expected.json"))
        .iter()
        .map(|l| l.as_str().expect("a line").to_owned())
        .collect();
    let boxes = serde_json::from_value(entry["boxes"].clone()).expect("boxes");
    (text, boxes)
}

fn read(name: &str) -> Reading {
    let image = image::open(fixtures().join(name))
        .expect("fixture decodes")
        .to_rgb8();
    ocr().read(&image).expect("reads")
}

/// Words lowercased, with surrounding punctuation and table separators removed.
fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// The fraction of expected words found in the reading, each found word used once.
fn recall(expected: &[String], read: &[String]) -> f64 {
    let mut pool = read.to_vec();
    let found = expected
        .iter()
        .filter(|w| match pool.iter().position(|r| r == *w) {
            Some(i) => {
                pool.swap_remove(i);
                true
            }
            None => false,
        })
        .count();
    found as f64 / expected.len().max(1) as f64
}

/// The fraction of expected words read in the expected order (longest common subsequence).
fn in_order(expected: &[String], read: &[String]) -> f64 {
    let mut prev = vec![0usize; read.len() + 1];
    for e in expected {
        let mut cur = vec![0usize; read.len() + 1];
        for (j, r) in read.iter().enumerate() {
            cur[j + 1] = if e == r {
                prev[j] + 1
            } else {
                cur[j].max(prev[j + 1])
            };
        }
        prev = cur;
    }
    prev[read.len()] as f64 / expected.len().max(1) as f64
}

/// Reads a fixture, checks recall and order against its expected text, returns the reading.
fn check(name: &str, min_recall: f64, min_order: f64) -> Reading {
    let reading = read(name);
    let (lines, _) = expected(name);
    let want = words(&lines.join("\n"));
    let got = words(&reading.text());
    let (r, o) = (recall(&want, &got), in_order(&want, &got));
    eprintln!(
        "{name}: recall {r:.3}, order {o:.3}, {} lines\n{}",
        reading.lines.len(),
        reading.text()
    );
    assert!(
        r >= min_recall,
        "{name}: word recall {r:.3}\n{}",
        reading.text()
    );
    assert!(
        o >= min_order,
        "{name}: words in order {o:.3}\n{}",
        reading.text()
    );
    reading
}

/// Index of the first read line containing `needle` (case-insensitive).
fn line_with(reading: &Reading, needle: &str) -> usize {
    let needle = needle.to_lowercase();
    reading
        .lines
        .iter()
        .position(|l| l.text.to_lowercase().contains(&needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in\n{}", reading.text()))
}

#[test]
fn a_dialog_is_read_title_message_buttons() {
    let reading = check("dialog.png", 0.9, 0.9);
    let title = line_with(&reading, "Save Document");
    let message = line_with(&reading, "before closing");
    let buttons = line_with(&reading, "Cancel");
    assert!(title < message && message < buttons, "{}", reading.text());
    assert!(line_with(&reading, "Don't Save") <= buttons);
}

#[test]
fn light_text_on_a_dark_terminal_is_read() {
    let reading = check("terminal.png", 0.9, 0.9);
    line_with(&reading, "nothing to commit, working tree clean");
    line_with(&reading, "cargo test --release");
    line_with(&reading, "42 passed");
}

#[test]
fn two_columns_are_read_one_after_the_other() {
    let reading = check("two_column.png", 0.9, 0.9);
    // The left column ends with "comment." before the right column's heading.
    let end_of_left = line_with(&reading, "comment");
    let right_heading = line_with(&reading, "Garden shares");
    assert!(end_of_left < right_heading, "{}", reading.text());
    assert!(line_with(&reading, "Council weighs") < end_of_left);
    assert!(right_heading < line_with(&reading, "gloves and tools"));
}

#[test]
fn a_table_is_read_row_by_row_with_its_header() {
    let reading = check("table.png", 0.9, 0.9);
    let header = line_with(&reading, "Region ;");
    let text = &reading.lines[header].text;
    assert!(
        words(text) == ["region", "orders", "revenue", "growth"],
        "{text}"
    );
    for (k, row) in ["North", "South", "East", "West"].into_iter().enumerate() {
        let at = line_with(&reading, row);
        assert_eq!(at, header + 1 + k, "{}", reading.text());
        assert_eq!(
            words(&reading.lines[at].text).len(),
            4,
            "{}",
            reading.lines[at].text
        );
    }
    line_with(&reading, "$48,300");
}

#[test]
fn a_chart_gives_its_title_and_labels() {
    let reading = check("chart.png", 0.8, 0.8);
    assert!(line_with(&reading, "Monthly rainfall") < line_with(&reading, "Jan"));
    line_with(&reading, "Month");
}

#[test]
fn a_sign_in_a_photo_is_read() {
    let reading = read("sign.png");
    eprintln!("sign.png:\n{}", reading.text());
    let confident: Vec<&str> = reading
        .confident_words()
        .iter()
        .map(|w| w.text.as_str())
        .collect();
    assert!(confident.contains(&"PARKING"), "{confident:?}");
}

#[test]
fn word_boxes_are_in_the_original_pictures_pixels() {
    let reading = read("dialog.png");
    let (lines, boxes) = expected("dialog.png");
    let read_words: Vec<_> = reading.lines.iter().flat_map(|l| &l.words).collect();
    for (line, [x, y, w, h]) in lines.iter().zip(boxes) {
        // The first word of each drawn line is read where it was drawn: its left edge within
        // a few pixels, its middle within half a line (a word on a coloured button gets the
        // button's height), its right edge inside the line.
        let first = words(line)[0].clone();
        let near = |b: &[u32; 4]| {
            let middle = (b[1] + b[3]).abs_diff(2 * y + h);
            b[0].abs_diff(x) <= 4 && middle <= h && b[2] <= x + w + 4
        };
        assert!(
            read_words
                .iter()
                .any(|rw| words(&rw.text).first() == Some(&first) && near(&rw.bbox)),
            "{first:?} not read at {x},{y},{w},{h}: {:?}",
            read_words
                .iter()
                .map(|rw| (&rw.text, rw.bbox))
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn photos_give_little_or_no_confident_text() {
    let mut ocr = ocr();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/examples");
    let mut photos: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("assets/examples")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    photos.sort();
    assert!(!photos.is_empty());
    for path in photos {
        let image = image::open(&path).expect("decodes").to_rgb8();
        let reading = ocr.read(&image).expect("reads");
        let confident = reading.confident_words().len();
        eprintln!(
            "{}: {confident} confident words, coverage {:.4}: {:?}",
            path.display(),
            reading.coverage(),
            reading.text()
        );
        assert!(confident <= 2, "{}: {}", path.display(), reading.text());
        assert!(reading.coverage() < 0.01, "{}", path.display());
    }
}

#[test]
fn screens_are_mostly_text_by_coverage() {
    for name in ["dialog.png", "terminal.png", "two_column.png", "table.png"] {
        let coverage = read(name).coverage();
        eprintln!("{name}: coverage {coverage:.3}");
        assert!(coverage > 0.02, "{name}: {coverage}");
    }
}

#[test]
fn the_same_picture_reads_the_same_every_time() {
    let image = image::open(fixtures().join("table.png"))
        .expect("decodes")
        .to_rgb8();
    let mut ocr = ocr();
    let first = ocr.read(&image).expect("reads");
    assert_eq!(ocr.read(&image).expect("reads"), first);
    assert_eq!(self::ocr().read(&image).expect("reads"), first);
}

#[test]
fn an_empty_picture_is_an_error_and_a_blank_one_has_no_text() {
    let mut ocr = ocr();
    assert!(ocr.read(&image::RgbImage::new(0, 0)).is_err());
    let blank = image::RgbImage::from_pixel(300, 200, image::Rgb([250, 250, 250]));
    let reading = ocr.read(&blank).expect("reads");
    assert!(reading.is_empty());
    assert_eq!((reading.width, reading.height), (300, 200));
}
