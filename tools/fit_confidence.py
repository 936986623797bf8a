#!/usr/bin/env python3
"""Fits seesay's confidence calibration (assets/confidence.json) and reports how good it is.

A logistic regression maps the signals seesay computes for every description (see
src/confidence.rs) to the chance the description is right. Labels:
  * Flickr8k dev (`seesay eval --split dev --per-image F`): right when the caption's own
    CIDEr-D against the five human captions is at least --cider-min (0.5 by default, about the
    corpus mean of today's model; a human caption scores 0.79 on average).
  * ImageNet sample (`tools/imagenet_eval.py --out F`): right when the spoken description names
    the photo's object at a useful level.
The reported AUROC and reliability table are out-of-fold (5-fold cross-validation), so they
are not measured on the data each fold was fitted on; the shipped weights are then fitted on
everything. Thresholds for the wording are chosen from the out-of-fold predictions:
  sure_min      the lowest probability from which at least --sure-precision of descriptions
                are right ("said plainly");
  unsure_below  --unsure-below itself: the model is calibrated (see the reliability table), so
                below it fewer than about that share of descriptions are right ("I'm not sure").
Standard library only.
"""

import argparse
import json
import math
import random

FEATURES = [
    "mean_log_prob",
    "min_word_prob",
    "share",
    "agreement",
    "object_prob",
    "class_prob",
    "names_object",
    "guided",
]


def load_flickr(path, cider_min):
    rows = []
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if r.get("cider_d") is None:
                continue
            rows.append(([r["signals"][k] for k in FEATURES], int(r["cider_d"] >= cider_min), "flickr8k-dev"))
    return rows


def load_imagenet(path):
    rows = []
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            out = r.get("seesay") or {}
            sig = (out.get("confidence") or {}).get("signals")
            if sig is None:
                continue
            rows.append(([sig[k] for k in FEATURES], int(bool(r["named"])), "imagenet-sample"))
    return rows


def standardise(xs):
    n = len(xs)
    mean = [sum(x[j] for x in xs) / n for j in range(len(FEATURES))]
    scale = []
    for j in range(len(FEATURES)):
        var = sum((x[j] - mean[j]) ** 2 for x in xs) / n
        scale.append(math.sqrt(var) if var > 1e-12 else 1.0)
    return mean, scale


def sigmoid(z):
    if z < -60:
        return 0.0
    if z > 60:
        return 1.0
    return 1.0 / (1.0 + math.exp(-z))


def solve(a, b):
    """Gaussian elimination with partial pivoting."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        piv = m[c][c]
        if abs(piv) < 1e-12:
            continue
        for r in range(n):
            if r != c:
                f = m[r][c] / piv
                for k in range(c, n + 1):
                    m[r][k] -= f * m[c][k]
    return [m[i][n] / m[i][i] if abs(m[i][i]) > 1e-12 else 0.0 for i in range(n)]


def fit(xs, ys, l2):
    """L2-regularised logistic regression by Newton's method on standardised features."""
    mean, scale = standardise(xs)
    zs = [[(x[j] - mean[j]) / scale[j] for j in range(len(FEATURES))] + [1.0] for x in xs]
    d = len(FEATURES) + 1
    w = [0.0] * d
    for _ in range(50):
        grad = [0.0] * d
        hess = [[0.0] * d for _ in range(d)]
        for z, y in zip(zs, ys):
            p = sigmoid(sum(a * b for a, b in zip(w, z)))
            g = p - y
            s = p * (1 - p)
            for i in range(d):
                grad[i] += g * z[i]
                for k in range(d):
                    hess[i][k] += s * z[i] * z[k]
        for i in range(d - 1):  # the intercept is not shrunk
            grad[i] += l2 * w[i]
            hess[i][i] += l2
        step = solve(hess, grad)
        w = [a - b for a, b in zip(w, step)]
        if max(abs(s) for s in step) < 1e-8:
            break
    return {"mean": mean, "scale": scale, "weights": w[:-1], "bias": w[-1]}


def predict(model, x):
    z = sum((x[j] - model["mean"][j]) / model["scale"][j] * model["weights"][j] for j in range(len(FEATURES)))
    return sigmoid(z + model["bias"])


def auroc(scores, labels):
    pairs = sorted(zip(scores, labels))
    pos = sum(labels)
    neg = len(labels) - pos
    if pos == 0 or neg == 0:
        return float("nan")
    rank_sum = 0.0
    i = 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        avg_rank = (i + j + 1) / 2.0
        rank_sum += avg_rank * sum(l for _, l in pairs[i:j])
        i = j
    return (rank_sum - pos * (pos + 1) / 2.0) / (pos * neg)


