"""Reference values for jgrad's op tests, computed by PyTorch (float64).

Regenerate with Debian's interpreter:  /usr/bin/python3 make_reference.py > ops.txt
Each case lists its inputs and PyTorch's output (and, for "grad:" cases, the gradient of
sum(output * upstream) with respect to the first input, for the subgradient conventions).
Inputs come from numpy's seeded generator, so the file is reproducible (to the last bit or
so: another BLAS can round a product differently, so new cases are appended to ops.txt and the
earlier ones left as they were).
"""
import numpy as np
import torch

rng = np.random.default_rng(20261126)
cases = []


def t(*shape, lo=-2.0, hi=2.0):
    return torch.tensor(rng.uniform(lo, hi, size=shape), dtype=torch.float64)


def idx(values):
    return torch.tensor(values, dtype=torch.int64)


def case(name, fn, *inputs):
    out = fn(*inputs)
    cases.append((name, inputs, out))


def grad_case(name, fn, *inputs):
    x = inputs[0].clone().requires_grad_(True)
    out = fn(x, *inputs[1:])
    up = torch.tensor(rng.uniform(-1, 1, size=out.shape), dtype=torch.float64)
    (g,) = torch.autograd.grad((out * up).sum(), x)
    cases.append((name, (inputs[0], *inputs[1:], up), g))


