#!/usr/bin/env python3
"""Does seesay name what is in everyday photos? Measured on the ImageNet sample.

Runs `seesay caption --json` over the sample (one photo per ImageNet-1k class) and reports:

  named     share of photos whose spoken caption (the JSON "caption") names the photo's
            object at a useful level: any of the class's acceptable words (chickadee,
            titmouse or bird; tabby, cat or kitten; espresso, coffee or cup), matched as
            whole words, a multiword name as a phrase, the last word also in its plural.
            Overall, for animals (classes under WordNet's animal.n.01) and for things.
  says_dog  among photos whose class is not a dog (not under dog.n.01: wolves, foxes and
            dingoes are not dogs here), the share whose caption says dog, dogs, puppy or
            puppies ("hot dog" does not count).

The acceptable words come from WordNet 3.0 through tools/imagenet_words.py (the same code and
tables that write assets/imagenet_words.tsv), not from the asset, so the measure does not
depend on what the app ships.

Usage:
    python3 tools/imagenet_eval.py --seesay target/release/seesay
        [--data ../shared/data/imagenet-sample] [--out results.jsonl]
        [--summary summary.json] [--extra-args="--beam 5"] [--field caption] [--limit N]
        [--chunk 100] [--jobs 1]
    python3 tools/imagenet_eval.py --rescore results.jsonl [--field best] [--summary FILE]

--extra-args takes its value after "=" when it starts with "--" (--extra-args=--no-guide).
--field picks the JSON field judged: "caption" (default) is what seesay speaks; builds that
add words to the spoken caption also give the decoder's own sentence as "best".
--rescore recomputes the figures from an earlier --out file (its seesay objects) without
running seesay again.
"""
import argparse
import concurrent.futures
import datetime
import json
import os
import re
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imagenet_words  # noqa: E402  (the shared WordNet code and word tables)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(ROOT, "..", "shared", "data", "imagenet-sample")

DOG_WORDS = ["dog", "puppy"]
# Phrases that contain "dog" without meaning one.
NOT_DOGS = ["hot dog", "corn dog", "prairie dog"]

# Plurals the simple rules below miss.
IRREGULAR_PLURALS = {
    "mouse": ["mice"], "goose": ["geese"], "man": ["men"], "woman": ["women"],
    "person": ["people"], "child": ["children"], "foot": ["feet"], "tooth": ["teeth"],
    "ox": ["oxen"], "louse": ["lice"], "cactus": ["cacti"], "fungus": ["fungi"],
}


def tokens(text):
    """Lowercase words; hyphens and apostrophes split words the same way on both sides
    ("T-shirt" and "t shirt" both give t, shirt)."""
    return re.findall(r"[a-z0-9]+", text.lower())


def forms(word):
    """A word and its plurals: -s, -es (after s, x, z, ch, sh, o), -y/-ies, -f(e)/-ves, and a
    few irregular ones. Over-generating ("roofs", "rooves") is harmless: a non-word never
    appears in a caption."""
    out = {word, word + "s"}
    if word.endswith(("s", "x", "z", "ch", "sh", "o")):
        out.add(word + "es")
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        out.add(word[:-1] + "ies")
    if word.endswith("fe"):
        out.add(word[:-2] + "ves")
    elif word.endswith("f"):
        out.add(word[:-1] + "ves")
    out.update(IRREGULAR_PLURALS.get(word, []))
    return out


class Phrase:
    """A word or multiword name, matched as whole words with its last word in any form."""

    def __init__(self, text):
        self.text = text
        toks = tokens(text)
        self.head = toks[:-1]
        self.last = forms(toks[-1]) if toks else set()

    def spans(self, toks):
        """(start, end) of every occurrence in a token list."""
        n = len(self.head) + 1
        for i in range(len(toks) - n + 1):
            if toks[i:i + n - 1] == self.head and toks[i + n - 1] in self.last:
                yield i, i + n

    def found_in(self, toks):
        return next(self.spans(toks), None) is not None


