package io.jgrad.core.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jgrad.core.*;
import io.jgrad.core.backend.ElementwiseOp;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The vectorized kernels ({@link SimdKernels}) give the plain loops' bits: on NaNs of both signs
 * and with payloads, signed zeros, infinities, subnormals and ordinary values, at every length
 * from 0 past several vectors (so every tail length) and at offsets that differ between inputs and
 * output. The Maven build runs the tests with the Vector API; {@code .ci/run}'s second pass
 * runs without it, where these tests are skipped and the plain loops run everywhere else, and its
 * third with the sums' 256-bit path ({@code -Djgrad.simd.wideDoubles=false}).
 */
class SimdTest {
    private static final float[] SPECIAL = {Float.NaN, Float.intBitsToFloat(0xffc00000), Float.intBitsToFloat(0x7f800001),
        Float.intBitsToFloat(0xff812345), 0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE,
        -Float.MIN_VALUE, Float.MIN_NORMAL, -Float.MAX_VALUE, 1f, -1f};
    private static final int MAX_LEN = 100;
    private static final int[][] OFFSETS = {{0, 0, 0}, {3, 0, 5}, {1, 7, 2}};

    @BeforeAll
    static void needsVectorApi() {
        // JGRAD_REQUIRE_SIMD (set by .ci/run for the build that passes the module) turns a skip into a failure
        boolean required = System.getenv("JGRAD_REQUIRE_SIMD") != null
                && ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        if (required) {
            assertThat(Simd.ENABLED).as(Simd.describe()).isTrue();
        }
        assumeTrue(Simd.ENABLED, Simd.describe());
        if ("false".equals(System.getProperty("jgrad.simd.wideDoubles"))) {
            assertThat(SimdKernels.WIDE_DOUBLES).as("the sums' 256-bit path was asked for").isFalse();
        }
    }

    /** len values: specials first (rotated by seed), then random ones of every magnitude. */
    private static float[] values(int len, long seed) {
        Random r = new Random(seed);
        float[] v = new float[len];
        for (int i = 0; i < len; i++) {
            v[i] = r.nextInt(3) == 0 ? SPECIAL[(int) ((i + seed) % SPECIAL.length)]
                    : (float) (r.nextGaussian() * Math.pow(10, r.nextInt(9) - 4));
        }
        return v;
    }

    /**
     * Same bits, all NaNs counting as one: Java leaves a NaN result's payload and sign open, and
     * where both operands are NaNs the one that survives depends on the operand order the JIT
     * picks. Nothing jgrad computes depends on them (relu's backward passes the gradient for a
     * NaN of either sign).
     */
    private static void assertSameBits(float[] actual, float[] expected, String what) {
        for (int i = 0; i < expected.length; i++) {
            int a = Float.floatToIntBits(actual[i]);
            int e = Float.floatToIntBits(expected[i]);
            if (a != e) {
                throw new AssertionError(String.format("%s: element %d is %s (0x%08x), plain loop gives %s (0x%08x)",
                        what, i, actual[i], a, expected[i], e));
            }
        }
    }

    /** Runs a kernel at every length and offset set; plain computes element i from the inputs' elements. */
    private interface Kernel {
        void run(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n);
    }

    private interface Plain {
        float at(float a, float b);
    }

    private static void check(String what, Kernel kernel, Plain plain) {
        for (int[] off : OFFSETS) {
            for (int n = 0; n <= MAX_LEN; n++) {
                float[] a = values(off[0] + n + 3, n);
                float[] b = values(off[1] + n + 3, n + 1000L);
                float[] o = new float[off[2] + n + 3];
                float[] expected = o.clone();
                java.util.Arrays.fill(o, 42f); // elements outside [oo, oo + n) must stay as they were
                java.util.Arrays.fill(expected, 42f);
                for (int i = 0; i < n; i++) {
                    expected[off[2] + i] = plain.at(a[off[0] + i], b[off[1] + i]);
                }
                kernel.run(a, off[0], b, off[1], o, off[2], n);
                assertSameBits(o, expected, what + " n=" + n + " offsets=" + java.util.Arrays.toString(off));
            }
        }
    }

