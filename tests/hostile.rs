//! Hostile and broken input (issue 13): decompression bombs refused by their header, files
//! that are not files refused without blocking, cut pictures described with a warning, blank
//! pictures stated plainly, and a damaged model refused instead of speaking an empty caption.
//! Every input is made here.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use candle_core::{Device, Tensor};
use image::{DynamicImage, ImageFormat, RgbImage};
use seesay::captioner::{CaptionOptions, Captioner, ModelSource};
use seesay::model::files::{self, ModelFiles};
use seesay::preprocess::{self, Warning};

fn encode(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut out), format)
        .expect("encodes");
    out
}

/// A picture with something in it (a gradient and a square), so nothing is "one colour".
fn scene(w: u32, h: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
        let inside = (w / 4..w / 2).contains(&x) && (h / 4..h / 2).contains(&y);
        if inside {
            image::Rgb([200, 30, 30])
        } else {
            image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, 120])
        }
    }))
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A real 16×16 JPEG whose frame header is rewritten to claim `w`×`h`.
fn jpeg_claiming(w: u16, h: u16) -> Vec<u8> {
    let mut bytes = encode(scene(16, 16), ImageFormat::Jpeg);
    let sof = bytes
        .windows(2)
        .position(|m| m == [0xFF, 0xC0])
        .expect("a baseline frame header");
    bytes[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    bytes
}

/// A real 1×1 PNG of `image`'s colour type whose IHDR is rewritten to claim `w`×`h`.
fn png_claiming(image: DynamicImage, w: u32, h: u32) -> Vec<u8> {
    let mut bytes = encode(image, ImageFormat::Png);
    bytes[16..20].copy_from_slice(&w.to_be_bytes());
    bytes[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

/// A whole 1-bit grey PNG claiming `w`×`h` whose IDAT holds five zero bytes (image cannot
/// write 1-bit PNGs).
fn png_1bit_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |name: &[u8], data: &[u8]| {
        let mut body = name.to_vec();
        body.extend_from_slice(data);
        bytes.extend_from_slice(&(data.len() as u32).to_be_bytes());
        bytes.extend_from_slice(&body);
        bytes.extend_from_slice(&crc32(&body).to_be_bytes());
    };
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[1, 0, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    // zlib: one stored block of 5 zero bytes, then its Adler-32.
    chunk(
        b"IDAT",
        &[0x78, 1, 1, 5, 0, 0xFA, 0xFF, 0, 0, 0, 0, 0, 0, 5, 0, 1],
    );
    chunk(b"IEND", &[]);
    bytes
}

/// A GIF of 34 bytes like the issue's: a `side`×`side` canvas and a frame of that size whose LZW
/// data is only "clear, end".
fn gif_claiming(side: u16) -> Vec<u8> {
    let s = side.to_le_bytes();
    let mut b = b"GIF89a".to_vec();
    b.extend_from_slice(&[s[0], s[1], s[0], s[1], 0x80, 0, 0]);
    b.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
    b.extend_from_slice(&[0x2C, 0, 0, 0, 0, s[0], s[1], s[0], s[1], 0]);
    b.extend_from_slice(&[2, 1, 0x2C, 0, 0x3B]);
    b
}

fn refused(bytes: &[u8], size: &str) {
    let t0 = Instant::now();
    let err = preprocess::decode(bytes).expect_err("a bomb is refused");
    let took = t0.elapsed();
    let message = err.to_string();
    assert!(message.contains(size), "{message}");
    assert!(message.contains("too large"), "{message}");
    assert!(took < Duration::from_secs(2), "took {took:?}: {message}");
}

#[test]
fn pictures_whose_header_claims_a_huge_size_are_refused_quickly_naming_it() {
    refused(&jpeg_claiming(29_000, 29_000), "29000×29000");
    refused(&jpeg_claiming(16_000, 12_000), "16000×12000");
    let rgba16 = DynamicImage::ImageRgba16(image::ImageBuffer::new(1, 1));
    refused(&png_claiming(rgba16, 30_000, 30_000), "30000×30000");
    refused(&png_1bit_claiming(30_000, 30_000), "30000×30000");
    refused(&gif_claiming(16_000), "16000×16000");
    assert!(gif_claiming(16_000).len() < 40);
}

#[test]
fn a_jpeg_too_large_to_hold_is_decoded_at_a_reduced_size() {
    // 8200 × 8200 is just over 64 megapixels: decoded at half size, never at full size.
    let grey = image::GrayImage::from_fn(8200, 8200, |x, y| image::Luma([((x ^ y) & 255) as u8]));
    let bytes = encode(DynamicImage::ImageLuma8(grey), ImageFormat::Jpeg);
    let decoded = preprocess::decode(&bytes).expect("decodes reduced");
    assert_eq!(
        (decoded.image.width(), decoded.image.height()),
        (4100, 4100)
    );
    assert!(decoded.warnings.is_empty());
}

fn fifo(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let made = Command::new("mkfifo")
        .arg(&path)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    path
}

#[test]
fn paths_that_are_not_files_are_named_and_never_block() {
    let dir = tempfile::tempdir().expect("dir");
    let pipe = fifo(dir.path(), "pipe.jpg");
    for (path, what) in [
        (pipe.as_path(), "named pipe"),
        (Path::new("/dev/zero"), "character device"),
        (dir.path(), "folder"),
    ] {
        let err = preprocess::load(path).expect_err("refused");
        assert!(err.to_string().contains(what), "{err}");
        assert!(!err.to_string().contains(&*path.display().to_string()));
    }
    let err = preprocess::load(&dir.path().join("missing.jpg")).expect_err("missing");
    assert_eq!(err.to_string(), "no such file or folder");

    // A model folder whose config.json is a named pipe.
    let model = dir.path().join("model");
    seesay::model::write_untrained(&model, &["a", "dog"], 8, "test").expect("model");
    std::fs::remove_file(model.join(files::CONFIG_FILE)).expect("rm");
    fifo(&model, files::CONFIG_FILE);
    let err = ModelFiles::read_dir(&model).err().expect("refused");
    assert!(err.to_string().contains("named pipe"), "{err}");
}

#[test]
fn a_file_too_large_or_not_an_image_is_refused_before_it_is_read_whole() {
    let dir = tempfile::tempdir().expect("dir");
    // Sparse files: 3 GiB of nothing, and a PNG signature followed by 300 MiB.
    let text = dir.path().join("huge.jpg");
    std::fs::File::create(&text)
        .and_then(|f| f.set_len(3 << 30))
        .expect("sparse file");
    let t0 = Instant::now();
    let err = preprocess::load(&text).expect_err("not an image");
    assert!(err.to_string().contains("not an image"), "{err}");
    assert!(t0.elapsed() < Duration::from_secs(1));
    let big = dir.path().join("big.png");
    std::fs::write(&big, b"\x89PNG\r\n\x1a\n").expect("write");
    std::fs::OpenOptions::new()
        .append(true)
        .open(&big)
        .and_then(|f| f.set_len(300 << 20))
        .expect("sparse file");
    let err = preprocess::load(&big).expect_err("too large");
    assert_eq!(
        err.to_string(),
        "the file is 300 MiB, larger than the 256 MiB seesay reads for pictures"
    );
}

#[test]
fn cut_pictures_are_decoded_with_a_warning_and_others_say_they_end_early() {
    let jpeg = encode(scene(256, 192), ImageFormat::Jpeg);
    assert!(preprocess::decode(&jpeg)
        .expect("whole")
        .warnings
        .is_empty());
    let cut = preprocess::decode(&jpeg[..jpeg.len() / 2]).expect("half a jpeg decodes");
    assert_eq!(cut.warnings, vec![Warning::Incomplete]);
    assert_eq!((cut.image.width(), cut.image.height()), (256, 192));

    let png = encode(scene(256, 192), ImageFormat::Png);
    assert!(preprocess::decode(&png).expect("whole").warnings.is_empty());
    let cut = preprocess::decode(&png[..png.len() * 2 / 3]).expect("two thirds of a png");
    assert_eq!(cut.warnings, vec![Warning::Incomplete]);

    for format in [ImageFormat::Gif, ImageFormat::Bmp, ImageFormat::Tiff] {
        let whole = encode(scene(64, 64), format);
        let err = preprocess::decode(&whole[..whole.len() / 2]).expect_err("cut");
        let message = err.to_string();
        assert!(
            message.contains("incomplete") || message.contains("damaged"),
            "{format:?}: {message}"
        );
        assert!(
            !message.contains("fill whole buffer"),
            "{format:?}: {message}"
        );
    }
}

#[test]
fn decoder_messages_hold_no_rust_debug_output() {
    let mut png = encode(scene(32, 32), ImageFormat::Png);
    png[29] ^= 0xFF; // the IHDR checksum
    let message = preprocess::decode(&png).expect_err("bad crc").to_string();
    assert!(
        !message.contains('{') && !message.contains("Some("),
        "{message}"
    );
    assert!(message.contains("PNG"), "{message}");
}

fn small_model(dir: &Path) -> PathBuf {
    let model = dir.join("model");
    seesay::model::write_untrained(&model, &["a", "dog", "runs", "on", "grass"], 16, "test")
        .expect("writes a model");
    model
}

#[test]
fn blank_tiny_and_cut_pictures_are_said_plainly() {
    let dir = tempfile::tempdir().expect("dir");
    let model = small_model(dir.path());
    let captioner = Captioner::load(&ModelSource::Dir(model), &Device::Cpu).expect("loads");
    let opts = CaptionOptions::default();
    let red = |w, h| DynamicImage::ImageRgb8(RgbImage::from_pixel(w, h, image::Rgb([255, 0, 0])));
    let said = captioner.caption_image(&red(1, 1), &opts).expect("ok");
    assert_eq!(
        said.spoken,
        "The picture is too small to describe (1×1 pixels)."
    );
    let said = captioner.caption_image(&red(300, 200), &opts).expect("ok");
    assert_eq!(said.spoken, "The picture is a single colour: red.");
    let said = captioner
        .caption_image(&scene(300, 200), &opts)
        .expect("ok");
    assert!(
        !said.spoken.starts_with("The picture is"),
        "{}",
        said.spoken
    );

    let jpeg = encode(scene(256, 192), ImageFormat::Jpeg);
    let path = dir.path().join("half.jpg");
    std::fs::write(&path, &jpeg[..jpeg.len() / 2]).expect("write");
    let said = captioner.caption_file(&path, &opts).expect("captioned");
    assert!(
        said.spoken
            .starts_with("Warning: the picture file is incomplete. "),
        "{}",
        said.spoken
    );
    assert_eq!(
        said.warnings,
        vec![Warning::Incomplete.message().to_owned()]
    );
    let json = serde_json::to_value(&said).expect("json");
    assert_eq!(json["warnings"][0], Warning::Incomplete.message());
}

/// Rewrites one tensor of a safetensors file.
fn edit_tensor(file: &Path, name: &str, edit: impl Fn(Vec<f32>) -> Vec<f32>) {
    let bytes = std::fs::read(file).expect("read");
    let mut tensors: HashMap<String, Tensor> =
        candle_core::safetensors::load_buffer(&bytes, &Device::Cpu).expect("safetensors");
    let t = &tensors[name];
    let shape = t.dims().to_vec();
    let values = t
        .to_dtype(candle_core::DType::F32)
        .and_then(|t| t.flatten_all())
        .and_then(|t| t.to_vec1::<f32>())
        .expect("values");
    let edited = Tensor::from_vec(edit(values), shape, &Device::Cpu).expect("tensor");
    tensors.insert(name.to_owned(), edited);
    let out = seesay::model::weights::to_bytes(tensors).expect("serialise");
    std::fs::write(file, out).expect("write");
}

fn load_error(model: &Path) -> String {
    match Captioner::load(&ModelSource::Dir(model.to_path_buf()), &Device::Cpu) {
        Ok(_) => panic!("a broken model loaded"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_model_with_impossible_numbers_is_refused_at_load() {
    let dir = tempfile::tempdir().expect("dir");
    type Edit = fn(Vec<f32>) -> Vec<f32>;
    let cases: [(&str, &str, Edit, &str); 3] = [
        (
            files::DECODER_FILE,
            "out.bias",
            |mut v| {
                v[0] = f32::NAN;
                v
            },
            "`out.bias` holds 1 value that is not a number",
        ),
        (
            files::DECODER_FILE,
            "lstm.weight_hh_l0",
            |v| v.into_iter().map(|_| f32::INFINITY).collect(),
            "`lstm.weight_hh_l0` holds",
        ),
        (
            files::ENCODER_FILE,
            "_bn0.running_var",
            |mut v| {
                v[3] = -1.0;
                v
            },
            "negative variance",
        ),
    ];
    for (i, (file, tensor, edit, expect)) in cases.into_iter().enumerate() {
        let model = small_model(&dir.path().join(i.to_string()));
        edit_tensor(&model.join(file), tensor, edit);
        let message = load_error(&model);
        assert!(message.contains(expect), "{message}");
        assert!(message.contains(file), "{message}");
    }

    let model = small_model(&dir.path().join("std"));
    let config = model.join(files::CONFIG_FILE);
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&config).expect("read")).expect("json");
    json["encoder"]["normalization"]["std"][1] = serde_json::json!(0.0);
    std::fs::write(&config, json.to_string()).expect("write");
    let message = load_error(&model);
    assert!(
        message.contains("every std must be a positive number"),
        "{message}"
    );
}

#[test]
fn a_forward_pass_that_overflows_is_an_error_not_an_empty_caption() {
    let dir = tempfile::tempdir().expect("dir");
    let model = small_model(dir.path());
    // Finite weights (so the load accepts them) whose products overflow: the projected
    // image is infinite, and the LSTM's gates then add +inf to -inf.
    edit_tensor(&model.join(files::DECODER_FILE), "img_proj.weight", |v| {
        v.into_iter().map(|_| f32::MAX).collect()
    });
    let captioner = Captioner::load(&ModelSource::Dir(model), &Device::Cpu).expect("loads");
    let err = captioner
        .caption_image(&scene(64, 64), &CaptionOptions::default())
        .expect_err("refused");
    assert!(err.to_string().contains("NaN or infinity"), "{err}");
}

fn seesay() -> Command {
    Command::new(env!("CARGO_BIN_EXE_seesay"))
}

/// Runs seesay with `args`, capturing its output, for at most `limit`.
fn run_limited<S: AsRef<std::ffi::OsStr>>(args: &[S], limit: Duration) -> std::process::Output {
    let child = seesay()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    finish(child, limit)
}

/// Waits for a child at most `limit`, killing it (and failing) past that.
fn finish(mut child: std::process::Child, limit: Duration) -> std::process::Output {
    let t0 = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if t0.elapsed() > limit {
            let _ = child.kill();
            panic!("seesay still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

#[test]
fn caption_names_a_named_pipe_once_and_goes_on() {
    let dir = tempfile::tempdir().expect("dir");
    let model = small_model(dir.path());
    let pipe = fifo(dir.path(), "pipe.jpg");
    let good = dir.path().join("good.png");
    scene(64, 48).save(&good).expect("save");
    let child = seesay()
        .args(["caption", "--device", "cpu", "--model"])
        .args([&model, &pipe, &good])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let out = finish(child, Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.trim(),
        format!(
            "seesay: {}: this is a named pipe (FIFO), not a file",
            pipe.display()
        )
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

#[test]
fn a_mistyped_verb_is_an_error_not_a_window() {
    let out = run_limited(&["captoin", "x.jpg"], Duration::from_secs(20));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("seesay: unknown command or file: captoin"),
        "{stderr}"
    );
}

#[test]
fn a_reader_that_stops_early_is_no_error() {
    let dir = tempfile::tempdir().expect("dir");
    let model = small_model(dir.path());
    let good = dir.path().join("good.png");
    scene(64, 48).save(&good).expect("save");
    let mut child = seesay()
        .args(["caption", "--device", "cpu", "--model"])
        .arg(&model)
        .args(std::iter::repeat_n(&good, 40))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    // `| head -1`: read one line, then close the pipe.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 1];
    std::io::Read::read_exact(&mut stdout, &mut first).expect("some output");
    drop(stdout);
    let out = finish(child, Duration::from_secs(120));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        !stderr.contains("Broken pipe") && !stderr.contains("os error"),
        "{stderr}"
    );
}

fn describe(model: &Path, folder: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let child = seesay()
        .args(["describe", "--device", "cpu", "--model"])
        .args([model, folder])
        .arg("--out")
        .arg(out)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    finish(child, Duration::from_secs(120))
}

fn rows(out: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(out)
        .expect("output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON row"))
        .collect()
}

#[test]
fn describe_resumes_a_cut_last_row_and_refuses_another_format() {
    let dir = tempfile::tempdir().expect("dir");
    let model = small_model(dir.path());
    let folder = dir.path().join("pictures");
    std::fs::create_dir(&folder).expect("mkdir");
    for name in ["a.png", "b.png", "c.png"] {
        scene(40, 30).save(folder.join(name)).expect("save");
    }
    let jpeg = encode(scene(256, 192), ImageFormat::Jpeg);
    std::fs::write(folder.join("cut.jpg"), &jpeg[..jpeg.len() / 2]).expect("write");
    // Cut inside its tables: nothing to show, and said so.
    std::fs::write(folder.join("stub.jpg"), &jpeg[..200]).expect("write");
    let blank = RgbImage::from_pixel(40, 30, image::Rgb([0, 0, 255]));
    blank.save(folder.join("blank.png")).expect("save");
    let out = dir.path().join("captions.jsonl");
    let first = describe(&model, &folder, &out, &[]);
    assert_eq!(first.status.code(), Some(1), "one unreadable picture");
    let all = rows(&out);
    assert_eq!(all.len(), 6);
    let row = |name: &str| {
        all.iter()
            .find(|r| r["path"].as_str().is_some_and(|p| p.ends_with(name)))
            .cloned()
            .expect("a row")
    };
    assert_eq!(row("cut.jpg")["warnings"][0], Warning::Incomplete.message());
    assert_eq!(
        row("stub.jpg")["error"],
        "the picture is incomplete: the file ends early"
    );
    assert_eq!(
        row("blank.png")["caption"],
        "The picture is a single colour: blue."
    );
    assert!(row("a.png").get("warnings").is_none());

    // A crash in the middle of the last row, then a line that is not UTF-8 before it.
    let text = std::fs::read(&out).expect("read");
    let last_start = text[..text.len() - 1]
        .iter()
        .rposition(|&b| b == b'\n')
        .expect("rows")
        + 1;
    let mut damaged = text[..last_start].to_vec();
    damaged.extend_from_slice(b"\xff\xfe not text\n");
    damaged.extend_from_slice(&text[last_start..last_start + 20]);
    std::fs::write(&out, &damaged).expect("write");
    let again = describe(&model, &folder, &out, &[]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("described 1 images"), "{stderr}");
    assert!(stderr.contains("was cut short"), "{stderr}");
    assert!(stderr.contains(":6: not UTF-8 text"), "{stderr}");
    let text = std::fs::read(&out).expect("read");
    let good: Vec<&[u8]> = text
        .split(|&b| b == b'\n')
        .filter(|l| l.starts_with(b"{"))
        .collect();
    assert_eq!(good.len(), 6, "every picture once, none lost or doubled");
    for line in good {
        serde_json::from_slice::<serde_json::Value>(line).expect("whole rows only");
    }

    // Resuming JSON lines as CSV, and an output that is a folder.
    let csv = describe(&model, &folder, &out, &["--format", "csv"]);
    let stderr = String::from_utf8_lossy(&csv.stderr);
    assert_eq!(csv.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("holds jsonl rows, but --format csv"),
        "{stderr}"
    );
    let folder_out = describe(&model, &folder, dir.path(), &[]);
    let stderr = String::from_utf8_lossy(&folder_out.stderr);
    assert!(stderr.contains("this is a folder"), "{stderr}");
}

#[test]
fn describe_follows_a_symlink_loop_only_once() {
    let dir = tempfile::tempdir().expect("dir");
    let model = small_model(dir.path());
    let folder = dir.path().join("pictures");
    let inner = folder.join("inner");
    std::fs::create_dir_all(&inner).expect("mkdir");
    scene(40, 30).save(folder.join("a.png")).expect("save");
    scene(40, 30).save(inner.join("b.png")).expect("save");
    std::os::unix::fs::symlink(&folder, inner.join("loop")).expect("symlink");
    let out = dir.path().join("captions.jsonl");
    let run = describe(&model, &folder, &out, &["--recursive"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(rows(&out).len(), 2, "each picture once");
}

#[test]
fn speak_with_nothing_to_say_says_so() {
    let out = run_limited(&["speak", " "], Duration::from_secs(10));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("nothing to say"), "{stderr}");
}

#[test]
fn caption_json_carries_the_warning_and_the_plain_statement() {
    let dir = tempfile::tempdir().expect("dir");
    let model = small_model(dir.path());
    let jpeg = encode(scene(256, 192), ImageFormat::Jpeg);
    let half = dir.path().join("half.jpg");
    std::fs::write(&half, &jpeg[..jpeg.len() / 2]).expect("write");
    let red = dir.path().join("red.png");
    RgbImage::from_pixel(300, 200, image::Rgb([255, 0, 0]))
        .save(&red)
        .expect("save");
    let child = seesay()
        .args(["caption", "--json", "--device", "cpu", "--model"])
        .args([&model, &half, &red])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let out = finish(child, Duration::from_secs(60));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines[0]["warnings"][0], Warning::Incomplete.message());
    let caption = lines[0]["caption"].as_str().expect("caption");
    assert!(
        caption.starts_with("Warning: the picture file is incomplete. "),
        "{caption}"
    );
    assert_eq!(lines[1]["caption"], "The picture is a single colour: red.");
    assert_eq!(lines[1]["warnings"], serde_json::json!([]));
}

fn csv_rows(out: &Path) -> Vec<String> {
    std::fs::read_to_string(out)
        .expect("CSV output is UTF-8 text")
        .lines()
        .skip(1)
        .map(str::to_owned)
        .collect()
}

#[test]
fn describe_writes_odd_file_names_once_and_apart() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().expect("dir");
    let model = small_model(dir.path());
    let folder = dir.path().join("pictures");
    std::fs::create_dir(&folder).expect("mkdir");
    // Two names that are not UTF-8 and print the same ("odd\u{fffd}.png"), a name with a line
    // break, one with a backslash, and a plain one.
    let names: [&[u8]; 5] = [
        b"odd\xff.png",
        b"odd\xfe.png",
        b"new\nline.png",
        b"back\\slash.png",
        b"plain.png",
    ];
    for name in names {
        scene(40, 30)
            .save_with_format(folder.join(OsStr::from_bytes(name)), ImageFormat::Png)
            .expect("save");
    }
    for format in ["csv", "jsonl"] {
        let out = dir.path().join(format!("captions.{format}"));
        let first = describe(&model, &folder, &out, &["--format", format]);
        let stderr = String::from_utf8_lossy(&first.stderr);
        assert!(first.status.success(), "{format}: {stderr}");
        assert!(stderr.contains("described 5 images"), "{format}: {stderr}");
        let paths: Vec<String> = if format == "csv" {
            csv_rows(&out)
                .iter()
                .map(|row| row.split(',').next().expect("a field").to_owned())
                .collect()
        } else {
            rows(&out)
                .iter()
                .map(|row| row["path"].as_str().expect("a path").to_owned())
                .collect()
        };
        assert_eq!(paths.len(), 5, "{format}: one row each: {paths:?}");
        let names: std::collections::BTreeSet<String> = paths
            .iter()
            .map(|p| p.rsplit('/').next().expect("a name").to_owned())
            .collect();
        let expected = [
            "odd\\xff.png",
            "odd\\xfe.png",
            "new\\nline.png",
            "back\\\\slash.png",
            "plain.png",
        ];
        assert_eq!(
            names,
            expected.iter().map(|s| s.to_string()).collect(),
            "{format}"
        );
        // A second run finds every picture already described.
        let again = describe(&model, &folder, &out, &["--format", format]);
        let stderr = String::from_utf8_lossy(&again.stderr);
        assert!(again.status.success(), "{format}: {stderr}");
        assert!(stderr.contains("described 0 images"), "{format}: {stderr}");
    }
}

#[test]
fn describe_names_an_unreadable_sub_folder_and_goes_on() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().expect("dir");
    let model = small_model(dir.path());
    let folder = dir.path().join("pictures");
    let locked = folder.join("locked");
    let open = folder.join("open");
    for sub in [&locked, &open] {
        std::fs::create_dir_all(sub).expect("mkdir");
    }
    scene(40, 30).save(folder.join("a.png")).expect("save");
    scene(40, 30).save(locked.join("b.png")).expect("save");
    scene(40, 30).save(open.join("c.png")).expect("save");
    let mode = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod")
    };
    mode(&locked, 0o000);
    let mut command = seesay();
    // Root reads any folder; the run is made as a user that cannot (nobody), who must be
    // able to reach the rest.
    if std::fs::metadata(folder.join("a.png")).expect("meta").uid() == 0 {
        for path in [dir.path(), &folder, &open] {
            mode(path, 0o777);
        }
        command.uid(65534).gid(65534);
    }
    let out = dir.path().join("captions.jsonl");
    let child = command
        .args(["describe", "--recursive", "--device", "cpu", "--model"])
        .args([&model, &folder])
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let run = finish(child, Duration::from_secs(120));
    mode(&locked, 0o755);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("skipped {}: permission denied", locked.display())),
        "{stderr}"
    );
    let described: Vec<String> = rows(&out)
        .iter()
        .map(|r| r["path"].as_str().expect("a path").to_owned())
        .collect();
    assert_eq!(described.len(), 2, "{described:?}");
    assert!(
        described.iter().all(|p| !p.contains("locked")),
        "{described:?}"
    );
}

#[test]
fn eval_of_a_split_whose_images_are_missing_names_them() {
    let dir = tempfile::tempdir().expect("dir");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/datasets/flickr_small");
    let child = seesay()
        .args(["eval", "--device", "cpu", "--split", "test", "--data"])
        .arg(&data)
        .arg("--cache")
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let out = finish(child, Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the test split of the dataset is empty: every image listed for it (1)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Flickr_8k.testImages.txt:1: e.jpg is listed for test"),
        "{stderr}"
    );
}

#[test]
fn describe_names_the_output_when_it_cannot_be_written_and_resumes_after() {
    let dir = tempfile::tempdir().expect("dir");
    let model = small_model(dir.path());
    let folder = dir.path().join("pictures");
    std::fs::create_dir(&folder).expect("mkdir");
    for i in 0..12 {
        scene(40 + i, 30)
            .save(folder.join(format!("{i:02}.png")))
            .expect("save");
    }
    let out = dir.path().join("captions.jsonl");
    // A full disk, as a file size limit of 1 KiB: writes past it fail ("file too large")
    // instead of killing the process, since SIGXFSZ is ignored.
    let child = Command::new("bash")
        .arg("-c")
        .arg(r#"ulimit -f 1; trap "" XFSZ; exec "$@""#)
        .arg("bash")
        .arg(env!("CARGO_BIN_EXE_seesay"))
        .args(["describe", "--device", "cpu", "--model"])
        .args([&model, &folder])
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let full = finish(child, Duration::from_secs(120));
    let stderr = String::from_utf8_lossy(&full.stderr);
    assert_eq!(full.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot write {}: file too large", out.display())),
        "{stderr}"
    );
    assert!(!stderr.contains("os error"), "{stderr}");
    // With room again, the run resumes: every picture once, whatever the cut left.
    let again = describe(&model, &folder, &out, &[]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    let paths: std::collections::BTreeSet<String> = rows(&out)
        .iter()
        .map(|r| r["path"].as_str().expect("a path").to_owned())
        .collect();
    assert_eq!(paths.len(), 12);
    assert_eq!(rows(&out).len(), 12, "no row doubled");
}
