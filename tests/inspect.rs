//! `seesay inspect`: word neighbours from the bundled model's embedding.

use std::process::{Command, Output};

fn seesay(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seesay"))
        .args(args)
        .output()
        .expect("the seesay binary runs")
}

#[test]
fn neighbours_of_dog_are_listed_with_falling_cosine_scores_and_no_specials() {
    let out = seesay(&["inspect", "neighbours", "dog", "--count", "10"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<(String, f32)> = text
        .lines()
        .map(|l| {
            let mut parts = l.split_whitespace();
            let word = parts.next().expect("a word").to_owned();
            let score = parts.next().expect("a score").parse().expect("a number");
            (word, score)
        })
        .collect();
    assert_eq!(rows.len(), 10, "{text}");
    for (word, score) in &rows {
        assert!(!word.starts_with('<') && word != "dog", "{text}");
        assert!((-1.0..=1.0).contains(score), "{text}");
    }
    assert!(rows.windows(2).all(|w| w[0].1 >= w[1].1), "{text}");

    let json = seesay(&["inspect", "neighbours", "dog", "--count", "3", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(v["neighbours"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        v["neighbours"][0]["word"].as_str(),
        Some(rows[0].0.as_str())
    );
}

#[test]
fn neighbours_of_an_unknown_word_is_a_clear_error() {
    let out = seesay(&["inspect", "neighbours", "zzyzx"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a word of the model's vocabulary"),
        "{err}"
    );
}