class Judge:
    """What counts as naming each class, and as saying "dog"."""

    def __init__(self, wordnet_dir, labels, classes, vocab):
        wn = imagenet_words.WordNet(wordnet_dir)
        wnids = imagenet_words.read_class_wnids(labels)
        tv_names = imagenet_words.read_lines(classes)
        vocab_words = set(imagenet_words.read_lines(vocab))
        self.lex, rows = imagenet_words.build_rows(wn, wnids, tv_names, vocab_words)
        self.rows = rows
        self.words = [[Phrase(w) for w in r.words] for r in rows]
        self.animal = [self.lex.is_animal(r.wnid) for r in rows]
        self.dog_class = [self.lex.is_dog(r.wnid) for r in rows]
        self.dog_words = [Phrase(w) for w in DOG_WORDS]
        self.not_dogs = [Phrase(w) for w in NOT_DOGS]

    def named(self, class_index, caption):
        """The first acceptable word the caption uses, or None."""
        toks = tokens(caption)
        for p in self.words[class_index]:
            if p.found_in(toks):
                return p.text
        return None

    def says_dog(self, caption):
        toks = tokens(caption)
        masked = set()
        for p in self.not_dogs:
            for a, b in p.spans(toks):
                masked.update(range(a, b))
        return any(a not in masked for p in self.dog_words for a, _ in p.spans(toks))


def read_labels(data_dir):
    """(file, class_index, wnid, name) rows of the sample's labels.tsv."""
    rows = []
    with open(os.path.join(data_dir, "labels.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            file, idx, wnid, name = line.rstrip("\n").split("\t")
            rows.append((file, int(idx), wnid, name))
    return rows


def caption_chunk(seesay, extra_args, paths):
    """Runs one seesay process on a list of files; returns {path: json object}, stderr."""
    cmd = [seesay, "caption", "--json", *extra_args, *paths]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    out = {}
    for line in proc.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            obj = json.loads(line)
            out[obj["file"]] = obj
    # A failed file is reported on stderr and the others still run (exit status 1), so the
    # status alone does not say the chunk failed; a chunk with no output at all did.
    if not out and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} ... failed ({proc.returncode}):\n"
                           f"{proc.stderr[-2000:]}")
    return out, proc.stderr


def run_seesay(args, labels):
    paths = [os.path.join(args.data, "images", r[0]) for r in labels]
    chunks = [paths[i:i + args.chunk] for i in range(0, len(paths), args.chunk)]
    extra = shlex.split(args.extra_args)
    results, errors = {}, []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(caption_chunk, args.seesay, extra, c) for c in chunks]
        for n, fut in enumerate(futures, 1):
            out, err = fut.result()
            results.update(out)
            if err.strip():
                errors.append(err.strip())
            print(f"  {min(n * args.chunk, len(paths))}/{len(paths)} captioned",
                  file=sys.stderr)
    return [results.get(p) for p in paths], errors


def score(judge, labels, objects, field="caption"):
    """Per-image records (with the seesay object) for the photos seesay captioned."""
    records = []
    for (file, idx, wnid, name), obj in zip(labels, objects):
        if obj is None:
            continue
        caption = obj.get(field) or ""
        matched = judge.named(idx, caption)
        records.append({
            "file": file, "class_index": idx, "wnid": wnid, "name": name,
            "animal": judge.animal[idx], "dog_class": judge.dog_class[idx],
            "named": matched is not None, "named_by": matched,
            "says_dog": judge.says_dog(caption), "seesay": obj,
        })
    return records


def share(records, key):
    n = len(records)
    k = sum(1 for r in records if r[key])
    return {"n": n, "count": k, "share": round(k / n, 4) if n else None}


def summarize(records, failed):
    animals = [r for r in records if r["animal"]]
    things = [r for r in records if not r["animal"]]
    return {
        "photos": len(records) + failed,
        "captioned": len(records),
        "failed": failed,
        "named": {
            "all": share(records, "named"),
            "animals": share(animals, "named"),
            "things": share(things, "named"),
        },
        "says_dog_no_dog": share([r for r in records if not r["dog_class"]], "says_dog"),
        "says_dog_dog_classes": share([r for r in records if r["dog_class"]], "says_dog"),
    }


