"""What the two peers (bench/peer.py with PyTorch, bench/ort_peer.py with ONNX Runtime) share,
with numpy only: image preparation, seesay's beam search, the model's words, the JSON a caption
is printed as, and the `check` and `bench` verbs. Each peer brings its encoder and a decoder with
`image_state(features)`, `step(tokens, state) -> (numpy log-probabilities, state)`,
`select(state, rows)` and `vocab`.
"""

import argparse
import glob
import json
import math
import os
import statistics
import time

import numpy as np
from PIL import Image, ImageOps

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAD_ID, START_ID, END_ID, UNK_ID = 0, 1, 2, 3
SIZE = 224


def load_image(path):
    """Decode, apply EXIF orientation, composite alpha on white, squash to 224x224."""
    img = ImageOps.exif_transpose(Image.open(path))
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = np.asarray(img.convert("RGBA"), dtype=np.uint32)
        a = rgba[..., 3:4]
        rgb = (rgba[..., :3] * a + 255 * (255 - a) + 127) // 255
        img = Image.fromarray(rgb.astype(np.uint8), "RGB")
    img = img.convert("RGB")
    if img.size != (SIZE, SIZE):
        img = img.resize((SIZE, SIZE), Image.BILINEAR)
    return img


def beam_search(decoder, state, beam_size=3, max_len=20):
    """seesay's beam search (src/decode/beam.rs): end-token extensions among the k best
    finish, the k best others stay live; at most max_len words; stops once no live beam can
    beat the best finished one. Returns [(tokens, token_log_probs, end_log_prob, log_prob)],
    best first."""
    vocab = decoder.vocab
    banned = np.zeros(vocab, dtype=bool)
    banned[[PAD_ID, START_ID, UNK_ID]] = True
    allowed = int((~banned).sum())
    live = [([], [], 0.0)]
    feed = [START_ID]
    finished = []
    for t in range(max_len):
        log_probs, next_state = decoder.step(feed, state)
        log_probs = np.where(banned, -np.inf, log_probs)
        cum = np.array([b[2] for b in live], np.float32)[:, None]
        total = (log_probs + cum).ravel()
        m = min(beam_size + len(live), allowed * len(live))
        # The m largest, ties broken by the lower index, as torch.topk and seesay do.
        index = np.argsort(-total, kind="stable")[:m]
        next_live, rows, next_feed = [], [], []
        for rank, i in enumerate(index.tolist()):
            value = float(total[i])
            b, token = divmod(i, vocab)
            tokens, lps, _ = live[b]
            lp = float(log_probs[b, token])
            if token == END_ID:
                if rank < beam_size:
                    finished.append((tokens, lps, lp, value))
            elif len(next_live) < beam_size:
                next_live.append((tokens + [token], lps + [lp], value))
                rows.append(b)
                next_feed.append(token)
        live = next_live
        last = t + 1 == max_len
        if not live:
            break
        if last or (finished and live[0][2] <= max(f[3] for f in finished)):
            if not last:
                live = []
            break
        state = decoder.select(next_state, rows)
        feed = next_feed
    finished.sort(key=lambda f: -f[3])
    if not finished:
        finished = sorted(((t, l, None, s) for t, l, s in live), key=lambda f: -f[3])
    return finished


def read_model(model_dir):
    """The model directory's config and its words, in id order."""
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    with open(os.path.join(model_dir, "vocab.txt")) as f:
        words = [line.strip() for line in f]
    return config, words


def encoder_path(args):
    """--encoder, else the model's own encoder file, else the bundled one."""
    path = args.encoder or os.path.join(args.model, "encoder.safetensors")
    if not os.path.exists(path):
        path = os.path.join(ROOT, "assets", "encoder", "efficientnet-lite0.safetensors")
    return path


class Peer:
    """A captioner over a peer's encoder and decoder: `encode(pixels)`, `decoder`, `mean`,
    `std` and `words` come from the subclass; pixels are (1, 3, 224, 224) float32 arrays."""

    def to_tensor(self, img):
        x = np.asarray(img, dtype=np.float32).transpose(2, 0, 1)[None]
        return np.ascontiguousarray((x / np.float32(255.0) - self.mean) / self.std)

    def caption_file(self, path, beam_size=3):
        features = self.encode(self.to_tensor(load_image(path)))
        return beam_search(self.decoder, self.decoder.image_state(features), beam_size)

    def as_json(self, path, hyps):
        tokens, lps, end_lp, log_prob = hyps[0]
        return {
            "file": path,
            "caption": " ".join(self.words[t] for t in tokens),
            "words": [{"word": self.words[t], "prob": math.exp(lp)} for t, lp in zip(tokens, lps)],
            "end_prob": None if end_lp is None else math.exp(end_lp),
            "log_prob": log_prob,
        }


