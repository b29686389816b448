package io.jgrad.core.cpu;

import io.jgrad.core.*;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Assumptions;

/**
 * The matrix-product backends the BLAS-dependent tests run on: the system OpenBLAS, jblas, and
 * jgrad's pure-Java product with its Vector API kernels and with its plain loops. A native
 * library that does not run on this machine skips its tests, saying why, unless the environment
 * sets {@code JGRAD_REQUIRE_OPENBLAS} (CI's main pass, which installs the system OpenBLAS and
 * with it the libgfortran that jblas needs); the Vector API kernels skip without the Vector API
 * module, and with it fail when they do not load if {@code JGRAD_REQUIRE_SIMD} is set.
 */
public final class BlasBackends {
    private BlasBackends() {}

    /** Every backend's test name. */
    public static List<String> names() {
        return List.of("openblas", "jblas", "java", "java-plain");
    }

    /** The backend of that name, or a skipped test when it cannot run here and is not required. */
    static Blas.Backend get(String name) {
        switch (name) {
            case "java-plain":
                return new JavaGemm(false);
            case "java":
                boolean wanted = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
                        && !"false".equalsIgnoreCase(System.getProperty("jgrad.simd"));
                Assumptions.assumeTrue(Simd.ENABLED || wanted && System.getenv("JGRAD_REQUIRE_SIMD") != null,
                        "the Vector API kernels need --add-modules jdk.incubator.vector: " + Parallel.vectorization());
                return new JavaGemm(true);
            default:
                try {
                    return Blas.choose(name, null).backend();
                } catch (IllegalArgumentException e) {
                    Assumptions.assumeFalse(System.getenv("JGRAD_REQUIRE_OPENBLAS") == null, e.getMessage());
                    throw e;
                }
        }
    }

    /** Runs body with every product going through the named backend. */
    public static <T> T with(String name, Supplier<T> body) {
        return Blas.with(get(name), body);
    }

    /** Runs body with every product going through the named backend. */
    public static void run(String name, Runnable body) {
        Blas.with(get(name), () -> {
            body.run();
            return null;
        });
    }
}