a34, b4, c31 = t(3, 4), t(4), t(3, 1)
pos34 = t(3, 4, lo=0.1, hi=3.0)
case("neg", lambda x: -x, a34)
case("add_broadcast", lambda x, y: x + y, a34, b4)
case("sub_broadcast", lambda x, y: x - y, c31, b4)
case("mul_broadcast", lambda x, y: x * y, a34, c31)
case("div", lambda x, y: x / y, a34, pos34)
case("pow_2_5", lambda x: x ** 2.5, pos34)
case("pow_neg_1_5", lambda x: x ** -1.5, pos34)
case("exp", torch.exp, a34)
case("log", torch.log, pos34)
case("log1p", torch.log1p, pos34)
case("sqrt", torch.sqrt, pos34)
case("abs", torch.abs, a34)
case("tanh", torch.tanh, a34)
case("sigmoid", torch.sigmoid, t(3, 4, lo=-40, hi=40))
case("relu", torch.relu, a34)
case("clamp", lambda x: torch.clamp(x, -0.5, 0.7), a34)
case("maximum", torch.maximum, a34, b4)
case("minimum", torch.minimum, a34, c31)
case("sin", torch.sin, a34)
case("cos", torch.cos, a34)
case("sum_all", lambda x: x.sum(), a34)
case("sum_dim0", lambda x: x.sum(0), a34)
case("sum_dim1_keep", lambda x: x.sum(1, keepdim=True), a34)
case("mean_dim_neg1", lambda x: x.mean(-1), a34)
case("var_all", lambda x: x.var(), a34)
case("var_dim0", lambda x: x.var(0), a34)
case("var_dim1_biased_keep", lambda x: x.var(1, unbiased=False, keepdim=True), a34)
case("max_dim1_values", lambda x: x.max(1).values, a34)
case("max_dim1_indices", lambda x: x.max(1).indices, a34)
case("min_dim0_values", lambda x: x.min(0).values, a34)
case("argmax_dim0", lambda x: x.argmax(0), a34)
case("logsumexp_dim1", lambda x: torch.logsumexp(x, 1), a34)
case("logsumexp_big", lambda x: torch.logsumexp(x, 0), t(5, 2, lo=-1e4, hi=1e4))
case("softmax_dim1", lambda x: torch.softmax(x, 1), a34)
case("softmax_dim0", lambda x: torch.softmax(x, 0), a34)
case("log_softmax_dim1", lambda x: torch.log_softmax(x, 1), t(3, 4, lo=-30, hi=30))
a243 = t(2, 4, 3)
case("matmul_2d", torch.matmul, a34, t(4, 5))
case("matmul_batched_broadcast", torch.matmul, t(2, 1, 3, 4), t(3, 4, 2))
case("matmul_matrix_vector", torch.matmul, a34, b4)
case("matmul_vector_matrix", torch.matmul, b4, t(4, 3))
case("matmul_vector_vector", torch.matmul, b4, t(4))
case("transpose_contiguous", lambda x: x.transpose(0, 2).contiguous(), a243)
case("permute_contiguous", lambda x: x.permute(2, 0, 1).contiguous(), a243)
case("narrow", lambda x: x.narrow(1, 1, 2), a34)
case("slice_step", lambda x: x[:, 0:4:2], a34)
case("select", lambda x: x.select(1, -1), a243)
case("index_select", lambda x, i: x.index_select(0, i), a34, idx([2, 0, 2]))
case("gather", lambda x, i: x.gather(1, i), a34, idx([[0, 3], [1, 1], [2, 0]]))
case("scatter_add", lambda x, i, s: x.scatter_add(1, i, s), a34, idx([[0, 3], [1, 1], [2, 0]]), t(3, 2))
case("index_add", lambda x, i, s: x.index_add(0, i, s), a34, idx([2, 0, 2]), t(3, 4))
case("cat_dim1", lambda x, y: torch.cat([x, y], 1), a34, c31)
case("stack_dim1", lambda x, y: torch.stack([x, y], 1), a34, t(3, 4))
case("where", lambda m, x, y: torch.where(m != 0, x, y), torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=torch.float64), a34, c31)
case("expand_contiguous", lambda x: x.expand(2, 3, 4).contiguous(), c31)
case("erf", torch.erf, t(3, 4, lo=-5, hi=5))
case("im2col", lambda x: torch.nn.functional.unfold(x, 3, padding=1, stride=2).transpose(1, 2), t(2, 2, 5, 5))
case("im2col_dilated", lambda x: torch.nn.functional.unfold(x, (2, 3), dilation=(2, 1)).transpose(1, 2), t(1, 3, 5, 6))
case("one_hot", lambda i: torch.nn.functional.one_hot(i, 5), idx([[0, 4], [2, 2]]))
grad_case("grad:relu_at_zero", torch.relu, torch.tensor([-1.0, 0.0, 2.0], dtype=torch.float64))
grad_case("grad:abs_at_zero", torch.abs, torch.tensor([-1.0, 0.0, 2.0], dtype=torch.float64))
grad_case("grad:clamp_at_bounds", lambda x: torch.clamp(x, -0.5, 0.5), torch.tensor([-0.5, 0.0, 0.5, 0.9], dtype=torch.float64))
grad_case("grad:maximum_tie", lambda x, y: torch.maximum(x, y), torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64),
          torch.tensor([1.0, 5.0, 0.0], dtype=torch.float64))
grad_case("grad:logsumexp", lambda x: torch.logsumexp(x, 1), a34)
grad_case("grad:softmax", lambda x: torch.softmax(x, 1), a34)
grad_case("grad:log_softmax", lambda x: torch.log_softmax(x, 0), a34)
grad_case("grad:max_dim", lambda x: x.max(1).values, a34)
grad_case("grad:var_dim", lambda x: x.var(1), a34)
conv = torch.nn.functional.conv2d
case("conv2d", lambda x, w, b: conv(x, w, b, stride=2, padding=1), t(2, 3, 5, 6), t(4, 3, 3, 3), t(4))
case("conv2d_dilated_nobias", lambda x, w: conv(x, w, None, stride=(1, 2), padding=(0, 1), dilation=(2, 1)),
     t(1, 2, 6, 7), t(3, 2, 2, 3))
grad_case("grad:conv2d_input", lambda x, w: conv(x, w, None, stride=2, padding=1), t(2, 3, 5, 6), t(4, 3, 3, 3))
grad_case("grad:conv2d_weight", lambda w, x: conv(x, w, None, padding=1, dilation=2), t(4, 3, 3, 3), t(2, 3, 6, 6))

