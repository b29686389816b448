package io.jgrad.core.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.jgrad.core.*;
import io.jgrad.core.backend.UpdateOp;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Deferred elementwise results ({@link Fused}) give the op-by-op kernels' values bit for bit,
 * and keep the values they were defined on when an input is later written in place. Every
 * test computes the same expression once with fusion off and once with it on (threshold 1, so
 * small tensors fuse too); the whole suite can also be run fused with
 * {@code -Djgrad.fusion.minElements=1}, as {@code .ci/run} does.
 */
class FusedTest {
    private int savedMin;
    private boolean savedEnabled;

    @BeforeEach
    void fuseEverything() {
        savedMin = Fused.minElements;
        savedEnabled = Fused.enabled;
        Fused.minElements = 1;
        Fused.enabled = true;
    }

    @AfterEach
    void restore() {
        Fused.minElements = savedMin;
        Fused.enabled = savedEnabled;
    }

    /** n values with the awkward ones in front: NaNs of both signs, zeros of both signs, infinities, a subnormal. */
    private static Tensor values(int n, long seed) {
        float[] v = Tensor.randn(Generator.seeded(seed), n).toFloatArray();
        float[] special = {Float.NaN, Float.intBitsToFloat(0xffc00000), 0f, -0f, Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY, Float.MIN_VALUE, -Float.MIN_VALUE};
        for (int i = 0; i < special.length && i < n; i++) {
            v[(int) ((i * 7L + seed) % n)] = special[i];
        }
        return Tensor.of(v, n);
    }

    private static ArrayStorage storage(Tensor t) {
        return (ArrayStorage) TensorInternals.storage(t);
    }

    private static Fused pending(Tensor t) {
        return storage(t).pending();
    }

    private static int[] bits(Tensor t) {
        float[] v = t.toFloatArray();
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }

    /** The expression's result with fusion off, and with it on (checked to be deferred until read). */
    private static void assertSameAsOpByOp(Supplier<Tensor> expr, boolean expectDeferred) {
        Fused.enabled = false;
        Tensor eager = expr.get();
        assertThat(pending(eager)).isNull();
        Fused.enabled = true;
        Tensor fused = expr.get();
        assertThat(pending(fused) != null).as("deferred").isEqualTo(expectDeferred);
        assertThat(fused.shape()).isEqualTo(eager.shape());
        assertThat(bits(fused)).isEqualTo(bits(eager));
        assertThat(pending(fused)).isNull();
    }

    @Test
    void chainsGiveTheOpByOpValuesBitForBit() {
        Tensor x = values(3001, 1);
        Tensor c = values(3001, 2);
        Tensor d = values(3001, 3);
        Tensor three = Tensor.scalar(3);
        assertSameAsOpByOp(() -> x.add(c).relu(), true);
        assertSameAsOpByOp(() -> x.mul(c).sub(d), true);
        assertSameAsOpByOp(() -> x.neg().relu().mul(2.5), true);
        assertSameAsOpByOp(() -> three.sub(x).mul(c), true); // scalar on the left of a non-commuting op
        assertSameAsOpByOp(() -> c.sub(x.mul(three)), true); // the running result on the right
        assertSameAsOpByOp(() -> x.add(three.expand(3001)), true); // an expanded scalar
        assertSameAsOpByOp(() -> x.add(c).reshape(1, 3001).relu(), true); // a view of a deferred result
    }

    @Test
    void otherTreesAndOffsetsTakeTheGeneralPath() {
        Tensor x = values(2500, 4);
        Tensor c = values(2500, 5);
        Tensor big = values(5000, 6);
        Tensor tail = big.narrow(0, 2500, 2500); // contiguous at a non-zero offset
        assertSameAsOpByOp(() -> x.add(c).mul(c.sub(x)), true); // two ops below one op
        assertSameAsOpByOp(() -> tail.add(x).relu(), true);
        assertSameAsOpByOp(() -> x.mul(x).sub(tail.mul(tail)).neg(), true);
    }

    @Test
    void stridedAndPartlyBroadcastOperandsAreComputedAtOnce() {
        Tensor m = values(60, 7).reshape(6, 10);
        Tensor row = values(10, 8);
        assertSameAsOpByOp(() -> m.add(row), false);
        assertSameAsOpByOp(() -> m.transpose(0, 1).relu(), false);
        assertSameAsOpByOp(() -> m.add(m).transpose(0, 1).mul(m.transpose(0, 1)), false);
    }

