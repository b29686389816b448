#!/usr/bin/env bash
# A/B: jgrad built from another checkout (a git worktree of an earlier commit), this checkout's
# jgrad, and PyTorch, run one after another, repeated; prints each round's figures and the median
# ratios new/base, new/PyTorch and base/PyTorch (the machine is noisy: compare within a round).
#   git worktree add --detach ../base <commit> && bench/ab.sh ../base W2 3
#   OPENBLAS_CORETYPE=Cooperlake bench/ab.sh ../base W3 3     (the AVX-512 kernels on all three)
# Workloads as in bench/compare.sh: W1, W1h, W2, W3, W4, W5, E1, W6, W6c. Needs what compare.sh needs.
set -euo pipefail
cd "$(dirname "$0")/.."
base=$(cd "$1" && pwd); w=$2; rounds=${3:-3}; shift 3 || true
case $w in
  W1) py=(bench/pytorch/w1_linear.py);; W1h) py=(bench/pytorch/w1_linear.py --loss hinge);;
  W2) py=(bench/pytorch/w2_mlp.py);; W3) py=(bench/pytorch/w3_cnn.py);;
  W4) py=(bench/pytorch/w4_overhead.py);; W5) py=(bench/pytorch/w5_gemm.py);;
  E1) py=(bench/pytorch/e1_elementwise.py);;
  W6) py=(bench/pytorch/w6_lstm.py --impl nn);; W6c) py=(bench/pytorch/w6_lstm.py --impl cell);;
  *) echo "unknown workload $w" >&2; exit 2;;
esac
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell}
export MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-1073741824} MALLOC_TRIM_THRESHOLD_=${MALLOC_TRIM_THRESHOLD_:-1073741824}
out=runs/ab; mkdir -p $out
for i in $(seq 1 "$rounds"); do
  "$base/bench/run-jgrad.sh" "$w" "$@" > "$out/$w-base-$i.log"; grep RESULT "$out/$w-base-$i.log" | cut -c1-160
  bench/run-jgrad.sh "$w" "$@" > "$out/$w-new-$i.log"; grep RESULT "$out/$w-new-$i.log" | cut -c1-160
  /usr/bin/python3 "${py[@]}" --threads "${PYTORCH_THREADS:-1}" "$@" > "$out/$w-torch-$i.log"
done
/usr/bin/python3 - "$w" "$rounds" "$out" <<'PY'
import json, statistics, sys
w, rounds, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def last(path, tag):
    line = [l for l in open(path) if l.startswith(tag)][-1]
    return json.loads(line[len(tag):])
def jgrad(j):  # higher is better
    if w in ("W1", "W1h", "W2", "W3"): return {"samples/s": j["samples_per_s_median"]}
    if w == "E1": return {"1/ms": 1 / j["fwd_bwd_ms_median"]}
    if w in ("W6", "W6c"): return {"tokens/s": j["tokens_per_s_median"]}
    if w == "W4": return {"1/us per op": 1 / j["fwd_plus_bwd_us_per_op"]}
    return {k: v for k, v in j["gflops_median"].items()}
def torch(t):
    if w in ("W1", "W1h", "W2", "W3"):
        return {"samples/s": t["train"]["throughput_median_excl_first_epoch"] if "train" in t
                else t["throughput_median_excl_first_epoch"]}
    if w == "E1": return {"1/ms": 1 / t["fwd_bwd_ms_median"]}
    if w in ("W6", "W6c"): return {"tokens/s": t["tokens_per_s_median"]}
    if w == "W4": return {"1/us per op": 1 / t["chain1000"]["fwd_plus_bwd_us_per_op"]["median"]}
    return {k: v["torch"]["gflops_median"] for k, v in t["shapes"].items()}
ratios = {"new/base": [], "new/torch": [], "base/torch": []}
for i in range(1, rounds + 1):
    b = jgrad(last(f"{out}/{w}-base-{i}.log", "RESULT "))
    n = jgrad(last(f"{out}/{w}-new-{i}.log", "RESULT "))
    t = torch(last(f"{out}/{w}-torch-{i}.log", "RESULT_JSON "))
    for k in n:
        print(f"round {i} {k}: base {b[k]:.4g}, new {n[k]:.4g}, PyTorch {t[k]:.4g}: new/base {n[k] / b[k]:.3f}, "
              f"new/PyTorch {n[k] / t[k]:.3f}, base/PyTorch {b[k] / t[k]:.3f}")
        ratios["new/base"].append(n[k] / b[k]); ratios["new/torch"].append(n[k] / t[k])
        ratios["base/torch"].append(b[k] / t[k])
print(w + ": medians over " + str(len(ratios["new/base"])) + ": "
      + ", ".join(f"{k} {statistics.median(v):.3f}" for k, v in ratios.items()))
PY
