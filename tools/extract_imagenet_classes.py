#!/usr/bin/env python3
"""Write assets/imagenet_classes.txt (1000 ImageNet-1k class names, index order).

Source: ``_IMAGENET_CATEGORIES`` in torchvision/models/_meta.py of the
torchvision wheel (BSD-3-Clause). The list is read with ``ast`` (torchvision is
not imported or installed).

Usage:
    python3 tools/extract_imagenet_classes.py [--wheel torchvision-*.whl]
        [--out assets/imagenet_classes.txt]

Without --wheel: ``pip download --no-deps --only-binary :all: torchvision==0.29.2``
(a large download, ~8 MB+; pass --wheel if you already have it).
"""
import argparse
import ast
import glob
import os
import subprocess
import sys
import tempfile
import zipfile

TV_VERSION = "0.29.2"


def categories_from_wheel(wheel):
    with zipfile.ZipFile(wheel) as z:
        src = z.read("torchvision/models/_meta.py").decode("utf-8")
    for node in ast.parse(src).body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and getattr(node.targets[0], "id", None) == "_IMAGENET_CATEGORIES"):
            return ast.literal_eval(node.value)
    raise SystemExit("_IMAGENET_CATEGORIES not found")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wheel")
    ap.add_argument("--out", default="assets/imagenet_classes.txt")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel
        if not wheel:
            subprocess.check_call([sys.executable, "-m", "pip", "download", "--no-deps",
                                   "--only-binary", ":all:", "--dest", tmp,
                                   f"torchvision=={TV_VERSION}"])
            wheel = glob.glob(os.path.join(tmp, "torchvision-*.whl"))[0]
        cats = categories_from_wheel(wheel)
    assert len(cats) == 1000 and len(set(cats)) == 1000, len(cats)
    assert all("\n" not in c for c in cats)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(cats) + "\n")
    print(f"wrote {len(cats)} classes to {args.out}")


if __name__ == "__main__":
    main()
