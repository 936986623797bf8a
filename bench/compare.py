"""Runs seesay and a peer (PyTorch or ONNX Runtime) on the same files, on this machine, in one
run, and prints the seesay/peer time ratios (below 1: seesay is faster).

    bash bench/setup.sh                 # once: PyTorch and ONNX Runtime into bench/.venv
    bench/.venv/bin/python bench/compare.py [--peer pytorch|ort] [--threads 1 2] [--rounds 3]

First it checks that both programs give the same captions and probabilities on lossless
224x224 pictures (pixel-identical input), then it times each stage with 1 and 2 threads.
Each round runs both programs back to back and the medians of the rounds are compared, so
a drift in the machine's speed hits both sides. With `--peer ort` it also times a folder of
64 JPEGs captioned one at a time (bench/make_folder.py), and both sides run the plain beam
search (`--no-guide`), which is what the ONNX Runtime peer implements.
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEESAY = os.path.join(ROOT, "target", "release", "seesay")
PEERS = {
    "pytorch": [sys.executable, os.path.join(ROOT, "bench", "peer.py")],
    "ort": [sys.executable, os.path.join(ROOT, "bench", "ort_peer.py")],
}
NAMES = {"pytorch": "PyTorch", "ort": "ORT"}
EXACT = sorted(glob.glob(os.path.join(ROOT, "tests", "fixtures", "encoder", "*_224.png")))
PHOTOS = sorted(glob.glob(os.path.join(ROOT, "assets", "examples", "*.jpg")))
STAGES = ["preprocess_ms", "encoder_ms", "beam_ms", "end_to_end_ms"]


def run(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         env={**os.environ, **(env or {})})
    return out.stdout


def check(peer, model_args, extra):
    out = os.path.join(ROOT, "target", "bench-seesay.jsonl")
    with open(out, "w") as f:
        f.write(run([SEESAY, "caption", "--json", "--device", "cpu", *extra, *model_args,
                     *EXACT, *PHOTOS]))
    strict = subprocess.run(peer + ["check", out, *EXACT] + model_args, text=True)
    print("JPEG photos (decoders and resampling differ slightly, so this is for information):")
    subprocess.run(peer + ["check", out, *PHOTOS, "--tolerance", "1"] + model_args, text=True)
    return strict.returncode == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--model", help="model directory (default: the bundled model)")
    ap.add_argument("--peer", choices=["pytorch", "ort"], default="pytorch")
    ap.add_argument("--pool", choices=["shared", "nospin"], default="shared",
                    help="ORT's threads: one pool shared by its sessions, or per-session pools "
                         "that do not spin")
    args = ap.parse_args()
    model_args = ["--model", args.model] if args.model else []
    peer, name = PEERS[args.peer], NAMES[args.peer]
    ort = args.peer == "ort"
    extra = ["--no-guide", "--mode", "photo"] if ort else []
    if not os.path.exists(SEESAY):
        sys.exit("build seesay first: cargo build --release")
    if not check(peer, model_args, extra):
        sys.exit("the two programs disagree on pixel-identical input; timings would mean nothing")
    files = PHOTOS
    folder = []
    if ort:
        folder_dir = os.path.join(ROOT, "target", "bench-folder")
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "make_folder.py"),
                        folder_dir], check=True)
        folder = ["--folder", folder_dir]
    print(f"\n{os.cpu_count()} CPUs; {len(files)} photos; median of {args.reps} runs per stage "
          f"and file, median of {args.rounds} rounds; beam 3; ratio = seesay / {name}")
    for t in args.threads:
        rows = {"seesay": [], "peer": []}
        peer_args = ["--pool", args.pool] if ort else []
        for _ in range(args.rounds):
            rows["seesay"].append(json.loads(run(
                [SEESAY, "bench", "--json", "--device", "cpu", "--reps", str(args.reps),
                 *extra[:1], *folder, *model_args, *files], env={"RAYON_NUM_THREADS": str(t)})))
            rows["peer"].append(json.loads(run(
                peer + ["bench", "--threads", str(t), "--reps", str(args.reps), *files]
                + peer_args + folder + model_args, env={"OMP_NUM_THREADS": str(t)})))
        print(f"\n{t} thread(s)      seesay ms   {name:>7} ms   ratio")
        for stage in STAGES:
            a = statistics.median(r[stage] for r in rows["seesay"])
            b = statistics.median(r[stage] for r in rows["peer"])
            print(f"  {stage[:-3]:<13} {a:10.2f}   {b:10.2f}   {a / b:5.2f}")
        if folder:
            a = statistics.median(r["folder_images_per_s"] for r in rows["seesay"])
            b = statistics.median(r["folder_images_per_s"] for r in rows["peer"])
            print(f"  {'folder img/s':<13} {a:10.2f}   {b:10.2f}   {b / a:5.2f}  (time ratio)")
        print(f"  ({rows['peer'][0]['program']}, seesay threads {rows['seesay'][0]['threads']})")


if __name__ == "__main__":
    main()
