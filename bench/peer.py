"""The PyTorch peer: seesay's model, preprocessing and beam search, written the usual way.

It loads the same safetensors files as seesay, builds the same network with torch.nn
(EfficientNet-Lite0 with BatchNorm folded into the convolutions, as seesay does, then the
Show-and-Tell LSTM decoder), preprocesses with Pillow and runs the same beam search. It is
eager PyTorch on the CPU: no TorchScript, no compile, as most Python captioning code runs.

    python bench/peer.py caption FILE...            # captions as JSON lines (like seesay --json)
    python bench/peer.py check SEESAY.jsonl FILE... # same captions and probabilities as seesay?
    python bench/peer.py bench FILE... --threads N  # stage timings, as `seesay bench --json`
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps
from safetensors.torch import load_file
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from convert_efficientnet import block_specs  # noqa: E402

PAD_ID, START_ID, END_ID, UNK_ID = 0, 1, 2, 3
SIZE = 224
BN_EPS = 1e-3


def tf_same_pad(x, k, stride):
    """TensorFlow 'same' padding: the extra row and column go at the bottom and right."""
    h, w = x.shape[-2:]
    ph = max((math.ceil(h / stride) - 1) * stride + k - h, 0)
    pw = max((math.ceil(w / stride) - 1) * stride + k - w, 0)
    return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))


class FoldedConv(nn.Module):
    """A convolution with its BatchNorm folded in (weights scaled, bias added)."""

    def __init__(self, w, prefix_conv, prefix_bn, stride=1, groups=1):
        super().__init__()
        weight = w[prefix_conv + ".weight"]
        scale = w[prefix_bn + ".weight"] / torch.sqrt(w[prefix_bn + ".running_var"] + BN_EPS)
        bias = w[prefix_bn + ".bias"] - w[prefix_bn + ".running_mean"] * scale
        self.conv = nn.Conv2d(weight.shape[1] * groups, weight.shape[0], weight.shape[2],
                              stride=stride, groups=groups, bias=True)
        self.conv.weight.data = weight * scale[:, None, None, None]
        self.conv.bias.data = bias
        self.k, self.stride = weight.shape[2], stride

    def forward(self, x):
        if self.k > 1:
            x = tf_same_pad(x, self.k, self.stride)
        return self.conv(x)


class Block(nn.Module):
    """MBConv without squeeze-excitation, ReLU6 (the Lite variant)."""

    def __init__(self, w, i, spec):
        super().__init__()
        p = f"_blocks.{i}"
        mid = spec["in_ch"] * spec["expand"]
        self.expand = (FoldedConv(w, p + "._expand_conv", p + "._bn0")
                       if spec["expand"] != 1 else None)
        self.dw = FoldedConv(w, p + "._depthwise_conv", p + "._bn1", spec["stride"], groups=mid)
        self.project = FoldedConv(w, p + "._project_conv", p + "._bn2")
        self.residual = spec["stride"] == 1 and spec["in_ch"] == spec["out_ch"]

    def forward(self, x):
        y = x
        if self.expand is not None:
            y = F.relu6(self.expand(y))
        y = self.project(F.relu6(self.dw(y)))
        return y + x if self.residual else y


class EfficientNetLite0(nn.Module):
    """The frozen encoder: (N, 3, 224, 224) normalised pixels -> (N, 1280) pooled feature."""

    def __init__(self, path):
        super().__init__()
        w = {k: v.float() for k, v in load_file(path).items()}
        self.stem = FoldedConv(w, "_conv_stem", "_bn0", stride=2)
        self.blocks = nn.Sequential(*[Block(w, i, s) for i, s in enumerate(block_specs())])
        self.head = FoldedConv(w, "_conv_head", "_bn1")

    def forward(self, x):
        x = F.relu6(self.stem(x))
        x = F.relu6(self.head(self.blocks(x)))
        return x.mean(dim=(2, 3))


class Decoder(nn.Module):
    """Show and Tell: the image is the LSTM's first input, then the words."""

    def __init__(self, path, cfg):
        super().__init__()
        w = {k: v.float() for k, v in load_file(path).items()}
        e, h, v, f = cfg["embed_dim"], cfg["hidden_dim"], cfg["vocab_size"], cfg["feature_dim"]
        self.img_proj = nn.Linear(f, e)
        self.embed = nn.Embedding(v, e)
        self.lstm = nn.LSTM(e, h, batch_first=True)
        self.out = nn.Linear(h, v)
        self.img_out = nn.Linear(f, h) if cfg.get("merge_image") else None
        self.load_state_dict(w, strict=True)

    def image_state(self, features):
        """Feeds the image into a zero state; returns (h, c, merged image or None)."""
        _, (h, c) = self.lstm(self.img_proj(features).unsqueeze(1))
        merged = self.img_out(features) if self.img_out is not None else None
        return h, c, merged

    def step(self, tokens, state):
        h, c, merged = state
        y, (h, c) = self.lstm(self.embed(tokens).unsqueeze(1), (h, c))
        top = y[:, 0] if merged is None else y[:, 0] + merged
        return F.log_softmax(self.out(top), dim=-1), (h, c, merged)


def select(state, rows):
    h, c, merged = state
    idx = torch.tensor(rows)
    return h[:, idx], c[:, idx], None if merged is None else merged[idx]


