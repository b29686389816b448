#!/usr/bin/env bash
# Runs one jgrad workload (W1, W1h, W2, W3, W4, W5, E1, W6, W6c) with the same environment as ./run.
#   bench/run-jgrad.sh W2 [--epochs N] [--samples N]
#   bench/run-jgrad.sh Scaling [--batches 32,1024] [--widths 512] [--threads 1,2]
#   bench/run-jgrad.sh StepBench W3 300   (one step of W1/W2/W3 on a fixed batch: forward, backward, optimizer)
#   bench/run-jgrad.sh PinnedStress 20 2  (products on pinned arrays while 2 threads allocate: see its Javadoc)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/env.sh
export MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-1073741824} MALLOC_TRIM_THRESHOLD_=${MALLOC_TRIM_THRESHOLD_:-1073741824}
# a heap cap keeps the resident size near what training needs (W2: 779 MiB RSS uncapped, 293 at 512 MB);
# JGRAD_JAVA_OPTS replaces it
main=io.jgrad.benchmarks.Workloads
if [[ ${1:-} == Scaling ]]; then main=io.jgrad.benchmarks.Scaling; shift; fi
if [[ ${1:-} == StepBench ]]; then main=io.jgrad.benchmarks.StepBench; shift; fi
if [[ ${1:-} == PinnedStress ]]; then main=io.jgrad.benchmarks.PinnedStress; shift; fi
# W3's 11-17 MB activations need room: at 512 MB G1 spent 2.4 s of a 40 s epoch in 2,230 pauses and
# the batch-1000 evaluation could run out of memory; 1 GB ran as fast as 4 GB, and 896 MB (3 alternating
# pairs, 19th session) faster than 1 GB with a peak RSS of 775-897 MiB against 982-1,155 (BENCHMARKS.md)
# 4 MB G1 regions, as ./run gives them (arrays of 2 MB and more are young objects, not humongous ones)
heap="-Xmx512m -XX:G1HeapRegionSize=4m"
if [[ ${1:-} == W3 ]]; then heap="-Xmx896m -XX:G1HeapRegionSize=4m"; fi
# one class-data-sharing archive per program and workload (scripts/java.sh)
CDS_DIR=benchmarks/target/cds jgrad_java_run "${main##*.}-${1:-}" "$heap" "$main" "$@"
