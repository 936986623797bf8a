"""The PyTorch peer: seesay's model, preprocessing and beam search, written the usual way.

It loads the same safetensors files as seesay, builds the same network with torch.nn
(EfficientNet-Lite0 with BatchNorm folded into the convolutions, as seesay does, then the
Show-and-Tell LSTM decoder), preprocesses with Pillow and runs the same beam search. It is
eager PyTorch on the CPU: no TorchScript, no compile, as most Python captioning code runs.

    python bench/peer.py caption FILE...            # captions as JSON lines (like seesay --json)
    python bench/peer.py check SEESAY.jsonl FILE... # same captions and probabilities as seesay?
    python bench/peer.py bench FILE... --threads N  # stage timings, as `seesay bench --json`
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

from common import ROOT, Peer, arguments, encoder_path, read_model, run

sys.path.insert(0, os.path.join(ROOT, "tools"))
from convert_efficientnet import block_specs  # noqa: E402

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

    @property
    def vocab(self):
        return self.out.out_features

    def step(self, tokens, state):
        """One step for a list of tokens: numpy log-probabilities (the beam search is
        bench/common.py's) and the new state."""
        h, c, merged = state
        y, (h, c) = self.lstm(self.embed(torch.tensor(tokens)).unsqueeze(1), (h, c))
        top = y[:, 0] if merged is None else y[:, 0] + merged
        return F.log_softmax(self.out(top), dim=-1).numpy(), (h, c, merged)

    @staticmethod
    def select(state, rows):
        h, c, merged = state
        idx = torch.tensor(rows)
        return h[:, idx], c[:, idx], None if merged is None else merged[idx]


class Captioner(Peer):
    def __init__(self, model_dir, encoder_path):
        self.config, self.words = read_model(model_dir)
        self.encoder = EfficientNetLite0(encoder_path).eval()
        self.decoder = Decoder(os.path.join(model_dir, "decoder.safetensors"),
                               self.config["decoder"]).eval()
        norm = self.config["encoder"]["normalization"]
        self.mean = np.array(norm["mean"], np.float32).reshape(1, 3, 1, 1)
        self.std = np.array(norm["std"], np.float32).reshape(1, 3, 1, 1)

    def encode(self, pixels):
        return self.encoder(torch.from_numpy(pixels))


def main():
    ap = arguments(__doc__.splitlines()[0], tolerance=1e-3, threads=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    cap = Captioner(args.model, encoder_path(args))
    with torch.inference_mode():
        return run(cap, args, f"pytorch {torch.__version__}", torch.get_num_threads())


if __name__ == "__main__":
    sys.exit(main())
