//! Tests of the dataset readers on the real Flickr8k and on small fixtures of every format.

use std::path::{Path, PathBuf};

use seesay::data::{self, Dataset, LoadReport, Split};
use seesay::Error;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/datasets")
        .join(rel)
}

fn open_ok(path: &Path) -> (Dataset, LoadReport) {
    match data::open(path) {
        Ok(loaded) => loaded,
        Err(e) => panic!("opening {} failed: {e}", path.display()),
    }
}

fn captions<'a>(dataset: &'a Dataset, id: &str) -> Vec<&'a str> {
    let image = dataset
        .get(id)
        .unwrap_or_else(|| panic!("{id} missing from {}", dataset.name));
    image.captions.iter().map(String::as_str).collect()
}

fn ids(dataset: &Dataset, split: Split) -> Vec<&str> {
    dataset
        .split(split)
        .map(|image| image.id.as_str())
        .collect()
}

fn assert_sorted(dataset: &Dataset) {
    assert!(
        dataset.images.windows(2).all(|w| w[0].id < w[1].id),
        "images not sorted by id"
    );
}

/// The message of an `Error::Dataset`, or a panic naming what came instead.
fn dataset_message(result: seesay::Result<(Dataset, LoadReport)>) -> String {
    match result {
        Err(Error::Dataset { message, .. }) => message,
        Err(other) => panic!("expected Error::Dataset, got {other:?}"),
        Ok((dataset, _)) => panic!("expected an error, got {} images", dataset.images.len()),
    }
}

#[test]
fn real_flickr8k() {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/flickr8k"
    ));
    assert!(
        dir.is_dir(),
        "Flickr8k is expected at {} (see its README.md)",
        dir.display()
    );
    let (dataset, report) = open_ok(dir);
    assert_eq!(dataset.name, "flickr8k");
    assert_eq!(dataset.images.len(), 8091);
    assert_eq!(dataset.count(Split::Train), 6000);
    assert_eq!(dataset.count(Split::Dev), 1000);
    assert_eq!(dataset.count(Split::Test), 1000);
    assert_eq!(dataset.count(Split::Unassigned), 91);
    assert!(dataset.images.iter().all(|image| image.captions.len() == 5));
    assert_eq!(dataset.caption_count(), 40455);
    assert_sorted(&dataset);
    assert!(dataset.images.iter().all(|image| image.path.is_file()));

    assert_eq!(report.bad_lines, 0, "{report}");
    assert!(report.bad_examples.is_empty());
    assert_eq!(report.fixed_lines, 3, "{report}");
    assert_eq!(report.captions_without_image, 5, "{report}");
    assert_eq!(report.missing_images, 0, "{report}");
    assert_eq!(report.missing_examples.len(), 1, "{report}");
    assert!(report.missing_examples[0].contains("2258277193_586949ec62.jpg.1"));
    assert!(dataset.get("2258277193_586949ec62.jpg.1").is_none());

    // The three space-separated lines were read, caption intact.
    assert_eq!(
        captions(&dataset, "1000268201_693b08cb0e.jpg")[0],
        "A child in a pink dress is climbing up a set of stairs in an entry way ."
    );
    assert!(captions(&dataset, "1001773457_577c3a7d70.jpg")[0].starts_with("A black dog"));
    assert!(captions(&dataset, "1002674143_1b742ab4b8.jpg")[1].starts_with("A little girl"));

    // Giving the token file itself reads the same dataset.
    let (again, again_report) = open_ok(&dir.join("Flickr8k.token.txt"));
    assert_eq!(again, dataset);
    assert_eq!(again_report, report);
}

