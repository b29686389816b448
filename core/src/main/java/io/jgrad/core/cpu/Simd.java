package io.jgrad.core.cpu;

/**
 * Whether jgrad's explicitly vectorized FLOAT32 kernels ({@link SimdKernels}, written with the
 * JDK's incubating Vector API) are in use. They need the JVM option
 * {@code --add-modules jdk.incubator.vector} (jgrad's scripts pass it) and vector registers of at
 * least 256 bits; otherwise, or with {@code -Djgrad.simd=false}, the plain Java loops run.
 *
 * <p>Both give the same values, bit for bit (NaN payloads aside, which Java leaves open): the
 * vectorized kernels perform the same IEEE operations on each element, and the float sums keep
 * the plain loop's sixteen double accumulators, element i going to accumulator i mod 16
 * ({@link Reduce#SUM_LANES}). They serve where HotSpot's C2 (Java 17) does not vectorize by
 * itself: a float sum accumulated in double (3.9x with 512-bit vectors, 2.8x with 256),
 * relu's backward, a select on the input (8x; KernelBenchmark in core's test sources), loops whose input and output start at different offsets, and fused
 * expressions ({@link ChainKernels}). Same-index loops C2 does vectorize are left to it.
 * This is the route Apache Lucene takes for its vector kernels: the incubating API where the
 * JVM has it, plain Java where it does not.
 *
 * <p>The small matrix products ({@link SmallGemm}) keep the same rule: which products they take
 * does not depend on this class, and their plain loops give the vector tiles' bits. The larger
 * ones {@link Blas#wide} sends to the same tiles are the exception: they go there only where the
 * vector tiles run (the plain loops would be several times slower than the library), so their
 * last bits depend on whether the JVM has the module, as they depend on which BLAS library runs.
 */
final class Simd {
    /** True when the vectorized kernels run (checked once, when the class loads). */
    static final boolean ENABLED;
    /** Why not, or which vectors; for benchmark reports and {@link #describe()}. */
    private static final String STATUS;

    static {
        boolean on = false;
        String status;
        if ("false".equalsIgnoreCase(System.getProperty("jgrad.simd"))) {
            status = "off (-Djgrad.simd=false)";
        } else if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            status = "off (run java with --add-modules jdk.incubator.vector to enable)";
        } else {
            String problem;
            try {
                problem = SimdKernels.unsupportedReason();
            } catch (LinkageError e) { // an incompatible Vector API in some later JDK
                problem = e.toString();
            }
            on = problem == null;
            status = on ? "on (" + SimdKernels.describe() + ")" : "off (" + problem + ")";
        }
        ENABLED = on;
        STATUS = status;
    }

    private Simd() {}

    /**
     * Whether {@link SimdKernels#floatMath}'s vector loop runs yet ({@link #bytesReady} is
     * {@link CpuBackend#scaleBytes}'). Before C2 compiles it, its vectors are objects on the heap and
     * it is some hundred times slower than the plain loop, which
     * gives the same bits: in W1's first epoch it took 44% of the training time (a profile of this
     * project's machine). So it waits, like the product tiles, for the warm-up thread to see it run at
     * compiled speed ({@link SmallGemm#warm}); where nothing warms it, it runs at once.
     */
    private static volatile boolean mathReady;

    static boolean mathReady() {
        return mathReady;
    }

    /** Lets {@link SimdKernels#floatMath} take its vector loop from now on. */
    static void markMathReady() {
        mathReady = true;
    }

    /**
     * Whether {@link CpuBackend#scaleBytes}' vector loop runs yet: as for {@link #mathReady}, once
     * the warm-up has seen it run at compiled speed (the plain loop gives the same floats).
     */
    private static volatile boolean bytesReady;

    static boolean bytesReady() {
        return bytesReady;
    }

    /** Lets {@link CpuBackend#scaleBytes} take its vector loop from now on. */
    static void markBytesReady() {
        bytesReady = true;
    }

    /** Lets every kernel that waits for a warm-up run at once (where no warm-up thread will run). */
    static void markReadyWithoutWarmUp() {
        mathReady = true;
        bytesReady = true;
    }

    /** "on (...)" or "off (reason)". */
    static String describe() {
        return STATUS;
    }
}