    @Test
    void aFusedSumIsTheSumOfTheValues() {
        for (int n : new int[] {1, 7, 16_384, 16_385, 100_003}) {
            Tensor x = Tensor.randn(Generator.seeded(n), n); // finite: one NaN would make every sum NaN
            Tensor c = Tensor.randn(Generator.seeded(n + 1), n);
            Fused.enabled = false;
            double eager = x.add(c).relu().sum().item();
            double general = x.add(c).mul(c.add(x)).sum().item();
            Fused.enabled = true;
            Tensor r = x.add(c).relu();
            assertThat(r.sum().item()).as("n = %d", n).isEqualTo(eager);
            assertThat(pending(r)).as("the sum did not store the values").isNotNull();
            assertThat(x.add(c).mul(c.add(x)).sum().item()).isEqualTo(general);
            assertThat(r.sum().item()).isEqualTo(eager); // again, now from stored values
        }
    }

    @Test
    void aSumTooLargeForTheWorkspaceMaterializesUnlessVectorized() {
        int n = Fused.MAX_WORKSPACE + 3;
        Tensor x = Tensor.ones(n);
        Tensor r = x.add(x);
        assertThat(r.sum().item()).isEqualTo(2.0 * n);
        // the vectorized sum evaluates chunk by chunk in a small buffer; the plain loops need a workspace
        assertThat(pending(r) != null).isEqualTo(Simd.ENABLED);
    }

    @Test
    void backwardThroughFusedOpsGivesTheOpByOpGradientAndStoresIt() {
        Tensor c = values(4000, 31);
        float[][] grads = new float[2][];
        for (int k = 0; k < 2; k++) {
            Fused.enabled = k == 1;
            Tensor x = values(4000, 30).requiresGrad(true);
            x.add(c).relu().mul(c).sum().backward();
            assertThat(pending(x.grad())).isNull();
            grads[k] = x.grad().toFloatArray();
        }
        assertThat(grads[1]).isEqualTo(grads[0]);
    }

    @Test
    void gradientsAccumulatedIntoAnExistingGradAreTheOpByOpOnes() {
        Tensor c = values(5000, 32);
        int[][] grads = new int[2][];
        for (int k = 0; k < 2; k++) {
            Fused.enabled = k == 1;
            Tensor x = values(5000, 33).requiresGrad(true);
            x.add(c).relu().sum().backward(); // the first gradient becomes x.grad
            x.add(c).mul(c).relu().sum().backward(); // the second is added to it in place
            x.sub(c).relu().neg().sum().backward(); // and a third
            Tensor g = x.grad();
            x.mul(c).relu().backward(Tensor.full(2.5f, 5000)); // not a scalar gradient: an array one
            assertThat(x.grad()).isSameAs(g);
            g.addInPlace(x.detach().add(c), -0.37); // a scaled deferred addend
            assertThat(pending(x.grad())).isNull();
            grads[k] = bits(x.grad());
        }
        assertThat(grads[1]).isEqualTo(grads[0]);
    }

    @Test
    void aDeferredGradientThatReadsTheGradItIsAddedToUsesItsOldValues() {
        for (int k = 0; k < 2; k++) {
            Fused.enabled = k == 1;
            Tensor x = Tensor.full(1f, 3000).requiresGrad(true);
            x.mul(3).sum().backward(); // x.grad = 3
            Tensor twice = x.grad().add(x.grad()); // deferred when fused: reads x.grad
            x.grad().addInPlace(twice); // x.grad = 3 + 6
            assertThat(x.grad().toFloatArray()[2999]).as("fused: %s", k == 1).isEqualTo(9f);
            assertThat(twice.toFloatArray()[0]).isEqualTo(6f);
        }
    }

    @Test
    void inPlaceWritesToAnInputLeaveDeferredResultsAsDefined() {
        Tensor x0 = values(1000, 40);
        Tensor c0 = values(1000, 41);
        Fused.enabled = false;
        int[] expected = bits(x0.add(c0).relu());
        Fused.enabled = true;
        List<Consumer<Tensor[]>> writes = List.of(
                t -> t[0].addInPlace(t[1]),
                t -> t[0].mulInPlace(3),
                t -> t[1].fill(7),
                t -> t[0].copyFrom(t[1]),
                t -> t[1].update(UpdateOp.CLAMP, null, null, 0, 0.5),
                t -> t[0].update(UpdateOp.SCALE_ADD, t[1], null, 0.5, 2),
                t -> t[1].update(UpdateOp.ADD_SCALAR, null, null, 1.0, 0));
        for (int w = 0; w < writes.size(); w++) {
            Tensor[] xc = {x0.add(0.0), c0.add(0.0)};
            storage(xc[0]).materialize();
            storage(xc[1]).materialize();
            Tensor deferred = xc[0].add(xc[1]).relu();
            assertThat(pending(deferred)).isNotNull();
            writes.get(w).accept(xc);
            assertThat(bits(deferred)).as("write %d", w).isEqualTo(expected);
            assertThat(bits(xc[0].add(xc[1]).relu())).as("write %d is seen by new results", w).isNotEqualTo(expected);
        }
    }