#[test]
fn flickr_small_layout() {
    let (dataset, report) = open_ok(&fixture("flickr_small"));
    assert_eq!(dataset.name, "flickr8k");
    assert_eq!(ids(&dataset, Split::Train), ["a.jpg", "b.jpg"]);
    assert_eq!(ids(&dataset, Split::Dev), ["c.jpg"]);
    assert!(ids(&dataset, Split::Test).is_empty());
    assert_eq!(ids(&dataset, Split::Unassigned), ["d.jpg"]);
    assert_eq!(
        captions(&dataset, "a.jpg"),
        ["A dog runs on the grass .", "a brown dog running"]
    );
    let a = dataset.get("a.jpg").unwrap();
    assert_eq!(a.path, fixture("flickr_small/images/a.jpg"));
    // The test list names e.jpg, which has neither file nor captions.
    assert_eq!(report.missing_images, 1);
    assert_eq!(report.bad_lines, 0);
    assert_eq!(report.fixed_lines, 0);
    assert_eq!(report.captions_without_image, 0);
    assert!(
        report.missing_examples[0].contains("e.jpg"),
        "{:?}",
        report.missing_examples
    );
    // The empty test split says which listed image is missing, and why.
    assert_eq!(report.left_out[2].count, 1);
    let message = report.empty_split(Split::Test);
    assert_eq!(
        message,
        "the test split of the dataset is empty: every image listed for it (1) lacks a file or \
         captions:\n  Flickr_8k.testImages.txt:1: e.jpg is listed for test but has no captions \
         in Flickr8k.token.txt and no file in images/"
    );
}

#[test]
fn flickr_broken_token_file_is_reported_not_fatal() {
    let (dataset, report) = open_ok(&fixture("flickr_broken"));
    assert_eq!(ids(&dataset, Split::Train), ["x.jpg", "y.jpg"]);
    assert_eq!(ids(&dataset, Split::Test), ["z.jpg"]);
    assert_eq!(
        captions(&dataset, "x.jpg"),
        ["A red car parked on a street .", "A car by the kerb ."]
    );
    // The CRLF line keeps no '\r'; the empty caption was dropped.
    assert_eq!(captions(&dataset, "y.jpg"), ["A boat on a lake ."]);

    // Token file: garbage, no '#', empty caption, bad number; train list: x.jpg twice.
    assert_eq!(report.bad_lines, 5, "{report}");
    assert_eq!(report.bad_examples.len(), 5);
    let bad = report.bad_examples.join("\n");
    for expected in [
        "Flickr8k.token.txt:4:",
        "Flickr8k.token.txt:5:",
        "Flickr8k.token.txt:6: empty caption",
        "Flickr8k.token.txt:8:",
        "Flickr_8k.trainImages.txt:3:",
    ] {
        assert!(bad.contains(expected), "{expected} not in\n{bad}");
    }
    assert_eq!(report.fixed_lines, 1);
    assert_eq!(report.captions_without_image, 2);
    assert_eq!(report.missing_images, 1, "w.jpg is listed but absent");
    let missing = report.missing_examples.join("\n");
    assert!(missing.contains("ghost.jpg.1"), "{missing}");
    assert!(missing.contains("w.jpg"), "{missing}");
    assert!(!report.is_clean());
    assert!(report.to_string().contains("5 unreadable lines"));
}

#[test]
fn karpathy_split_file() {
    let (dataset, report) = open_ok(&fixture("karpathy/dataset_flickr8k.json"));
    assert_eq!(dataset.name, "flickr8k");
    // "restval" counts as train, "val" as dev.
    assert_eq!(ids(&dataset, Split::Train), ["a.jpg", "b.jpg"]);
    assert_eq!(ids(&dataset, Split::Dev), ["c.jpg"]);
    assert!(ids(&dataset, Split::Test).is_empty());
    assert_eq!(captions(&dataset, "a.jpg"), ["A dog runs .", "a brown dog"]);
    assert_eq!(
        dataset.get("c.jpg").unwrap().path,
        fixture("karpathy/images/c.jpg")
    );
    assert_eq!(report.missing_images, 1);
    assert_eq!(report.captions_without_image, 1);
    assert_eq!(report.bad_lines, 0);
    assert!(report.missing_examples[0].contains("gone.jpg"));
    // The format's own reader agrees.
    let direct = data::karpathy::load(&fixture("karpathy/dataset_flickr8k.json")).unwrap();
    assert_eq!(direct, (dataset, report));
}

#[test]
fn karpathy_coco_uses_filepath() {
    let (dataset, report) = open_ok(&fixture("karpathy_coco/dataset_coco.json"));
    assert_eq!(dataset.name, "coco");
    assert!(report.is_clean(), "{report}");
    assert_eq!(
        ids(&dataset, Split::Train),
        ["COCO_train2014_000000000009.jpg"]
    );
    assert_eq!(
        ids(&dataset, Split::Test),
        ["COCO_val2014_000000000042.jpg"]
    );
    let image = dataset.get("COCO_val2014_000000000042.jpg").unwrap();
    assert_eq!(
        image.path,
        fixture("karpathy_coco/val2014/COCO_val2014_000000000042.jpg")
    );
    assert_eq!(
        captions(&dataset, "COCO_train2014_000000000009.jpg"),
        ["Plates of food on a table.", "A lunch box with fruit."]
    );
}

