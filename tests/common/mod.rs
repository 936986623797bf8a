//! What the mutation tests share: reading their budget from the environment, and the byte
//! mutations themselves (a stable-Rust stand-in for cargo-fuzz, which needs nightly).

#![allow(dead_code)]

use rand::rngs::StdRng;
use rand::Rng;

/// An environment variable parsed as `T`, or `default` when unset or unreadable.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Whether an error message shows Rust debug output instead of words: `Some(..)`, an I/O
/// error's `Os { code: .. }`, or a struct such as `ChunkType { type: IHDR, .. }`. A quoted
/// file name or line may hold braces, so a brace alone is not enough.
pub fn debug_like(message: &str) -> bool {
    if ["Some(", "None)", "kind: "]
        .iter()
        .any(|p| message.contains(p))
    {
        return true;
    }
    message.match_indices(" { ").any(|(at, _)| {
        let before = message[..at].rsplit(' ').next().unwrap_or("");
        let after = message[at + 3..].split(' ').next().unwrap_or("");
        before.starts_with(|c: char| c.is_ascii_uppercase())
            && before.chars().all(|c| c.is_ascii_alphanumeric())
            && after.ends_with(':')
    })
}

/// One to four random edits, biased towards the first bytes, where the headers are.
pub fn mutate(rng: &mut StdRng, bytes: &mut Vec<u8>, other: &[u8]) {
    const EXTREMES: [u32; 8] = [0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0xFFFF_FFFF];
    for _ in 0..rng.random_range(1..=4) {
        if bytes.is_empty() {
            bytes.push(0);
        }
        let len = bytes.len();
        let at = if rng.random_bool(0.5) {
            rng.random_range(0..len.min(64))
        } else {
            rng.random_range(0..len)
        };
        match rng.random_range(0..8) {
            0 => bytes[at] ^= 1 << rng.random_range(0..8),
            1 => bytes[at] = rng.random(),
            2 => {
                let v = EXTREMES[rng.random_range(0..EXTREMES.len())];
                let wide = rng.random_bool(0.5);
                let field: Vec<u8> = match (wide, rng.random_bool(0.5)) {
                    (true, true) => v.to_be_bytes().to_vec(),
                    (true, false) => v.to_le_bytes().to_vec(),
                    (false, true) => (v as u16).to_be_bytes().to_vec(),
                    (false, false) => (v as u16).to_le_bytes().to_vec(),
                };
                for (i, b) in field.into_iter().enumerate() {
                    if let Some(slot) = bytes.get_mut(at + i) {
                        *slot = b;
                    }
                }
            }
            3 => bytes.truncate(rng.random_range(0..len)),
            4 => {
                let end = (at + rng.random_range(1..=256)).min(len);
                bytes.drain(at..end);
            }
            5 => {
                let end = (at + rng.random_range(1..=256)).min(len);
                let copy = bytes[at..end].to_vec();
                let to = rng.random_range(0..=bytes.len());
                bytes.splice(to..to, copy);
            }
            6 => {
                // Splice a run of another file in (its markers, chunks, tables).
                if !other.is_empty() {
                    let from = rng.random_range(0..other.len());
                    let end = (from + rng.random_range(1..=512)).min(other.len());
                    let to_end = (at + (end - from)).min(len);
                    bytes.splice(at..to_end, other[from..end].iter().copied());
                }
            }
            _ => {
                let n = rng.random_range(1..=16).min(len - at);
                for b in &mut bytes[at..at + n] {
                    *b = rng.random();
                }
            }
        }
    }
}