def pct(s):
    return "   -" if s["share"] is None else f"{100 * s['share']:3.0f}%"


def print_table(summary):
    named = summary["named"]
    print(f"ImageNet sample: {summary['captioned']} photos captioned"
          + (f", {summary['failed']} failed" if summary["failed"] else ""))
    print(f"  {'measure':44} {'share':>5} {'count':>11}")
    rows = [
        ("names the object (all)", named["all"]),
        ("names the object (animals)", named["animals"]),
        ("names the object (things)", named["things"]),
        ("says dog, no dog in the photo's class", summary["says_dog_no_dog"]),
        ("says dog, dog classes", summary["says_dog_dog_classes"]),
    ]
    for label, s in rows:
        print(f"  {label:44} {pct(s):>5} {s['count']:>5} / {s['n']:<5}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seesay", help="the seesay binary, e.g. target/release/seesay")
    ap.add_argument("--data", default=DEFAULT_DATA,
                    help="the ImageNet sample (labels.tsv and images/)")
    ap.add_argument("--out", help="per-image JSON lines")
    ap.add_argument("--summary", help="summary JSON")
    ap.add_argument("--extra-args", default="",
                    help="more arguments for `seesay caption`, e.g. \"--beam 5\"")
    ap.add_argument("--limit", type=int, help="an evenly spaced subset of N photos")
    ap.add_argument("--chunk", type=int, default=100, help="files per seesay process")
    ap.add_argument("--jobs", type=int, default=1, help="seesay processes at a time")
    ap.add_argument("--rescore", metavar="JSONL", help="score an earlier --out file instead")
    ap.add_argument("--field", default="caption",
                    help="the JSON field judged (default: caption, what is spoken; `best` is "
                         "the decoder's sentence without the spoken additions, in builds "
                         "that have it)")
    ap.add_argument("--wordnet", default=imagenet_words.WORDNET_DIR)
    ap.add_argument("--classes", default=os.path.join(ROOT, "assets", "imagenet_classes.txt"))
    ap.add_argument("--vocab", default=os.path.join(ROOT, "assets", "model", "vocab.txt"))
    args = ap.parse_args()
    if not args.seesay and not args.rescore:
        ap.error("give --seesay (or --rescore)")

    args.data = os.path.normpath(args.data)
    labels = read_labels(args.data)
    judge = Judge(args.wordnet, os.path.join(args.data, "labels.tsv"), args.classes,
                  args.vocab)
    assert all(judge.rows[idx].wnid == wnid for _, idx, wnid, _ in labels)

    if args.rescore:
        with open(args.rescore, encoding="utf-8") as f:
            old = [json.loads(line) for line in f if line.strip()]
        by_file = {r["file"]: r["seesay"] for r in old}
        labels = [r for r in labels if r[0] in by_file]
        objects = [by_file[r[0]] for r in labels]
        errors = []
    else:
        if args.limit:
            step = len(labels) / args.limit
            labels = [labels[int(i * step)] for i in range(args.limit)]
        print(f"captioning {len(labels)} photos with {args.seesay} "
              f"{args.extra_args}".rstrip(), file=sys.stderr)
        objects, errors = run_seesay(args, labels)

    records = score(judge, labels, objects, args.field)
    failed = sum(1 for o in objects if o is None)
    summary = summarize(records, failed)
    summary["run"] = {
        "seesay": args.seesay, "extra_args": args.extra_args, "field": args.field,
        "data": args.data,
        "rescored": args.rescore, "limit": args.limit,
        "command": " ".join(shlex.quote(a) for a in sys.argv),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    if errors:
        summary["run"]["stderr"] = errors[:20]
    print_table(summary)

    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    if args.summary:
        with open(args.summary, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
