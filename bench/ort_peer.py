"""The ONNX Runtime peer: seesay's model as ONNX graphs, run by ONNX Runtime on the CPU.

The graphs are built here with `onnx.helper` from the same safetensors files seesay loads (no
torch): the encoder (EfficientNet-Lite0 with every BatchNorm folded into its convolution, as
seesay folds it, and TensorFlow "same" padding as explicit Pad nodes), the decoder's image
state and one decoder step. Pillow prepares the image and numpy runs the same beam search as
seesay (src/decode/beam.rs) and bench/peer.py.

    python bench/ort_peer.py caption FILE...              # captions as JSON lines
    python bench/ort_peer.py check SEESAY.jsonl FILE...   # same captions and probabilities?
    python bench/ort_peer.py bench FILE... --threads N    # stage timings, as `seesay bench --json`

Threads: the three sessions share one global intra-op pool of N threads (`--pool shared`), or
each has its own pool with spinning off (`--pool nospin`); ORT's default, one spinning pool per
session, oversubscribes two cores when the sessions take turns.
"""
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file

from common import ROOT, SIZE, Peer, arguments, encoder_path, read_model, run

sys.path.insert(0, os.path.join(ROOT, "tools"))
from convert_efficientnet import block_specs  # noqa: E402

BN_EPS = np.float32(1e-3)
OPSET = 17


class Graph:
    """Collects nodes and initialisers; names are made unique by a counter."""

    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def name(self, stem):
        self.n += 1
        return f"{stem}_{self.n}"

    def const(self, array, stem="c"):
        name = self.name(stem)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, kind, inputs, outputs=1, **attrs):
        outs = [self.name(kind) for _ in range(outputs)]
        self.nodes.append(helper.make_node(kind, inputs, outs, **attrs))
        return outs[0] if outputs == 1 else outs

    def model(self, inputs, outputs):
        g = helper.make_graph(self.nodes, "seesay", inputs, outputs, self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)])
        m.ir_version = 9
        onnx.checker.check_model(m)
        return m.SerializeToString()


def fold(w, conv, bn):
    """A convolution's weight and bias with its BatchNorm folded in, in f32 as seesay does."""
    weight = w[conv + ".weight"].astype(np.float32)
    scale = w[bn + ".weight"] / np.sqrt(w[bn + ".running_var"] + BN_EPS)
    bias = w[bn + ".bias"] - w[bn + ".running_mean"] * scale
    return (weight * scale[:, None, None, None]).astype(np.float32), bias.astype(np.float32)


def same_padding(size, k, stride):
    """TensorFlow 'same' padding: (before, after); the extra one goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


def conv(g, x, w, conv_key, bn_key, size, stride=1, groups=1, relu6=True):
    weight, bias = fold(w, conv_key, bn_key)
    k = weight.shape[2]
    if k > 1:
        before, after = same_padding(size, k, stride)
        pads = g.const(np.array([0, 0, before, before, 0, 0, after, after], np.int64), "pads")
        x = g.op("Pad", [x, pads])
    y = g.op("Conv", [x, g.const(weight, "w"), g.const(bias, "b")], kernel_shape=[k, k],
             strides=[stride, stride], group=groups)
    if relu6:
        y = g.op("Clip", [y, g.const(np.float32(0), "lo"), g.const(np.float32(6), "hi")])
    return y, -(-size // stride)


def encoder_graph(path):
    """(N, 3, 224, 224) normalised pixels -> (N, 1280) pooled feature."""
    w = load_file(path)
    g = Graph()
    y, size = conv(g, "pixels", w, "_conv_stem", "_bn0", SIZE, stride=2)
    for i, spec in enumerate(block_specs()):
        p = f"_blocks.{i}"
        mid = spec["in_ch"] * spec["expand"]
        h = y
        if spec["expand"] != 1:
            h, _ = conv(g, h, w, p + "._expand_conv", p + "._bn0", size)
        h, out_size = conv(g, h, w, p + "._depthwise_conv", p + "._bn1", size, spec["stride"], mid)
        h, _ = conv(g, h, w, p + "._project_conv", p + "._bn2", out_size, relu6=False)
        if spec["stride"] == 1 and spec["in_ch"] == spec["out_ch"]:
            h = g.op("Add", [h, y])
        y, size = h, out_size
    y, _ = conv(g, y, w, "_conv_head", "_bn1", size)
    pooled = g.op("GlobalAveragePool", [y])
    g.nodes.append(helper.make_node("Flatten", [pooled], ["features"], axis=1))
    return g.model(
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["N", 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 1280])])


def linear(g, x, w, key):
    """x @ weight.T + bias, as one Gemm."""
    return g.op("Gemm", [x, g.const(w[key + ".weight"], "w"), g.const(w[key + ".bias"], "b")],
                transB=1)


def lstm_cell(g, gates, c_prev, hidden):
    """PyTorch's gate order i, f, g, o; c_prev None means a zero cell state."""
    i, f, gg, o = g.op("Split", [gates, g.const(np.array([hidden] * 4, np.int64), "split")],
                       outputs=4, axis=1)
    c = g.op("Mul", [g.op("Sigmoid", [i]), g.op("Tanh", [gg])])
    if c_prev is not None:
        c = g.op("Add", [g.op("Mul", [g.op("Sigmoid", [f]), c_prev]), c])
    h = g.op("Mul", [g.op("Sigmoid", [o]), g.op("Tanh", [c])])
    return h, c


