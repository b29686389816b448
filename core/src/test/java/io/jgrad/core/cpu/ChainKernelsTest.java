package io.jgrad.core.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jgrad.core.*;
import io.jgrad.core.backend.ElementwiseOp;
import io.jgrad.core.backend.View;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The per-expression kernels ({@link ChainKernels}) compute what their signature says, with the
 * plain loops' float operations: checked against an element-by-element evaluation written here,
 * for every one-step chain and a few hundred random longer ones, at lengths that leave every
 * tail, on NaNs, signed zeros, infinities and subnormals. Then end to end: a fused expression
 * whose kernel is ready gives the op-by-op bits.
 */
class ChainKernelsTest {
    /** The ops a chain is made of, as the class data names them (by ordinal). */
    private static final ElementwiseOp[] FUSED = {ElementwiseOp.ADD, ElementwiseOp.SUB, ElementwiseOp.MUL,
        ElementwiseOp.NEG, ElementwiseOp.RELU, ElementwiseOp.RELU_BACKWARD};
    private static final float[] SPECIAL = {Float.NaN, 0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
        Float.MIN_VALUE, -Float.MIN_VALUE, 1f, -1f};

    private static long savedDemand;

    @BeforeAll
    static void needsKernels() {
        assumeTrue(ChainKernels.ENABLED, "per-expression kernels are off: " + Parallel.vectorization());
        savedDemand = ChainKernels.warmDemand;
        ChainKernels.warmDemand = 0; // the end-to-end tests wait for their kernels, not for the compilers to settle
    }

    @AfterAll
    static void restoreDemand() {
        if (ChainKernels.ENABLED) {
            ChainKernels.warmDemand = savedDemand;
        }
    }

