package io.jgrad.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The engine's contract: accumulation, freeing, retained and differentiable graphs, scopes, hooks, versions. */
class AutogradTest {
    private static Tensor leaf(double... values) {
        return Tensor.of(values).requiresGrad(true);
    }

    @Test
    void reluPassesTheGradientAtNaNsOfEitherSignAndNotAtZerosAsPyTorchDoes() {
        // PyTorch 2.x on the same inputs (threshold_backward: x <= 0 ? 0 : grad): 1, 1, 0, 0, 1, 0
        float[] v = {Float.NaN, Float.intBitsToFloat(0xffc00000), 0f, -0f, 2f, -3f};
        for (int n : new int[] {6, 40_000}) { // also large enough to run fused (and vectorized when on)
            float[] big = new float[n];
            for (int i = 0; i < n; i++) {
                big[i] = v[i % 6];
            }
            Tensor x = Tensor.of(big, n).requiresGrad(true);
            x.mul(1f).relu().sum().backward();
            float[] g = x.grad().toFloatArray();
            for (int i = 0; i < n; i++) {
                assertThat(g[i]).as("element %d (input %s)", i, big[i]).isEqualTo(i % 6 == 0 || i % 6 == 1 || i % 6 == 4 ? 1f : 0f);
            }
        }
    }

