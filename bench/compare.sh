#!/usr/bin/env bash
# Runs jgrad and PyTorch alternately on one workload, pairs times, and prints each pair's ratio
# and the median ratio (the machine is noisy: compare within a run, medians of several).
#   bench/compare.sh W1 3          (workload, number of pairs; extra args go to both programs)
#   bench/compare.sh W6c 3         (W6: LSTM layers; W6c: the LSTM cell written from tensor ops)
#   PYTORCH_THREADS=2 bench/compare.sh E1 5 --reset zero   (PyTorch's intra-op threads; default 1)
# Needs Debian's python3-torch and libopenblas0-pthread (see bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
w=${1:-W1}; pairs=${2:-3}; shift 2 || true
case $w in
  W1) py=(bench/pytorch/w1_linear.py);; W1h) py=(bench/pytorch/w1_linear.py --loss hinge);;
  W2) py=(bench/pytorch/w2_mlp.py);; W3) py=(bench/pytorch/w3_cnn.py);;
  W4) py=(bench/pytorch/w4_overhead.py);; W5) py=(bench/pytorch/w5_gemm.py);;
  E1) py=(bench/pytorch/e1_elementwise.py);;
  W6) py=(bench/pytorch/w6_lstm.py --impl nn);; W6c) py=(bench/pytorch/w6_lstm.py --impl cell);;
  *) echo "unknown workload $w" >&2; exit 2;;
esac
mkdir -p runs/bench
# both sides get the malloc settings run-jgrad.sh uses: with glibc's defaults PyTorch's E1 is
# bimodal (0.57 ms per iteration, or ~4 ms when freed 4 MB blocks go back to the OS and are
# faulted in again), which would flatter jgrad
# Both sides run the same OpenBLAS kernels: this machine's reference setting is Haswell's (AVX2);
# OPENBLAS_CORETYPE=Cooperlake bench/compare.sh ... compares with the AVX-512 kernels OpenBLAS picks
# on this CPU when the variable is unset
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell}
export MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-1073741824} MALLOC_TRIM_THRESHOLD_=${MALLOC_TRIM_THRESHOLD_:-1073741824}
for i in $(seq 1 "$pairs"); do
  bench/run-jgrad.sh "$w" "$@" | tee "runs/bench/$w-jgrad-$i.log" | grep RESULT
  /usr/bin/python3 "${py[@]}" --threads "${PYTORCH_THREADS:-1}" "$@" | tee "runs/bench/$w-torch-$i.log" | grep RESULT_JSON | cut -c1-200
done
/usr/bin/python3 - "$w" "$pairs" <<'PY'
import json, statistics, sys
w, pairs = sys.argv[1], int(sys.argv[2])
def last(path, tag):
    line = [l for l in open(path) if l.startswith(tag)][-1]
    return json.loads(line[len(tag):])
ratios = []
for i in range(1, pairs + 1):
    j = last(f"runs/bench/{w}-jgrad-{i}.log", "RESULT ")
    t = last(f"runs/bench/{w}-torch-{i}.log", "RESULT_JSON ")
    if w in ("W1", "W1h", "W2", "W3"):
        tj = j["samples_per_s_median"]
        tt = t["train"]["throughput_median_excl_first_epoch"] if "train" in t else t["throughput_median_excl_first_epoch"]
        r = tj / tt
        print(f"pair {i}: jgrad {tj:.0f} vs PyTorch {tt:.0f} samples/s: ratio {r:.2f}")
    elif w == "E1":
        tj = j["fwd_bwd_ms_median"]; tt = t["fwd_bwd_ms_median"]
        r = tt / tj
        print(f"pair {i}: jgrad {tj:.3f} vs PyTorch {tt:.3f} ms per fwd+bwd: throughput ratio {r:.2f}")
    elif w in ("W6", "W6c"):
        tj = j["tokens_per_s_median"]; tt = t["tokens_per_s_median"]
        r = tj / tt
        print(f"pair {i}: jgrad {tj:.0f} vs PyTorch {tt:.0f} tokens/s: ratio {r:.2f}")
    elif w == "W4":
        tj = j["fwd_plus_bwd_us_per_op"]; tt = t["chain1000"]["fwd_plus_bwd_us_per_op"]["median"]
        r = tj / tt
        print(f"pair {i}: jgrad {tj:.2f} vs PyTorch {tt:.2f} us/op: ratio (jgrad/PyTorch time) {r:.3f}")
    else:
        for k, v in j["gflops_median"].items():
            tt = t["shapes"][k]["torch"]["gflops_median"]
            print(f"pair {i} {k}: jgrad {v:.1f} vs PyTorch {tt:.1f} GFLOPS: ratio {v / tt:.2f}")
            ratios.append(v / tt)
        continue
    ratios.append(r)
print(f"median ratio over {len(ratios)}: {statistics.median(ratios):.3f}")
PY
