//! Opening files named by a user: only regular files (never a named pipe, a device or a
//! folder), without ever blocking, and never reading more than a stated size.
//!
//! Every file seesay reads on someone's say-so (pictures, model folders, datasets, caches)
//! goes through [`read_limited`], so a FIFO cannot hang a verb and `/dev/zero` cannot fill
//! memory. Errors are `std::io::Error`s whose text is plain words (no "os error N"), so each
//! caller can keep wrapping them with the path as it did before.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// The largest picture file seesay reads (a 64-megapixel PNG is well under this).
pub const PICTURE_LIMIT: u64 = 256 << 20;

/// The largest model file (safetensors) seesay reads.
pub const MODEL_LIMIT: u64 = 2 << 30;

/// The largest text or JSON file (config, vocabulary, captions, split lists, caches).
pub const TEXT_LIMIT: u64 = 1 << 30;

/// What a path is, in words, when it is not a regular file ("a folder", "a named pipe", ...).
pub fn kind_of(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a named pipe (FIFO)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_file() {
        "a file"
    } else {
        "not a regular file"
    }
}

/// Opens `path` for reading only if it is a regular file (after following symlinks).
///
/// The type is checked before opening (opening a device can have effects of its own), the file
/// is opened with `O_NONBLOCK` so that a path swapped for a FIFO in between cannot block, and
/// the opened descriptor is checked again. Returns the file and its size in bytes.
pub fn open_regular(path: &Path) -> io::Result<(File, u64)> {
    let meta = std::fs::metadata(path).map_err(plain)?;
    refuse_irregular(&meta)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(plain)?;
    let meta = file.metadata().map_err(plain)?;
    refuse_irregular(&meta)?;
    Ok((file, meta.len()))
}

fn refuse_irregular(meta: &Metadata) -> io::Result<()> {
    if meta.is_file() {
        return Ok(());
    }
    let kind = io::ErrorKind::InvalidInput;
    Err(io::Error::new(
        kind,
        format!("this is {}, not a file", kind_of(meta)),
    ))
}

/// Reads a whole regular file of at most `limit` bytes; `what` names the kind of file in the
/// message when it is larger ("pictures", "model files").
pub fn read_limited(path: &Path, limit: u64, what: &str) -> io::Result<Vec<u8>> {
    let (file, len) = open_regular(path)?;
    read_rest(file, len, Vec::new(), limit, what)
}

/// Reads what is left of `file` after `head` (already read from it), up to `limit` bytes in all.
///
/// `len` is the size the file reported when opened; a file that grows while it is read (or
/// reports a wrong size, as some /proc files do) is still cut at `limit`.
pub fn read_rest(
    file: File,
    len: u64,
    mut head: Vec<u8>,
    limit: u64,
    what: &str,
) -> io::Result<Vec<u8>> {
    if len > limit {
        return Err(too_large(len, limit, what));
    }
    let capacity = usize::try_from(len).unwrap_or(0);
    head.reserve_exact(capacity.saturating_sub(head.len()));
    let left = (limit + 1).saturating_sub(head.len() as u64);
    file.take(left).read_to_end(&mut head).map_err(plain)?;
    if head.len() as u64 > limit {
        return Err(too_large(head.len() as u64, limit, what));
    }
    Ok(head)
}

/// Fills `buf` from `file` as far as the file allows; returns how many bytes were read.
pub fn read_head(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(plain(e)),
        }
    }
    Ok(n)
}

fn too_large(len: u64, limit: u64, what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "the file is {}, larger than the {} seesay reads for {what}",
            size_in_words(len),
            size_in_words(limit)
        ),
    )
}

/// A byte count for people: "3.0 GiB", "256 MiB", "12 KiB", "35 bytes".
pub fn size_in_words(bytes: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, size) in UNITS {
        if bytes >= size {
            let v = bytes as f64 / size as f64;
            return if bytes.is_multiple_of(size) {
                format!("{} {unit}", bytes / size)
            } else {
                format!("{v:.1} {unit}")
            };
        }
    }
    format!("{bytes} bytes")
}

/// The same error with its text in plain words: "no such file", not "No such file or
/// directory (os error 2)".
pub fn plain(e: io::Error) -> io::Error {
    let Some(code) = e.raw_os_error() else {
        return e;
    };
    let words = match e.kind() {
        io::ErrorKind::NotFound => "no such file or folder".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied (this user may not read it)".into(),
        io::ErrorKind::IsADirectory => "this is a folder, not a file".into(),
        io::ErrorKind::NotADirectory => "a part of the path is not a folder".into(),
        _ => {
            let text = e.to_string();
            let suffix = format!(" (os error {code})");
            let text = text.strip_suffix(&suffix).unwrap_or(&text);
            let mut chars = text.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_lowercase().chain(chars).collect::<String>()
            })
        }
    };
    io::Error::new(e.kind(), words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_words() {
        assert_eq!(size_in_words(35), "35 bytes");
        assert_eq!(size_in_words(256 << 20), "256 MiB");
        assert_eq!(size_in_words(3 * (1 << 30) + (1 << 29)), "3.5 GiB");
    }

    #[test]
    fn os_errors_lose_their_number() {
        let e = plain(io::Error::from_raw_os_error(libc::ENOENT));
        assert_eq!(e.to_string(), "no such file or folder");
        let e = plain(io::Error::from_raw_os_error(libc::ENOSPC));
        assert_eq!(e.to_string(), "no space left on device");
    }

    #[test]
    fn a_file_over_the_limit_is_refused_with_its_size() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("big.bin");
        std::fs::write(&path, vec![0u8; 3000]).expect("write");
        let e = read_limited(&path, 2048, "tests").expect_err("too large");
        assert_eq!(
            e.to_string(),
            "the file is 2.9 KiB, larger than the 2 KiB seesay reads for tests"
        );
        assert_eq!(
            read_limited(&path, 3000, "tests").expect("fits").len(),
            3000
        );
    }

    #[test]
    fn devices_and_folders_are_named_not_read() {
        let e = read_limited(Path::new("/dev/zero"), 1 << 20, "tests").expect_err("device");
        assert_eq!(e.to_string(), "this is a character device, not a file");
        let dir = tempfile::tempdir().expect("dir");
        let e = read_limited(dir.path(), 1 << 20, "tests").expect_err("folder");
        assert_eq!(e.to_string(), "this is a folder, not a file");
    }

    #[test]
    fn a_named_pipe_is_refused_without_blocking() {
        let dir = tempfile::tempdir().expect("dir");
        let fifo = dir.path().join("pipe.jpg");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("run mkfifo");
        assert!(made.success());
        // No writer ever opens the pipe: a blocking open would hang this test.
        let e = read_limited(&fifo, 1 << 20, "tests").expect_err("fifo");
        assert_eq!(e.to_string(), "this is a named pipe (FIFO), not a file");
    }
}