    /**
     * The wait for the compilers: it goes on while they are busy and ends once they have been idle
     * for three polls. The JIT's clock is replaced by one that advances a full poll's worth per
     * reading (busy) or not at all (idle); the waiting is observed through its polls, not through time.
     */
    @Test
    void theWaitForTheCompilersEndsOnceTheyAreIdle() throws Exception {
        LongSupplier savedClock = ChainKernels.compileMillis;
        long savedLimit = ChainKernels.settleLimitNanos;
        boolean savedSettled = ChainKernels.compilersSettled;
        try {
            quiesceWatcher();
            ChainKernels.compilersSettled = false;
            ChainKernels.settleLimitNanos = Long.MAX_VALUE;
            java.util.concurrent.atomic.AtomicLong clock = new java.util.concurrent.atomic.AtomicLong();
            java.util.concurrent.atomic.AtomicBoolean busy = new java.util.concurrent.atomic.AtomicBoolean(true);
            java.util.concurrent.CountDownLatch polled = new java.util.concurrent.CountDownLatch(5);
            ChainKernels.compileMillis = () -> {
                polled.countDown();
                return busy.get() ? clock.addAndGet(1000) : clock.get();
            };
            Thread waiter = new Thread(() -> {
                try {
                    ChainKernels.awaitCompilers();
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
            });
            waiter.setDaemon(true);
            waiter.start();
            // the first reading and four polls of busy compilers (the bound only ends a broken run)
            assertThat(polled.await(60, java.util.concurrent.TimeUnit.SECONDS)).as("polled").isTrue();
            assertThat(waiter.isAlive()).as("still waiting after four busy polls").isTrue();
            busy.set(false);
            waiter.join(60_000);
            assertThat(waiter.isAlive()).as("returned after idle polls").isFalse();
        } finally {
            ChainKernels.compileMillis = savedClock;
            ChainKernels.settleLimitNanos = savedLimit;
            ChainKernels.compilersSettled = savedSettled;
        }
    }

    /**
     * While the compilers are busy, a kernel is handed to the warm-up thread only once its chain
     * has been asked for {@link ChainKernels#warmDemand} elements in all, or
     * {@link ChainKernels#LARGE} in one request; then it gets ready.
     */
    @Test
    void whileTheCompilersAreBusyAKernelWaitsForDemand() throws Exception {
        boolean savedSettled = ChainKernels.compilersSettled;
        long savedDemand = ChainKernels.warmDemand;
        try {
            quiesceWatcher();
            ChainKernels.compilersSettled = false; // and no watcher runs to change that
            ChainKernels.warmDemand = 1000;
            int add = ElementwiseOp.ADD.ordinal();
            int mul = ElementwiseOp.MUL.ordinal();
            int neg = ElementwiseOp.NEG.ordinal();
            // chains no other test asks for (each step's result feeds the next)
            int[] summed = java.util.Arrays.copyOf(new int[] {4, 1, neg, 0, 0, add, 2, 1, neg, 0, 0, mul, 2, 1},
                    ChainKernels.SIGNATURE_LENGTH);
            int[] large = java.util.Arrays.copyOf(new int[] {4, 1, neg, 0, 0, mul, 2, 1, neg, 0, 0, add, 2, 1},
                    ChainKernels.SIGNATURE_LENGTH);
            assertThat(ChainKernels.get(summed, 999)).isNull();
            assertThat(ChainKernels.submitted(summed)).as("999 elements of 1000").isFalse();
            ChainKernels.get(summed, 1);
            assertThat(ChainKernels.submitted(summed)).as("1000 elements of 1000").isTrue();
            assertThat(ChainKernels.get(large, ChainKernels.LARGE)).isNull();
            assertThat(ChainKernels.submitted(large)).as("one large request").isTrue();
            ChainKernels.awaitWarm();
            // a warm-up that gives up (its time limit, on a loaded machine) leaves null: nothing to check then
            assumeTrue(ChainKernels.get(summed, 0) != null && ChainKernels.get(large, 0) != null, "a warm-up gave up");
            Random r = new Random(9);
            check(summed, ChainKernels.get(summed, 0), r);
            check(large, ChainKernels.get(large, 0), r);
        } finally {
            ChainKernels.compilersSettled = savedSettled;
            ChainKernels.warmDemand = savedDemand;
        }
    }

    /**
     * Makes sure no thread waiting for the compilers runs: one that was started is waited for
     * (it ends within {@link ChainKernels#settleLimitNanos}, settling them); else none may start.
     */
    private static void quiesceWatcher() throws InterruptedException {
        if (watcherQuiesced) {
            return;
        }
        if (!ChainKernels.WATCHING.compareAndSet(false, true)) {
            while (!ChainKernels.compilersSettled) {
                Thread.sleep(10);
            }
        }
        watcherQuiesced = true;
    }

    private static boolean watcherQuiesced;

    @Test
    void demandAddsUpSaturatesAndCountsOneLargeCallAsUnbounded() {
        ChainKernels.Entry e = new ChainKernels.Entry(new int[ChainKernels.SIGNATURE_LENGTH]);
        e.demand(1000);
        e.demand(-5); // ignored
        e.demand(ChainKernels.LARGE - 1);
        assertThat(e.demand.get()).isEqualTo(1000 + ChainKernels.LARGE - 1);
        e.demand(ChainKernels.LARGE);
        assertThat(e.demand.get()).isEqualTo(Long.MAX_VALUE);
        e.demand(Long.MAX_VALUE - 1);
        assertThat(e.demand.get()).isEqualTo(Long.MAX_VALUE);
    }

    private static float masked(float g, float x) {
        return x <= 0 ? 0f : g;
    }

    /** Element i of the chain the signature describes, one float operation at a time. */
    private static float expected(int[] sig, float[][] a, float[] s, int i) {
        float v = sig[1] == 1 ? a[0][i] : s[0];
        for (int k = 0; k < sig[0]; k++) {
            ElementwiseOp op = ElementwiseOp.values()[sig[2 + 3 * k]];
            int kind = sig[3 + 3 * k];
            boolean left = sig[4 + 3 * k] == 0;
            float w = kind == 1 ? a[k + 1][i] : s[k + 1];
            float l = left ? v : w;
            float r = left ? w : v;
            v = switch (op) {
                case ADD -> l + r;
                case SUB -> l - r;
                case MUL -> l * r;
                case NEG -> -v;
                case RELU -> Math.max(v, 0f);
                default -> masked(l, r);
            };
        }
        return v;
    }

    private static int[] signature(Random r, int steps) {
        int[] sig = new int[ChainKernels.SIGNATURE_LENGTH];
        sig[0] = steps;
        sig[1] = 1 + r.nextInt(2);
        for (int k = 0; k < steps; k++) {
            ElementwiseOp op = FUSED[r.nextInt(FUSED.length)];
            sig[2 + 3 * k] = op.ordinal();
            boolean unary = op.isUnary();
            sig[3 + 3 * k] = unary ? 0 : 1 + r.nextInt(2);
            sig[4 + 3 * k] = unary ? 0 : r.nextInt(2);
        }
        if (sig[1] == 2 && sig[0] == 1 && sig[3] != 1) {
            sig[1] = 1; // a chain needs at least one array operand
        }
        return sig;
    }

    private static float[] values(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextInt(4) == 0 ? SPECIAL[r.nextInt(SPECIAL.length)] : (float) r.nextGaussian();
        }
        return v;
    }

