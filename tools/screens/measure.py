#!/usr/bin/env python3
"""Measures seesay on a set made by generate.py: kind, and how much of the text it reads.

    python3 tools/screens/measure.py --seesay target/release/seesay --set target/screens/test

For every picture it runs `seesay caption --json` and compares with labels.jsonl:
  kind         the share not called a photo, and the share given exactly the right kind;
  word recall  the share of the picture's visible words (labels' "words", lowercased, edge
               punctuation stripped, each matched once) found in the text seesay read;
  order        the share of consecutive labelled lines whose first words are found in the
               same order in the reading (a cheap check of reading order);
  timings      median milliseconds of text reading and of the whole caption call.
Standard library only.
"""

import argparse
import collections
import json
import statistics
import subprocess
import sys


def norm_words(text):
    out = []
    for w in text.split():
        w = w.strip(".,;:!?\"'()[]{}").lower()
        if w:
            out.append(w)
    return out


def recall(expected, got):
    pool = collections.Counter(got)
    hit = 0
    for w in expected:
        if pool[w] > 0:
            pool[w] -= 1
            hit += 1
    return hit, len(expected)


def in_order(lines, reading):
    """Share of consecutive line pairs whose first words appear in order in the reading."""
    text = " ".join(norm_words(reading))
    pos = []
    for line in lines:
        key = " ".join(norm_words(line)[:2])
        pos.append(text.find(key) if key else -1)
    pairs = [(a, b) for a, b in zip(pos, pos[1:]) if a >= 0 and b >= 0]
    if not pairs:
        return 0, 0
    return sum(1 for a, b in pairs if a <= b), len(pairs)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seesay", required=True)
    ap.add_argument("--set", required=True, help="a folder with labels.jsonl and the PNGs")
    ap.add_argument("--chunk", type=int, default=50)
    ap.add_argument("--out", help="per-picture JSON lines")
    args = ap.parse_args()

    labels = [json.loads(l) for l in open(f"{args.set}/labels.jsonl") if l.strip()]
    results = {}
    for i in range(0, len(labels), args.chunk):
        files = [f"{args.set}/{l['file']}" for l in labels[i : i + args.chunk]]
        p = subprocess.run([args.seesay, "caption", "--json", *files], capture_output=True, text=True)
        for line in p.stdout.splitlines():
            r = json.loads(line)
            results[r["file"].rsplit("/", 1)[-1]] = r
        print(f"  {min(i + args.chunk, len(labels))}/{len(labels)}", file=sys.stderr)

    by_kind = collections.defaultdict(lambda: [0, 0, 0, 0, 0, 0, 0])
    ocr_ms, total_ms = [], []
    out = open(args.out, "w") if args.out else None
    for l in labels:
        r = results.get(l["file"])
        k = by_kind[l["kind"]]
        k[0] += 1
        if r is None:
            continue
        k[1] += r["kind"] != "photo"
        k[2] += r["kind"] == l["kind"]
        h, n = recall([w for w in norm_words(" ".join(l["words"]))], norm_words(r["text"]))
        k[3] += h
        k[4] += n
        a, b = in_order(l["text"], r["text"])
        k[5] += a
        k[6] += b
        t = r["timings_ms"]
        ocr_ms.append(t["ocr_ms"])
        total_ms.append(t["decode_ms"] + t["encode_ms"] + t["beam_ms"] + t["ocr_ms"] + t["regions_ms"])
        if out:
            out.write(json.dumps({"file": l["file"], "truth": l["kind"], "kind": r["kind"], "recall": h / max(n, 1), "template": l["template"]}) + "\n")
    print("| kind | pictures | not photo | right kind | word recall | lines in order |")
    print("| --- | --- | --- | --- | --- | --- |")
    tot = [0] * 7
    for kind, k in sorted(by_kind.items()):
        tot = [a + b for a, b in zip(tot, k)]
        print(f"| {kind} | {k[0]} | {k[1] / k[0]:.1%} | {k[2] / k[0]:.1%} | {k[3] / max(k[4], 1):.1%} | {k[5] / max(k[6], 1):.1%} |")
    print(f"| all | {tot[0]} | {tot[1] / tot[0]:.1%} | {tot[2] / tot[0]:.1%} | {tot[3] / max(tot[4], 1):.1%} | {tot[5] / max(tot[6], 1):.1%} |")
    if ocr_ms:
        print(f"median ms: text reading {statistics.median(ocr_ms):.0f}, whole call {statistics.median(total_ms):.0f}")


if __name__ == "__main__":
    main()
