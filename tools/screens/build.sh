#!/usr/bin/env bash
# Rebuild the screenshot set: train (seed 1), dev (seed 3) and test (seed 2), 400 pictures each.
#
#   bash tools/screens/build.sh [OUT]        (default OUT: target/screens)
#
# Needs Debian `chromium` and the fonts in tools/screens/README.md; Python 3 stdlib only.
# Environment: SEESAY_PHOTOS (photos to embed, default the Flickr8k images folder),
# JOBS (Chromium processes, default 2), COUNT (pictures per split, default 400).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$root/target/screens}"
jobs="${JOBS:-2}"
count="${COUNT:-400}"
start=$(date +%s)
for spec in train:1 dev:3 test:2; do
  split="${spec%%:*}"
  seed="${spec##*:}"
  rm -rf "$out/$split"
  python3 "$here/generate.py" --out "$out/$split" --count "$count" --seed "$seed" --split "$split" --jobs "$jobs"
done
end=$(date +%s)
echo "built $out/train, $out/dev and $out/test in $((end - start)) s"
