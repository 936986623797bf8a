//! What is not text: border strokes read as letters, and the noise Tesseract reads into photos.

use super::reading::CONFIDENT;

/// A line piece below this confidence is dropped.
pub const MIN_CONFIDENCE: f32 = 0.5;
/// Letters and digits of a word that vouches for an unsure piece when read confidently.
pub const SOLID_LETTERS: usize = 3;
/// A line piece with fewer letters and digits than this fraction of its characters is dropped.
pub const MIN_ALPHANUMERIC: f32 = 0.5;
/// A piece with only one letter or digit must be at least this sure ("A", "5" in a cell);
/// grid junctions behind a dialog read as "T" at 0.92.
pub const SINGLE_CHAR_CONFIDENCE: f32 = 0.95;
/// A short word below this confidence is dropped (a terminal's cursor block reads as "ff"
/// at 0.40; a long one is kept, as "user@laptop:~/projects$" is right at 0.35).
pub const MIN_SHORT_WORD_CONFIDENCE: f32 = 0.45;
/// Signs and separators that belong to a number ("+4.2%", "$48,300", "10:42").
const NUMERIC_MARKS: &[char] = &['+', '-', '−', '.', ',', '%', '$', '€', '£', '¥', ':', '/'];

/// A "word" that is only the strokes of a border, a rule or a box edge ("|", "__", "—").
pub fn is_rule(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| matches!(c, '|' | '¦' | '‖' | '│' | '┃' | '_' | '—' | '―' | '─'))
}

/// A word of one or two characters read with little confidence: a cursor, an icon, a bullet.
pub fn is_stray(text: &str, confidence: f32) -> bool {
    text.chars().count() <= 2 && confidence < MIN_SHORT_WORD_CONFIDENCE
}

/// Whether a piece of a line, given its words (text and confidence) and its mean
/// confidence, is noise rather than text.
///
/// Unsure pieces are dropped unless they hold a solid word: on 400 ImageNet photos the
/// noise Tesseract reads ("ae", "oO", "Haas") is all below 0.5 and has none, while a
/// terminal's prompt line is right but at 0.50 because its long first word is at 0.35.
pub fn is_noise(words: &[(&str, f32)], confidence: f32) -> bool {
    let (mut alnum, mut visible) = (0usize, 0usize);
    let mut solid = false;
    for &(w, c) in words {
        let numeric = w.chars().any(|c| c.is_ascii_digit());
        let mut letters = 0;
        for c in w.chars().filter(|c| !c.is_whitespace()) {
            visible += 1;
            letters += usize::from(c.is_alphanumeric());
            alnum += usize::from(c.is_alphanumeric() || (numeric && NUMERIC_MARKS.contains(&c)));
        }
        solid |= letters >= SOLID_LETTERS && c >= CONFIDENT;
    }
    visible == 0
        || (confidence < MIN_CONFIDENCE && !solid)
        || (alnum as f32) < MIN_ALPHANUMERIC * visible as f32
        || (alnum < 2 && confidence < SINGLE_CHAR_CONFIDENCE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_strokes_only() {
        assert!(is_rule("|"));
        assert!(is_rule("__"));
        assert!(!is_rule("|a"));
        assert!(!is_rule("="));
        assert!(!is_rule(""));
    }

    #[test]
    fn only_short_unsure_words_are_stray() {
        assert!(is_stray("ff", 0.4));
        assert!(!is_stray("ff", 0.9));
        assert!(!is_stray("user@laptop:~/projects$", 0.35));
    }

    #[test]
    fn noise_is_unsure_or_mostly_symbols() {
        let sure = |words: &[&'static str], c: f32| -> Vec<(&'static str, f32)> {
            words.iter().map(|w| (*w, c)).collect()
        };
        assert!(!is_noise(&sure(&["Save", "changes?"], 0.9), 0.9));
        assert!(is_noise(&sure(&["Save", "changes?"], 0.3), 0.3));
        assert!(is_noise(&sure(&["~=", "—", "a"], 0.9), 0.9));
        assert!(is_noise(&sure(&["e"], 0.6), 0.6));
        assert!(!is_noise(&sure(&["5"], 0.96), 0.96));
        assert!(is_noise(&sure(&["T"], 0.92), 0.92));
        assert!(!is_noise(&sure(&["+4.2%"], 0.8), 0.8));
        assert!(is_noise(&sure(&["+.%"], 0.8), 0.8));
        assert!(is_noise(&[], 1.0));
        // An unsure piece with one solid word stays.
        let prompt = [
            ("user@laptop:~/projects$", 0.35),
            ("cd", 0.93),
            ("seesay", 0.92),
        ];
        assert!(!is_noise(&prompt, 0.49));
    }
}
