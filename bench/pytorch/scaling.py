"""The PyTorch side of jgrad's Scaling benchmark (benchmarks/.../Scaling.java): W2's MLP
(784-H-H/2-10, ReLU, cross-entropy, SGD momentum 0.9) on random inputs; for each batch size,
width and thread count, 20 warm-up steps, then the median samples/s of 5 samples of ~0.3 s.
Usage: /usr/bin/python3 scaling.py [--batches 32,128] [--widths 512] [--threads 1]
"""
import argparse
import json
import statistics
import time

import torch

p = argparse.ArgumentParser()
p.add_argument("--batches", default="32,64,128,256,512,1024")
p.add_argument("--widths", default="512")
p.add_argument("--threads", default="1")
a = p.parse_args()
runs = []
for t in map(int, a.threads.split(",")):
    torch.set_num_threads(t)
    for h in map(int, a.widths.split(",")):
        for b in map(int, a.batches.split(",")):
            torch.manual_seed(0)
            model = torch.nn.Sequential(torch.nn.Linear(784, h), torch.nn.ReLU(), torch.nn.Linear(h, h // 2),
                                        torch.nn.ReLU(), torch.nn.Linear(h // 2, 10))
            opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
            loss = torch.nn.CrossEntropyLoss()
            xs = [torch.randn(b, 784) for _ in range(8)]
            ys = [torch.randint(0, 10, (b,)) for _ in range(8)]

            def step(i):
                opt.zero_grad()
                loss(model(xs[i % 8]), ys[i % 8]).backward()
                opt.step()

            for i in range(20):
                step(i)
            t0 = time.perf_counter()
            step(0)
            per = max(1, int(0.3 / (time.perf_counter() - t0)))
            rates = []
            for _ in range(5):
                start = time.perf_counter()
                for i in range(per):
                    step(i)
                rates.append(per * b / (time.perf_counter() - start))
            rate = statistics.median(rates)
            print(f"batch {b:5d} width {h:5d} threads {t}: {rate:9.0f} samples/s ({1e3 * b / rate:.3f} ms/step)")
            runs.append({"batch": b, "width": h, "threads": t, "samples_per_s": round(rate)})
print("RESULT_JSON " + json.dumps({"workload": "scaling", "framework": "pytorch", "runs": runs}))
