"""Reference cases for AttentionTest: PyTorch 1.13's nn.MultiheadAttention in float64 (cross
attention, key padding and attention masks, random biases), its outputs, averaged weights and the
gradients of a fixed weighted sum of the outputs with respect to query, key, value and every
parameter; and a causal scaled dot-product attention written out in torch.
    /usr/bin/python3 layers/src/test/python/make_attention_reference.py
"""
import math
import torch
from torch import nn
from make_pytorch_models import save

torch.manual_seed(24)
E, H, L, S, N = 8, 2, 4, 5, 3
m = nn.MultiheadAttention(E, H, batch_first=False).double()
with torch.no_grad():
    m.in_proj_bias.normal_()
    m.out_proj.bias.normal_()
q = torch.randn(L, N, E, dtype=torch.float64, requires_grad=True)
k = torch.randn(S, N, E, dtype=torch.float64, requires_grad=True)
v = torch.randn(S, N, E, dtype=torch.float64, requires_grad=True)
pad = torch.zeros(N, S, dtype=torch.bool)
pad[0, 4] = True
pad[2, 0] = True
blocked = torch.zeros(L, S, dtype=torch.bool)
blocked[1, 2] = True
blocked[3, 0] = True
out, weights = m(q, k, v, key_padding_mask=pad, attn_mask=blocked)
r = torch.randn_like(out)
(out * r).sum().backward()
t = {"query": q.detach(), "key": k.detach(), "value": v.detach(), "key_padding": pad.long(), "blocked": blocked.long(),
     "output": out.detach(), "weights": weights.detach(), "r": r,
     "grad.query": q.grad, "grad.key": k.grad, "grad.value": v.grad}
for name, p in m.named_parameters():
    t["grad." + name] = p.grad
save("../recurrent/mha.safetensors", {k2: v2.detach() for k2, v2 in m.state_dict().items()})
save("../recurrent/mha-io.safetensors", t)

# causal self-attention on [2, 3, 6, 4] (batch, heads, length, width), written out
x = torch.randn(2, 3, 6, 4, dtype=torch.float64)
scores = x @ x.transpose(-1, -2) / math.sqrt(4)
scores = scores.masked_fill(torch.ones(6, 6, dtype=torch.bool).triu(1), float("-inf"))
save("../recurrent/sdpa-io.safetensors", {"x": x, "output": scores.softmax(-1) @ x})
print(sorted(m.state_dict().keys()))

# Conv1d, and Transformer encoder layers (post-norm ReLU, pre-norm GELU), dropout 0, float64
torch.manual_seed(25)
conv = nn.Conv1d(3, 4, 3, stride=2, padding=1, dilation=2).double()
x = torch.randn(2, 3, 9, dtype=torch.float64, requires_grad=True)
y = conv(x)
r = torch.randn_like(y)
(y * r).sum().backward()
save("../recurrent/conv1d.safetensors", {k2: v2.detach() for k2, v2 in conv.state_dict().items()})
save("../recurrent/conv1d-io.safetensors", {"input": x.detach(), "output": y.detach(), "r": r, "grad.input": x.grad,
                                            "grad.weight": conv.weight.grad, "grad.bias": conv.bias.grad})
for name, first, act in (("encoder-post", False, "relu"), ("encoder-pre", True, "gelu")):
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, activation=act, batch_first=True,
                                       norm_first=first).double()
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(torch.randn_like(p) * 0.1)  # not the defaults: biases and norms away from 0 and 1
    layer.eval()
    x = torch.randn(3, 5, 8, dtype=torch.float64, requires_grad=True)
    pad = torch.zeros(3, 5, dtype=torch.bool)
    pad[1, 4] = True
    y = layer(x, src_key_padding_mask=pad)
    r = torch.randn_like(y)
    (y * r).sum().backward()
    t = {"input": x.detach(), "key_padding": pad.long(), "output": y.detach(), "r": r, "grad.input": x.grad}
    for k2, p in layer.named_parameters():
        t["grad." + k2] = p.grad
    save("../recurrent/" + name + ".safetensors", {k2: v2.detach() for k2, v2 in layer.state_dict().items()})
    save("../recurrent/" + name + "-io.safetensors", t)
    print(name, sorted(layer.state_dict().keys()))
