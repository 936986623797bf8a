#!/usr/bin/env bash
# Makes a trained model directory the default model compiled into seesay: copies its config,
# vocabulary and decoder into assets/model/ (the encoder stays in assets/encoder/, and must be
# the same file the model was trained with). Usage: scripts/bundle-model.sh MODEL_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:?usage: scripts/bundle-model.sh MODEL_DIR}
want=$(sha256sum assets/encoder/efficientnet-lite0.safetensors | cut -d' ' -f1)
have=$(sha256sum "$src/encoder.safetensors" | cut -d' ' -f1)
if [ "$want" != "$have" ]; then
  echo "the model's encoder differs from assets/encoder/efficientnet-lite0.safetensors; not bundling" >&2
  exit 1
fi
mkdir -p assets/model
cp "$src/config.json" "$src/vocab.txt" "$src/decoder.safetensors" assets/model/
echo "bundled $src into assets/model/; rebuild with cargo build --release" >&2