    private static float masked(float g, float x) {
        return Float.intBitsToFloat(Float.floatToRawIntBits(g) & Elementwise.reluMask(x));
    }

    @Test
    void binaryOpsMatchJavaArithmetic() {
        check("add", (a, ao, b, bo, o, oo, n) -> SimdKernels.binary(ElementwiseOp.ADD, a, ao, b, bo, o, oo, n), (x, y) -> x + y);
        check("sub", (a, ao, b, bo, o, oo, n) -> SimdKernels.binary(ElementwiseOp.SUB, a, ao, b, bo, o, oo, n), (x, y) -> x - y);
        check("mul", (a, ao, b, bo, o, oo, n) -> SimdKernels.binary(ElementwiseOp.MUL, a, ao, b, bo, o, oo, n), (x, y) -> x * y);
    }

    @Test
    void scalarOperandsMatchJavaArithmetic() {
        for (float s : SPECIAL) {
            check("add " + s, (a, ao, b, bo, o, oo, n) -> SimdKernels.arrayScalar(ElementwiseOp.ADD, a, ao, s, o, oo, n), (x, y) -> x + s);
            check("sub " + s, (a, ao, b, bo, o, oo, n) -> SimdKernels.arrayScalar(ElementwiseOp.SUB, a, ao, s, o, oo, n), (x, y) -> x - s);
            check("mul " + s, (a, ao, b, bo, o, oo, n) -> SimdKernels.arrayScalar(ElementwiseOp.MUL, a, ao, s, o, oo, n), (x, y) -> x * s);
            check(s + " - b", (a, ao, b, bo, o, oo, n) -> SimdKernels.scalarArray(ElementwiseOp.SUB, s, b, bo, o, oo, n), (x, y) -> s - y);
            // the plain kernels compute s + b and s * b as b + s and b * s
            check(s + " + b", (a, ao, b, bo, o, oo, n) -> SimdKernels.scalarArray(ElementwiseOp.ADD, s, b, bo, o, oo, n), (x, y) -> y + s);
            check(s + " * b", (a, ao, b, bo, o, oo, n) -> SimdKernels.scalarArray(ElementwiseOp.MUL, s, b, bo, o, oo, n), (x, y) -> y * s);
        }
    }

    @Test
    void unaryOpsMatchNegationAndMathMax() {
        check("neg", (a, ao, b, bo, o, oo, n) -> SimdKernels.unary(ElementwiseOp.NEG, a, ao, o, oo, n), (x, y) -> -x);
        check("relu", (a, ao, b, bo, o, oo, n) -> SimdKernels.unary(ElementwiseOp.RELU, a, ao, o, oo, n), (x, y) -> Math.max(x, 0f));
    }

    @Test
    void expSigmoidAndTanhMatchTheirPlainLoops() {
        for (ElementwiseOp op : new ElementwiseOp[] {ElementwiseOp.EXP, ElementwiseOp.SIGMOID,
            ElementwiseOp.TANH}) {
            check(op.name(), (a, ao, b, bo, o, oo, n) -> SimdKernels.floatMath(op, a, ao, o, oo, n, true), (x, y) -> {
                float[] out = new float[1];
                FloatMath.apply(op, new float[] {x}, 0, out, 0, 1);
                return out[0];
            });
            // the edges of float's range and of the formulas' branches, and a dense sweep of [-20, 20]
            float[] edges = {88.72f, 88.73f, -87.33f, -103.97f, -104f, 109.9f, 110f, 111f, -111f, 0x1p-13f,
                -0x1p-13f, 0x1.fffffep-14f, 1e-30f, -1e-30f, 9f, -9f, 55f, -55f};
            float[] sweep = new float[4003];
            for (int i = 0; i < sweep.length; i++) {
                sweep[i] = i < edges.length ? edges[i] : -20 + 40f * i / sweep.length;
            }
            float[] vector = new float[sweep.length];
            float[] plain = new float[sweep.length];
            SimdKernels.floatMath(op, sweep, 0, vector, 0, sweep.length, true);
            FloatMath.apply(op, sweep, 0, plain, 0, sweep.length);
            assertSameBits(vector, plain, op + " sweep");
        }
    }