    /** Issue 17 item 11: a float64 gradient was accepted for a float32 parameter (PyTorch refuses it too). */
    @Test
    void setGradRefusesAnotherDtypeOrShape() {
        Parameter w = new Parameter(Tensor.zeros(2, 3));
        assertThatThrownBy(() -> w.setGrad(Tensor.zeros(DType.FLOAT64, 2, 3))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("setGrad: gradient dtype float64 does not match tensor dtype float32 (convert it with "
                        + "to(DType.FLOAT32))");
        assertThatThrownBy(() -> w.setGrad(Tensor.zeros(3, 2))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("gradient shape [3, 2] does not match tensor shape [2, 3]");
        assertThat(w.grad()).isNull();
        w.setGrad(Tensor.ones(2, 3));
        assertThat(w.grad().sum().item()).isEqualTo(6.0);
        w.setGrad(null);
        assertThat(w.grad()).isNull();
        // a view would be zeroed and accumulated into as if contiguous (a review finding): refused
        Tensor big = Tensor.ones(3, 4);
        assertThatThrownBy(() -> w.setGrad(big.narrow(1, 0, 3).narrow(0, 0, 2))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must be contiguous");
        assertThatThrownBy(() -> w.setGrad(Tensor.zeros(1, 1).expand(2, 3))).hasMessageContaining("must be contiguous");
    }

    @Test
    void gradientsAccumulateAcrossBackwardCallsUntilZeroGrad() {
        Tensor x = leaf(1, 2, 3);
        x.mul(x).sum().backward();
        assertThat(x.grad().toDoubleArray()).containsExactly(2, 4, 6);
        x.mul(x).sum().backward();
        assertThat(x.grad().toDoubleArray()).containsExactly(4, 8, 12);
        x.zeroGrad();
        assertThat(x.grad().toDoubleArray()).containsExactly(0, 0, 0);
        x.mul(3).sum().backward();
        assertThat(x.grad().toDoubleArray()).containsExactly(3, 3, 3);
    }

    @Test
    void aTensorUsedTwiceGetsBothContributions() {
        Tensor a = leaf(1.5, -2);
        a.add(a).sum().backward();
        assertThat(a.grad().toDoubleArray()).containsExactly(2, 2);
        Tensor b = leaf(1.5, -2);
        b.sub(b).sum().backward();
        assertThat(b.grad().toDoubleArray()).containsExactly(0, 0);
        Tensor m = Tensor.of(new double[] {1, 2, 3, 4}, 2, 2).requiresGrad(true);
        m.matmul(m).sum().backward();
        // d/dM sum(M M) = 1 Mᵀ + Mᵀ 1 (1: all ones), so grad[i][j] = rowSum(M)[j] + colSum(M)[i]
        // rows sum to 3, 7 and columns to 4, 6
        assertThat(m.grad().toDoubleArray()).containsExactly(3 + 4, 7 + 4, 3 + 6, 7 + 6);
    }

    @Test
    void aSecondBackwardThroughAFreedGraphNamesTheOp() {
        Tensor x = leaf(1, 2);
        Tensor y = x.exp().sum();
        y.backward();
        assertThatThrownBy(y::backward).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("second time").hasMessageContaining("'sum'")
                .hasMessageContaining("retainGraph");
    }

    @Test
    void aRetainedGraphCanBeWalkedTwice() {
        Tensor x = leaf(1, 2);
        Tensor y = x.exp().sum();
        y.backward(null, Autograd.Options.retainGraph());
        y.backward();
        assertThat(x.grad().toDoubleArray()).containsExactly(2 * Math.exp(1), 2 * Math.exp(2));
    }

    @Test
    void createGraphGivesDifferentiableGradients() {
        Tensor x = leaf(2.0);
        Tensor y = x.pow(3).sum(); // y = x³, y' = 3x², y'' = 6x, y''' = 6
        Tensor dy = Autograd.grad(List.of(y), List.of(x), Autograd.Options.createGraph()).get(0);
        assertThat(dy.item()).isEqualTo(12.0);
        assertThat(dy.requiresGrad()).isTrue();
        Tensor d2y = Autograd.grad(List.of(dy.sum()), List.of(x), Autograd.Options.createGraph()).get(0);
        assertThat(d2y.item()).isEqualTo(12.0);
        Tensor d3y = Autograd.grad(d2y.sum(), x).get(0);
        assertThat(d3y.item()).isEqualTo(6.0);
    }

    @Test
    void backwardWithCreateGraphLeavesADifferentiableGrad() {
        Tensor x = leaf(1.5);
        x.pow(2).sum().backward(null, Autograd.Options.createGraph());
        Tensor g = x.grad();
        assertThat(g.item()).isEqualTo(3.0);
        assertThat(g.requiresGrad()).isTrue();
        x.setGrad(null);
        g.sum().backward();
        assertThat(x.grad().item()).isEqualTo(2.0);
    }

    @Test
    void functionalGradDoesNotTouchGrad() {
        Tensor x = leaf(1, 2);
        Tensor unused = leaf(5);
        List<Tensor> g = Autograd.grad(List.of(x.mul(x).sum()), List.of(x, unused), Autograd.Options.DEFAULT);
        assertThat(g.get(0).toDoubleArray()).containsExactly(2, 4);
        assertThat(g.get(1).toDoubleArray()).containsExactly(0);
        assertThat(x.grad()).isNull();
        assertThat(unused.grad()).isNull();
    }

    @Test
    void functionalGradOfAnIntermediate() {
        Tensor x = leaf(1, 2);
        Tensor h = x.mul(3);
        Tensor y = h.mul(h).sum();
        assertThat(Autograd.grad(y, h).get(0).toDoubleArray()).containsExactly(6, 12);
    }

    @Test
    void noGradRecordsNothingAndRestoresTheSetting() {
        Tensor x = leaf(1, 2);
        try (var s = Autograd.noGrad()) {
            Tensor y = x.mul(2);
            assertThat(y.requiresGrad()).isFalse();
            assertThat(y.gradFnName()).isNull();
            try (var inner = Autograd.enableGrad()) {
                assertThat(x.mul(2).requiresGrad()).isTrue();
            }
            assertThat(Autograd.isGradEnabled()).isFalse();
        }
        assertThat(Autograd.isGradEnabled()).isTrue();
        assertThat(x.mul(2).gradFnName()).isEqualTo("mul");
    }

    @Test
    void gradModeIsPerThread() throws InterruptedException {
        AtomicBoolean otherThread = new AtomicBoolean();
        try (var s = Autograd.noGrad()) {
            Thread t = new Thread(() -> otherThread.set(Autograd.isGradEnabled()));
            t.start();
            t.join();
        }
        assertThat(otherThread.get()).isTrue();
    }

    @Test
    void detachStopsTheGradient() {
        Tensor x = leaf(3);
        Tensor y = x.mul(x.detach()).sum(); // d/dx (x * const) = const
        y.backward();
        assertThat(x.grad().item()).isEqualTo(3.0);
    }

    @Test
    void hooksSeeAndCanReplaceTheGradient() {
        Tensor x = leaf(1, 2);
        List<Tensor> seen = new ArrayList<>();
        Tensor h = x.mul(2);
        h.registerHook(g -> {
            seen.add(g);
            return g.mul(10);
        });
        var handle = x.registerHook(g -> {
            seen.add(g);
            return null;
        });
        h.sum().backward();
        assertThat(seen).hasSize(2);
        assertThat(seen.get(0).toDoubleArray()).containsExactly(1, 1);
        assertThat(x.grad().toDoubleArray()).containsExactly(20, 20);
        handle.remove();
        x.mul(2).sum().backward();
        assertThat(seen).hasSize(2);
    }

    @Test
    void retainGradKeepsAnIntermediateGradient() {
        Tensor x = leaf(1, 2);
        Tensor h = x.mul(2).retainGrad();
        Tensor other = x.mul(3);
        h.mul(h).sum().add(other.sum()).backward();
        assertThat(h.grad().toDoubleArray()).containsExactly(4, 8);
        assertThat(other.grad()).isNull();
    }

    @Test
    void modifyingASavedTensorInPlaceIsDetectedWithOpAndVersions() {
        Tensor x = leaf(1, 2);
        Tensor h = x.mul(1.0);
        Tensor y = h.mul(h).sum(); // mul saves h
        try (var s = Autograd.noGrad()) {
            h.mulInPlace(2);
        }
        assertThatThrownBy(y::backward).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("modified by an in-place operation")
                .hasMessageContaining("saved by 'mul'")
                .hasMessageContaining("version 1; expected version 0");
    }

    @Test
    void aSavedOutputIsVersionChecked() {
        Tensor x = leaf(1, 2);
        Tensor e = x.exp();
        try (var s = Autograd.noGrad()) {
            e.fill(0);
        }
        assertThatThrownBy(() -> e.sum().backward()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("output of 'exp'");
    }

    @Test
    void inPlaceOnALeafThatRequiresGradNeedsNoGrad() {
        Tensor w = leaf(1, 2);
        assertThatThrownBy(() -> w.addInPlace(Tensor.of(new double[] {1, 1})))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("noGrad");
        try (var s = Autograd.noGrad()) {
            w.addInPlace(Tensor.of(new double[] {1, 1}), -0.5);
        }
        assertThat(w.toDoubleArray()).containsExactly(0.5, 1.5);
        assertThat(w.version()).isEqualTo(1);
    }

    @Test
    void backwardNeedsAScalarOrAGradient() {
        Tensor x = leaf(1, 2);
        Tensor y = x.mul(2);
        assertThatThrownBy(y::backward).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("scalar outputs").hasMessageContaining("[2]");
        y.backward(Tensor.of(new double[] {1, 10}));
        assertThat(x.grad().toDoubleArray()).containsExactly(2, 20);
        assertThatThrownBy(() -> Tensor.of(new double[] {1}).sum().backward())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("does not require grad");
        assertThatThrownBy(() -> x.mul(2).backward(Tensor.ones(DType.FLOAT64, 3)))
                .isInstanceOf(ShapeException.class).hasMessageContaining("[3]").hasMessageContaining("[2]");
    }

    @Test
    void onlyFloatingLeavesCanRequireGrad() {
        assertThatThrownBy(() -> Tensor.arange(3).requiresGrad(true)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("int64");
        Tensor x = leaf(1);
        assertThatThrownBy(() -> x.mul(2).requiresGrad(false)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("leaf");
    }

    @Test
    void backwardThroughA150000OpChainAndFreeingIt() {
        Tensor x = Tensor.of(new float[] {0.5f, 1f}).requiresGrad(true);
        Tensor y = x;
        for (int i = 0; i < 150_000; i++) {
            y = i % 3 == 0 ? y.add(0.001) : i % 3 == 1 ? y.mul(1.0) : y.relu();
        }
        Tensor out = y.sum();
        out.backward();
        assertThat(x.grad().toDoubleArray()).containsExactly(1, 1);
        assertThatThrownBy(out::backward).isInstanceOf(IllegalStateException.class); // freed, iteratively
    }

    @Test
    void backwardThroughADeepBranchingGraph() {
        Tensor x = Tensor.of(new double[] {1.0}).requiresGrad(true);
        Tensor h = x;
        for (int i = 0; i < 40_000; i++) {
            // two branches that rejoin every level: h' = 0.5 h + 0.5 h
            h = h.mul(0.5).add(h.mul(0.5));
        }
        h.sum().backward();
        assertThat(x.grad().item()).isEqualTo(1.0);
    }

    @Test
    void anomalyModeNamesTheFirstOpWhoseForwardGoesNonFinite() {
        Tensor x = leaf(-1, 2);
        try (var s = Autograd.detectAnomaly()) {
            assertThatThrownBy(() -> x.mul(2).log().exp())
                    .isInstanceOf(NonFiniteException.class)
                    .hasMessageContaining("forward of 'log'")
                    .cause().hasMessageContaining("'log' was created here");
        }
        assertThat(x.mul(2).log().toDoubleArray()[0]).isNaN(); // outside the scope nothing is checked
    }

    @Test
    void anomalyModeNamesTheOpWhoseBackwardGoesNonFinite() {
        Tensor x = leaf(0, 4);
        try (var s = Autograd.detectAnomaly()) {
            Tensor y = x.sqrt().sum(); // finite forward; d sqrt(x)/dx = 1/(2 sqrt x) is inf at 0
            assertThatThrownBy(y::backward).isInstanceOf(NonFiniteException.class)
                    .hasMessageContaining("backward of 'sqrt'")
                    .cause().hasMessageContaining("created here");
        }
    }

    @Test
    void customOpBackwardMustReturnOneGradientPerInput() {
        CustomOp bad = new CustomOp() {
            @Override
            protected Tensor forward(Context ctx, Tensor... in) {
                return in[0].mul(2);
            }

            @Override
            protected Tensor[] backward(Context ctx, Tensor dOut) {
                return new Tensor[] {dOut, dOut};
            }
        };
        Tensor x = leaf(1);
        assertThatThrownBy(() -> bad.apply(x).sum().backward()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("2 gradients for 1 inputs");
    }

    @Test
    void customOpSavedTensorsAreVersionChecked() {
        Tensor x = leaf(1, 2);
        Tensor h = x.mul(1.0);
        Tensor y = new OpTable.Cube().apply(h).sum();
        try (var s = Autograd.noGrad()) {
            h.fill(3);
        }
        assertThatThrownBy(y::backward).isInstanceOf(IllegalStateException.class).hasMessageContaining("'Cube'");
    }

    @Test
    void gradientsFlowAcrossDtypeConversions() {
        Tensor x = Tensor.of(new float[] {1, 2}).requiresGrad(true);
        Tensor y = x.to(DType.FLOAT64).mul(Tensor.of(new double[] {3, 4})).sum();
        assertThat(y.dtype()).isEqualTo(DType.FLOAT64);
        y.backward();
        assertThat(x.grad().dtype()).isEqualTo(DType.FLOAT32);
        assertThat(x.grad().toFloatArray()).containsExactly(3, 4);
    }

    @Test
    void broadcastGradientsAreSummedToTheInputShape() {
        Tensor bias = Tensor.of(new double[] {1, 2, 3}).requiresGrad(true);
        Tensor x = Tensor.ones(DType.FLOAT64, 4, 3);
        x.add(bias).sum().backward();
        assertThat(bias.grad().shape().toArray()).containsExactly(3);
        assertThat(bias.grad().toDoubleArray()).containsExactly(4, 4, 4);
    }

    @Test
    void hooksRunOncePerBackward() {
        Tensor x = leaf(1);
        AtomicInteger calls = new AtomicInteger();
        x.registerHook(g -> {
            calls.incrementAndGet();
            return g;
        });
        x.mul(2).add(x.mul(3)).sum().backward(); // two uses, one summed gradient
        assertThat(calls.get()).isEqualTo(1);
        assertThat(x.grad().item()).isEqualTo(5.0);
    }

    /** A loss that uses x through many views (selects, narrows, a stepped slice, chunks) and once whole. */
    private static Tensor manyViews(Tensor x, Tensor y) {
        Tensor loss = x.mul(x).sum();
        for (int t = 0; t < x.size(1); t++) {
            loss = loss.add(x.select(1, t).mul(t + 1).tanh().sum());
        }
        loss = loss.add(x.narrow(2, 1, 3).mul(y.narrow(2, 1, 3)).sum());
        loss = loss.add(x.narrow(2, 2, 3).sum()); // overlaps the narrow above
        loss = loss.add(x.slice(0, 0, 4, 2).exp().sum());
        for (Tensor piece : x.chunk(3, 2)) {
            loss = loss.add(piece.sigmoid().sum());
        }
        Tensor v = x.mul(2); // a non-leaf whose gradient arrives through views, then flows on
        return loss.add(v.select(0, 1).sum()).add(v.select(0, 3).mul(3).sum());
    }

    @Test
    void gradientsThroughManyViewsSumLikeTheirZeroFilledBackwards() {
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            Generator g = Generator.seeded(3);
            Tensor y = Tensor.randn(g, 4, 6, 5).to(dtype);
            Tensor x = Tensor.randn(g, 4, 6, 5).to(dtype).requiresGrad(true);
            // with createGraph every view's backward runs as written (a zero tensor of x's size per view)
            Tensor expected = Autograd.grad(List.of(manyViews(x, y)), List.of(x), Autograd.Options.createGraph()).get(0);
            // backward() adds each view's gradient into its window of one sum, in place
            manyViews(x, y).backward();
            // and so does grad() without a graph
            Tensor captured = Autograd.grad(manyViews(x, y), x).get(0);
            double[] e = expected.toDoubleArray();
            double[] a = x.grad().toDoubleArray();
            double[] c = captured.toDoubleArray();
            for (int i = 0; i < e.length; i++) {
                assertThat(a[i]).as("%s element %s", dtype, i).isEqualTo(e[i]);
                assertThat(c[i]).as("%s element %s", dtype, i).isEqualTo(e[i]);
            }
        }
    }

    @Test
    void aRetainedGradientOfViewsIsNotChangedByLaterGradients() {
        Tensor x = Tensor.ones(3, 4).requiresGrad(true);
        Tensor v = x.mul(1);
        v.retainGrad();
        List<Tensor> seen = new ArrayList<>();
        v.registerHook(gr -> {
            seen.add(gr.clone());
            return null;
        });
        Tensor w = v.mul(1);
        Tensor loss = v.select(0, 0).sum().add(v.select(0, 1).mul(2).sum()).add(v.select(0, 2).mul(3).sum())
                .add(w.select(0, 0).mul(10).sum());
        loss.backward();
        float[] expected = {11, 11, 11, 11, 2, 2, 2, 2, 3, 3, 3, 3}; // row 0: 1 directly, 10 through w
        assertThat(v.grad().toFloatArray()).containsExactly(expected);
        assertThat(seen.get(0).toFloatArray()).containsExactly(expected);
        float[] xg = x.grad().toFloatArray();
        assertThat(xg[0]).isEqualTo(11f); // x reaches the loss through v and w
        assertThat(xg[4]).isEqualTo(2f);
    }

    /** A loop over time steps: w (plain and transposed) multiplies at every step, and is used elementwise too. */
    private static Tensor recurrence(Tensor w, Tensor x, Tensor leaf) {
        Tensor wt = w.t();
        Tensor h = x.select(0, 0);
        Tensor loss = w.mul(w).sum();
        for (int s = 1; s < x.size(0); s++) {
            h = x.select(0, s).add(h.matmul(wt)).tanh().add(h.matmul(w).mul(0.5));
            loss = loss.add(h.mul(leaf).sum());
        }
        return loss.add(h.matmul(w).add(leaf).sum());
    }

    /**
     * Backward sums a matrix's gradient over all the products it is in as one product of their
     * stacked rows: the same gradient, to rounding, as the op-by-op sums of grad of grad, through
     * backward(), grad(), a hook and a retained gradient, and when the terms are summed early.
     */
    @Test
    void aMatrixUsedInManyProductsGetsTheSumOfTheirGradients() {
        long limit = Autograd.Products.limit;
        double chunk = Autograd.Products.chunkFlops;
        try {
            // the terms summed once; every few steps (limit 200); in chunks of two terms (chunkFlops 1)
            for (double[] setting : new double[][] {{limit, chunk}, {200, chunk}, {limit, 1}}) {
                long l = (long) setting[0];
                Autograd.Products.limit = l;
                Autograd.Products.chunkFlops = setting[1];
                for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                    Generator g = Generator.seeded(11);
                    Tensor x = Tensor.randn(g, 7, 3, 5).to(dtype);
                    Tensor w = Tensor.randn(g, 5, 5).mul(0.4).to(dtype).detach().requiresGrad(true);
                    Tensor leaf = Tensor.randn(g, 3, 5).to(dtype).requiresGrad(true);
                    List<Tensor> expected = Autograd.grad(List.of(recurrence(w, x, leaf)), List.of(w, leaf), Autograd.Options.createGraph());
                    List<Tensor> seen = new ArrayList<>();
                    Tensor wv = w.mul(1);
                    wv.retainGrad();
                    wv.registerHook(gr -> {
                        seen.add(gr.clone());
                        return null;
                    });
                    recurrence(wv, x, leaf).backward();
                    List<Tensor> captured = Autograd.grad(recurrence(w, x, leaf), w, leaf);
                    double tol = dtype == DType.FLOAT64 ? 1e-12 : 1e-5;
                    for (Tensor got : List.of(w.grad(), wv.grad(), seen.get(0), captured.get(0))) {
                        assertThat(got.allClose(expected.get(0), tol, tol)).as("%s limit %s chunks %s: %s vs %s", dtype, l, setting[1], got,
                                expected.get(0)).isTrue();
                    }
                    assertThat(leaf.grad().allClose(expected.get(1), tol, tol)).as("%s leaf", dtype).isTrue();
                    assertThat(captured.get(1).allClose(expected.get(1), tol, tol)).isTrue();
                }
            }
        } finally {
            Autograd.Products.limit = limit;
            Autograd.Products.chunkFlops = chunk;
        }
    }

    /**
     * A recurrent weight's gradient terms, cut into chunks whose products run on the backend's
     * helper thread with two threads, give the bits they give computed on this thread with one;
     * and the helper thread did work during the two-thread runs (where the product library takes
     * concurrent calls).
     */
    @Test
    void weightGradientChunksGiveTheSameBitsOnTheHelperThreadAsOnTheCaller() {
        double chunk = Autograd.Products.chunkFlops;
        int threads = io.jgrad.core.cpu.Parallel.threads();
        try {
            Autograd.Products.chunkFlops = 20_000; // a chunk every few steps
            List<float[]> grads = new ArrayList<>();
            long helperBefore = helperCpuNanos();
            for (int t : new int[] {1, 2, 1, 2}) {
                io.jgrad.core.cpu.Parallel.setThreads(t);
                Generator g = Generator.seeded(5);
                Tensor x = Tensor.randn(g, 40, 16, 24);
                Tensor w = Tensor.randn(g, 24, 24).mul(0.2).detach().requiresGrad(true);
                Tensor leaf = Tensor.randn(g, 16, 24).requiresGrad(true);
                recurrence(w, x, leaf).backward();
                grads.add(w.grad().toFloatArray());
                grads.add(leaf.grad().toFloatArray());
            }
            for (int i = 2; i < grads.size(); i++) {
                assertThat(grads.get(i)).as("run %s, %s", i / 2, i % 2 == 0 ? "w" : "leaf").containsExactly(grads.get(i % 2));
            }
            if (!io.jgrad.core.cpu.Blas.backendName().equals("jblas")) { // jblas's library takes no concurrent calls
                assertThat(helperCpuNanos()).as("CPU time of the helper thread").isGreaterThan(helperBefore);
            }
        } finally {
            Autograd.Products.chunkFlops = chunk;
            io.jgrad.core.cpu.Parallel.setThreads(threads);
        }
    }

    /** CPU time used so far by the backend's helper thread; 0 before it exists. */
    private static long helperCpuNanos() {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("jgrad-helper"))
                .mapToLong(t -> Math.max(0, mx.getThreadCpuTime(t.getId()))).sum();
    }

    /**
     * A pending interrupt does not fail a backward that waits for the helper thread's chunks,
     * and is still set afterwards.
     */
    @Test
    void backwardWaitingForChunksKeepsTheInterrupt() throws InterruptedException {
        double chunk = Autograd.Products.chunkFlops;
        int threads = io.jgrad.core.cpu.Parallel.threads();
        try {
            Autograd.Products.chunkFlops = 20_000;
            io.jgrad.core.cpu.Parallel.setThreads(2);
            List<float[]> grads = new ArrayList<>();
            for (boolean interrupt : new boolean[] {false, true}) {
                Generator g = Generator.seeded(6);
                Tensor x = Tensor.randn(g, 40, 16, 24);
                Tensor w = Tensor.randn(g, 24, 24).mul(0.2).detach().requiresGrad(true);
                Tensor leaf = Tensor.randn(g, 16, 24).requiresGrad(true);
                Tensor loss = recurrence(w, x, leaf);
                java.util.concurrent.CountDownLatch hold = new java.util.concurrent.CountDownLatch(1);
                Thread releaser = null;
                if (interrupt) {
                    // the chunks queue behind a task that holds the helper until this thread waits for them
                    var blocker = Backends.cpu().offload(() -> {
                        while (true) {
                            try {
                                hold.await();
                                return null;
                            } catch (InterruptedException e) {
                                // keep holding
                            }
                        }
                    });
                    org.junit.jupiter.api.Assumptions.assumeTrue(blocker != null, "no helper thread (jblas's products)");
                    Thread caller = Thread.currentThread();
                    releaser = new Thread(() -> {
                        while (caller.getState() != Thread.State.WAITING && hold.getCount() > 0) {
                            Thread.onSpinWait();
                        }
                        hold.countDown();
                    });
                    releaser.setDaemon(true);
                    releaser.start();
                    Thread.currentThread().interrupt();
                }
                try {
                    loss.backward();
                } finally {
                    hold.countDown();
                }
                assertThat(Thread.interrupted()).as("interrupt flag as it was (and now cleared)").isEqualTo(interrupt);
                if (releaser != null) {
                    releaser.join(); // it stops once the latch is open
                }
                grads.add(w.grad().toFloatArray());
            }
            assertThat(grads.get(1)).containsExactly(grads.get(0));
        } finally {
            Thread.interrupted();
            Autograd.Products.chunkFlops = chunk;
            io.jgrad.core.cpu.Parallel.setThreads(threads);
        }
    }

    /**
     * An operand of a summed product term changed in place while backward runs (here an optimizer
     * step in a hook on one weight, whose value the other input's gradient still needs) raises the
     * in-place error instead of giving a gradient computed from the changed value.
     */
    @Test
    void anOperandOfAPendingProductTermChangedInPlaceDuringBackwardIsAnError() {
        Generator g = Generator.seeded(7);
        Tensor w1 = Tensor.randn(g, 4, 4).requiresGrad(true);
        Tensor w2 = Tensor.randn(g, 4, 4).requiresGrad(true);
        Tensor x = Tensor.randn(g, 4, 3).requiresGrad(true);
        Tensor loss = w1.matmul(x).sum().add(w2.matmul(x).mul(3).sum());
        w1.registerHook(gr -> {
            try (var s = Autograd.noGrad()) {
                w1.addInPlace(gr, -0.1);
            }
            return null;
        });
        assertThatThrownBy(loss::backward).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("modified by an in-place operation").hasMessageContaining("[4, 4]");
    }
}
