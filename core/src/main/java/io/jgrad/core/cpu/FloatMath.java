package io.jgrad.core.cpu;

import io.jgrad.core.backend.ElementwiseOp;

/**
 * exp, sigmoid and tanh for FLOAT32 tensors, computed in double precision without library calls,
 * so that one formula serves the plain loop (here) and the vectorized one
 * ({@link SimdKernels#floatMath}), which performs the same IEEE operations on each lane and so
 * gives the same bits. The double result is within about 1e-11 of the true value (relative), so
 * the float returned is the correctly rounded one except in rare near-ties, where it is the
 * neighbour (at most 1 ulp away). FLOAT64 tensors keep {@link Math}'s functions.
 *
 * <p>Why not {@code (float) Math.tanh(x)}: on Java 17 {@code Math.tanh} is a native call per
 * element (~21 ns), {@code Math.exp} ~9 ns for a sigmoid; an LSTM spends most of its elementwise
 * time there. exp(x) = 2ᵏ·eʳ with k = round(x/ln 2) and |r| ≤ ln 2 / 2 (Cody and Waite's split of
 * ln 2), eʳ by its Taylor polynomial of degree 10 (truncation below 3e-13) evaluated with fused
 * multiply-adds ({@link Math#fma}, one rounding each, like the vector lanes' FMA),
 * 2ᵏ assembled from k's bits; the argument is clamped to ±{@value #LIMIT}, beyond which float
 * results are 0 or infinite anyway.
 */
final class FloatMath {
    /** e^±110 is far outside float's range and well inside double's. */
    static final double LIMIT = 110;
    static final double LOG2E = 1.4426950408889634;
    /** ln 2 split so that k·LN2_HI is exact for |k| < 2²⁰. */
    static final double LN2_HI = 0x1.62e42fee00000p-1;
    static final double LN2_LO = 0x1.a39ef35793c76p-33;
    /** 1.5·2⁵²: adding it rounds a double of magnitude below 2⁵¹ to an integer, left in the low bits. */
    static final double ROUNDER = 0x1.8p52;
    /** 1/n! for n = 10 down to 2 (Horner's order). */
    static final double[] TAYLOR = {1.0 / 3628800, 1.0 / 362880, 1.0 / 40320, 1.0 / 5040, 1.0 / 720, 1.0 / 120,
        1.0 / 24, 1.0 / 6, 1.0 / 2};
    /** Below this |x|, tanh(x) rounds to x in float (tanh x = x − x³/3 + …, x²/3 < 2⁻²⁵). */
    static final double TANH_TINY = 0x1p-13;

    private FloatMath() {}

    /** eˣ in double for x in float's range (NaN for NaN), relative error below 1e-11. */
    static double exp(double x) {
        double c = Math.min(Math.max(x, -LIMIT), LIMIT);
        double t = Math.fma(c, LOG2E, ROUNDER);
        double k = t - ROUNDER;
        double r = Math.fma(k, -LN2_LO, Math.fma(k, -LN2_HI, c));
        double[] q = TAYLOR;
        double p = Math.fma(r, q[0], q[1]);
        for (int i = 2; i < q.length; i++) {
            p = Math.fma(p, r, q[i]);
        }
        p = Math.fma(Math.fma(p, r, 1), r, 1);
        return p * Double.longBitsToDouble((Double.doubleToRawLongBits(t) + 1023) << 52);
    }

    static float exp(float x) {
        return (float) exp((double) x);
    }

    /** 1 / (1 + e⁻ˣ). */
    static float sigmoid(float x) {
        return (float) (1 / (1 + exp(-(double) x)));
    }

    /** sign(x)·(1 − 2 / (e^(2|x|) + 1)), and x itself where |x| < {@value #TANH_TINY} (signed zeros kept). */
    static float tanh(float x) {
        double a = Math.abs((double) x);
        if (a < TANH_TINY) {
            return x;
        }
        double t = 1 - 2 / (exp(2 * a) + 1);
        return (float) (x < 0 ? -t : t);
    }

    /** y[yo + i] = f(x[xo + i]) for i below n, f one of EXP, SIGMOID, TANH. */
    static void apply(ElementwiseOp op, float[] x, int xo, float[] y, int yo, int n) {
        switch (op) {
            case EXP -> {
                for (int i = 0; i < n; i++) {
                    y[yo + i] = exp(x[xo + i]);
                }
            }
            case SIGMOID -> {
                for (int i = 0; i < n; i++) {
                    y[yo + i] = sigmoid(x[xo + i]);
                }
            }
            case TANH -> {
                for (int i = 0; i < n; i++) {
                    y[yo + i] = tanh(x[xo + i]);
                }
            }
            default -> throw new IllegalArgumentException(op + " is not computed here");
        }
    }

    static boolean handles(ElementwiseOp op) {
        return op == ElementwiseOp.EXP || op == ElementwiseOp.SIGMOID || op == ElementwiseOp.TANH;
    }
}
