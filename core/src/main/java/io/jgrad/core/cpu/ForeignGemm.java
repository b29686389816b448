package io.jgrad.core.cpu;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Array;
import java.nio.file.Path;
import java.util.Optional;

/**
 * OpenBLAS's {@code cblas_sgemm}/{@code cblas_dgemm} called on Java arrays in place, through the
 * foreign-function API of JDK 22 and later ({@code java.lang.foreign}) with
 * {@code Linker.Option.critical(true)}: the native code reads the operands and writes the product
 * in the heap arrays themselves, so nothing is copied into native memory and back (1024³ with
 * AVX-512 kernels on two cores: 357-362 GFLOPS in place against 343-346 with the copies, a harness).
 * JNA can only pass native memory; before JDK 22 {@link PinnedGemm} pins the arrays instead.
 *
 * <p>This class compiles on JDK 17: it reaches the API by reflection once, when it loads, and
 * composes the handles so that a call is a plain {@code invokeExact} with Java arrays and offsets,
 * which the JIT compiles like any downcall. On a JDK before 22 or with
 * {@code -Djgrad.blas.foreign=false} {@link #available()} is false; then, or when binding fails
 * (logged at INFO), {@link SystemOpenBlas} pins the arrays if asked ({@link PinnedGemm}), else
 * copies. A critical call holds off safepoints, and so garbage collection, until it returns and must
 * not call back into Java, which OpenBLAS's gemm never does; so only pieces of at most
 * {@link SystemOpenBlas}'s limit (a few milliseconds of work) are called in place, and larger ones go
 * through copies, whose cost is small beside theirs.
 *
 * <p>The JDK prints a warning on the first restricted call unless native access is enabled
 * ({@code --enable-native-access=ALL-UNNAMED}, which {@code ./run} and the benchmark scripts pass;
 * JNA needs it as well from JDK 24).
 */
final class ForeignGemm implements InPlaceGemm {
    private static final System.Logger LOG = System.getLogger(ForeignGemm.class.getName());

    /** Whether the in-place path may be used ({@code jgrad.blas.foreign}, default true). */
    static final boolean ENABLED = !"false".equalsIgnoreCase(System.getProperty("jgrad.blas.foreign"));

    private final MethodHandle sgemm;
    private final MethodHandle dgemm;

    private ForeignGemm(MethodHandle sgemm, MethodHandle dgemm) {
        this.sgemm = sgemm;
        this.dgemm = dgemm;
    }

    /**
     * Whether the in-place path may be tried: this JDK has the foreign-function API with critical
     * calls on heap memory (JDK 22+) and {@code jgrad.blas.foreign} is not false.
     */
    static boolean available() {
        return ENABLED && Runtime.version().feature() >= 22;
    }

    /**
     * Binds the two functions of the OpenBLAS library at {@code library} (already loaded by JNA),
     * or returns null when this JDK cannot (nothing logged) or the binding fails (logged at INFO).
     */
    static ForeignGemm bind(Path library) {
        if (!available() || library == null) {
            return null;
        }
        try {
            return new ForeignGemm(bindGemm(library, "cblas_sgemm", float.class, float[].class),
                    bindGemm(library, "cblas_dgemm", double.class, double[].class));
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            LOG.log(System.Logger.Level.INFO, "OpenBLAS cannot be called through java.lang.foreign here ({0}); "
                    + "jgrad pins the arrays instead if asked (-Djgrad.blas.pinned=true), else copies them into "
                    + "native memory", String.valueOf(e));
            return null;
        }
    }

