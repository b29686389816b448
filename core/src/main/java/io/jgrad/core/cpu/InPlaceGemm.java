package io.jgrad.core.cpu;

/**
 * OpenBLAS's row-major {@code cblas_sgemm}/{@code cblas_dgemm} called on Java arrays in place:
 * the native code reads the operands and writes the product in the heap arrays themselves. Two ways
 * exist: {@link ForeignGemm} ({@code java.lang.foreign}, JDK 22+) and {@link PinnedGemm} (jffi's
 * pinned arrays, any JDK). {@link SystemOpenBlas} uses the first where it binds, the second when
 * asked for ({@code -Djgrad.blas.pinned=true}) and it binds, else copies.
 *
 * <p>Each call holds off the JVM's garbage collection until it returns, so callers keep a call to a
 * few milliseconds of work ({@link SystemOpenBlas#MAX_IN_PLACE_FLOPS}).
 */
interface InPlaceGemm {
    /** Row-major {@code cblas_sgemm} on arrays: offsets in elements; flags 111 (no transpose) or 112. */
    void sgemm(int transA, int transB, int m, int n, int k, float alpha, float[] a, int aOffset, int lda,
            float[] b, int bOffset, int ldb, float beta, float[] c, int cOffset, int ldc);

    /** Row-major {@code cblas_dgemm} on arrays: offsets in elements; flags 111 (no transpose) or 112. */
    void dgemm(int transA, int transB, int m, int n, int k, double alpha, double[] a, int aOffset, int lda,
            double[] b, int bOffset, int ldb, double beta, double[] c, int cOffset, int ldc);

    /** Whether every element of arrays of this many elements of this size can be passed (true unless said). */
    default boolean reaches(int elements, int elementBytes) {
        return true;
    }

    /** How the arrays reach the library, for {@link SystemOpenBlas#description()}. */
    String how();
}