def beam_search(decoder, state, beam_size=3, max_len=20):
    """seesay's beam search (src/decode/beam.rs): end-token extensions among the k best
    finish, the k best others stay live; at most max_len words; stops once no live beam can
    beat the best finished one. Returns [(tokens, token_log_probs, end_log_prob, log_prob)]."""
    vocab = decoder.out.out_features
    banned = torch.zeros(vocab, dtype=torch.bool)
    banned[[PAD_ID, START_ID, UNK_ID]] = True
    live = [([], [], 0.0)]
    feed = [START_ID]
    finished = []
    for t in range(max_len):
        log_probs, next_state = decoder.step(torch.tensor(feed), state)
        log_probs = log_probs.masked_fill(banned, -math.inf)
        cum = torch.tensor([b[2] for b in live]).unsqueeze(1)
        total = (log_probs + cum).flatten()
        m = min(beam_size + len(live), int((~banned).sum()) * len(live))
        values, index = total.topk(m)
        next_live, rows, next_feed = [], [], []
        for rank, (value, i) in enumerate(zip(values.tolist(), index.tolist())):
            b, token = divmod(i, vocab)
            tokens, lps, _ = live[b]
            lp = log_probs[b, token].item()
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
        state = select(next_state, rows)
        feed = next_feed
    finished.sort(key=lambda f: -f[3])
    if not finished:
        finished = sorted(((t, l, None, s) for t, l, s in live), key=lambda f: -f[3])
    return finished


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


class Captioner:
    def __init__(self, model_dir, encoder_path):
        with open(os.path.join(model_dir, "config.json")) as f:
            self.config = json.load(f)
        with open(os.path.join(model_dir, "vocab.txt")) as f:
            self.words = [line.strip() for line in f]
        self.encoder = EfficientNetLite0(encoder_path).eval()
        self.decoder = Decoder(os.path.join(model_dir, "decoder.safetensors"),
                               self.config["decoder"]).eval()
        norm = self.config["encoder"]["normalization"]
        self.mean = torch.tensor(norm["mean"]).view(1, 3, 1, 1)
        self.std = torch.tensor(norm["std"]).view(1, 3, 1, 1)

    def to_tensor(self, img):
        x = torch.from_numpy(np.asarray(img, dtype=np.float32)).permute(2, 0, 1).unsqueeze(0)
        return (x / 255.0 - self.mean) / self.std

    def caption_file(self, path, beam_size=3):
        pixels = self.to_tensor(load_image(path))
        features = self.encoder(pixels)
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


def cmd_bench(cap, args):
    sums = [0.0] * 4
    for path in args.files:
        pixels = cap.to_tensor(load_image(path))
        features = cap.encoder(pixels)
        state = cap.decoder.image_state(features)
        sums[0] += median_ms(lambda: load_image(path), args.warmup, args.reps)
        sums[1] += median_ms(lambda: cap.encoder(pixels), args.warmup, args.reps)
        sums[2] += median_ms(lambda: beam_search(cap.decoder, state, args.beam),
                             args.warmup, args.reps)
        sums[3] += median_ms(lambda: cap.caption_file(path, args.beam), args.warmup, args.reps)
    n = len(args.files)
    print(json.dumps({
        "program": f"pytorch {torch.__version__}",
        "threads": torch.get_num_threads(),
        "files": n, "reps": args.reps, "beam": args.beam,
        "preprocess_ms": sums[0] / n, "encoder_ms": sums[1] / n,
        "beam_ms": sums[2] / n, "end_to_end_ms": sums[3] / n,
    }))


def cmd_check(cap, args):
    """Compares best captions and per-word probabilities with `seesay caption --json` lines."""
    with open(args.seesay) as f:
        theirs = {os.path.basename(j["file"]): j for j in map(json.loads, f) if "candidates" in j}
    worst, mismatches = 0.0, 0
    for path in args.files:
        mine = cap.as_json(path, cap.caption_file(path, args.beam))
        other = theirs[os.path.basename(path)]
        best = other["candidates"][0]
        same = mine["caption"] == best["text"]
        diff = max([abs(a["prob"] - b["prob"]) for a, b in zip(mine["words"], best["words"])]
                   + [abs(mine["end_prob"] - best["end_prob"])])
        worst = max(worst, diff if same else math.inf)
        mismatches += not same
        print(f"{'same' if same else 'DIFFERENT'}  largest word-probability difference "
              f"{diff:.2e}  {os.path.basename(path)}: {mine['caption']}"
              + ("" if same else f"  | seesay: {best['text']}"))
    ok = mismatches == 0 and worst <= args.tolerance
    if args.tolerance >= 1:
        print(f"{len(args.files) - mismatches}/{len(args.files)} captions equal")
        return 0
    print(f"{'MATCH' if ok else 'NO MATCH'}: {len(args.files) - mismatches}/{len(args.files)} "
          f"captions equal, largest probability difference {worst:.2e} "
          f"(tolerance {args.tolerance:g})")
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("verb", choices=["caption", "check", "bench"])
    ap.add_argument("args", nargs="+", help="files (check: the seesay JSON lines first)")
    ap.add_argument("--model", default=os.path.join(ROOT, "assets", "model"))
    ap.add_argument("--encoder", default=None,
                    help="encoder safetensors (default: MODEL/encoder.safetensors, "
                         "else the bundled assets/encoder file)")
    ap.add_argument("--beam", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--tolerance", type=float, default=1e-3)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    encoder = args.encoder or os.path.join(args.model, "encoder.safetensors")
    if not os.path.exists(encoder):
        encoder = os.path.join(ROOT, "assets", "encoder", "efficientnet-lite0.safetensors")
    cap = Captioner(args.model, encoder)
    with torch.inference_mode():
        if args.verb == "check":
            args.seesay, args.files = args.args[0], args.args[1:]
            return cmd_check(cap, args)
        args.files = args.args
        if args.verb == "bench":
            return cmd_bench(cap, args)
        for path in args.files:
            print(json.dumps(cap.as_json(path, cap.caption_file(path, args.beam))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
