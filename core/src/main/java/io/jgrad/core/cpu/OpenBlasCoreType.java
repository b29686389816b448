package io.jgrad.core.cpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Which kernels an OpenBLAS library uses, set through {@code OPENBLAS_CORETYPE} just before it
 * loads (OpenBLAS reads the variable once, when its library initialises).
 *
 * <p>OpenBLAS builds with {@code DYNAMIC_ARCH} pick their kernels by the CPU's model number, and
 * fall back to generic SSE3 kernels ("Prescott") on a model they do not know: Debian 12's
 * OpenBLAS 0.3.21 did so on this project's Xeon (family 6, model 207), running sgemm at about a
 * quarter of its speed with AVX-512 kernels, and jblas's older OpenBLAS does so on most current
 * CPUs. So when the variable is unset, jgrad chooses from the CPU's features instead of its model:
 * {@code SkylakeX} (the AVX-512 kernels) for the system OpenBLAS where the CPU has AVX-512F, BW,
 * DQ and VL, {@code Haswell} (AVX2 and FMA) otherwise and always for jblas, whose OpenBLAS has no
 * AVX-512 kernels. A value the user set is never changed. Linux on x86-64 only; elsewhere nothing
 * is set.
 */
final class OpenBlasCoreType {
    /** Whether OPENBLAS_CORETYPE came with the process (System.getenv does not see what jgrad sets). */
    private static final boolean GIVEN = System.getenv("OPENBLAS_CORETYPE") != null;

    private OpenBlasCoreType() {}

    /** Sets the core type for the system OpenBLAS ({@code jblas == false}) or jblas's, unless the user set one. */
    static void beforeLoading(boolean jblas) {
        if (GIVEN || !System.getProperty("os.name", "").equals("Linux")
                || !System.getProperty("os.arch", "").equals("amd64")) {
            return;
        }
        Set<String> flags = cpuFlags();
        String type = !jblas && flags.containsAll(Set.of("avx512f", "avx512bw", "avx512dq", "avx512vl")) ? "SkylakeX"
                : flags.containsAll(Set.of("avx2", "fma")) ? "Haswell" : null;
        if (type == null) {
            return;
        }
        try {
            com.sun.jna.NativeLibrary.getInstance("c").getFunction("setenv")
                    .invokeInt(new Object[] {"OPENBLAS_CORETYPE", type, 1});
        } catch (UnsatisfiedLinkError | IllegalArgumentException e) {
            // no libc to call: OpenBLAS then detects the CPU itself, correctly but perhaps slower
        }
    }

    /** The CPU's feature flags from /proc/cpuinfo (empty where there is none). */
    static Set<String> cpuFlags() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("flags")).findFirst()
                    .map(l -> Stream.of(l.substring(l.indexOf(':') + 1).trim().split("\\s+")).collect(Collectors.toSet()))
                    .orElse(Set.of());
        } catch (IOException | RuntimeException e) { // unreadable, or not allowed: as if no flags
            return Set.of();
        }
    }
}
