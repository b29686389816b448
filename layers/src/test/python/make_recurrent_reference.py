"""Reference cases for RecurrentTest: PyTorch's nn.LSTM, nn.GRU, nn.RNN and their cells in float64
on fixed weights, with outputs, final states and the gradients of a fixed weighted sum of them
with respect to the input, the initial states and every parameter.
    /usr/bin/python3 layers/src/test/python/make_recurrent_reference.py
"""
import torch
from torch import nn
from make_pytorch_models import save

torch.manual_seed(23)
cases = {
    "lstm": nn.LSTM(4, 5, num_layers=2, batch_first=True),
    "gru": nn.GRU(4, 5, num_layers=2, batch_first=False),
    "rnn": nn.RNN(4, 5, num_layers=1, nonlinearity="relu", batch_first=True),
    "lstmcell": nn.LSTMCell(4, 5),
    "grucell": nn.GRUCell(4, 5),
}
for name, m in cases.items():
    m = m.double()
    cell = name.endswith("cell")
    if cell:
        x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
        h0 = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    else:
        x = torch.randn(3, 6, 4, dtype=torch.float64, requires_grad=True)
        h0 = torch.randn(m.num_layers, 6 if not m.batch_first else 3, 5, dtype=torch.float64)
        if m.batch_first:
            h0 = torch.randn(m.num_layers, 3, 5, dtype=torch.float64)
        else:  # sequence-first: x is [T=3, B=6, 4]
            h0 = torch.randn(m.num_layers, 6, 5, dtype=torch.float64)
        h0.requires_grad_(True)
    c0 = torch.randn_like(h0).requires_grad_(True) if "lstm" in name else None
    if name == "lstm":
        out, (hn, cn) = m(x, (h0, c0))
    elif name == "lstmcell":
        out, cn = m(x, (h0, c0))
        hn = out
    else:
        out = m(x, h0)
        if not cell:
            out, hn = out
        else:
            hn = out
        cn = None
    tensors = {"input": x.detach(), "h0": h0.detach(), "output": out.detach(), "h": hn.detach()}
    r1 = torch.randn_like(out)
    r2 = torch.randn_like(hn)
    loss = (out * r1).sum() + (hn * r2).sum() * (0 if cell else 1)
    tensors.update({"r_output": r1, "r_h": r2})
    if c0 is not None:
        r3 = torch.randn_like(cn)
        loss = loss + (cn * r3).sum()
        tensors.update({"c0": c0.detach(), "c": cn.detach(), "r_c": r3})
    loss.backward()
    tensors.update({"grad.input": x.grad, "grad.h0": h0.grad})
    if c0 is not None:
        tensors["grad.c0"] = c0.grad
    for k, p in m.named_parameters():
        tensors["grad." + k] = p.grad
    save("../recurrent/" + name + ".safetensors", {**{k: v.detach() for k, v in m.state_dict().items()}})
    save("../recurrent/" + name + "-io.safetensors", tensors)
    print(name, sorted(m.state_dict().keys()))
