#!/usr/bin/env bash
# Runs jgrad's JMH microbenchmarks (benchmarks/src/main/java/io/jgrad/benchmarks/jmh, and
# KernelBenchmark in core/src/test/java/io/jgrad/core/cpu, which reaches the CPU backend's
# package-private kernels from their own package) with the same environment as ./run. Arguments go to JMH:
#   bench/jmh.sh                       (everything, ~10 minutes)
#   bench/jmh.sh MatMul -p shape=512x512x512
#   bench/jmh.sh -l                    (list the benchmarks)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/env.sh
# forked benchmark JVMs inherit these options, among them the Vector API jgrad's Simd kernels use
# core's test classes hold KernelBenchmark and its benchmark list (JMH reads every list on the path)
exec java --add-modules=jdk.incubator.vector -cp "$(pwd)/core/target/test-classes:$classpath" org.openjdk.jmh.Main "$@"
