#!/usr/bin/env python3
"""Example photos, encoder test fixtures and the normalisation study.

    python3 tools/encoder_reference.py --examples [--skimage-wheel WHEEL]
        copy coffee/chelsea/astronaut/rocket from the scikit-image 0.26.0 wheel
        into assets/examples/ as JPEG (quality 90, longest side <= 640 px);
        without --skimage-wheel the wheel is fetched with pip download.
    python3 tools/encoder_reference.py --fixtures
        write tests/fixtures/encoder/<name>_224.png and reference.json
    python3 tools/encoder_reference.py --study [--flickr-n 300]
        compare the three candidate input normalisations

Needs numpy and pillow only; uses the numpy model in tools/efficientnet_numpy.py
and assets/encoder/efficientnet-lite0.safetensors (tools/convert_efficientnet.py).
"""
import argparse
import collections
import glob
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from efficientnet_numpy import EfficientNetLite0, conv2d  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WEIGHTS = os.path.join(ROOT, "assets/encoder/efficientnet-lite0.safetensors")
LABELS = os.path.join(ROOT, "assets/imagenet_classes.txt")
EXAMPLES = os.path.join(ROOT, "assets/examples")
FIXTURES = os.path.join(ROOT, "tests/fixtures/encoder")
FLICKR_REL = "../shared/data/flickr8k"  # relative to the repository root
FLICKR = os.path.normpath(os.path.join(ROOT, FLICKR_REL))

SKIMAGE_VERSION = "0.26.0"
# name -> file inside the scikit-image wheel
EXAMPLE_PHOTOS = collections.OrderedDict([
    ("coffee", "skimage/data/coffee.png"),
    ("chelsea", "skimage/data/chelsea.png"),
    ("astronaut", "skimage/data/astronaut.png"),
    ("rocket", "skimage/data/rocket.jpg"),
])
# Flickr8k photos (research use only: NOT copied; the Rust test reads them in place)
FLICKR_PICKS = ["256085101_2c2617c5d0.jpg", "3072172967_630e9c69d0.jpg"]

SIZE = 224
# Chosen normalisation: (x - 127) / 128, i.e. TF EfficientNet-Lite's own,
# written as (x/255 - mean) / std for the Rust side.
NORM_MEAN = [127.0 / 255.0] * 3
NORM_STD = [128.0 / 255.0] * 3
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
CANDIDATES = collections.OrderedDict([
    ("a: ImageNet (x/255-[.485,.456,.406])/[.229,.224,.225]", (IMAGENET_MEAN, IMAGENET_STD)),
    ("b: (x-127)/128", (NORM_MEAN, NORM_STD)),
    ("c: (x/255-0.5)/0.5", ([0.5] * 3, [0.5] * 3)),
])


def to_input(rgb_u8, mean, std):
    """HxWx3 uint8 -> 1x3xHxW float64, (x/255 - mean)/std."""
    x = np.asarray(rgb_u8, dtype=np.float64).transpose(2, 0, 1) / 255.0
    x = (x - np.array(mean)[:, None, None]) / np.array(std)[:, None, None]
    return x[None]


def resize_224(img):
    """Whole image squashed to 224x224 (no crop), PIL bilinear."""
    return img.convert("RGB").resize((SIZE, SIZE), Image.BILINEAR)


def labels():
    with open(LABELS, encoding="utf-8") as f:
        names = f.read().splitlines()
    assert len(names) == 1000
    return names


def sig7(v):
    return float(f"{float(v):.7g}")


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# ----------------------------------------------------------------------------

