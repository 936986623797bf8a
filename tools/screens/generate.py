#!/usr/bin/env python3
"""Generate a set of screenshots, document pages and charts, with their text.

    python3 tools/screens/generate.py --out DIR --count N --seed S [--split NAME]
        [--photos DIR] [--jobs 2] [--html] [--only TEMPLATE,...]

Writes DIR/NNNN.png and DIR/labels.jsonl, one JSON row per picture:

    file, kind (screen|document|chart), template, width, height,
    text   lines of visible text in reading order (one string per visual line),
    words  all visible words, in the same order,
    theme  light|dark,
    boxes  [x, y, w, h] of each text line (CSS px = image px),
    photos [x, y, w, h] of each photo region (news pictures, thumbnails, wallpapers),
    photo_files  the photo files shown (basenames), split, seed, and a few template details.

Each picture is written as HTML and rendered by one headless Chromium per job, driven over
the DevTools pipe (render.py). The labels are measured in the rendered page, not assumed:
a word is in them only if Chromium lays it out fully inside the window and nothing covers
it. The set depends only on --seed and --count (and the fonts installed): picture i is made
from its own random source seeded with (seed, i).

Photos (--photos, default the Flickr8k images folder) are embedded in some screens; they
are read from that folder at render time and are not part of this tool. With --split train
the photos come from Flickr8k's train list, with any other split from its dev list; the
Flickr8k test photos are never used, since they are the photo side of the kind measure.
"""

import argparse
import json
import os
import queue
import random
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from charts import CHARTS  # noqa: E402
from common import SIZES, Ctx  # noqa: E402
from documents import DOCUMENTS  # noqa: E402
from page import Page, labels  # noqa: E402
from render import Browser, CDPError, check_chromium  # noqa: E402
from screens import DARK, SCREENS  # noqa: E402

DEFAULT_PHOTOS = "/work/shared/data/flickr8k/images"

# share of the set per kind; templates within a kind share it by weight (default 1)
KIND_SHARE = {"screen": 0.6, "document": 0.22, "chart": 0.18}
WEIGHT = {"scan": 2.0}
TEMPLATES = {"screen": SCREENS, "document": DOCUMENTS, "chart": CHARTS}
DOC_DARK = 0.06
CHART_DARK = 0.25


def plan(count, seed, only=None):
    """The template of each picture: exact shares (largest remainder), shuffled by seed."""
    slots = []
    for kind, share in KIND_SHARE.items():
        tot_w = sum(WEIGHT.get(name, 1.0) for name in TEMPLATES[kind])
        for name in TEMPLATES[kind]:
            if only and name not in only:
                continue
            slots.append((kind, name, share * WEIGHT.get(name, 1.0) / tot_w))
    tot = sum(s for _, _, s in slots)
    exact = [count * s / tot for _, _, s in slots]
    n = [int(e) for e in exact]
    rest = sorted(range(len(slots)), key=lambda i: (-(exact[i] - n[i]), i))
    for i in rest[:count - sum(n)]:
        n[i] += 1
    order = [(slots[i][0], slots[i][1]) for i in range(len(slots)) for _ in range(n[i])]
    random.Random(f"plan:{seed}").shuffle(order)
    return order


def photo_list(photos_dir, split):
    if not photos_dir or not os.path.isdir(photos_dir):
        return []
    splits = os.path.join(os.path.dirname(os.path.abspath(photos_dir)), "splits")
    listname = "Flickr_8k.trainImages.txt" if split == "train" else "Flickr_8k.devImages.txt"
    lst = os.path.join(splits, listname)
    test = os.path.join(splits, "Flickr_8k.testImages.txt")
    if os.path.exists(lst):
        with open(lst) as f:
            names = [l.strip() for l in f if l.strip()]
    else:
        names = sorted(n for n in os.listdir(photos_dir) if n.lower().endswith((".jpg", ".jpeg", ".png")))
        if os.path.exists(test):
            with open(test) as f:
                bad = {l.strip() for l in f}
            names = [n for n in names if n not in bad]
    return [os.path.join(photos_dir, n) for n in sorted(names) if os.path.exists(os.path.join(photos_dir, n))]


def make_page(i, seed, kind, template, photos):
    rng = random.Random(f"{seed}:{i}")
    if rng.random() < 0.6:
        w, h = rng.choice(SIZES)
    else:
        w = rng.randrange(800, 1921, 2)
        h = rng.randrange(600, min(1081, int(w * 0.85)) + 1, 2)
    if kind == "screen":
        dark = rng.random() < DARK.get(template, 0.2)
    elif kind == "document":
        dark = rng.random() < DOC_DARK
    else:
        dark = rng.random() < CHART_DARK
    p = Page(w, h, kind, template, "dark" if dark else "light")
    ctx = Ctx(rng, p, photos)
    body = TEMPLATES[kind][template](ctx)
    p.body.append(body)
    if ctx.used_photos:
        p.meta["photo_files"] = ctx.used_photos
    return p


