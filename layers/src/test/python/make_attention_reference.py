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