# added in the sixth session (appended, so the cases above keep their inputs)
case("reciprocal", torch.reciprocal, a34)
case("square", torch.square, a34)
case("pow_3", lambda x: x ** 3, a34)
case("pow_0", lambda x: x ** 0, a34)
case("mean_all", lambda x: x.mean(), a34)
case("max_all", lambda x: x.max(), a34)
case("min_all", lambda x: x.min(), a34)
case("std_dim1", lambda x: x.std(1), a34)
case("mean_dims01", lambda x: x.mean((0, 1)), a243)
case("sum_dims0_neg1_keep", lambda x: x.sum((0, -1), keepdim=True), a243)
case("logsumexp_dim0_keep", lambda x: torch.logsumexp(x, 0, keepdim=True), a34)
case("log_softmax_dim0", lambda x: torch.log_softmax(x, 0), a34)
case("min_dim0_keep_values", lambda x: x.min(0, keepdim=True).values, a34)
case("flatten_1_2", lambda x: x.flatten(1, 2), a243)
case("transpose_reshape", lambda x: x.t().reshape(-1), a34)
case("sum_to_1_3", lambda x: x.sum(0).sum(0, keepdim=True), a243)
case("max_pool2d", lambda x: torch.nn.functional.max_pool2d(x, 2, 2), t(2, 2, 5, 4))
case("max_pool2d_overlapping_padded", lambda x: torch.nn.functional.max_pool2d(x, 3, 1, 1), t(1, 2, 5, 4))
grad_case("grad:max_pool2d_overlapping_padded", lambda x: torch.nn.functional.max_pool2d(x, 3, 1, 1), t(1, 2, 5, 4))
case("col2im", lambda c: torch.nn.functional.fold(c.transpose(1, 2), (4, 4), 2), t(1, 9, 8))
case("conv2d_1x1", lambda x, w, b: conv(x, w, b), t(1, 3, 2, 2), t(2, 3, 1, 1), t(2))
case("scalar_add_1_5", lambda x: x + 1.5, a34)
case("scalar_sub_0_5", lambda x: x - 0.5, a34)
case("scalar_mul_neg_2", lambda x: x * -2, a34)
case("scalar_div_3", lambda x: x / 3, a34)
case("clone", lambda x: x.clone(), a34)
case("flatten_all", lambda x: x.flatten(), a243)
case("squeeze_all", lambda x: x.squeeze(), t(3, 1, 2))
case("squeeze_1_no_op", lambda x: x.squeeze(1), a34)
case("unsqueeze_0", lambda x: x.unsqueeze(0), a34)
case("reshape_2_neg1", lambda x: x.reshape(2, -1), a34)
case("reshape_scalar_1_1", lambda x: x.reshape(1, 1), t())
case("expand_then_mul", lambda x: x.expand(3, 4) * x.expand(3, 4), t(1, 4))
case("narrow_of_transpose", lambda x: x.t().narrow(0, 1, 2) * 2, a34)


def weighted(parts, dim):
    return torch.cat([p * (i + 1) for i, p in enumerate(parts)], dim)


mask14 = torch.tensor([1.0, 0.0, 0.0, 1.0], dtype=torch.float64)
case("split_2_dim1", lambda x: weighted(torch.split(x, 2, 1), 1), t(3, 5))
case("split_sizes_dim0", lambda x: weighted(torch.split(x, [1, 3, 0], 0), 0), t(4, 2))
case("chunk_3_last", lambda x: weighted(torch.chunk(x, 3, -1), -1), t(2, 7))
case("bmm", torch.bmm, t(2, 3, 4), t(2, 4, 5))
case("mm", torch.mm, t(3, 2), t(2, 4))
case("dot", torch.dot, t(5), t(5))
case("masked_fill", lambda x, m: x.masked_fill(m.bool(), -3.5), a34, mask14)
grad_case("grad:masked_fill_softmax", lambda x, m: torch.softmax(x.masked_fill(m.bool(), float("-inf")), -1),
          t(3, 4), mask14)
