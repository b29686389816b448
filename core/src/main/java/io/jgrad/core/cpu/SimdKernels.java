package io.jgrad.core.cpu;

import io.jgrad.core.backend.ElementwiseOp;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The FLOAT32 kernels of {@link Simd}, written with the incubating Vector API. Only called when
 * {@link Simd#ENABLED}: loading this class needs {@code jdk.incubator.vector}. Each kernel gives
 * the bits of the plain loop it replaces (named in its comment); {@code SimdTest} checks that on
 * NaNs of both signs, signed zeros, infinities and subnormals.
 *
 * <p>Offsets are explicit: unlike C2's auto-vectorizer, these loops do not need input and output
 * to share their indices, so the fused evaluation can run in a small buffer that stays in L1.
 */
final class SimdKernels {
    /*
     * 256-bit float vectors everywhere, also where the machine has 512: one vector shape per
     * element type keeps the type profiles of the Vector API's shared methods monomorphic. Mixing
     * float shapes made C2 leave the per-expression kernels (ChainKernel) partly boxed, 4x slower
     * (measured).
     */
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    /*
     * A sum widens each float to a double. Where the machine has 512-bit vectors, eight floats
     * widen in one instruction to one vector of eight doubles (DoubleVector is then used only in
     * that shape, so its profiles stay monomorphic too); else to two vectors of four.
     */
    static final boolean WIDE_DOUBLES = DoubleVector.SPECIES_PREFERRED.length() >= 8
            && !"false".equalsIgnoreCase(System.getProperty("jgrad.simd.wideDoubles")); // false: the 256-bit path (tests)
    private static final VectorSpecies<Double> D8 = WIDE_DOUBLES ? DoubleVector.SPECIES_512 : DoubleVector.SPECIES_256;
    private static final VectorSpecies<Double> D4 = DoubleVector.SPECIES_256;

    private SimdKernels() {}

    /** Null when these kernels can run well here, else why not. */
    static String unsupportedReason() {
        int bits = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        if (bits < 256) {
            return "vector registers of " + bits + " bits; jgrad's kernels want 256 or more";
        }
        return null;
    }

    static String describe() {
        return "Vector API, " + F.vectorBitSize() + "-bit vectors" + (WIDE_DOUBLES ? ", sums in 512-bit" : "");
    }

    // ---------------------------------------------------------------- sums

    /** {@link Reduce#sumRange(float[], int, int)}: the same sixteen double accumulators, the same combination. */
    static double sum(float[] v, int from, int len) {
        double[] lanes = new double[Reduce.SUM_LANES];
        accumulate(v, from, len, lanes);
        return Reduce.combine(lanes);
    }

    /**
     * Adds v[from + i] to lanes[i mod 16] for i below len rounded down to a multiple of 16, then
     * the remaining elements to lanes[0] in order: called on consecutive pieces whose lengths are
     * multiples of 16 (all but the last), this is one {@link #sum} over their concatenation.
     */
    static void accumulate(float[] v, int from, int len, double[] lanes) {
        int i = 0;
        int end = len & ~15;
        if (WIDE_DOUBLES) {
            DoubleVector a = DoubleVector.fromArray(D8, lanes, 0);
            DoubleVector b = DoubleVector.fromArray(D8, lanes, 8);
            for (; i < end; i += 16) {
                a = a.add(FloatVector.fromArray(F, v, from + i).convertShape(VectorOperators.F2D, D8, 0));
                b = b.add(FloatVector.fromArray(F, v, from + i + 8).convertShape(VectorOperators.F2D, D8, 0));
            }
            a.intoArray(lanes, 0);
            b.intoArray(lanes, 8);
        } else {
            DoubleVector a = DoubleVector.fromArray(D4, lanes, 0);
            DoubleVector b = DoubleVector.fromArray(D4, lanes, 4);
            DoubleVector c = DoubleVector.fromArray(D4, lanes, 8);
            DoubleVector d = DoubleVector.fromArray(D4, lanes, 12);
            for (; i < end; i += 16) {
                FloatVector f = FloatVector.fromArray(F, v, from + i);
                FloatVector g = FloatVector.fromArray(F, v, from + i + 8);
                a = a.add(f.convertShape(VectorOperators.F2D, D4, 0));
                b = b.add(f.convertShape(VectorOperators.F2D, D4, 1));
                c = c.add(g.convertShape(VectorOperators.F2D, D4, 0));
                d = d.add(g.convertShape(VectorOperators.F2D, D4, 1));
            }
            a.intoArray(lanes, 0);
            b.intoArray(lanes, 4);
            c.intoArray(lanes, 8);
            d.intoArray(lanes, 12);
        }
        for (; i < len; i++) {
            lanes[0] += v[from + i];
        }
    }

    // ---------------------------------------------------------------- relu's backward

    /** o = x <= 0 ? +0 : g, relu's backward ({@link Elementwise#reluMask}): the gradient masked. */
    static void reluBackward(float[] g, int go, float[] x, int xo, float[] o, int oo, int n) {
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += F.length()) {
            VectorMask<Float> blocked = FloatVector.fromArray(F, x, xo + i).compare(VectorOperators.LE, 0f);
            FloatVector.fromArray(F, g, go + i).blend(0f, blocked).intoArray(o, oo + i);
        }
        for (; i < n; i++) {
            o[oo + i] = Float.intBitsToFloat(Float.floatToRawIntBits(g[go + i]) & Elementwise.reluMask(x[xo + i]));
        }
    }

    /** {@link #reluBackward} with one gradient value for every element (the gradient of a sum). */
    static void reluBackward(float g, float[] x, int xo, float[] o, int oo, int n) {
        FloatVector gv = FloatVector.broadcast(F, g);
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += F.length()) {
            gv.blend(0f, FloatVector.fromArray(F, x, xo + i).compare(VectorOperators.LE, 0f)).intoArray(o, oo + i);
        }
        int gb = Float.floatToRawIntBits(g);
        for (; i < n; i++) {
            o[oo + i] = Float.intBitsToFloat(gb & Elementwise.reluMask(x[xo + i]));
        }
    }

    /** o = g & mask(x) with x one value (the mask is then all or nothing). */
    static void maskScalar(float[] g, int go, float x, float[] o, int oo, int n) {
        int m = Elementwise.reluMask(x);
        IntVector mask = IntVector.broadcast(I, m);
        int i = 0;
        for (int end = I.loopBound(n); i < end; i += I.length()) {
            FloatVector.fromArray(F, g, go + i).reinterpretAsInts().and(mask).reinterpretAsFloats().intoArray(o, oo + i);
        }
        for (; i < n; i++) {
            o[oo + i] = Float.intBitsToFloat(Float.floatToRawIntBits(g[go + i]) & m);
        }
    }

    /** o[oo + i] += alpha * b[bo + i] (a multiply, then an add: no fused multiply-add, as in plain Java). */
    static void addScaled(float[] b, int bo, float alpha, float[] o, int oo, int n) {
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += F.length()) {
            FloatVector.fromArray(F, o, oo + i).add(FloatVector.fromArray(F, b, bo + i).mul(alpha)).intoArray(o, oo + i);
        }
        for (; i < n; i++) {
            o[oo + i] += alpha * b[bo + i];
        }
    }

    // ---------------------------------------------------------------- the fused ops

    /** o = a op b for ADD, SUB, MUL. */
    static void binary(ElementwiseOp op, float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
        int i = 0;
        int end = F.loopBound(n);
        int step = F.length();
        switch (op) {
            case ADD -> {
                for (; i < end; i += step) {
                    FloatVector.fromArray(F, a, ao + i).add(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
                }
                for (; i < n; i++) {
                    o[oo + i] = a[ao + i] + b[bo + i];
                }
            }
            case SUB -> {
                for (; i < end; i += step) {
                    FloatVector.fromArray(F, a, ao + i).sub(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
                }
                for (; i < n; i++) {
                    o[oo + i] = a[ao + i] - b[bo + i];
                }
            }
            case MUL -> {
                for (; i < end; i += step) {
                    FloatVector.fromArray(F, a, ao + i).mul(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
                }
                for (; i < n; i++) {
                    o[oo + i] = a[ao + i] * b[bo + i];
                }
            }
            case RELU_BACKWARD -> reluBackward(a, ao, b, bo, o, oo, n);
            default -> throw new IllegalArgumentException(op + " is not binary");
        }
    }

    /** o = a op s (for RELU_BACKWARD: the gradient a masked by the one value s). */
    static void arrayScalar(ElementwiseOp op, float[] a, int ao, float s, float[] o, int oo, int n) {
        if (op == ElementwiseOp.RELU_BACKWARD) {
            maskScalar(a, ao, s, o, oo, n);
            return;
        }
        FloatVector sv = FloatVector.broadcast(F, s);
        int i = 0;
        int end = F.loopBound(n);
        int step = F.length();
        switch (op) {
            case ADD -> {
                for (; i < end; i += step) {
                    FloatVector.fromArray(F, a, ao + i).add(sv).intoArray(o, oo + i);
                }
                for (; i < n; i++) {
                    o[oo + i] = a[ao + i] + s;
                }
            }
            case SUB -> {
                for (; i < end; i += step) {
                    FloatVector.fromArray(F, a, ao + i).sub(sv).intoArray(o, oo + i);
                }
                for (; i < n; i++) {
                    o[oo + i] = a[ao + i] - s;
                }
            }
            case MUL -> {
                for (; i < end; i += step) {
                    FloatVector.fromArray(F, a, ao + i).mul(sv).intoArray(o, oo + i);
                }
                for (; i < n; i++) {
                    o[oo + i] = a[ao + i] * s;
                }
            }
            default -> throw new IllegalArgumentException(op + " is not binary");
        }
    }

    /** o = s op b: ADD and MUL as b op s (as the plain kernels commute them), SUB as s - b, RELU_BACKWARD as s masked by b. */
    static void scalarArray(ElementwiseOp op, float s, float[] b, int bo, float[] o, int oo, int n) {
        switch (op) {
            case ADD, MUL -> arrayScalar(op, b, bo, s, o, oo, n);
            case SUB -> {
                FloatVector sv = FloatVector.broadcast(F, s);
                int i = 0;
                for (int end = F.loopBound(n); i < end; i += F.length()) {
                    sv.sub(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
                }
                for (; i < n; i++) {
                    o[oo + i] = s - b[bo + i];
                }
            }
            case RELU_BACKWARD -> reluBackward(s, b, bo, o, oo, n);
            default -> throw new IllegalArgumentException(op + " is not binary");
        }
    }

    /** o = -a or Math.max(a, 0f). */
    static void unary(ElementwiseOp op, float[] a, int ao, float[] o, int oo, int n) {
        int i = 0;
        int end = F.loopBound(n);
        int step = F.length();
        switch (op) {
            case NEG -> {
                for (; i < end; i += step) {
                    FloatVector.fromArray(F, a, ao + i).neg().intoArray(o, oo + i);
                }
                for (; i < n; i++) {
                    o[oo + i] = -a[ao + i];
                }
            }
            case RELU -> {
                // Math.max(v, 0f) is +0 where v <= 0 (-0 included) and v itself elsewhere (NaN too):
                // a compare and a blend, shorter than max's NaN and signed-zero handling
                for (; i < end; i += step) {
                    FloatVector v = FloatVector.fromArray(F, a, ao + i);
                    v.blend(0f, v.compare(VectorOperators.LE, 0f)).intoArray(o, oo + i);
                }
                for (; i < n; i++) {
                    o[oo + i] = Math.max(a[ao + i], 0f);
                }
            }
            default -> throw new IllegalArgumentException(op + " is not unary");
        }
    }

    // ---------------------------------------------------------------- image bytes

    /**
     * The vector part of {@link CpuBackend#scaleBytes}: eight bytes at a time widened to ints, masked
     * to 0..255, converted to floats (exactly), multiplied by scale and less shift, the plain loop's
     * float operations; returns how many elements it did (the rest is the tail).
     */
    static int scaleBytesLoop(byte[] a, int ao, float[] o, int oo, int n, float scale, float shift) {
        int end = n - n % I.length();
        for (int i = 0; i < end; i += I.length()) {
            IntVector v = (IntVector) ByteVector.fromArray(ByteVector.SPECIES_64, a, ao + i)
                    .convertShape(VectorOperators.B2I, I, 0);
            ((FloatVector) v.and(0xFF).convert(VectorOperators.I2F, 0)).mul(scale).sub(shift).intoArray(o, oo + i);
        }
        return end;
    }

    // ---------------------------------------------------------------- exp, sigmoid, tanh

    /**
     * {@link FloatMath#apply}: the same double operations on each lane (floats widened to
     * doubles, as in the sums), so the same bits as the plain loop.
     */
    static void floatMath(ElementwiseOp op, float[] a, int ao, float[] o, int oo, int n) {
        floatMath(op, a, ao, o, oo, n, Simd.mathReady());
    }

    /** {@link #floatMath} with its vector loop or only the plain one (the warm-up and tests choose). */
    static void floatMath(ElementwiseOp op, float[] a, int ao, float[] o, int oo, int n, boolean vector) {
        int kind = switch (op) {
            case EXP -> 0;
            case SIGMOID -> 1;
            case TANH -> 2;
            default -> throw new IllegalArgumentException(op + " is not computed here");
        };
        int done = WIDE_DOUBLES && vector ? floatMathLoop(kind, a, ao, o, oo, n) : 0;
        FloatMath.apply(op, a, ao + done, o, oo + done, n - done);
    }

    /**
     * The vector part of {@link #floatMath}, where the machine has 512-bit vectors: 8 floats
     * widened to one vector of doubles; returns how many elements it did (the rest is the tail).
     * Elsewhere the plain loop runs: with 256-bit vectors, 4 floats per step through masked loads
     * and stores measured no faster than it. The whole computation, exp included, is in this one
     * method on purpose: a vector passed to or returned from a call that C2 does not inline is
     * boxed, and a helper compiled on its own first may be too big to inline later (measured:
     * tanh 4x slower that way).
     */
    private static int floatMathLoop(int kind, float[] a, int ao, float[] o, int oo, int n) {
        int step = D8.length();
        int end = n - n % step;
        for (int i = 0; i < end; i += step) {
            DoubleVector x = (DoubleVector) FloatVector.fromArray(F, a, ao + i).convertShape(VectorOperators.F2D, D8, 0);
            DoubleVector one = x.broadcast(1.0);
            DoubleVector abs = x.abs();
            DoubleVector arg = kind == 0 ? x : kind == 1 ? x.neg() : abs.mul(2.0);
            // FloatMath.exp(arg), operation for operation
            DoubleVector c = arg.max(-FloatMath.LIMIT).min(FloatMath.LIMIT);
            DoubleVector t = c.lanewise(VectorOperators.FMA, FloatMath.LOG2E, FloatMath.ROUNDER);
            DoubleVector k = t.sub(FloatMath.ROUNDER);
            DoubleVector r = k.lanewise(VectorOperators.FMA, -FloatMath.LN2_HI, c);
            r = k.lanewise(VectorOperators.FMA, -FloatMath.LN2_LO, r);
            double[] q = FloatMath.TAYLOR;
            DoubleVector p = r.lanewise(VectorOperators.FMA, q[0], q[1]);
            p = p.lanewise(VectorOperators.FMA, r, x.broadcast(q[2]));
            p = p.lanewise(VectorOperators.FMA, r, x.broadcast(q[3]));
            p = p.lanewise(VectorOperators.FMA, r, x.broadcast(q[4]));
            p = p.lanewise(VectorOperators.FMA, r, x.broadcast(q[5]));
            p = p.lanewise(VectorOperators.FMA, r, x.broadcast(q[6]));
            p = p.lanewise(VectorOperators.FMA, r, x.broadcast(q[7]));
            p = p.lanewise(VectorOperators.FMA, r, x.broadcast(q[8]));
            p = p.lanewise(VectorOperators.FMA, r, one);
            p = p.lanewise(VectorOperators.FMA, r, one);
            LongVector bits = ((LongVector) t.reinterpretAsLongs()).add(1023L).lanewise(VectorOperators.LSHL, 52L);
            DoubleVector e = p.mul(bits.reinterpretAsDoubles());
            DoubleVector y;
            if (kind == 0) {
                y = e;
            } else if (kind == 1) {
                y = one.div(one.add(e));
            } else {
                y = one.sub(x.broadcast(2.0).div(e.add(1.0)));
                y = y.blend(y.neg(), x.compare(VectorOperators.LT, 0.0));
                y = y.blend(x, abs.compare(VectorOperators.LT, FloatMath.TANH_TINY));
            }
            ((FloatVector) y.convertShape(VectorOperators.D2F, F, 0)).intoArray(o, oo + i);
        }
        return end;
    }

    /** {@link Elementwise#activationBackward}: o = g·(1 − y·y) (tanh) or (g·y)·(1 − y) (sigmoid). */
    static void activationBackward(boolean tanh, float[] g, int go, float[] y, int yo, float[] o, int oo, int n) {
        int i = 0;
        int end = F.loopBound(n);
        if (tanh) {
            for (; i < end; i += F.length()) {
                FloatVector v = FloatVector.fromArray(F, y, yo + i);
                FloatVector.fromArray(F, g, go + i).mul(v.mul(v).neg().add(1f)).intoArray(o, oo + i);
            }
            for (; i < n; i++) {
                float v = y[yo + i];
                o[oo + i] = g[go + i] * (1 - v * v);
            }
        } else {
            for (; i < end; i += F.length()) {
                FloatVector v = FloatVector.fromArray(F, y, yo + i);
                FloatVector.fromArray(F, g, go + i).mul(v).mul(v.neg().add(1f)).intoArray(o, oo + i);
            }
            for (; i < n; i++) {
                float v = y[yo + i];
                o[oo + i] = g[go + i] * v * (1 - v);
            }
        }
    }
}
