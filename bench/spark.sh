#!/usr/bin/env bash
# The spark module's benchmark (SparkBench): all-reduce time per call for 7,850 and 535,818 floats
# between two barrier tasks, and with --steps the W1/W2 step time with 1 and 2 workers.
#   bench/spark.sh [--master local[2]|local-cluster[2,1,1024]] [--reps 200] [--steps] [--epochs 3]
set -euo pipefail
cd "$(dirname "$0")/.."
cp_file=spark/target/test-classpath.txt
./mvnw -q -B -o -DskipTests install -pl spark -am >&2
./mvnw -q -B -o test-compile -pl spark >&2
./mvnw -q -B -o -pl spark dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt >&2
classpath="$(pwd)/spark/target/test-classes:$(pwd)/spark/target/classes:$(cat "$cp_file")"
opens=()
for p in java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util java.util.concurrent \
         java.util.concurrent.atomic jdk.internal.ref sun.nio.ch sun.nio.cs sun.security.action sun.util.calendar; do
  opens+=("--add-opens=java.base/$p=ALL-UNNAMED")
done
# local-cluster starts executor processes from a Spark home; only its jars folder is looked at
export SPARK_HOME=${SPARK_HOME:-$(pwd)/spark/target/spark-home} SPARK_SCALA_VERSION=2.13
exec java --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED "${opens[@]}" -Djdk.reflect.useDirectMethodHandle=false \
  -Dio.netty.tryReflectionSetAccessible=true ${JGRAD_JAVA_OPTS:--Xmx4g} -cp "$classpath" io.jgrad.spark.SparkBench "$@"
