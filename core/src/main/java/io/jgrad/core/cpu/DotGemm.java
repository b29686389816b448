package io.jgrad.core.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * FLOAT32 products A·Wᵀ with few output columns (a classifier's last linear layer: 10 classes) as
 * dot products of rows, both read in place: C(i, j) = Σₚ A(i, p)·W(j, p), A row-major m×k and W
 * stored n×k. The register tiles ({@link SmallGemm}) need n in sixteens and would first copy Wᵀ into
 * panels; the system OpenBLAS took about 38 µs for W1's 128×784 by 784×10 (one thread, operands copied
 * into native memory), where this runs in a fraction of that (BENCHMARKS.md, twentieth session).
 *
 * <p>Each element is one fixed chain, whatever the blocking, the thread count or whether the Vector
 * API runs: sixteen lane sums, lane l the fused multiply-add chain over p ≡ l (mod 16) below k − k mod
 * 16 from 0; the lanes added in a fixed tree; then the last k mod 16 terms fused in one by one. The
 * plain loops ({@link #plain}) compute the same chain element by element, so products made before the
 * JIT has compiled the vector kernel (see {@link SmallGemm#warm}) have the same bits.
 *
 * <p>The vector kernel computes a block of 4 rows by 2 columns of C (8 accumulators, 6 loads per 8
 * fused multiply-adds); at the edges it repeats the last row or column instead of having tail kernels
 * (the repeated element is computed again to the same value).
 */
final class DotGemm {
    /** Lanes of a 512-bit float vector, and of the chains' lane sums. */
    static final int L = 16;
    /** Rows and columns of C per block of the vector kernel. */
    private static final int RB = 4;
    private static final int CB = 2;

    private DotGemm() {}

    /**
     * Whether a product goes here (where the Vector API's 512-bit vectors run, {@link SmallGemm#VECTOR}):
     * A as stored, B transposed (a weight W read as Wᵀ), n not a multiple of 16 and below 64 (wider
     * products are the tiles' or the library's), and 16 ≤ k ≤ {@link Blas#WIDE_K} (a few rows of A and
     * W stay in a core's first-level cache).
     */
    static boolean takes(Blas.Operand a, Blas.Operand b, int m, int n, int k) {
        return a.trans() == 'N' && b.trans() == 'T' && n % 16 != 0 && n < 64 && k >= L && k <= Blas.WIDE_K;
    }

    /**
     * Whether the vector kernel runs yet: once the warm-up ({@link SmallGemm#warm}) has seen it run
     * compiled, or at once where nothing warms it ({@link SmallGemm#tilesWithoutWarmUp}).
     */
    private static volatile boolean ready;

    static void markReady() {
        ready = true;
    }

    /** Whether the vector kernel runs yet ({@link #ready}). */
    static boolean ready() {
        return ready;
    }

    /**
     * out[m, n] (contiguous at outOffset) = A · Bᵀ as {@link #takes} describes; on the vector kernel
     * once it is compiled.
     */
    static void gemm(Blas.Operand a, Blas.Operand b, int m, int n, int k, float[] out, int outOffset) {
        gemm(a, b, m, n, k, out, outOffset, ready);
    }

    /** {@link #gemm} on the vector kernel or on the plain loops (tests compare the two). */
    static void gemm(Blas.Operand a, Blas.Operand b, int m, int n, int k, float[] out, int outOffset, boolean vector) {
        float[] av = a.storage().f();
        float[] wv = b.storage().f();
        int ao = a.offset();
        int lda = a.ld();
        int wo = b.offset();
        int ldw = b.ld();
        // rows in blocks on jgrad's threads from the tiles' threshold (W1's 2.5 MFLOP forward ran faster on
        // one thread: waking the helper cost more than its half, in-JVM alternation of W1's steps); every
        // element's chain is the same whichever thread computes it
        int per = 2.0 * m * n * k >= SmallGemm.SPLIT_FLOPS ? 4 * RB : m;
        Parallel.forRange(m, per, (i0, i1) -> {
            if (vector) {
                Kernel.rows(av, ao, lda, wv, wo, ldw, n, k, out, outOffset, i0, i1);
            } else {
                plain(av, ao, lda, wv, wo, ldw, n, k, out, outOffset, i0, i1);
            }
        });
    }

    /** Rows [from, to) of C, element by element: the chain the vector kernel computes. */
    static void plain(float[] a, int ao, int lda, float[] w, int wo, int ldw, int n, int k, float[] c, int co,
                      int from, int to) {
        float[] lanes = new float[L];
        int kv = k - k % L;
        for (int i = from; i < to; i++) {
            int ai = ao + i * lda;
            for (int j = 0; j < n; j++) {
                int wj = wo + j * ldw;
                java.util.Arrays.fill(lanes, 0f);
                for (int q = 0; q < kv; q += L) {
                    for (int l = 0; l < L; l++) {
                        lanes[l] = Math.fma(a[ai + q + l], w[wj + q + l], lanes[l]);
                    }
                }
                c[co + i * n + j] = finish(lanes, 0, a, ai, w, wj, kv, k);
            }
        }
    }

    /**
     * One element from its sixteen lane sums at lanes[at..at+16): added in a fixed tree (adjacent
     * pairs, then pairs of pairs), then A(i, p)·W(j, p) for p from kv to k fused in one by one.
     */
    static float finish(float[] lanes, int at, float[] a, int ai, float[] w, int wj, int kv, int k) {
        float s0 = (lanes[at] + lanes[at + 1]) + (lanes[at + 2] + lanes[at + 3]);
        float s1 = (lanes[at + 4] + lanes[at + 5]) + (lanes[at + 6] + lanes[at + 7]);
        float s2 = (lanes[at + 8] + lanes[at + 9]) + (lanes[at + 10] + lanes[at + 11]);
        float s3 = (lanes[at + 12] + lanes[at + 13]) + (lanes[at + 14] + lanes[at + 15]);
        float s = (s0 + s1) + (s2 + s3);
        for (int p = kv; p < k; p++) {
            s = Math.fma(a[ai + p], w[wj + p], s);
        }
        return s;
    }

    /** The vector kernel (a nested class, so that a JVM without the Vector API module never loads it). */
    static final class Kernel {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;

        private Kernel() {}

        /** Rows [from, to) of C in blocks of 4 rows by 2 columns, the last row and column repeated at the edges. */
        static void rows(float[] a, int ao, int lda, float[] w, int wo, int ldw, int n, int k, float[] c, int co,
                         int from, int to) {
            float[] lanes = new float[RB * CB * L];
            int kv = k - k % L;
            for (int i = from; i < to; i += RB) {
                int r1 = Math.min(i + 1, to - 1);
                int r2 = Math.min(i + 2, to - 1);
                int r3 = Math.min(i + 3, to - 1);
                for (int j = 0; j < n; j += CB) {
                    int j1 = Math.min(j + 1, n - 1);
                    block(k, kv, a, ao + i * lda, ao + r1 * lda, ao + r2 * lda, ao + r3 * lda, w, wo + j * ldw,
                            wo + j1 * ldw, lanes);
                    store(lanes, 0, i, j, j1, a, ao, lda, w, wo, ldw, n, kv, k, c, co);
                    store(lanes, 1, r1, j, j1, a, ao, lda, w, wo, ldw, n, kv, k, c, co);
                    store(lanes, 2, r2, j, j1, a, ao, lda, w, wo, ldw, n, kv, k, c, co);
                    store(lanes, 3, r3, j, j1, a, ao, lda, w, wo, ldw, n, kv, k, c, co);
                }
            }
        }

        /** C(row, j) and C(row, j1) from the lane sums of the block's r-th row. */
        private static void store(float[] lanes, int r, int row, int j, int j1, float[] a, int ao, int lda, float[] w,
                                  int wo, int ldw, int n, int kv, int k, float[] c, int co) {
            int ai = ao + row * lda;
            c[co + row * n + j] = finish(lanes, 2 * r * L, a, ai, w, wo + j * ldw, kv, k);
            c[co + row * n + j1] = finish(lanes, (2 * r + 1) * L, a, ai, w, wo + j1 * ldw, kv, k);
        }

        /** The lane sums of rows x0..x3 of A against rows y0, y1 of W, over p below kv, into lanes (row-major 4×2×16). */
        private static void block(int k, int kv, float[] a, int x0, int x1, int x2, int x3, float[] w, int y0, int y1,
                                  float[] lanes) {
            // the receivers and accumulators through SmallGemm.Tiles.exact: see there
            FloatVector c00 = SmallGemm.Tiles.exact(FloatVector.zero(F));
            FloatVector c01 = c00;
            FloatVector c10 = c00;
            FloatVector c11 = c00;
            FloatVector c20 = c00;
            FloatVector c21 = c00;
            FloatVector c30 = c00;
            FloatVector c31 = c00;
            for (int p = 0; p < kv; p += L) {
                FloatVector w0 = FloatVector.fromArray(F, w, y0 + p);
                FloatVector w1 = FloatVector.fromArray(F, w, y1 + p);
                FloatVector a0 = SmallGemm.Tiles.exact(FloatVector.fromArray(F, a, x0 + p));
                c00 = a0.fma(w0, c00);
                c01 = a0.fma(w1, c01);
                FloatVector a1 = SmallGemm.Tiles.exact(FloatVector.fromArray(F, a, x1 + p));
                c10 = a1.fma(w0, c10);
                c11 = a1.fma(w1, c11);
                FloatVector a2 = SmallGemm.Tiles.exact(FloatVector.fromArray(F, a, x2 + p));
                c20 = a2.fma(w0, c20);
                c21 = a2.fma(w1, c21);
                FloatVector a3 = SmallGemm.Tiles.exact(FloatVector.fromArray(F, a, x3 + p));
                c30 = a3.fma(w0, c30);
                c31 = a3.fma(w1, c31);
            }
            c00.intoArray(lanes, 0);
            c01.intoArray(lanes, L);
            c10.intoArray(lanes, 2 * L);
            c11.intoArray(lanes, 3 * L);
            c20.intoArray(lanes, 4 * L);
            c21.intoArray(lanes, 5 * L);
            c30.intoArray(lanes, 6 * L);
            c31.intoArray(lanes, 7 * L);
        }
    }
}
