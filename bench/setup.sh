#!/usr/bin/env bash
# Makes bench/.venv with PyTorch (CPU use only) and ONNX Runtime for the peers; about 5 GB, since PyPI's
# Linux torch wheel carries the CUDA libraries. Run once; bench/compare.py uses it.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install --quiet -r requirements.txt
.venv/bin/python -c "import torch; print('PyTorch', torch.__version__, 'ready in bench/.venv')"
.venv/bin/python -c "import onnxruntime; print('ONNX Runtime', onnxruntime.__version__, 'ready')"