def cmd_examples(wheel):
    os.makedirs(EXAMPLES, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        if not wheel:
            subprocess.check_call([sys.executable, "-m", "pip", "download", "--no-deps",
                                   "--only-binary", ":all:", "--dest", tmp,
                                   f"scikit-image=={SKIMAGE_VERSION}"])
            wheel = glob.glob(os.path.join(tmp, "scikit_image-*.whl"))[0]
        with zipfile.ZipFile(wheel) as z:
            for name, member in EXAMPLE_PHOTOS.items():
                data = z.read(member)
                img = Image.open(io.BytesIO(data))
                out = os.path.join(EXAMPLES, name + ".jpg")
                if img.format == "JPEG" and max(img.size) <= 640:
                    with open(out, "wb") as f:  # already a small JPEG: keep the bytes
                        f.write(data)
                    how = "copied"
                else:
                    img = img.convert("RGB")
                    if max(img.size) > 640:
                        img.thumbnail((640, 640), Image.LANCZOS)
                    img.save(out, "JPEG", quality=90)
                    how = "re-encoded q90"
                print(f"{out}: {img.size[0]}x{img.size[1]} {how} "
                      f"({os.path.getsize(out)} bytes) from {member}")


def run_model(model, rgb_u8, mean, std):
    feat, logits, probs = model(to_input(rgb_u8, mean, std))
    return feat[0], logits[0], probs[0]


def cmd_fixtures():
    os.makedirs(FIXTURES, exist_ok=True)
    names = labels()
    model = EfficientNetLite0(WEIGHTS)
    entries = []
    sources = []
    for name in EXAMPLE_PHOTOS:
        img = resize_224(Image.open(os.path.join(EXAMPLES, name + ".jpg")))
        png = os.path.join(FIXTURES, f"{name}_224.png")
        img.save(png, "PNG")
        rgb = np.asarray(Image.open(png).convert("RGB"))  # read back what Rust reads
        sources.append((name, os.path.relpath(png, ROOT), rgb, "png", 1e-3, 1e-3,
                        f"assets/examples/{name}.jpg decoded by PIL, resized to 224x224 "
                        "(whole image, no crop) with PIL BILINEAR, saved losslessly"))
    for fname in FLICKR_PICKS:
        path = os.path.join(FLICKR, "images", fname)
        img = Image.open(path)
        assert img.size == (SIZE, SIZE), (path, img.size)
        sources.append((os.path.splitext(fname)[0], f"{FLICKR_REL}/images/{fname}",
                        np.asarray(img.convert("RGB")), "jpeg", 1e-2, 1e-1,
                        "Flickr8k photo (research use only, not copied into the repo); "
                        "already 224x224; reference decoded with PIL (libjpeg-turbo), Rust "
                        "must decode it with its own JPEG decoder (image 0.25.10 / zune-jpeg "
                        "gives pixels differing by up to 4; measured on these two files: "
                        "max |dprob| 4.5e-3, max |dfeature_first8| 0.037, feature_l2 rel "
                        "6e-3), hence the looser tolerances"))
    for name, rel, rgb, kind, tol, ftol, note in sources:
        assert rgb.shape == (SIZE, SIZE, 3)
        feat, logits, probs = run_model(model, rgb, NORM_MEAN, NORM_STD)
        top5 = np.argsort(-probs)[:5]
        entries.append(collections.OrderedDict([
            ("name", name),
            ("path", rel),
            ("format", kind),
            ("note", note),
            ("tolerance", tol),
            ("feature_tolerance", ftol),
            ("top5", [collections.OrderedDict([("index", int(i)), ("name", names[i]),
                                               ("prob", sig7(probs[i]))]) for i in top5]),
            ("feature_first8", [sig7(v) for v in feat[:8]]),
            ("feature_l2", sig7(np.linalg.norm(feat))),
            ("feature_mean", sig7(feat.mean())),
            ("logits_first8", [sig7(v) for v in logits[:8]]),
            ("probs", [sig7(p) for p in probs]),
        ]))
        print(f"{rel}: " + ", ".join(f"{names[i]} {probs[i]:.4f}" for i in top5[:3])
              + f"; |feat| {np.linalg.norm(feat):.4f}")
    doc = collections.OrderedDict([
        ("description", "Reference outputs of EfficientNet-Lite0 computed by the independent "
                        "numpy forward pass in tools/efficientnet_numpy.py (float64), "
                        "generated by `python3 tools/encoder_reference.py --fixtures`."),
        ("weights", "assets/encoder/efficientnet-lite0.safetensors"),
        ("weights_sha256", sha256_file(WEIGHTS)),
        ("labels", "assets/imagenet_classes.txt"),
        ("input", collections.OrderedDict([
            ("size", [SIZE, SIZE]), ("layout", "NCHW"), ("channel_order", "RGB"),
            ("preprocess", "decode to RGB u8; images here are already 224x224, use the "
                           "pixels as they are (no resize, no crop)"),
        ])),
        ("normalization", collections.OrderedDict([
            ("formula", "(x/255 - mean[c]) / std[c], x = RGB value in 0..255"),
            ("mean", NORM_MEAN), ("std", NORM_STD),
            ("equivalent", "(x - 127) / 128"),
        ])),
        ("bn_eps", 1e-3),
        ("tolerance_meaning", "per image: top-1 index must match; |prob - ref| <= tolerance "
                              "for every one of the 1000 probabilities; |f - ref| <= "
                              "feature_tolerance * max(1, |ref|) for feature_first8; "
                              "|l2 - ref| <= feature_tolerance * ref for feature_l2. "
                              "(float32 vs this float64 reference differs by ~1e-6.)"),
        ("feature", "1280-d global-average-pooled output of _conv_head/_bn1/ReLU6, before _fc"),
        ("probs_rounding", "7 significant digits"),
        ("images", entries),
    ])
    out = os.path.join(FIXTURES, "reference.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"wrote {out}")


def cmd_study(flickr_n):
    names = labels()
    model = EfficientNetLite0(WEIGHTS)
    photos = collections.OrderedDict(
        (n, np.asarray(resize_224(Image.open(os.path.join(EXAMPLES, n + ".jpg")))))
        for n in EXAMPLE_PHOTOS)
    caps = collections.defaultdict(list)
    with open(os.path.join(FLICKR, "Flickr8k.token.txt"), encoding="utf-8") as f:
        for line in f:
            parts = re.split(r"\s", line.strip(), maxsplit=1)
            if len(parts) == 2:
                caps[parts[0].split("#")[0]].append(parts[1].lower())
    with open(os.path.join(FLICKR, "splits/Flickr_8k.testImages.txt")) as f:
        test = f.read().split()[:flickr_n]
    fl = np.stack([np.asarray(Image.open(os.path.join(FLICKR, "images", t)).convert("RGB"))
                   for t in test])
    dog_cap = np.array([sum(" dog" in " " + c for c in caps[t]) >= 3 for t in test])
    rm, rv = model.w["_bn0.running_mean"], model.w["_bn0.running_var"]
    for label, (mean, std) in CANDIDATES.items():
        print(label)
        for n, rgb in photos.items():
            _, _, p = run_model(model, rgb, mean, std)
            top = np.argsort(-p)[:3]
            print(f"   {n:10s} " + " | ".join(f"{names[i]} {p[i]:.3f}" for i in top))
        x = np.concatenate([to_input(im, mean, std) for im in fl])
        stem = conv2d(x[:64], model.w["_conv_stem.weight"], 2)
        bm, bv = stem.mean(axis=(0, 2, 3)), stem.var(axis=(0, 2, 3))
        ok = rv > 1e-6
        probs = np.concatenate([model(x[i:i + 25])[2] for i in range(0, len(x), 25)])
        top1, conf = probs.argmax(1), probs.max(1)
        dog = (top1 >= 151) & (top1 <= 268)
        print(f"   Flickr8k test[:{len(test)}]: mean top-1 prob {conf.mean():.3f}; "
              f"dog-captioned ({dog_cap.sum()}) with a dog top-1 {dog[dog_cap].mean():.3f}; "
              f"others with a dog top-1 {dog[~dog_cap].mean():.3f}")
        print(f"   stem batch stats vs _bn0 running stats: mean|dmean| "
              f"{np.abs(bm - rm).mean():.3f}, median var/running_var "
              f"{np.median(bv[ok] / rv[ok]):.3f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", action="store_true")
    ap.add_argument("--skimage-wheel")
    ap.add_argument("--fixtures", action="store_true")
    ap.add_argument("--study", action="store_true")
    ap.add_argument("--flickr-n", type=int, default=300)
    args = ap.parse_args()
    if not (args.examples or args.fixtures or args.study):
        ap.error("give --examples, --fixtures and/or --study")
    if args.examples:
        cmd_examples(args.skimage_wheel)
    if args.fixtures:
        cmd_fixtures()
    if args.study:
        cmd_study(args.flickr_n)


if __name__ == "__main__":
    main()
