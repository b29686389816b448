"""A file written by the reference implementation (the Python safetensors package, 0.8.0,
through safetensors.torch.save_file), for jgrad's compatibility test: jgrad must read it and,
given the same tensors and metadata, write the same bytes.

Regenerate:  python -m venv v --system-site-packages && v/bin/pip install safetensors==0.8.0
             v/bin/python make_fixture.py
It also checks, with the reference reader, a file jgrad wrote (jgrad_written.safetensors) when
that file is present (the Java test SafetensorsTest writes it to target/).
"""
import os
import sys

import torch
from safetensors import safe_open
from safetensors.torch import save_file

tensors = {
    "layer.weight": torch.arange(12, dtype=torch.float32).reshape(3, 4) / 8 - 0.5,
    "layer.bias": torch.tensor([1.5, -2.25, 3.0], dtype=torch.float64),
    "steps": torch.tensor([[7, -1], [2 ** 40, 0]], dtype=torch.int64),
    "scalar": torch.tensor(2.5, dtype=torch.float32),
    "empty": torch.zeros(0, 3, dtype=torch.float32),
}
save_file(tensors, "reference_written.safetensors", metadata={"format": "pt"})
print("wrote reference_written.safetensors")
if len(sys.argv) > 1 and os.path.exists(sys.argv[1]):
    with safe_open(sys.argv[1], framework="pt") as f:
        assert f.metadata() == {"format": "pt"}, f.metadata()
        for k in f.keys():
            assert torch.equal(f.get_tensor(k), tensors[k]), k
    print("the reference reader read", sys.argv[1], "and found the same tensors")

# A plain reader with nothing but json and struct, as the format's README describes it.
if len(sys.argv) > 1 and os.path.exists(sys.argv[1]):
    import json
    import struct

    raw = open(sys.argv[1], "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    codes = {"F32": ("f", 4), "F64": ("d", 8), "I64": ("q", 8)}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        code, size = codes[info["dtype"]]
        b, e = info["data_offsets"]
        values = struct.unpack("<%d%s" % ((e - b) // size, code), raw[8 + n + b:8 + n + e])
        assert list(values) == tensors[name].flatten().tolist(), name
    print("a plain json + struct reader read", sys.argv[1], "and found the same values")