#[test]
fn coco_caption_file() {
    let path = fixture("coco/annotations/captions_val2014.json");
    let (dataset, report) = open_ok(&path);
    assert_eq!(dataset.name, "coco");
    assert_eq!(
        ids(&dataset, Split::Dev),
        [
            "COCO_val2014_000000000042.jpg",
            "COCO_val2014_000000000073.jpg"
        ]
    );
    assert_eq!(dataset.images.len(), 2);
    assert_eq!(
        captions(&dataset, "COCO_val2014_000000000042.jpg"),
        ["A train at a station.", "A red train waits on the tracks"]
    );
    assert_eq!(
        dataset.get("COCO_val2014_000000000073.jpg").unwrap().path,
        fixture("coco/val2014/COCO_val2014_000000000073.jpg")
    );
    // Image 74 has no file; annotation for 999 has no image; one annotation is empty.
    assert_eq!(report.captions_without_image, 2, "{report}");
    assert_eq!(report.missing_images, 1, "{report}");
    assert_eq!(report.bad_lines, 1, "{report}");
    assert_eq!(data::coco::load(&path).unwrap(), (dataset, report));
}

#[test]
fn not_a_dataset_is_a_clear_error() {
    for name in ["not_a_dataset.json", "array.json", "notes.txt"] {
        let message = dataset_message(data::open(&fixture(name)));
        assert!(message.contains("accepted"), "{name}: {message}");
    }
    match data::open(&fixture("not_json.json")) {
        Err(Error::Json { context, .. }) => assert!(context.contains("not_json.json")),
        other => panic!("expected Error::Json, got {other:?}"),
    }
    // A folder without a token file.
    let message = dataset_message(data::open(&fixture("karpathy")));
    assert!(message.contains("Flickr8k.token.txt"), "{message}");
    // Each format's reader refuses the other's file.
    assert!(data::coco::load(&fixture("karpathy/dataset_flickr8k.json")).is_err());
    assert!(data::karpathy::load(&fixture("coco/annotations/captions_val2014.json")).is_err());
}

#[test]
fn missing_path_is_a_clear_error() {
    let message = dataset_message(data::open(&fixture("no/such/dataset")));
    assert!(message.contains("no such file"), "{message}");
}

#[test]
fn empty_token_file_is_a_clear_error() {
    let message = dataset_message(data::open(&fixture("flickr_empty")));
    assert!(message.contains("empty"), "{message}");
    let message = dataset_message(data::open(&fixture("flickr_empty/Flickr8k.token.txt")));
    assert!(message.contains("empty"), "{message}");
}

#[test]
fn token_file_with_no_good_line_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("images")).unwrap();
    std::fs::write(dir.path().join("images/a.jpg"), b"x").unwrap();
    std::fs::write(
        dir.path().join("Flickr8k.token.txt"),
        b"garbage\nmore garbage\n\xff\xfe\n",
    )
    .unwrap();
    let message = dataset_message(data::open(dir.path()));
    assert!(message.contains("3 bad lines"), "{message}");

    // Captions, but for no image that has a file.
    std::fs::write(dir.path().join("Flickr8k.token.txt"), b"b.jpg#0\tA cat .\n").unwrap();
    let message = dataset_message(data::open(dir.path()));
    assert!(message.contains("none of the 1 images"), "{message}");

    // No image folder at all.
    std::fs::remove_dir_all(dir.path().join("images")).unwrap();
    let message = dataset_message(data::open(dir.path()));
    assert!(message.contains("no image folder"), "{message}");
}

#[test]
fn split_parses_and_prints() {
    for (text, split) in [
        ("train", Split::Train),
        ("restval", Split::Train),
        ("dev", Split::Dev),
        ("val", Split::Dev),
        ("TEST", Split::Test),
        ("unassigned", Split::Unassigned),
    ] {
        assert_eq!(text.parse::<Split>().unwrap(), split);
    }
    assert!("holdout".parse::<Split>().is_err());
    for split in Split::ALL {
        assert_eq!(split.to_string().parse::<Split>().unwrap(), split);
    }
    assert_eq!(serde_json::to_string(&Split::Dev).unwrap(), "\"dev\"");
}