def decoder_graphs(path, cfg):
    """The image state (features -> h, c, merged) and one step (tokens, h, c, merged ->
    log-probabilities, h, c)."""
    w = {k: v.astype(np.float32) for k, v in load_file(path).items()}
    hid, feat = cfg["hidden_dim"], cfg["feature_dim"]
    bias = w["lstm.bias_ih_l0"] + w["lstm.bias_hh_l0"]
    f32 = TensorProto.FLOAT

    g = Graph()
    x = linear(g, "features", w, "img_proj")
    gates = g.op("Gemm", [x, g.const(w["lstm.weight_ih_l0"], "w"), g.const(bias, "b")], transB=1)
    h, c = lstm_cell(g, gates, None, hid)
    g.nodes.append(helper.make_node("Identity", [h], ["h"]))
    g.nodes.append(helper.make_node("Identity", [c], ["c"]))
    outs = [helper.make_tensor_value_info(n, f32, ["B", hid]) for n in ("h", "c")]
    if cfg.get("merge_image"):
        g.nodes.append(helper.make_node("Identity", [linear(g, "features", w, "img_out")],
                                        ["merged"]))
        outs.append(helper.make_tensor_value_info("merged", f32, ["B", hid]))
    init = g.model([helper.make_tensor_value_info("features", f32, ["B", feat])], outs)

    g = Graph()
    x = g.op("Gather", [g.const(w["embed.weight"], "embed"), "tokens"], axis=0)
    gates = g.op("Add", [
        g.op("Gemm", [x, g.const(w["lstm.weight_ih_l0"], "w"), g.const(bias, "b")], transB=1),
        g.op("Gemm", ["h", g.const(w["lstm.weight_hh_l0"], "w")], transB=1)])
    h, c = lstm_cell(g, gates, "c", hid)
    top = g.op("Add", [h, "merged"]) if cfg.get("merge_image") else h
    g.nodes.append(helper.make_node("LogSoftmax", [linear(g, top, w, "out")], ["log_probs"],
                                    axis=1))
    g.nodes.append(helper.make_node("Identity", [h], ["h_next"]))
    g.nodes.append(helper.make_node("Identity", [c], ["c_next"]))
    ins = [helper.make_tensor_value_info("tokens", TensorProto.INT64, ["B"]),
           helper.make_tensor_value_info("h", f32, ["B", hid]),
           helper.make_tensor_value_info("c", f32, ["B", hid])]
    if cfg.get("merge_image"):
        ins.append(helper.make_tensor_value_info("merged", f32, ["B", hid]))
    step = g.model(ins, [
        helper.make_tensor_value_info("log_probs", f32, ["B", cfg["vocab_size"]]),
        helper.make_tensor_value_info("h_next", f32, ["B", hid]),
        helper.make_tensor_value_info("c_next", f32, ["B", hid])])
    return init, step


def session_options(threads, pool):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    if pool == "shared":
        so.use_per_session_threads = False
    else:
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return so


class Decoder:
    """The two decoder sessions behind a step(tokens, state) seam, as in peer.py."""

    def __init__(self, init, step, vocab):
        self.init, self.step_s, self.vocab = init, step, vocab
        self.merged = "merged" in [o.name for o in init.get_outputs()]

    def image_state(self, features):
        out = self.init.run(None, {"features": features})
        return tuple(out) if self.merged else (out[0], out[1], None)

    def step(self, tokens, state):
        h, c, merged = state
        feed = {"tokens": np.asarray(tokens, np.int64), "h": h, "c": c}
        if merged is not None:
            feed["merged"] = merged
        log_probs, h, c = self.step_s.run(None, feed)
        return log_probs, (h, c, merged)

    @staticmethod
    def select(state, rows):
        h, c, merged = state
        return h[rows], c[rows], None if merged is None else merged[rows]


class Captioner(Peer):
    def __init__(self, model_dir, encoder_path, threads, pool):
        self.config, self.words = read_model(model_dir)
        cfg = self.config["decoder"]
        if pool == "shared":
            ort.set_global_thread_pool_sizes(threads, 1)
        so = session_options(threads, pool)
        cpu = ["CPUExecutionProvider"]
        self.encoder = ort.InferenceSession(encoder_graph(encoder_path), so, providers=cpu)
        init, step = decoder_graphs(os.path.join(model_dir, "decoder.safetensors"), cfg)
        self.decoder = Decoder(ort.InferenceSession(init, so, providers=cpu),
                               ort.InferenceSession(step, so, providers=cpu), cfg["vocab_size"])
        norm = self.config["encoder"]["normalization"]
        self.mean = np.array(norm["mean"], np.float32).reshape(1, 3, 1, 1)
        self.std = np.array(norm["std"], np.float32).reshape(1, 3, 1, 1)

    def encode(self, pixels):
        return self.encoder.run(None, {"pixels": pixels})[0]


def main():
    ap = arguments(__doc__.splitlines()[0], tolerance=1e-5, threads=1)
    ap.add_argument("--pool", choices=["shared", "nospin"], default="shared")
    args = ap.parse_args()
    cap = Captioner(args.model, encoder_path(args), args.threads, args.pool)
    return run(cap, args, f"onnxruntime {ort.__version__} ({args.pool} pool)", args.threads)


if __name__ == "__main__":
    sys.exit(main())