    private static void check(int[] sig, Random r) {
        check(sig, ChainKernels.define(sig), r);
    }

    private static void check(int[] sig, ChainKernels.Kernel k, Random r) {
        int n = 45;
        float[][] a = new float[ChainKernels.MAX_STEPS + 1][];
        float[] s = new float[ChainKernels.MAX_STEPS + 1];
        for (int j = 0; j < a.length; j++) {
            a[j] = values(r, n);
            s[j] = SPECIAL[r.nextInt(SPECIAL.length)];
        }
        float[] exp = new float[n];
        for (int i = 0; i < n; i++) {
            exp[i] = expected(sig, a, s, i);
        }
        String what = java.util.Arrays.toString(sig);
        for (int from : new int[] {0, 3, 8}) {
            for (int to = from; to <= n; to += 5) {
                float[] out = new float[n];
                java.util.Arrays.fill(out, 7f);
                k.store(a, s, out, from, to);
                for (int i = 0; i < n; i++) {
                    float e = i >= from && i < to ? exp[i] : 7f;
                    assertThat(Float.floatToIntBits(out[i])).as("store %s [%d, %d) element %d", what, from, to, i)
                            .isEqualTo(Float.floatToIntBits(e));
                }
                float[] acc = new float[n + 2];
                java.util.Arrays.fill(acc, 0.5f);
                k.addScaled(a, s, -1.25f, acc, 2, from, to);
                for (int i = from; i < to; i++) {
                    assertThat(Float.floatToIntBits(acc[i + 2])).as("addScaled %s element %d", what, i)
                            .isEqualTo(Float.floatToIntBits(0.5f + -1.25f * exp[i]));
                }
                double[] lanes = new double[Reduce.SUM_LANES];
                k.sum(a, s, from, to, lanes);
                float[] slice = java.util.Arrays.copyOfRange(exp, from, to);
                assertThat(Double.doubleToLongBits(Reduce.combine(lanes))).as("sum %s [%d, %d)", what, from, to)
                        .isEqualTo(Double.doubleToLongBits(Reduce.sumRangePlain(slice, 0, slice.length)));
            }
        }
    }

    @Test
    void everyOneStepChain() {
        Random r = new Random(1);
        for (ElementwiseOp e : FUSED) {
            int op = e.ordinal();
            boolean unary = e.isUnary();
            for (int kind0 = 1; kind0 <= 2; kind0++) {
                for (int kind = unary ? 0 : 1; kind <= (unary ? 0 : 2); kind++) {
                    for (int side = 0; side <= (unary ? 0 : 1); side++) {
                        if (kind0 == 2 && kind != 1) {
                            continue;
                        }
                        int[] sig = new int[ChainKernels.SIGNATURE_LENGTH];
                        sig[0] = 1;
                        sig[1] = kind0;
                        sig[2] = op;
                        sig[3] = kind;
                        sig[4] = side;
                        check(sig, r);
                    }
                }
            }
        }
    }

    @Test
    void randomLongerChains() {
        Random r = new Random(2);
        for (int t = 0; t < 150; t++) {
            check(signature(r, 2 + t % 3), r);
        }
    }

    /**
     * Chains that differ only in a field next to an op of ordinal 8 or more each get their own
     * kernel from {@link ChainKernels#get}: a key packing three bits a field once gave the second
     * of each pair the first one's kernel (an array read where a value was meant, a subtraction
     * the wrong way round).
     */
    @Test
    void chainsThatDifferNextToAWideOpGetTheirOwnKernels() throws Exception {
        int relu = ElementwiseOp.RELU_BACKWARD.ordinal();
        int sub = ElementwiseOp.SUB.ordinal();
        int[][][] pairs = {
            {{1, 1, relu, 1, 0}, {1, 2, relu, 1, 0}},
            {{2, 1, sub, 1, 0, relu, 1, 0}, {2, 1, sub, 1, 1, relu, 1, 0}}};
        Random r = new Random(5);
        for (int[][] pair : pairs) {
            int[] a = java.util.Arrays.copyOf(pair[0], ChainKernels.SIGNATURE_LENGTH);
            int[] b = java.util.Arrays.copyOf(pair[1], ChainKernels.SIGNATURE_LENGTH);
            ChainKernels.get(a);
            ChainKernels.awaitWarm();
            ChainKernels.get(b);
            ChainKernels.awaitWarm();
            ChainKernels.Kernel ka = ChainKernels.get(a);
            ChainKernels.Kernel kb = ChainKernels.get(b);
            // a warm-up that gives up (its time limit, on a loaded machine) leaves null: nothing to compare then
            assumeTrue(ka != null && kb != null, "a kernel's warm-up gave up");
            assertThat(kb).as("kernel of %s", java.util.Arrays.toString(b)).isNotSameAs(ka);
            check(a, ka, r);
            check(b, kb, r);
        }
    }

