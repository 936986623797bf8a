//! A pure-Rust stand-in for the Stanford PTBTokenizer pass that pycocoevalcap runs before scoring.
//!
//! pycocoevalcap pipes captions through `PTBTokenizer -preserveLines -lowerCase` (Java) and then
//! drops the tokens in its `PUNCTUATIONS` list. This module reproduces that for the text found in
//! captions: lower case; quotes, brackets, `; ! ? , :`, `--` and `...` split off and dropped;
//! trailing periods dropped; clitics split as PTB does (`dog's` → `dog 's`, `don't` → `do n't`,
//! `cannot` → `can not`). Simplifications, each rare in captions: a period is kept only in
//! letter-dot abbreviations such as `u.s.` (PTB also keeps e.g. `mr.`); `,` and `:` between two
//! digits stay inside the number; hyphenated words stay whole; `$`, `%`, `&`, `#` are not split off
//! a word; bracket words such as `-lsb-` are never produced.

/// Tokens that pycocoevalcap removes after PTB tokenisation (lower-cased, as `-lowerCase` emits).
const PUNCTUATIONS: [&str; 17] = [
    "''", "'", "``", "`", "-lrb-", "-rrb-", "-lcb-", "-rcb-", ".", "?", "!", ",", ":", "-", "--",
    "...", ";",
];

/// Characters that PTB always splits off as their own (dropped) token.
const SEPARATORS: [char; 13] = [
    '"', '(', ')', '[', ']', '{', '}', ';', '!', '?', '\u{2026}', '\u{201c}', '\u{201d}',
];

/// Clitics that PTB splits off the end of a word, apostrophe included.
const CLITICS: [&str; 6] = ["'s", "'re", "'ve", "'ll", "'d", "'m"];

/// Tokenises like pycocoevalcap's PTBTokenizer: lower case, punctuation dropped.
pub fn tokenize(s: &str) -> Vec<String> {
    let text = s
        .to_lowercase()
        .replace(['\u{2018}', '\u{2019}'], "'")
        .replace("...", " ")
        .replace("--", " ");
    let mut out = Vec::new();
    for chunk in text.split_whitespace() {
        for piece in split_separators(chunk) {
            push_word(piece, &mut out);
        }
    }
    out
}

/// Splits a whitespace-free chunk at separator characters, and at `,`/`:` not between two digits.
fn split_separators(chunk: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = chunk.char_indices().collect();
    let mut pieces = Vec::new();
    let mut start = 0;
    for (i, &(at, c)) in chars.iter().enumerate() {
        let split = if SEPARATORS.contains(&c) {
            true
        } else if c == ',' || c == ':' {
            let before = i
                .checked_sub(1)
                .and_then(|j| chars.get(j))
                .is_some_and(|&(_, b)| b.is_ascii_digit());
            let after = chars.get(i + 1).is_some_and(|&(_, a)| a.is_ascii_digit());
            !(before && after)
        } else {
            false
        };
        if split {
            if let Some(piece) = chunk.get(start..at) {
                pieces.push(piece);
            }
            start = at + c.len_utf8();
        }
    }
    if let Some(piece) = chunk.get(start..) {
        pieces.push(piece);
    }
    pieces
}

/// True for letter-dot abbreviations such as `u.s.` or `a.m.`, whose final period PTB keeps.
fn is_abbreviation(w: &str) -> bool {
    w.ends_with('.')
        && w.trim_end_matches('.').contains('.')
        && w.chars().all(|c| c == '.' || c.is_alphabetic())
}

/// True when a token is made only of punctuation that PTB would split off and pycocoevalcap drop.
fn is_punctuation(w: &str) -> bool {
    PUNCTUATIONS.contains(&w) || w.chars().all(|c| ".,:;!?-'`\"".contains(c))
}

/// Strips quotes and periods off one piece, splits clitics and appends the surviving tokens.
fn push_word(piece: &str, out: &mut Vec<String>) {
    let mut w = piece;
    loop {
        if let Some(rest) = w.strip_suffix(['\'', '`']) {
            w = rest;
        } else if w.ends_with('.') && !is_abbreviation(w) {
            w = w.trim_end_matches('.');
        } else {
            break;
        }
    }
    if CLITICS.contains(&w) || w == "n't" {
        out.push(w.to_string());
        return;
    }
    w = w.trim_start_matches(['\'', '`']);
    if w.is_empty() || is_punctuation(w) {
        return;
    }
    if w == "cannot" {
        out.push("can".to_string());
        out.push("not".to_string());
        return;
    }
    let clitic = std::iter::once("n't")
        .chain(CLITICS)
        .find(|c| w.len() > c.len() && w.ends_with(c));
    match clitic.and_then(|c| w.strip_suffix(c).map(|stem| (stem, c))) {
        Some((stem, c)) => {
            out.push(stem.to_string());
            out.push(c.to_string());
        }
        None => out.push(w.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::tokenize;

    #[test]
    fn ptb_like() {
        assert_eq!(tokenize("A dog ."), ["a", "dog"]);
        assert_eq!(
            tokenize("A Dog's ball, (red)!"),
            ["a", "dog", "'s", "ball", "red"]
        );
        assert_eq!(
            tokenize("They don't -- \"really\"..."),
            ["they", "do", "n't", "really"]
        );
        assert_eq!(
            tokenize("In the U.S. at 10:30, 1,000 dogs."),
            ["in", "the", "u.s.", "at", "10:30", "1,000", "dogs"]
        );
        assert_eq!(tokenize("the dogs' bowl"), ["the", "dogs", "bowl"]);
        assert_eq!(
            tokenize("a black-and-white cat"),
            ["a", "black-and-white", "cat"]
        );
        assert!(tokenize(" . , ; - ").is_empty());
        assert!(tokenize("").is_empty());
    }
}