def check_units(page, info):
    """Visible words of each unit must appear, in order, in the text it was given."""
    bad = []
    for n, want in enumerate(page.units):
        if not want:
            continue
        got = [w for ws, _, _ in info["units"].get(str(n), []) for w in ws]
        pos = 0
        for g in got:  # a word may be broken over lines, so match pieces as substrings
            k = want.find(g, pos)
            if k < 0:
                bad.append((want[:60], " ".join(got)[:60]))
                break
            pos = k + len(g)
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--split", default=None, help="name stored in the labels; 'train' picks Flickr8k train photos")
    ap.add_argument("--photos", default=os.environ.get("SEESAY_PHOTOS", DEFAULT_PHOTOS),
                    help="folder of photos to embed (default: $SEESAY_PHOTOS or %(default)s)")
    ap.add_argument("--jobs", type=int, default=2, help="Chromium processes (default 2)")
    ap.add_argument("--html", action="store_true", help="also keep each page's HTML (DIR/html/)")
    ap.add_argument("--only", default=None, help="comma-separated templates (for testing)")
    args = ap.parse_args()
    check_chromium()
    t0 = time.time()
    os.makedirs(args.out, exist_ok=True)
    photos = photo_list(args.photos, args.split)
    if not photos:
        print(f"warning: no photos in {args.photos}; screens are made without photo regions", file=sys.stderr)
    only = set(args.only.split(",")) if args.only else None
    order = plan(args.count, args.seed, only)
    tmp = tempfile.mkdtemp(prefix="seesay-screens-html-")
    html_dir = os.path.join(args.out, "html") if args.html else tmp
    os.makedirs(html_dir, exist_ok=True)

    tasks = queue.Queue()
    for i, (kind, template) in enumerate(order):
        tasks.put((i, kind, template))
    rows = [None] * len(order)
    errors = []
    lock = threading.Lock()
    done = [0]

    def worker():
        b = Browser()
        try:
            while True:
                try:
                    i, kind, template = tasks.get_nowait()
                except queue.Empty:
                    return
                page = make_page(i, args.seed, kind, template, photos)
                src = os.path.join(html_dir, f"{i:04d}.html")
                with open(src, "w") as f:
                    f.write(page.html())
                for attempt in range(2):
                    try:
                        png, info = b.render(src, page.width, page.height)
                        break
                    except CDPError as e:
                        if attempt:
                            raise
                        print(f"{i:04d}: {e}; restarting chromium", file=sys.stderr)
                        b.close()
                        b = Browser()
                name = f"{i:04d}.png"
                with open(os.path.join(args.out, name), "wb") as f:
                    f.write(png)
                row = labels(page, info, name)
                row["split"] = args.split
                row["seed"] = args.seed
                problems = []
                if info["stray"]:
                    problems.append(f"text outside reading units: {info['stray'][:5]}")
                bad = check_units(page, info)
                if bad:
                    problems.append(f"visible words not in the unit's text: {bad[:3]}")
                if not row["words"]:
                    problems.append("no visible text")
                with lock:
                    rows[i] = row
                    for pr in problems:
                        errors.append(f"{name} ({page.template}): {pr}")
                    done[0] += 1
                    if done[0] % 50 == 0:
                        print(f"  {done[0]}/{len(order)} pictures, {time.time() - t0:.0f} s", file=sys.stderr)
        finally:
            b.close()

    threads = [threading.Thread(target=worker) for _ in range(max(1, args.jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if not args.html:
        shutil.rmtree(tmp, ignore_errors=True)
    missing = [i for i, r in enumerate(rows) if r is None]
    if missing:
        raise SystemExit(f"{len(missing)} pictures failed, e.g. {missing[:5]}")
    with open(os.path.join(args.out, "labels.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    counts = {}
    for r in rows:
        counts[r["kind"]] = counts.get(r["kind"], 0) + 1
    print(f"{args.out}: {len(rows)} pictures ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}) "
          f"in {time.time() - t0:.0f} s")
    if errors:
        for e in errors[:30]:
            print("error:", e, file=sys.stderr)
        raise SystemExit(f"{len(errors)} label problems")


if __name__ == "__main__":
    main()
