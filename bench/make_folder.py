"""Writes a folder of 64 JPEGs for the throughput stage: the example photos, each cropped and
scaled several ways (sizes 160 to 1024 pixels on the long side), so every file decodes and
resizes differently. Deterministic: the same files on every run.

    python bench/make_folder.py OUT_DIR
"""
import glob
import os
import sys

from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    photos = sorted(glob.glob(os.path.join(ROOT, "assets", "examples", "*.jpg")))
    for i in range(64):
        img = Image.open(photos[i % len(photos)]).convert("RGB")
        w, h = img.size
        # A crop keeping 60-100% of each side, then a long side of 160-1024 pixels.
        f = 0.6 + 0.4 * ((i * 7) % 11) / 10
        box = (int(w * (1 - f) / 2), int(h * (1 - f) / 3), int(w * (1 + f) / 2), int(h * (2 + f) / 3))
        img = img.crop(box)
        long_side = 160 + (i * 37) % 865
        scale = long_side / max(img.size)
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))))
        img.save(os.path.join(out, f"{i:02d}.jpg"), quality=90)


if __name__ == "__main__":
    main()