case("view_neg1_2", lambda x: x.view(-1, 2), a34)
case("cumsum_1", lambda x: torch.cumsum(x, 1), a34)
case("cumsum_0_3d", lambda x: torch.cumsum(x, 0), t(2, 3, 2))
grad_case("grad:cumsum_1", lambda x: torch.cumsum(x, 1), t(3, 4))
case("repeat_2_1_3", lambda x: x.repeat(2, 1, 3), t(2, 3))
case("norm_2", lambda x: torch.linalg.vector_norm(x), a34)
case("norm_3_dim1", lambda x: torch.linalg.vector_norm(x, 3, dim=1), a34)
case("norm_inf_dim0_keep", lambda x: torch.linalg.vector_norm(x, float("inf"), dim=0, keepdim=True), a34)
grad_case("grad:norm_2_dim1", lambda x: torch.linalg.vector_norm(x, dim=1), t(3, 4))
case("sort_1_desc_values", lambda x: torch.sort(x, stable=True, dim=1, descending=True).values, a34)
case("sort_0_indices", lambda x: torch.sort(x, stable=True, dim=0).indices, a34)
case("sort_ties_stable", lambda x: torch.sort(x, stable=True, dim=0).indices,
     torch.tensor([2.0, 1.0, 2.0, float("nan"), 1.0, -0.0, 0.0], dtype=torch.float64))
grad_case("grad:sort_values", lambda x: torch.sort(x, stable=True, dim=1).values, t(3, 4))
case("topk_2_dim1_values", lambda x: torch.topk(x, 2, 1).values, a34)
case("topk_2_dim1_indices", lambda x: torch.topk(x, 2, 1).indices, a34)
case("topk_1_smallest_dim0", lambda x: torch.topk(x, 1, 0, largest=False).values, a34)
case("linspace_m1_2_7", lambda: torch.linspace(-1, 2, 7, dtype=torch.float64))
case("linspace_0_1_1", lambda: torch.linspace(0, 1, 1, dtype=torch.float64))
case("einsum_matmul", lambda a, b: torch.einsum("ij,jk->ik", a, b), t(3, 2), t(2, 4))
case("einsum_attention", lambda a, b: torch.einsum("bhqd,bhkd->bhqk", a, b), t(2, 2, 3, 4), t(2, 2, 5, 4))
case("einsum_outer", lambda a, b: torch.einsum("i,j->ij", a, b), t(3), t(4))
case("einsum_chain3", lambda a, b, c: torch.einsum("ij,jk,kl->il", a, b, c), t(2, 3), t(3, 4), t(4, 2))
case("einsum_sum_transpose", lambda a: torch.einsum("ijk->kj", a), t(2, 3, 4))
case("einsum_implicit_ji", lambda a, b: torch.einsum("ij,jk", a, b), t(3, 2), t(2, 4))
case("einsum_bilinear", lambda a, w, b: torch.einsum("bi,ij,bj->b", a, w, b), t(4, 3), t(3, 5), t(4, 5))
grad_case("grad:einsum_batched", lambda a, b: torch.einsum("bij,bjk->bik", a, b), t(2, 3, 4), t(2, 4, 5))
# atan2: the elementwise primitive docs/architecture.md adds as its example
case("atan2_broadcast", torch.atan2, t(3, 4), t(4))
grad_case("grad:atan2", torch.atan2, t(3, 4), t(3, 4))


def fmt(x):
    shape = ",".join(str(s) for s in x.shape) or "-"
    if x.dtype == torch.int64:
        vals = " ".join(str(int(v)) for v in x.flatten().tolist())
        kind = "i"
    else:
        vals = " ".join(repr(float(v)) for v in x.flatten().tolist())
        kind = "f"
    return f"{kind} {shape} {vals}".rstrip()


print("# generated by make_reference.py with torch", torch.__version__)
for name, inputs, out in cases:
    print("case " + name)
    for x in inputs:
        print("in " + fmt(x))
    print("out " + fmt(out))
