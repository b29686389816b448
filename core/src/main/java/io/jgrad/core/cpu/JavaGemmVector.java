package io.jgrad.core.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-blocked micro-kernels of {@link JavaGemm}, written with the incubating Vector
 * API: a tile of {@link #MR} rows by two vectors of C stays in registers while the packed panels
 * of A and B stream past, one broadcast element of A times two vectors of B per row and step.
 * Only loaded when the Vector API module is present (see {@link JavaGemm#kernels()}).
 *
 * <p>Each element of the tile is the fused multiply-add chain {@code acc = fma(a_p, b_p, acc)}
 * over p from 0, then stored or added to C: exactly what {@link JavaGemm}'s plain loops compute,
 * so the two give the same bits.
 */
final class JavaGemmVector {
    /** Rows of the register tile. */
    static final int MR = 6;
    /*
     * The vector shapes SimdKernels uses, also where the machine has 512-bit float vectors: a
     * second float shape in the same JVM leaves the per-expression kernels (ChainKernel) partly
     * boxed. With 512-bit float tiles here, ChainKernelsTest's warm-up, which waits for compiled
     * speed, took 20-54 s instead of 3 and ran out of time in 1 of 2 runs (measured); the 256-bit
     * tiles run W5's products at 57-66 GFLOPS on one thread here (70-82% of that width's peak),
     * about the medians the 512-bit ones reached, and with less spread (BENCHMARKS.md).
     */
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final VectorSpecies<Double> D = SimdKernels.WIDE_DOUBLES ? DoubleVector.SPECIES_512 : DoubleVector.SPECIES_256;
    private static final int LF = F.length();
    private static final int LD = D.length();

    private JavaGemmVector() {}

    /** Null when these kernels run well here, else why not. */
    static String unsupportedReason() {
        int bits = FloatVector.SPECIES_PREFERRED.vectorBitSize(); // below 256 the fixed 256-bit shapes would be emulated
        return bits < 256 ? "vector registers of " + bits + " bits; the kernels want 256 or more" : null;
    }

    static String describe() {
        return "Vector API, " + F.vectorBitSize() + "-bit vectors";  // the float tiles' width
    }

    /** Columns of the float tile (two vectors). */
    static int nrFloat() {
        return 2 * LF;
    }

    /** Columns of the double tile (two vectors). */
    static int nrDouble() {
        return 2 * LD;
    }

    /**
     * C[6, 2·LF] at ci (row stride ldc) = (add ? C + : ) Σ_p a[p, 0..6) ⊗ b[p, 0..2·LF), for kc
     * steps of the packed panels a (6 per step, from ai) and b (2·LF per step, from bi).
     */
    static void kernel(int kc, float[] a, int ai, float[] b, int bi, float[] c, int ci, int ldc, boolean add) {
        FloatVector c00 = FloatVector.zero(F);
        FloatVector c01 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        FloatVector c40 = c00;
        FloatVector c41 = c00;
        FloatVector c50 = c00;
        FloatVector c51 = c00;
        for (int p = 0; p < kc; p++, ai += MR, bi += 2 * LF) {
            FloatVector b0 = FloatVector.fromArray(F, b, bi);
            FloatVector b1 = FloatVector.fromArray(F, b, bi + LF);
            FloatVector x = FloatVector.broadcast(F, a[ai]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(F, a[ai + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(F, a[ai + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(F, a[ai + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(F, a[ai + 4]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(F, a[ai + 5]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
        }
        store(c00, c01, c, ci, add);
        store(c10, c11, c, ci + ldc, add);
        store(c20, c21, c, ci + 2 * ldc, add);
        store(c30, c31, c, ci + 3 * ldc, add);
        store(c40, c41, c, ci + 4 * ldc, add);
        store(c50, c51, c, ci + 5 * ldc, add);
    }

    private static void store(FloatVector v0, FloatVector v1, float[] c, int at, boolean add) {
        if (add) {
            v0 = v0.add(FloatVector.fromArray(F, c, at));
            v1 = v1.add(FloatVector.fromArray(F, c, at + LF));
        }
        v0.intoArray(c, at);
        v1.intoArray(c, at + LF);
    }

    /** The float64 {@link #kernel(int, float[], int, float[], int, float[], int, int, boolean)}: C[6, 2·LD]. */
    static void kernel(int kc, double[] a, int ai, double[] b, int bi, double[] c, int ci, int ldc, boolean add) {
        DoubleVector c00 = DoubleVector.zero(D);
        DoubleVector c01 = c00;
        DoubleVector c10 = c00;
        DoubleVector c11 = c00;
        DoubleVector c20 = c00;
        DoubleVector c21 = c00;
        DoubleVector c30 = c00;
        DoubleVector c31 = c00;
        DoubleVector c40 = c00;
        DoubleVector c41 = c00;
        DoubleVector c50 = c00;
        DoubleVector c51 = c00;
        for (int p = 0; p < kc; p++, ai += MR, bi += 2 * LD) {
            DoubleVector b0 = DoubleVector.fromArray(D, b, bi);
            DoubleVector b1 = DoubleVector.fromArray(D, b, bi + LD);
            DoubleVector x = DoubleVector.broadcast(D, a[ai]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = DoubleVector.broadcast(D, a[ai + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = DoubleVector.broadcast(D, a[ai + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = DoubleVector.broadcast(D, a[ai + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = DoubleVector.broadcast(D, a[ai + 4]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = DoubleVector.broadcast(D, a[ai + 5]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
        }
        store(c00, c01, c, ci, add);
        store(c10, c11, c, ci + ldc, add);
        store(c20, c21, c, ci + 2 * ldc, add);
        store(c30, c31, c, ci + 3 * ldc, add);
        store(c40, c41, c, ci + 4 * ldc, add);
        store(c50, c51, c, ci + 5 * ldc, add);
    }

    private static void store(DoubleVector v0, DoubleVector v1, double[] c, int at, boolean add) {
        if (add) {
            v0 = v0.add(DoubleVector.fromArray(D, c, at));
            v1 = v1.add(DoubleVector.fromArray(D, c, at + LD));
        }
        v0.intoArray(c, at);
        v1.intoArray(c, at + LD);
    }
}
