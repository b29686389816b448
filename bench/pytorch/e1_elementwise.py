"""E1 (jgrad's own workload, not in shared/bench): elementwise throughput on 1,000,000 float32
values: y = relu(x + c).sum(); y.backward(), with x requiring grad and x.grad reset before each
iteration: to None (--reset none, the default: backward stores a new gradient) or zeroed in place
(--reset zero: backward adds into it).
Reports the median milliseconds per forward+backward over --samples samples of 50 iterations,
and add / relu forward alone under no_grad.
Usage: /usr/bin/python3 e1_elementwise.py [--samples 7] [--threads 1] [--reset none|zero]
"""
import argparse
import statistics
import time

import torch

import common

p = argparse.ArgumentParser()
p.add_argument("--samples", type=int, default=7)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--reset", choices=["none", "zero"], default="none")
p.add_argument("--out")
a = p.parse_args()
common.setup(a.threads, 0)
x = torch.randn(1_000_000, requires_grad=True)
c = torch.randn(1_000_000)


def reset():
    if a.reset == "none":
        x.grad = None
    else:
        x.grad.zero_()


(x + c).relu().sum().backward()
for _ in range(20):
    reset()
    (x + c).relu().sum().backward()
fb, add, relu = [], [], []
for _ in range(a.samples):
    t0 = time.perf_counter()
    for _ in range(50):
        reset()
        (x + c).relu().sum().backward()
    fb.append((time.perf_counter() - t0) / 50 * 1e3)
    with torch.no_grad():
        t0 = time.perf_counter()
        for _ in range(50):
            x + c
        t1 = time.perf_counter()
        for _ in range(50):
            x.relu()
        add.append((t1 - t0) / 50 * 1e3)
        relu.append((time.perf_counter() - t1) / 50 * 1e3)
res = {"workload": "E1", "env": common.env_info(a.threads), "reset": a.reset, "fwd_bwd_ms_median": statistics.median(fb),
       "add_ms_median": statistics.median(add), "relu_ms_median": statistics.median(relu)}
print(f"1M add+relu+sum fwd+bwd (grad reset: {a.reset}, {a.threads} threads) {res['fwd_bwd_ms_median']:.3f} ms; add {res['add_ms_median']:.3f} ms; "
      f"relu {res['relu_ms_median']:.3f} ms")
common.dump(res, a.out)