    /**
     * A fused chain with its kernel gives the op-by-op bits. The kernels are used as soon as they are
     * defined ({@link ChainKernels#timedWarmUp} off), whatever the JIT has compiled: a timed warm-up
     * may give up on a loaded machine, and the bits must not depend on it either way.
     */
    @Test
    void fusedExpressionsWithReadyKernelsGiveTheOpByOpBits() throws Exception {
        ChainKernels.awaitWarm();
        boolean savedTimed = ChainKernels.timedWarmUp;
        ChainKernels.timedWarmUp = false;
        ChainKernels.retryGivenUp(); // an earlier test's warm-up of one of these chains may have given up
        try {
            fusedExpressionsGiveTheOpByOpBits();
        } finally {
            ChainKernels.awaitWarm();
            ChainKernels.timedWarmUp = savedTimed;
        }
    }

    private static void fusedExpressionsGiveTheOpByOpBits() throws Exception {
        int n = 70_001;
        for (boolean special : new boolean[] {true, false}) { // without NaNs and infinities the sums say something
            Random r = new Random(special ? 3 : 4);
            Tensor x = Tensor.of(special ? values(r, n) : finite(r, n), n);
            Tensor c = Tensor.of(special ? values(r, n) : finite(r, n), n);
            Tensor g = Tensor.of(special ? values(r, n) : finite(r, n), n);
            List<Supplier<Tensor>> exprs = List.of(
                () -> x.add(c).relu(),
                () -> x.sub(c).mul(g).neg(),
                () -> reluBackward(Tensor.full(1.5, n).expand(n), x.add(c)),
                () -> reluBackward(g, x.mul(2.5).sub(c)),
                () -> c.mul(x.add(1.0)).relu().sub(g));
            for (Supplier<Tensor> e : exprs) {
                compareWithOpByOp(e, n);
            }
        }
    }

    private static float[] finite(Random r, int n) {
        float[] v = values(r, n);
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(v[i])) {
                v[i] = (float) r.nextGaussian();
            }
        }
        return v;
    }

    private static void compareWithOpByOp(Supplier<Tensor> e, int n) throws Exception {
        boolean saved = Fused.enabled;
        int savedMin = Fused.minElements;
        try {
            Fused.minElements = 1;
            Fused.enabled = false;
            Tensor eager = e.get();
            double eagerSum = e.get().sum().item();
            Tensor accEager = Tensor.full(0.25, n);
            accEager.addInPlace(eager, 3.0);
            Fused.enabled = true;
            e.get().sum(); // asks for the kernel
            ChainKernels.awaitWarm();
            Tensor fused = e.get();
            assertThat(((ArrayStorage) TensorInternals.storage(fused)).pending().hasKernel()).as("the kernel is ready").isTrue();
            assertThat(Double.doubleToLongBits(e.get().sum().item())).isEqualTo(Double.doubleToLongBits(eagerSum));
            Tensor acc = Tensor.full(0.25, n);
            acc.addInPlace(e.get(), 3.0);
            assertThat(acc.toFloatArray()).isEqualTo(accEager.toFloatArray());
            float[] fv = fused.toFloatArray();
            float[] ev = eager.toFloatArray();
            for (int i = 0; i < n; i++) {
                if (Float.floatToIntBits(fv[i]) != Float.floatToIntBits(ev[i])) {
                    throw new AssertionError("element " + i + ": " + fv[i] + " fused, " + ev[i] + " op by op");
                }
            }
        } finally {
            Fused.enabled = saved;
            Fused.minElements = savedMin;
        }
    }

    /** relu's backward kernel of the gradient g at the input x, on the CPU backend. */
    private static Tensor reluBackward(Tensor g, Tensor x) {
        View out = Elementwise.binary(ElementwiseOp.RELU_BACKWARD, TensorInternals.view(g), TensorInternals.view(x),
                x.shape().toArray());
        return TensorInternals.tensor(out.storage(), x.shape().toArray());
    }
}
