#!/usr/bin/env bash
# The matrix-product backends side by side on W5's shapes (sgemm 128x784x512, 512^3, 1024^3):
# each round runs W5 once per backend and thread count, alternating, so the machine's drift
# hits all of them alike; prints each setting's median GFLOPS over the rounds and the ratios of
# jgrad's pure-Java product to jblas on one thread and to the system OpenBLAS on two, median
# of the per-round ratios.
#   bench/blas.sh 5                          (rounds; OPENBLAS_CORETYPE as the caller set it)
#   OPENBLAS_CORETYPE=Haswell bench/blas.sh 5
#   JAVA_PLAIN=1 bench/blas.sh 3             (also the pure-Java product without the Vector API)
# Needs the system OpenBLAS (libopenblas0-pthread, which also brings the libgfortran jblas needs).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
mkdir -p runs/bench
settings=("java 1" "java 2" "jblas 1" "openblas 1" "openblas 2")
[[ -n ${JAVA_PLAIN:-} ]] && settings+=("java-plain 1" "java-plain 2")
for r in $(seq 1 "$rounds"); do
  for s in "${settings[@]}"; do
    read -r b t <<<"$s"
    opts="-Xmx512m -Djgrad.threads=$t"
    if [[ $b == java-plain ]]; then opts="$opts -Djgrad.blas=java -Djgrad.simd=false"; else opts="$opts -Djgrad.blas=$b"; fi
    JGRAD_JAVA_OPTS="$opts" bench/run-jgrad.sh W5 --samples 5 2> >(grep -v "incubator modules" >&2) | grep '^RESULT' >"runs/bench/blas-$b-$t-$r.json"
    echo "round $r $b t=$t: $(cut -c1-240 "runs/bench/blas-$b-$t-$r.json")"
  done
done
/usr/bin/env python3 - "$rounds" "${settings[@]}" <<'PY'
import json, statistics, sys
rounds = int(sys.argv[1]); settings = [s.split() for s in sys.argv[2:]]
def g(b, t, r):
    line = open(f"runs/bench/blas-{b}-{t}-{r}.json").read()
    return json.loads(line[line.index("{"):])["gflops_median"]
shapes = list(g("java", 1, 1).keys())
print(f"{'backend':<12}{'threads':>8}" + "".join(f"{s:>17}" for s in shapes))
for b, t in settings:
    print(f"{b:<12}{t:>8}" + "".join(f"{statistics.median(g(b, t, r)[s] for r in range(1, rounds + 1)):>17.1f}" for s in shapes))
for (b, t), (ob, ot) in [(("java", 1), ("jblas", 1)), (("java", 2), ("openblas", 2))]:
    ratios = [statistics.median(g(b, t, r)[s] / g(ob, ot, r)[s] for r in range(1, rounds + 1)) for s in shapes]
    print(f"{b} t={t} / {ob} t={ot}: " + ", ".join(f"{s} {x:.2f}x" for s, x in zip(shapes, ratios)))
PY