    /**
     * A handle of type {@code (int order, int transA, int transB, int m, int n, int k, T alpha,
     * T[] a, long aByteOffset, int lda, T[] b, long bByteOffset, int ldb, T beta, T[] c,
     * long cByteOffset, int ldc) void} for the named cblas gemm.
     */
    private static MethodHandle bindGemm(Path library, String name, Class<?> scalar, Class<?> array)
            throws ReflectiveOperationException {
        Class<?> linkerType = Class.forName("java.lang.foreign.Linker");
        Class<?> optionType = Class.forName("java.lang.foreign.Linker$Option");
        Class<?> segmentType = Class.forName("java.lang.foreign.MemorySegment");
        Class<?> arenaType = Class.forName("java.lang.foreign.Arena");
        Class<?> lookupType = Class.forName("java.lang.foreign.SymbolLookup");
        Class<?> layoutType = Class.forName("java.lang.foreign.MemoryLayout");
        Class<?> valueLayoutType = Class.forName("java.lang.foreign.ValueLayout");
        Class<?> descriptorType = Class.forName("java.lang.foreign.FunctionDescriptor");

        Object linker = linkerType.getMethod("nativeLinker").invoke(null);
        Object arena = arenaType.getMethod("global").invoke(null);
        // an absolute file as JNA found it; a bare name (-Djgrad.blas.library=libopenblas.so.0) through dlopen's search
        Object lookup = library.isAbsolute()
                ? lookupType.getMethod("libraryLookup", Path.class, arenaType).invoke(null, library, arena)
                : lookupType.getMethod("libraryLookup", String.class, arenaType).invoke(null, library.toString(), arena);
        Optional<?> symbol = (Optional<?>) lookupType.getMethod("find", String.class).invoke(lookup, name);
        if (symbol.isEmpty()) {
            throw new IllegalStateException(library + " has no " + name);
        }
        Object i32 = valueLayoutType.getField("JAVA_INT").get(null);
        Object real = valueLayoutType.getField(scalar == float.class ? "JAVA_FLOAT" : "JAVA_DOUBLE").get(null);
        Object address = valueLayoutType.getField("ADDRESS").get(null);
        Object[] layouts = {i32, i32, i32, i32, i32, i32, real, address, i32, address, i32, real, address, i32};
        Object layoutArray = Array.newInstance(layoutType, layouts.length);
        for (int i = 0; i < layouts.length; i++) {
            Array.set(layoutArray, i, layouts[i]);
        }
        Object descriptor = descriptorType.getMethod("ofVoid", layoutArray.getClass()).invoke(null, layoutArray);
        Object options = Array.newInstance(optionType, 1);
        Array.set(options, 0, optionType.getMethod("critical", boolean.class).invoke(null, true));
        MethodHandle call = (MethodHandle) linkerType.getMethod("downcallHandle", segmentType, descriptorType,
                options.getClass()).invoke(linker, symbol.get(), descriptor, options);

        // (T[] array, long byteOffset) -> MemorySegment.ofArray(array).asSlice(byteOffset)
        MethodHandles.Lookup pub = MethodHandles.publicLookup();
        MethodHandle ofArray = pub.findStatic(segmentType, "ofArray", MethodType.methodType(segmentType, array));
        MethodHandle asSlice = pub.findVirtual(segmentType, "asSlice", MethodType.methodType(segmentType, long.class));
        MethodHandle slice = MethodHandles.filterArguments(asSlice, 0, ofArray);
        // the three address parameters (7, 9 and 12 of the C signature), last first so the earlier indices hold
        for (int at : new int[] {12, 9, 7}) {
            call = MethodHandles.collectArguments(call, at, slice);
        }
        return call.asType(MethodType.methodType(void.class, int.class, int.class, int.class, int.class, int.class,
                int.class, scalar, array, long.class, int.class, array, long.class, int.class, scalar, array,
                long.class, int.class));
    }

    @Override
    public String how() {
        return "on Java arrays in place";
    }

    @Override
    public void sgemm(int transA, int transB, int m, int n, int k, float alpha, float[] a, int aOffset, int lda,
            float[] b, int bOffset, int ldb, float beta, float[] c, int cOffset, int ldc) {
        try {
            sgemm.invokeExact(SystemOpenBlas.ROW_MAJOR, transA, transB, m, n, k, alpha, a, 4L * aOffset, lda, b,
                    4L * bOffset, ldb, beta, c, 4L * cOffset, ldc);
        } catch (Throwable e) {
            throw unchecked(e);
        }
    }

    @Override
    public void dgemm(int transA, int transB, int m, int n, int k, double alpha, double[] a, int aOffset, int lda,
            double[] b, int bOffset, int ldb, double beta, double[] c, int cOffset, int ldc) {
        try {
            dgemm.invokeExact(SystemOpenBlas.ROW_MAJOR, transA, transB, m, n, k, alpha, a, 8L * aOffset, lda, b,
                    8L * bOffset, ldb, beta, c, 8L * cOffset, ldc);
        } catch (Throwable e) {
            throw unchecked(e);
        }
    }

    /** What a downcall threw, unchecked: it declares Throwable but throws nothing checked. */
    private static RuntimeException unchecked(Throwable e) {
        if (e instanceof Error error) {
            throw error;
        }
        return e instanceof RuntimeException r ? r : new IllegalStateException(e);
    }
}
