"""Independent numpy reference forward pass of EfficientNet-Lite0 (NCHW).

Reads the safetensors file written by tools/convert_efficientnet.py. Computes in
float64 by default so it serves as ground truth for the float32 Rust encoder.

Architecture: stem conv3x3/s2 (3->32) + BN + ReLU6; 16 MBConv blocks (no SE,
ReLU6, residual when stride 1 and in == out); head conv1x1 320->1280 + BN +
ReLU6; global average pool; fc 1280->1000. BatchNorm eps 1e-3, TF "same"
padding (extra row/column at the bottom/right).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_efficientnet import block_specs, read_safetensors  # noqa: E402

BN_EPS = 1e-3


def same_pad(size, k, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return out, total // 2, total - total // 2


def pad_same(x, k, stride):
    _, _, h, w = x.shape
    oh, pt, pb = same_pad(h, k, stride)
    ow, pl, pr = same_pad(w, k, stride)
    if pt or pb or pl or pr:
        x = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    return x, oh, ow


def conv2d(x, w, stride):
    """Dense conv, TF same padding, no bias. x (N,C,H,W), w (O,C,k,k)."""
    k = w.shape[2]
    if k == 1 and stride == 1:
        return np.einsum("nchw,oc->nohw", x, w[:, :, 0, 0], optimize=True)
    xp, oh, ow = pad_same(x, k, stride)
    # im2col: (N, C, k, k, oh, ow)
    cols = np.empty(x.shape[:2] + (k, k, oh, ow), dtype=x.dtype)
    for i in range(k):
        for j in range(k):
            cols[:, :, i, j] = xp[:, :, i:i + stride * (oh - 1) + 1:stride,
                                  j:j + stride * (ow - 1) + 1:stride]
    return np.tensordot(cols, w, axes=([1, 2, 3], [1, 2, 3])).transpose(0, 3, 1, 2)


def depthwise(x, w, stride):
    """Depthwise conv, TF same padding. x (N,C,H,W), w (C,1,k,k)."""
    k = w.shape[2]
    xp, oh, ow = pad_same(x, k, stride)
    out = np.zeros(x.shape[:2] + (oh, ow), dtype=x.dtype)
    for i in range(k):
        for j in range(k):
            out += xp[:, :, i:i + stride * (oh - 1) + 1:stride,
                      j:j + stride * (ow - 1) + 1:stride] * w[None, :, 0, i, j, None, None]
    return out


def relu6(x):
    return np.clip(x, 0.0, 6.0)


class EfficientNetLite0:
    def __init__(self, weights_path, dtype=np.float64):
        self.dtype = dtype
        self.w = {k: v.astype(dtype) for k, v in read_safetensors(weights_path).items()}
        self.blocks = block_specs()

    def bn(self, x, prefix):
        w = self.w
        scale = w[prefix + ".weight"] / np.sqrt(w[prefix + ".running_var"] + BN_EPS)
        shift = w[prefix + ".bias"] - w[prefix + ".running_mean"] * scale
        return x * scale[None, :, None, None] + shift[None, :, None, None]

    def features(self, x):
        """x: (N,3,224,224) normalised input -> (N,1280) pooled feature."""
        w = self.w
        x = x.astype(self.dtype)
        x = relu6(self.bn(conv2d(x, w["_conv_stem.weight"], 2), "_bn0"))
        for i, b in enumerate(self.blocks):
            p = f"_blocks.{i}"
            inp = x
            if b["expand"] != 1:
                x = relu6(self.bn(conv2d(x, w[p + "._expand_conv.weight"], 1), p + "._bn0"))
            x = relu6(self.bn(depthwise(x, w[p + "._depthwise_conv.weight"], b["stride"]),
                              p + "._bn1"))
            x = self.bn(conv2d(x, w[p + "._project_conv.weight"], 1), p + "._bn2")
            if b["stride"] == 1 and b["in_ch"] == b["out_ch"]:
                x = x + inp
        x = relu6(self.bn(conv2d(x, w["_conv_head.weight"], 1), "_bn1"))
        return x.mean(axis=(2, 3))

    def logits(self, feat):
        return feat @ self.w["_fc.weight"].T + self.w["_fc.bias"]

    def __call__(self, x):
        feat = self.features(x)
        logits = self.logits(feat)
        return feat, logits, softmax(logits)


def softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
