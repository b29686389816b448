# Sourced by ./run and bench/run-jgrad.sh (bench/jmh.sh through bench/env.sh): how they start the JVM.
# `jgrad_needs_build CP_FILE MODULE...` succeeds when Maven must build first (no class-path file, a source or
# pom newer than it, or a module's jar missing). After `jgrad_java_setup JAVA CP_FILE MODULE...`
#   java_options   the options every jgrad program gets (Vector API, native access, huge pages, pinned arrays)
#   classpath      this checkout's module jars, then their dependencies from CP_FILE (a build-classpath file)
# and `jgrad_java_run NAME HEAP MAIN ARGS...` starts MAIN with them, a class-data-sharing archive for NAME
# (below) and HEAP unless JGRAD_JAVA_OPTS is set (it replaces HEAP), with the java given to the setup.

jgrad_needs_build() {
  local cp_file=$1 m
  shift
  [[ ! -f $cp_file ]] && return 0
  [[ -n $(find pom.xml */pom.xml */src -newer "$cp_file" -type f 2>/dev/null | head -1) ]] && return 0
  for m in "$@"; do
    compgen -G "$m/target/jgrad-$m-*.jar" >/dev/null || return 0
  done
  return 1
}

# The JDK's feature version comes from its release file: no extra JVM start
jgrad_java_setup() {
  local java=$1 cp_file=$2
  shift 2
  java_cmd=$java
  if ! java_bin=$(readlink -f "$(command -v "$java")") || [[ ! -x $java_bin ]]; then
    echo "jgrad: no java at '$java' (install a JDK 17 or later, or name one in JGRAD_JAVA)" >&2
    exit 1
  fi
  java_home=$(dirname "$(dirname "$java_bin")")
  java_release="$java_home/release"
  local feature
  feature=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$java_release" 2>/dev/null || true)
  # jgrad's vectorized kernels (Simd) need the incubating Vector API; -Djgrad.simd=false turns them off.
  # Native access: JNA (which binds the system OpenBLAS) and, on JDK 22+, OpenBLAS called on Java arrays
  # in place (java.lang.foreign); without it newer JDKs print warnings. JDK 17 accepts the option too
  java_options=(--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED)
  # Where the kernel offers transparent huge pages, the heap is committed on 2 MB pages and touched at
  # start-up (~30 ms): on a virtual machine like the one BENCHMARKS.md measures on, first touches of fresh
  # heap pages cost about 12 us per 4 KB page (0.8 ms per 256 KB product result), paid otherwise while G1
  # grows the heap during the first epochs (W2's first epoch ~11% slower; W5's 128x784x512 product at 64
  # instead of ~150 GFLOPS in 2 runs of 3). JGRAD_JAVA_OPTS comes after these: -XX:-AlwaysPreTouch there
  # undoes them
  if grep -qs '\[always\]\|\[madvise\]' /sys/kernel/mm/transparent_hugepage/enabled; then
    java_options+=(-XX:+UseTransparentHugePages -XX:+AlwaysPreTouch)
  fi
  # Before JDK 22, OpenBLAS reads and writes the Java arrays in place only when asked
  # (-Djgrad.blas.pinned=true, jffi's pinned arrays; README): G1 cannot collect while an array is pinned,
  # and a thread that waits for a collection twice in a row then fails with OutOfMemoryError (a stress
  # test hit it within 2 s at -Xmx64m); allowing 100 waits (a diagnostic flag of JDK 17-21; later JDKs
  # have neither the flag nor the need) made it run 20 s without
  if [[ -n $feature && $feature -lt 22 ]]; then
    java_options+=(-Djgrad.blas.pinned=true -XX:+UnlockDiagnosticVMOptions -XX:GCLockerRetryAllocationCount=100)
  fi
  # This checkout's own jars first, in place of the jgrad jars in ~/.m2 (whatever checkout installed last;
  # two worktrees benchmarked side by side would otherwise both run the same jgrad). Jars rather than
  # target/classes folders: class-data sharing archives classes from jars only
  local version entry name jar
  version=$(sed -n 's/^version=//p' core/target/maven-archiver/pom.properties)
  classpath=""
  for m in "$@"; do classpath="$classpath:$(pwd)/$m/target/jgrad-$m-$version.jar"; done
  local IFS=:
  for entry in $(<"$cp_file"); do
    if [[ $entry == */io/jgrad/jgrad-* ]]; then
      name=${entry##*/}                      # jgrad-onnx-0.1.0-SNAPSHOT-tests.jar
      jar="$(pwd)/$(cut -d- -f2 <<<"$name")/target/$name"
      if [[ -f $jar ]]; then
        [[ :$classpath: == *:$jar:* ]] || classpath="$classpath:$jar"
        continue
      fi
    fi
    classpath="$classpath:$entry"
  done
  classpath=${classpath#:}
}

# Class-data sharing: the first run of a program (NAME) records the classes it loads, among them the lambda
# and method-handle classes the JDK otherwise spins on first use; when it succeeds, a second JVM writes them
# to an archive under CDS_DIR (default target/cds of the launching module; -Xshare:dump, ~2 s), and later
# runs map the archive instead of loading, verifying and spinning them again. A static archive rather than
# one written at the program's exit (-XX:ArchiveClassesAtExit): such an archive also kept the state methods
# were in when the program ended, and in one of the nine made, jgrad's hot loops were never compiled in the
# runs that used it (W1 3-4x slower a step; BENCHMARKS.md). An archive belongs to one JDK build, one class
# path and the JVM options that decide whether the JVM accepts it (a heap of 32 GB or more or another
# collector makes it refuse an archive, and with it the JDK's own classes); logging, profiling and agent
# options neither name it nor go to the JVM that writes it. It is made again when a jar on the path is newer
# than it. It is written aside and moved into place, so concurrent first runs do not tear it. A run with
# -h or --help records nothing. JGRAD_CDS=false turns all this off; the JVM's CDS messages are silenced,
# since the archive only saves time.
jgrad_java_run() {
  local name=$1 heap=$2 main=$3
  shift 3
  local java=$java_cmd cds=() archive="" tmp="" o
  # shellcheck disable=SC2206 # JGRAD_JAVA_OPTS and HEAP are lists of options
  local options=("${java_options[@]}" ${JGRAD_JAVA_OPTS:-$heap}) shared=()
  for o in "${options[@]}"; do
    case $o in
      -Xlog*|-Xloggc*|-verbose*|-agentlib*|-agentpath*|-javaagent*|-XX:StartFlightRecording*|-XX:FlightRecorderOptions*|\
      -XX:+Print*|-XX:-Print*|-XX:+LogCompilation|-XX:LogFile=*|-XX:+TraceClass*|-XX:CompileCommand*) ;;
      *) shared+=("$o") ;;
    esac
  done
  local cds_on=${JGRAD_CDS:-true}
  for o in "$@"; do
    if [[ $o == -h || $o == --help ]]; then cds_on=false; fi
  done
  if [[ $cds_on != false ]]; then
    local dir=${CDS_DIR:-target/cds} id
    id=$( { printf '%s\n' "$java_bin" "$classpath" "${shared[@]}"; cat "$java_release" 2>/dev/null;
            stat -L -c '%s %Y' "$java_home/lib/modules" "$java_bin" 2>/dev/null; } | cksum | cut -d' ' -f1)
    archive="$dir/$(printf %s "${name,,}" | tr -c 'a-z0-9_' '_')-$id.jsa"
    local IFS=:
    # shellcheck disable=SC2086 # the class path splits on colons here
    if [[ -f $archive ]] && [[ -z $(find $classpath -newer "$archive" 2>/dev/null | head -1) ]]; then
      cds=(-XX:SharedArchiveFile="$archive" -Xlog:cds=off -Xlog:cds+dynamic=off)
    elif mkdir -p "$dir" 2>/dev/null && [[ -w $dir ]]; then
      tmp="$archive.$$"
      cds=(-XX:DumpLoadedClassList="$tmp.classes")
    fi
    unset IFS
  fi
  if [[ -z $tmp ]]; then
    exec "$java" "${options[@]}" "${cds[@]}" -cp "$classpath" "$main" "$@"
  fi
  # The run that records its classes is this shell's child, not exec'd: TERM and HUP sent to the launcher go
  # on to it (Ctrl-C reaches both from the terminal), and its status is the launcher's
  trap "rm -f $(printf %q "$tmp").classes $(printf %q "$tmp").jsa" EXIT # an interrupted run leaves no partial files
  local status=0 pid
  "$java" "${options[@]}" "${cds[@]}" -cp "$classpath" "$main" "$@" <&0 &
  pid=$!
  trap "kill -TERM $pid 2>/dev/null" TERM
  trap "kill -HUP $pid 2>/dev/null" HUP
  trap : INT
  while :; do
    status=0
    wait "$pid" || status=$?
    kill -0 "$pid" 2>/dev/null || break # else a trapped signal ended the wait, not the program
  done
  trap - TERM HUP INT
  if [[ $status -eq 0 && -s $tmp.classes ]] && "$java" "${shared[@]}" -Xshare:dump -XX:SharedClassListFile="$tmp.classes" \
      -XX:SharedArchiveFile="$tmp.jsa" -Xlog:cds=off -Xlog:cds+dynamic=off -cp "$classpath" >/dev/null 2>&1 && [[ -s $tmp.jsa ]]; then
    mv -f "$tmp.jsa" "$archive"
  fi
  return $status
}