    @Test
    void sigmoidAndTanhBackwardsMatchTheirPlainLoops() {
        check("sigmoid backward", (a, ao, b, bo, o, oo, n) -> SimdKernels.activationBackward(false, a, ao, b, bo, o, oo, n),
            (g, y) -> g * y * (1 - y));
        check("tanh backward", (a, ao, b, bo, o, oo, n) -> SimdKernels.activationBackward(true, a, ao, b, bo, o, oo, n),
            (g, y) -> g * (1 - y * y));
    }

    @Test
    void reluBackwardMasksLikeThePlainLoop() {
        check("relu backward", SimdKernels::reluBackward, SimdTest::masked);
        check("relu backward (fused op)", (a, ao, b, bo, o, oo, n) -> SimdKernels.binary(ElementwiseOp.RELU_BACKWARD, a, ao, b, bo, o, oo, n),
                SimdTest::masked);
        for (float s : SPECIAL) {
            check("relu backward, gradient " + s, (a, ao, b, bo, o, oo, n) -> SimdKernels.reluBackward(s, b, bo, o, oo, n),
                    (x, y) -> masked(s, y));
            check("relu backward, input " + s, (a, ao, b, bo, o, oo, n) -> SimdKernels.maskScalar(a, ao, s, o, oo, n),
                    (x, y) -> masked(x, s));
        }
    }

    @Test
    void inPlaceStepsReadEachElementBeforeWritingIt() {
        float[] a = values(64, 5);
        float[] expected = new float[64];
        for (int i = 0; i < 64; i++) {
            expected[i] = Math.max(a[i] + a[i], 0f);
        }
        SimdKernels.binary(ElementwiseOp.ADD, a, 0, a, 0, a, 0, 64);
        SimdKernels.unary(ElementwiseOp.RELU, a, 0, a, 0, 64);
        assertSameBits(a, expected, "in place");
    }

    @Test
    void sumEqualsThePlainSumBitForBit() {
        for (int[] off : OFFSETS) {
            for (int n = 0; n <= 300; n++) {
                float[] v = values(off[0] + n, n);
                for (int i = 0; i < v.length; i++) {
                    if (Float.isNaN(v[i]) || Float.isInfinite(v[i])) {
                        v[i] = 1e-3f * i; // a NaN or inf would make every sum the same
                    }
                }
                double plain = Reduce.sumRangePlain(v, off[0], n);
                double simd = SimdKernels.sum(v, off[0], n);
                assertThat(Double.doubleToRawLongBits(simd)).as("sum of %d from %d", n, off[0])
                        .isEqualTo(Double.doubleToRawLongBits(plain));
            }
        }
        // large values of mixed sign, where a different order of additions would show
        Random r = new Random(3);
        float[] v = new float[100_003];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(16) - 4));
        }
        assertThat(Double.doubleToRawLongBits(SimdKernels.sum(v, 1, v.length - 1)))
                .isEqualTo(Double.doubleToRawLongBits(Reduce.sumRangePlain(v, 1, v.length - 1)));
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        for (float s : special) {
            float[] w = values(50, 9);
            for (int i = 0; i < w.length; i++) {
                if (Float.isNaN(w[i]) || Float.isInfinite(w[i])) {
                    w[i] = 1;
                }
            }
            w[37] = s;
            assertThat(Double.doubleToLongBits(SimdKernels.sum(w, 0, 50))).as("sum with %s", s)
                    .isEqualTo(Double.doubleToLongBits(Reduce.sumRangePlain(w, 0, 50)));
        }
    }

    @Test
    void accumulatingInPiecesOfSixteenIsOneSum() {
        float[] v = values(1000, 11);
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                v[i] = -0.25f * i;
            }
        }
        double[] lanes = new double[Reduce.SUM_LANES];
        int[] pieces = {16, 32, 0, 256, 48, 997 - 352};
        int at = 3;
        for (int p : pieces) {
            SimdKernels.accumulate(v, at, p, lanes);
            at += p;
        }
        assertThat(Double.doubleToRawLongBits(Reduce.combine(lanes)))
                .isEqualTo(Double.doubleToRawLongBits(Reduce.sumRangePlain(v, 3, 997)));
    }
}