def out_of_fold(rows, l2, folds, seed):
    idx = list(range(len(rows)))
    random.Random(seed).shuffle(idx)
    preds = [0.0] * len(rows)
    for f in range(folds):
        test = set(idx[f::folds])
        train = [rows[i] for i in idx if i not in test]
        model = fit([r[0] for r in train], [r[1] for r in train], l2)
        for i in test:
            preds[i] = predict(model, rows[i][0])
    return preds


def reliability(preds, labels, bins=10):
    table = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        sel = [l for p, l in zip(preds, labels) if lo <= p < hi or (b == bins - 1 and p == 1.0)]
        if sel:
            mean_p = sum(p for p, _ in zip(preds, labels) if lo <= p < hi or (b == bins - 1 and p == 1.0)) / len(sel)
            table.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": len(sel), "predicted": mean_p, "right": sum(sel) / len(sel)})
    return table


def choose_thresholds(preds, labels, sure_precision, unsure_below):
    order = sorted(zip(preds, labels), reverse=True)
    sure_min = 1.0
    right = 0
    for n, (p, l) in enumerate(order, 1):
        right += l
        if right / n >= sure_precision:
            sure_min = p
    return sure_min, min(unsure_below, sure_min)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--flickr", required=True, help="per-image JSONL from seesay eval --split dev --per-image")
    ap.add_argument("--imagenet", required=True, help="per-image JSONL from tools/imagenet_eval.py --out")
    ap.add_argument("--out", default="assets/confidence.json")
    ap.add_argument("--report", help="write the report (markdown) here")
    ap.add_argument("--cider-min", type=float, default=0.5)
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--sure-precision", type=float, default=0.85)
    ap.add_argument("--unsure-below", type=float, default=0.35)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    rows = load_flickr(args.flickr, args.cider_min) + load_imagenet(args.imagenet)
    labels = [r[1] for r in rows]
    preds = out_of_fold(rows, args.l2, 5, args.seed)
    sure_min, unsure_below = choose_thresholds(preds, labels, args.sure_precision, args.unsure_below)
    model = fit([r[0] for r in rows], labels, args.l2)

    lines = ["| set | images | right | AUROC (out-of-fold) |", "| --- | --- | --- | --- |"]
    for name in ["flickr8k-dev", "imagenet-sample", "all"]:
        sel = [i for i, r in enumerate(rows) if name == "all" or r[2] == name]
        ys = [labels[i] for i in sel]
        ps = [preds[i] for i in sel]
        lines.append(f"| {name} | {len(sel)} | {sum(ys) / len(sel):.3f} | {auroc(ps, ys):.3f} |")
    lines += ["", "| predicted | images | mean predicted | share right |", "| --- | --- | --- | --- |"]
    for r in reliability(preds, labels):
        lines.append(f"| {r['bin']} | {r['n']} | {r['predicted']:.3f} | {r['right']:.3f} |")
    lines += ["", "| wording | threshold | images | share right |", "| --- | --- | --- | --- |"]
    for name, sel in [
        ("plain (sure)", [i for i, p in enumerate(preds) if p >= sure_min]),
        ("Probably", [i for i, p in enumerate(preds) if unsure_below <= p < sure_min]),
        ("I'm not sure", [i for i, p in enumerate(preds) if p < unsure_below]),
    ]:
        share = sum(labels[i] for i in sel) / len(sel) if sel else float("nan")
        thr = {"plain (sure)": f">= {sure_min:.3f}", "Probably": f"{unsure_below:.3f}-{sure_min:.3f}", "I'm not sure": f"< {unsure_below:.3f}"}[name]
        lines.append(f"| {name} | {thr} | {len(sel)} | {share:.3f} |")
    lines += ["", "Weights (standardised features): " + ", ".join(f"{k} {w:+.3f}" for k, w in zip(FEATURES, model["weights"])) + f"; bias {model['bias']:+.3f}"]
    report = "\n".join(lines)
    print(report)
    if args.report:
        with open(args.report, "w") as f:
            f.write(report + "\n")

    out = {
        "source": "tools/fit_confidence.py: logistic regression on Flickr8k dev (right = per-image "
        f"CIDEr-D >= {args.cider_min}) and the ImageNet sample (right = the object is named); "
        f"l2 {args.l2}; thresholds from out-of-fold predictions (plain: >= {args.sure_precision:.0%} right; "
        f"'not sure': below a calibrated {args.unsure_below})",
        "features": FEATURES,
        "mean": model["mean"],
        "scale": model["scale"],
        "weights": model["weights"],
        "bias": model["bias"],
        "sure_min": sure_min,
        "unsure_below": unsure_below,
    }
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
