# Sourced by bench/run-jgrad.sh and bench/jmh.sh: builds what changed, writes the benchmarks
# module's classpath to $cp_file, and sets the environment ./run uses.
cp_file=benchmarks/target/classpath.txt
if [[ ! -f $cp_file ]] || [[ -n $(find pom.xml */pom.xml */src -newer "$cp_file" -type f 2>/dev/null | head -1) ]]; then
  ./mvnw -q -B -DskipTests install >&2
  ./mvnw -q -B -pl benchmarks dependency:build-classpath -Dmdep.outputFile=target/classpath.txt >&2
  touch "$cp_file" # the plugin leaves an unchanged file as it was, which would rebuild on every run
fi
# OPENBLAS_CORETYPE is left as the caller set it: jgrad sets it for jblas itself when jblas runs,
# and bench/compare.sh gives both sides the same value
# this checkout's own classes first: the jgrad jars in ~/.m2 are whatever checkout installed last
# (two worktrees benchmarked side by side would otherwise both run the same jgrad)
classpath="$(pwd)/benchmarks/target/classes"
for m in core layers losses optim examples; do classpath="$classpath:$(pwd)/$m/target/classes"; done
classpath="$classpath:$(cat "$cp_file")"
# Heap committed on transparent huge pages and touched at start-up where the kernel offers them, as ./run
# does (see the comment there); JGRAD_JAVA_OPTS comes after these in run-jgrad.sh and can undo them
pages=()
if grep -qs '\[always\]\|\[madvise\]' /sys/kernel/mm/transparent_hugepage/enabled; then
  pages=(-XX:+UseTransparentHugePages -XX:+AlwaysPreTouch)
fi