def median_ms(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(max(reps, 1)):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    # The upper median, as seesay bench takes it.
    return statistics.median_high(times)


def cmd_bench(cap, args, program, threads):
    """Each stage's median time over the files, as `seesay bench --json` prints them."""
    sums = [0.0] * 4
    for path in args.files:
        pixels = cap.to_tensor(load_image(path))
        state = cap.decoder.image_state(cap.encode(pixels))
        sums[0] += median_ms(lambda: cap.to_tensor(load_image(path)), args.warmup, args.reps)
        sums[1] += median_ms(lambda: cap.encode(pixels), args.warmup, args.reps)
        sums[2] += median_ms(lambda: beam_search(cap.decoder, state, args.beam),
                             args.warmup, args.reps)
        sums[3] += median_ms(lambda: cap.caption_file(path, args.beam), args.warmup, args.reps)
    n = len(args.files)
    report = {
        "program": program,
        "threads": threads,
        "files": n, "reps": args.reps, "beam": args.beam,
        "preprocess_ms": sums[0] / n, "encoder_ms": sums[1] / n,
        "beam_ms": sums[2] / n, "end_to_end_ms": sums[3] / n,
    }
    if args.folder:
        folder = sorted(glob.glob(os.path.join(args.folder, "*.jpg")))
        cap.caption_file(folder[0], args.beam)
        t = time.perf_counter()
        for path in folder:
            cap.caption_file(path, args.beam)
        report["folder_images_per_s"] = len(folder) / (time.perf_counter() - t)
    print(json.dumps(report))
    return 0


def cmd_check(cap, args):
    """Compares best captions and per-word probabilities with `seesay caption --json` lines."""
    with open(args.seesay) as f:
        theirs = {os.path.basename(j["file"]): j for j in map(json.loads, f) if "candidates" in j}
    worst, mismatches = 0.0, 0
    for path in args.files:
        mine = cap.as_json(path, cap.caption_file(path, args.beam))
        best = theirs[os.path.basename(path)]["candidates"][0]
        same = mine["caption"] == best["text"]
        diff = max([abs(a["prob"] - b["prob"]) for a, b in zip(mine["words"], best["words"])]
                   + [abs(mine["end_prob"] - best["end_prob"])])
        worst = max(worst, diff if same else math.inf)
        mismatches += not same
        print(f"{'same' if same else 'DIFFERENT'}  largest word-probability difference "
              f"{diff:.2e}  {os.path.basename(path)}: {mine['caption']}"
              + ("" if same else f"  | seesay: {best['text']}"))
    if args.tolerance >= 1:
        print(f"{len(args.files) - mismatches}/{len(args.files)} captions equal")
        return 0
    ok = mismatches == 0 and worst <= args.tolerance
    print(f"{'MATCH' if ok else 'NO MATCH'}: {len(args.files) - mismatches}/{len(args.files)} "
          f"captions equal, largest probability difference {worst:.2e} "
          f"(tolerance {args.tolerance:g})")
    return 0 if ok else 1


def arguments(description, tolerance, threads):
    """The peers' command line; each adds its own options to the parser returned."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("verb", choices=["caption", "check", "bench"])
    ap.add_argument("args", nargs="+", help="files (check: the seesay JSON lines first)")
    ap.add_argument("--model", default=os.path.join(ROOT, "assets", "model"))
    ap.add_argument("--encoder", default=None,
                    help="encoder safetensors (default: MODEL/encoder.safetensors, "
                         "else the bundled assets/encoder file)")
    ap.add_argument("--beam", type=int, default=3)
    ap.add_argument("--threads", type=int, default=threads)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--folder", help="bench: also caption every JPEG here once, one at a time")
    ap.add_argument("--tolerance", type=float, default=tolerance)
    return ap


def run(cap, args, program, threads):
    """Runs the verb: caption (JSON lines), check against seesay, or bench."""
    if args.verb == "check":
        args.seesay, args.files = args.args[0], args.args[1:]
        return cmd_check(cap, args)
    args.files = args.args
    if args.verb == "bench":
        return cmd_bench(cap, args, program, threads)
    for path in args.files:
        print(json.dumps(cap.as_json(path, cap.caption_file(path, args.beam))))
    return 0
