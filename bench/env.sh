# Sourced by bench/run-jgrad.sh and bench/jmh.sh: builds what changed, writes the benchmarks
# module's classpath to $cp_file, and sets the environment ./run uses.
cp_file=benchmarks/target/classpath.txt
modules=(benchmarks core layers losses optim examples)
source scripts/java.sh
if jgrad_needs_build "$cp_file" "${modules[@]}"; then
  ./mvnw -q -B -DskipTests install >&2
  ./mvnw -q -B -pl benchmarks dependency:build-classpath -Dmdep.outputFile=target/classpath.txt >&2
  touch "$cp_file" # the plugin leaves an unchanged file as it was, which would rebuild on every run
fi
# OPENBLAS_CORETYPE is left as the caller set it: jgrad sets it for jblas itself when jblas runs,
# and bench/compare.sh gives both sides the same value
jgrad_java_setup "${JGRAD_JAVA:-java}" "$cp_file" "${modules[@]}"
