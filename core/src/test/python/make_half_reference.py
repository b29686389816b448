"""Writes core/src/test/resources/io/jgrad/io/half-reference.safetensors: float32 values rounded to
float16 and bfloat16 by PyTorch, with PyTorch's float32 view of each, for SafetensorsTest.

Debian 12's python3-torch (1.13.1) has no safetensors package, so the file is assembled here in
the format's layout (8-byte little-endian header length, JSON header, raw little-endian payloads);
every number in it comes from torch:
    /usr/bin/python3 core/src/test/python/make_half_reference.py
"""
import json
import struct
import torch

torch.manual_seed(20261202)
special = [0.0, -0.0, 1.0, -1.0, 0.1, 1 / 3, 65504.0, 65519.99, 65520.0, 1e5, -1e5, 6.1035156e-05, 6.0e-08,
           5.960464477539063e-08, 2.98e-08, 2.9802322387695312e-08, 1e-10, float("inf"), float("-inf"), float("nan"),
           3.4028234663852886e38, 1.17549435e-38, 1e-45, 1.0009765625, 1.00048828125, 1.00146484375, 2049.0, 2051.0,
           -2050.0, 255.5, 256.5, 1.00390625, 1.01171875, -7.0e-39]
source = torch.cat([torch.tensor(special, dtype=torch.float32), torch.randn(200) * 10,
                    torch.randn(200) * 1e-5, (torch.rand(100) - 0.5) * 1e6])
f16 = source.half()
bf16 = source.bfloat16()
tensors = {
    "source": ("F32", source.numpy().tobytes()),
    "f16": ("F16", f16.view(torch.int16).numpy().tobytes()),
    "bf16": ("BF16", bf16.view(torch.int16).numpy().tobytes()),
    "f16_as_f32": ("F32", f16.float().numpy().tobytes()),
    "bf16_as_f32": ("F32", bf16.float().numpy().tobytes()),
}
header, data, offset = {}, b"", 0
for name, (dtype, raw) in tensors.items():
    header[name] = {"dtype": dtype, "shape": [source.numel()], "data_offsets": [offset, offset + len(raw)]}
    data += raw
    offset += len(raw)
header["__metadata__"] = {"torch": torch.__version__}
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * (-len(h) % 8)
path = "core/src/test/resources/io/jgrad/io/half-reference.safetensors"
with open(path, "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + data)
print(path, len(h) + 8 + len(data), "bytes")
