package io.jgrad.core.cpu;

import com.kenai.jffi.ArrayFlags;
import com.kenai.jffi.CallContext;
import com.kenai.jffi.CallingConvention;
import com.kenai.jffi.HeapInvocationBuffer;
import com.kenai.jffi.Invoker;
import com.kenai.jffi.Library;
import com.kenai.jffi.Type;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * OpenBLAS's {@code cblas_sgemm}/{@code cblas_dgemm} called on Java arrays in place on any JDK,
 * through jffi (the call layer of jnr-ffi): for the length of one call the JVM pins each array
 * ({@code GetPrimitiveArrayCritical}), so the library reads the operands and writes the product in
 * the heap arrays themselves instead of copies in native memory. {@link SystemOpenBlas} uses it
 * where {@link ForeignGemm} cannot run (JDK 17-21) when asked to ({@code -Djgrad.blas.pinned=true};
 * jgrad's launchers ask on those JDKs); where jffi's JNI stub does not load (it ships one per
 * platform in its native jar, unpacked to a temporary file, or {@code jffi.extract.dir}) products use
 * copies, as by default.
 *
 * <p>Why it is not on by default: before JDK 22, G1 cannot collect while any array is pinned (the
 * GC locker). A thread of the program that needs a collection meanwhile stalls until the call
 * returns, and gives up with an {@code OutOfMemoryError} ("Retried waiting for GCLocker too often")
 * after {@code GCLockerRetryAllocationCount} (2) such stalls in a row, with the heap not full. A
 * stress test ({@code bench/run-jgrad.sh PinnedStress}: products back to back, two threads allocating 1 MB arrays,
 * {@code -Xmx64m}, JDK 17) hit it within 2 s; with {@code -XX:+UnlockDiagnosticVMOptions
 * -XX:GCLockerRetryAllocationCount=100}, which the launchers pass with the property, it ran 20 s
 * without. Only pieces of bounded work are called this way ({@link SystemOpenBlas#MAX_IN_PLACE_FLOPS}).
 *
 * <p>jffi 1.4.3 adds a pinned array's offset to its address in bytes, where its copying path counts
 * elements: this class passes byte offsets, and {@link #bind} checks on a product of windows of
 * small arrays that the library reads and writes the intended elements before it is used.
 */
final class PinnedGemm implements InPlaceGemm {
    private static final System.Logger LOG = System.getLogger(PinnedGemm.class.getName());

    /** Whether {@link SystemOpenBlas} uses the pinned path ({@code jgrad.blas.pinned}, default false: see the class comment). */
    static final boolean ENABLED = "true".equalsIgnoreCase(System.getProperty("jgrad.blas.pinned"));

    private static final int IN = ArrayFlags.IN | ArrayFlags.PINNED;
    private static final int OUT = ArrayFlags.OUT | ArrayFlags.PINNED;

    /** Kept so that the library stays open while this object is used. */
    private final Library library;
    private final long sgemm;
    private final long dgemm;
    private final CallContext single;
    private final CallContext dual;

    private PinnedGemm(Library library, long sgemm, long dgemm, CallContext single, CallContext dual) {
        this.library = library;
        this.sgemm = sgemm;
        this.dgemm = dgemm;
        this.single = single;
        this.dual = dual;
    }

    /**
     * Binds the two functions of the OpenBLAS library at {@code library} (already loaded by JNA),
     * whatever {@link #ENABLED} says, or returns null when it cannot be used here (logged at INFO:
     * jffi or its stub does not load, the library lacks the functions, or the check of the result fails).
     */
    static PinnedGemm bind(Path library) {
        if (library == null) {
            return null;
        }
        try {
            Library lib = Library.getCachedInstance(library.toString(), Library.LAZY | Library.LOCAL);
            if (lib == null) {
                throw new IllegalStateException("cannot open " + library + ": " + Library.getLastError());
            }
            long s = lib.getSymbolAddress("cblas_sgemm");
            long d = lib.getSymbolAddress("cblas_dgemm");
            if (s == 0 || d == 0) {
                throw new IllegalStateException(library + " has no cblas_sgemm or cblas_dgemm");
            }
            PinnedGemm gemm = new PinnedGemm(lib, s, d, context(Type.FLOAT), context(Type.DOUBLE));
            String wrong = gemm.check();
            if (wrong != null) {
                throw new IllegalStateException(wrong);
            }
            return gemm;
        } catch (RuntimeException | LinkageError e) {
            LOG.log(System.Logger.Level.INFO, "OpenBLAS cannot be called on pinned Java arrays here ({0}); its "
                    + "operands are copied into native memory", String.valueOf(e));
            return null;
        }
    }

    /** (int order, int transA, int transB, int m, int n, int k, T alpha, T* a, int lda, T* b, int ldb, T beta, T* c, int ldc). */
    private static CallContext context(Type real) {
        Type i32 = Type.SINT32;
        Type p = Type.POINTER;
        return CallContext.getCallContext(Type.VOID,
                new Type[] {i32, i32, i32, i32, i32, i32, real, p, i32, p, i32, real, p, i32},
                CallingConvention.DEFAULT, false);
    }

    /**
     * A 2×2×2 product of windows at offsets 1, 3 and 2 of 32-element arrays, in both precisions:
     * null if every element of C is what it should be, else what went wrong. The arrays are long
     * enough that offsets counted in either unit stay inside them.
     */
    private String check() {
        float[] a = new float[32];
        float[] b = new float[32];
        float[] c = new float[32];
        for (int i = 0; i < 32; i++) {
            a[i] = i + 1;
            b[i] = 2 * i - 7;
        }
        Arrays.fill(c, -1f);
        float[] want = c.clone();
        // C[2×2] at 2 (ldc 2) = A[2×2] at 1 (lda 2) · B[2×2] at 3 (ldb 2)
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 2; j++) {
                want[2 + i * 2 + j] = a[1 + i * 2] * b[3 + j] + a[1 + i * 2 + 1] * b[3 + 2 + j];
            }
        }
        sgemm(SystemOpenBlas.NO_TRANS, SystemOpenBlas.NO_TRANS, 2, 2, 2, 1f, a, 1, 2, b, 3, 2, 0f, c, 2, 2);
        if (!Arrays.equals(c, want)) {
            return "a pinned sgemm wrote " + Arrays.toString(c) + ", not " + Arrays.toString(want);
        }
        double[] ad = new double[32];
        double[] bd = new double[32];
        double[] cd = new double[32];
        double[] wantD = new double[32];
        for (int i = 0; i < 32; i++) {
            ad[i] = a[i];
            bd[i] = b[i];
            cd[i] = -1;
            wantD[i] = want[i];
        }
        dgemm(SystemOpenBlas.NO_TRANS, SystemOpenBlas.NO_TRANS, 2, 2, 2, 1.0, ad, 1, 2, bd, 3, 2, 0.0, cd, 2, 2);
        return Arrays.equals(cd, wantD) ? null
                : "a pinned dgemm wrote " + Arrays.toString(cd) + ", not " + Arrays.toString(wantD);
    }

    /** jffi takes an offset as a 32-bit count of bytes: arrays of 2 GiB or more go through copies. */
    @Override
    public boolean reaches(int elements, int elementBytes) {
        return (long) elements * elementBytes <= Integer.MAX_VALUE;
    }

    @Override
    public String how() {
        return "on pinned Java arrays in place";
    }

    /** A call's buffer with its first six arguments (order, flags, sizes) in. */
    private static HeapInvocationBuffer start(CallContext context, int transA, int transB, int m, int n, int k) {
        HeapInvocationBuffer call = new HeapInvocationBuffer(context, 4); // room for the 3 arrays without growing
        call.putInt(SystemOpenBlas.ROW_MAJOR);
        call.putInt(transA);
        call.putInt(transB);
        call.putInt(m);
        call.putInt(n);
        call.putInt(k);
        return call;
    }

    @Override
    public void sgemm(int transA, int transB, int m, int n, int k, float alpha, float[] a, int aOffset, int lda,
            float[] b, int bOffset, int ldb, float beta, float[] c, int cOffset, int ldc) {
        HeapInvocationBuffer call = start(single, transA, transB, m, n, k);
        call.putFloat(alpha);
        call.putArray(a, 4 * aOffset, a.length - aOffset, IN); // a byte offset: see the class comment
        call.putInt(lda);
        call.putArray(b, 4 * bOffset, b.length - bOffset, IN);
        call.putInt(ldb);
        call.putFloat(beta);
        call.putArray(c, 4 * cOffset, c.length - cOffset, OUT);
        call.putInt(ldc);
        Invoker.getInstance().invokeInt(single, sgemm, call);
    }

    @Override
    public void dgemm(int transA, int transB, int m, int n, int k, double alpha, double[] a, int aOffset, int lda,
            double[] b, int bOffset, int ldb, double beta, double[] c, int cOffset, int ldc) {
        HeapInvocationBuffer call = start(dual, transA, transB, m, n, k);
        call.putDouble(alpha);
        call.putArray(a, 8 * aOffset, a.length - aOffset, IN);
        call.putInt(lda);
        call.putArray(b, 8 * bOffset, b.length - bOffset, IN);
        call.putInt(ldb);
        call.putDouble(beta);
        call.putArray(c, 8 * cOffset, c.length - cOffset, OUT);
        call.putInt(ldc);
        Invoker.getInstance().invokeInt(dual, dgemm, call);
    }
}
