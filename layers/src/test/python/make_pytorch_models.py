"""Writes PyTorch models' state dicts as safetensors, with an input batch and PyTorch's output for
it, for PyTorchWeightsTest (layers/src/test/resources/io/jgrad/layers/pytorch/).

Debian 12's python3-torch (1.13.1) has no safetensors package, so the files are assembled here in
the format's layout; every number in them comes from torch. Models are float64 so that jgrad's
outputs can be held to PyTorch's at 1e-6 whatever the order of the sums.
    /usr/bin/python3 layers/src/test/python/make_pytorch_models.py
"""
import json
import struct
import torch
from torch import nn

DT = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}
OUT = "layers/src/test/resources/io/jgrad/layers/pytorch/"


def save(path, tensors):
    header, data, offset = {}, b"", 0
    for name, t in tensors.items():
        raw = t.detach().contiguous().numpy().tobytes()
        header[name] = {"dtype": DT[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        data += raw
        offset += len(raw)
    header["__metadata__"] = {"format": "pt", "torch": torch.__version__}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(OUT + path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)


if __name__ == "__main__":
    torch.manual_seed(22)
    models = {
        "mlp": (nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4)), lambda: torch.randn(5, 8)),
        "cnn": (nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(4 * 4 * 4, 3)), lambda: torch.randn(6, 1, 8, 8)),
        "embedding": (nn.Sequential(nn.Embedding(10, 6), nn.LayerNorm(6), nn.Linear(6, 2), nn.Tanh()),
                      lambda: torch.randint(0, 10, (3, 5))),
    }
    for name, (model, make_input) in models.items():
        model = model.double()
        model.train()
        with torch.no_grad():  # a few training-mode passes, so that batch norm's running statistics are not the defaults
            for _ in range(3):
                x = make_input()
                model(x.double() if x.is_floating_point() else x)
        model.eval()
        x = make_input()
        x = x.double() if x.is_floating_point() else x
        with torch.no_grad():
            y = model(x)
        save(name + ".safetensors", model.state_dict())
        save(name + "-io.safetensors", {"input": x, "output": y})
        print(name, list(model.state_dict().keys()))
