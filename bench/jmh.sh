#!/usr/bin/env bash
# Runs jgrad's JMH microbenchmarks (benchmarks/src/main/java/io/jgrad/benchmarks/jmh) with the
# same environment as ./run. Arguments go to JMH:
#   bench/jmh.sh                       (everything, ~10 minutes)
#   bench/jmh.sh MatMul -p shape=512x512x512
#   bench/jmh.sh -l                    (list the benchmarks)
set -euo pipefail
cd "$(dirname "$0")/.."
cp_file=benchmarks/target/classpath.txt
if [[ ! -f $cp_file ]] || [[ -n $(find pom.xml */pom.xml */src -newer "$cp_file" -type f 2>/dev/null | head -1) ]]; then
  ./mvnw -q -B -DskipTests install >&2
  ./mvnw -q -B -pl benchmarks dependency:build-classpath -Dmdep.outputFile=target/classpath.txt >&2
fi
if grep -q avx2 /proc/cpuinfo 2>/dev/null; then export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell}; fi
exec java -cp "$(pwd)/benchmarks/target/classes:$(cat "$cp_file")" org.openjdk.jmh.Main "$@"
