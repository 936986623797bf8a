#!/usr/bin/env bash
# Quick start: installs what seesay needs, builds it, and captions the bundled example photos.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cargo build --release
./target/release/seesay caption assets/examples/*.jpg