    @Test
    void gradientUpdatesLeaveDeferredResultsOfTheOldGradientAsDefined() {
        Tensor x = values(1000, 50).requiresGrad(true);
        x.mul(3.0).sum().backward();
        Tensor twice = x.grad().mul(2);
        assertThat(pending(twice)).isNotNull();
        x.mul(3.0).sum().backward(); // accumulates into x.grad in place
        assertThat(twice.toFloatArray()[0]).isEqualTo(6f);
        assertThat(x.grad().toFloatArray()[0]).isEqualTo(6f);
        Tensor again = x.grad().add(1);
        x.zeroGrad();
        assertThat(again.toFloatArray()[0]).isEqualTo(7f);
    }

    @Test
    void writingToADeferredTensorFirstComputesIt() {
        Tensor x = values(500, 60);
        Tensor c = values(500, 61);
        Fused.enabled = false;
        int[] expected = bits(x.add(c).mul(2.0));
        Fused.enabled = true;
        Tensor y = x.add(c);
        try (var g = Autograd.noGrad()) {
            y.mulInPlace(2);
        }
        assertThat(bits(y)).isEqualTo(expected);
    }

    @Test
    void anomalyModeAndTheSwitchComputeAtOnce() {
        Tensor x = values(100, 70);
        try (var a = Autograd.detectAnomaly()) {
            assertThat(pending(x.add(x))).isNull();
        }
        Fused.enabled = false;
        assertThat(pending(x.add(x))).isNull();
        Fused.enabled = true;
        Fused.minElements = 101;
        assertThat(pending(x.add(x))).isNull();
    }

    @Test
    void longChainsAreCutWhereTheyOutgrowTheLimit() {
        Tensor x = values(300, 80);
        assertSameAsOpByOp(() -> {
            Tensor t = x;
            for (int i = 0; i < 3 * Fused.MAX_OPS; i++) {
                t = t.add(x).mul(0.5);
            }
            return t;
        }, true);
    }

    @Test
    void threadsReadingOneDeferredTensorSeeTheSameValues() throws Exception {
        Tensor x = values(200_000, 90);
        Tensor c = values(200_000, 91);
        Fused.enabled = false;
        int[] expected = bits(x.mul(c).relu());
        Fused.enabled = true;
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            for (int round = 0; round < 20; round++) {
                Tensor y = x.mul(c).relu();
                Future<?>[] reads = new Future<?>[4];
                for (int t = 0; t < reads.length; t++) {
                    reads[t] = pool.submit(() -> assertThat(bits(y)).isEqualTo(expected));
                }
                for (Future<?> f : reads) {
                    f.get();
                }
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void maxPoolingADeferredReluPoolsItsInputWithoutComputingIt() {
        // mostly non-positive windows (relu makes them all +0), ties, both zeros, infinities, NaNs
        java.util.Random r = new java.util.Random(9);
        float[] pick = {-0f, 0f, -1f, -2f, 0.5f, 1f, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, -3f, -0.25f};
        float[] data = new float[2 * 3 * 7 * 9];
        for (int i = 0; i < data.length; i++) {
            data[i] = r.nextInt(30) == 0 ? Float.NaN : pick[r.nextInt(pick.length)];
        }
        for (Window2d w : List.of(Window2d.square(2, 2, 0, 1), Window2d.square(2, 1, 0, 1), new Window2d(2, 2, 1, 2, 0, 0, 2, 1))) {
            Tensor[] grads = new Tensor[2];
            float[][] pooled = new float[2][];
            Tensor[] reluGrads = new Tensor[2];
            for (int k = 0; k < 2; k++) {
                Fused.enabled = k == 0;
                Tensor a = Tensor.of(data, 2, 3, 7, 9).requiresGrad(true);
                Tensor x = a.relu().retainGrad();
                assertThat(pending(x) != null).as("relu deferred: %s", k == 0).isEqualTo(k == 0);
                Tensor y = x.maxPool2d(w);
                if (k == 0) {
                    assertThat(pending(x)).as("%s: pooling did not compute the relu", w).isNotNull();
                }
                pooled[k] = y.toFloatArray();
                y.mul(Tensor.arange(y.numel()).reshape(y.shape()).to(DType.FLOAT32)).sum().backward();
                grads[k] = a.grad();
                reluGrads[k] = x.grad();
            }
            assertThat(bits(Tensor.of(pooled[0], pooled[0].length))).as("%s: values", w)
                    .containsExactly(bits(Tensor.of(pooled[1], pooled[1].length)));
            assertThat(bits(reluGrads[0])).as("%s: gradient of the relu's output (where each maximum came from)", w)
                    .containsExactly(bits(reluGrads[1]));
            assertThat(bits(grads[0])).as("%s: gradient of its input", w).containsExactly(bits(grads[1]));
        }
    }
}
