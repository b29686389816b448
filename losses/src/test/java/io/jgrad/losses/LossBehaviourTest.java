package io.jgrad.losses;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import io.jgrad.core.Autograd;
import io.jgrad.core.DType;
import io.jgrad.core.Generator;
import io.jgrad.core.GradCheck;
import io.jgrad.core.ShapeException;
import io.jgrad.core.Tensor;
import io.jgrad.layers.Linear;
import io.jgrad.losses.Loss.Reduction;
import io.jgrad.losses.MulticlassSvmLoss.Variant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Gradient checks for every loss and option, numerics at the edges, and bad targets. */
class LossBehaviourTest {
    private static final Tensor Y = Tensor.of(new long[] {0, 3, 1, 1, 2});

    /** Scores whose hinge margins s_j − s_y + 1 all stay at least 1e-3 from 0 (no kinks). */
    private static Tensor scores() {
        Tensor s = Tensor.randn(Generator.seeded(4), DType.FLOAT64, 5, 4).mul(2);
        double[] v = s.toDoubleArray();
        long[] y = Y.toLongArray();
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 4; j++) {
                double m = v[i * 4 + j] - v[i * 4 + (int) y[i]] + 1;
                if (j != y[i] && Math.abs(m) < 1e-3) {
                    v[i * 4 + j] += 0.01;
                }
            }
        }
        return Tensor.of(v, 5, 4);
    }

    @TestFactory
    List<DynamicTest> everyLossPassesFirstAndSecondOrderGradientChecks() {
        Tensor w = Tensor.of(new double[] {0.5, 2, 1, 1.5});
        Tensor probs = Tensor.randn(Generator.seeded(5), DType.FLOAT64, 5, 4).softmax(1);
        Tensor target = Tensor.randn(Generator.seeded(6), DType.FLOAT64, 5, 4);
        List<Object[]> cases = List.of(
                new Object[] {"svm", (Function<Tensor, Tensor>) s -> new MulticlassSvmLoss().forward(s, Y)},
                new Object[] {"svm squared sum", (Function<Tensor, Tensor>) s -> new MulticlassSvmLoss(1,
                        Variant.WESTON_WATKINS, true, null, Reduction.SUM).forward(s, Y)},
                new Object[] {"svm crammer-singer", (Function<Tensor, Tensor>) s -> new MulticlassSvmLoss(1,
                        Variant.CRAMMER_SINGER, false, null, Reduction.MEAN).forward(s, Y)},
                new Object[] {"svm all classes weighted", (Function<Tensor, Tensor>) s -> new MulticlassSvmLoss(1,
                        Variant.ALL_CLASSES, false, w, Reduction.NONE).forward(s, Y)},
                new Object[] {"cross-entropy", (Function<Tensor, Tensor>) s -> new CrossEntropyLoss().forward(s, Y)},
                new Object[] {"cross-entropy weighted smoothed ignore", (Function<Tensor, Tensor>) s ->
                        new CrossEntropyLoss(w, 0.2, 3, Reduction.MEAN).forward(s, Y)},
                new Object[] {"cross-entropy ignore none (one-loop path)", (Function<Tensor, Tensor>) s ->
                        new CrossEntropyLoss(null, 0, 3, Reduction.NONE).forward(s, Y)},
                new Object[] {"cross-entropy ignore sum (one-loop path)", (Function<Tensor, Tensor>) s ->
                        new CrossEntropyLoss(null, 0, 3, Reduction.SUM).forward(s, Y)},
                new Object[] {"cross-entropy probabilities none", (Function<Tensor, Tensor>) s ->
                        new CrossEntropyLoss(null, 0, -100, Reduction.NONE).forward(s, probs)},
                new Object[] {"nll", (Function<Tensor, Tensor>) s -> new NllLoss().forward(s.logSoftmax(1), Y)},
                new Object[] {"bce with logits", (Function<Tensor, Tensor>) s ->
                        new BinaryCrossEntropyWithLogits().forward(s, probs)},
                new Object[] {"mse", (Function<Tensor, Tensor>) s -> new MseLoss().forward(s, target)},
                new Object[] {"l1", (Function<Tensor, Tensor>) s -> new L1Loss().forward(s, target)},
                new Object[] {"huber", (Function<Tensor, Tensor>) s -> new HuberLoss().forward(s, target)},
                new Object[] {"kl", (Function<Tensor, Tensor>) s -> KlDivLoss.batchMean().forward(s.logSoftmax(1), probs)});
        List<DynamicTest> tests = new ArrayList<>();
        for (Object[] c : cases) {
            @SuppressWarnings("unchecked")
            Function<Tensor, Tensor> f = (Function<Tensor, Tensor>) c[1];
            tests.add(dynamicTest((String) c[0], () -> {
                Tensor x = scores().requiresGrad(true);
                GradCheck.Report first = GradCheck.check(xs -> f.apply(xs.get(0)), x);
                assertThat(first.passed()).as(first.detail()).isTrue();
                GradCheck.Report second = GradCheck.checkSecondOrder(xs -> f.apply(xs.get(0)), x);
                assertThat(second.passed()).as(second.detail()).isTrue();
            }));
        }
        return tests;
    }

    /** The one-loop path (no weights, no smoothing) against the general path with unit weights. */
    @Test
    void crossEntropyFastPathEqualsTheGeneralPath() {
        Tensor s = Tensor.randn(Generator.seeded(8), DType.FLOAT64, 6, 5).mul(3);
        Tensor y = Tensor.of(new long[] {0, 4, -100, 2, 2, 1});
        for (Reduction r : Reduction.values()) {
            Tensor a = s.clone().requiresGrad(true);
            Tensor b = s.clone().requiresGrad(true);
            Tensor fast = new CrossEntropyLoss(null, 0, -100, r).forward(a, y);
            Tensor general = new CrossEntropyLoss(Tensor.ones(DType.FLOAT64, 5), 0, -100, r).forward(b, y);
            assertThat(fast.allClose(general, 1e-12, 1e-12)).as("%s: %s vs %s", r, fast, general).isTrue();
            fast.sum().backward();
            general.sum().backward();
            assertThat(a.grad().allClose(b.grad(), 1e-12, 1e-12)).as("%s gradient", r).isTrue();
            assertThat(a.grad().select(0, 2).toDoubleArray()).as("ignored row").containsOnly(0);
        }
    }

    /**
     * Float32 scores take their own route (core's vectorized log-softmax, the losses picked out
     * of it); it gives the float64 loop's losses and gradients to float precision, with ignored
     * rows, a −inf non-target score and a −inf target score, in every reduction, and the same
     * gradient when the backward itself is recorded.
     */
    @Test
    void crossEntropyInFloat32MatchesTheFloat64LoopToFloatPrecision() {
        Tensor s = Tensor.randn(Generator.seeded(9), DType.FLOAT64, 7, 11).mul(4);
        double[] v = s.toDoubleArray();
        v[3 * 11 + 5] = Double.NEGATIVE_INFINITY; // row 3, not its target
        s = Tensor.of(v, 7, 11);
        Tensor y = Tensor.of(new long[] {0, 10, -100, 2, 7, -100, 3});
        for (Reduction r : Reduction.values()) {
            Tensor a = s.to(DType.FLOAT32).requiresGrad(true);
            Tensor b = s.clone().requiresGrad(true);
            Tensor f32 = new CrossEntropyLoss(null, 0, -100, r).forward(a, y);
            Tensor f64 = new CrossEntropyLoss(null, 0, -100, r).forward(b, y);
            assertThat(f32.dtype()).isEqualTo(DType.FLOAT32);
            assertThat(f32.to(DType.FLOAT64).allClose(f64, 1e-6, 1e-6)).as("%s: %s vs %s", r, f32, f64).isTrue();
            Tensor weights = Tensor.randn(Generator.seeded(10), DType.FLOAT64, f64.shape().toArray());
            f32.mul(weights.to(DType.FLOAT32)).sum().backward();
            f64.mul(weights).sum().backward();
            assertThat(a.grad().to(DType.FLOAT64).allClose(b.grad(), 1e-6, 1e-6)).as("%s gradient", r).isTrue();
            assertThat(a.grad().select(0, 2).toDoubleArray()).as("ignored row").containsOnly(0);
            assertThat(a.grad().get(3, 5)).as("the -inf score's gradient").isZero();
            Tensor c = s.to(DType.FLOAT32).requiresGrad(true);
            Tensor recorded = Autograd.grad(List.of(new CrossEntropyLoss(null, 0, -100, r).forward(c, y).sum()), List.of(c), Autograd.Options.createGraph()).get(0);
            Tensor plain = s.to(DType.FLOAT32).requiresGrad(true);
            new CrossEntropyLoss(null, 0, -100, r).forward(plain, y).sum().backward();
            assertThat(recorded.allClose(plain.grad(), 1e-6, 1e-7)).as("%s recorded backward", r).isTrue();
        }
        Tensor minusInfTarget = Tensor.of(new double[][] {{Double.NEGATIVE_INFINITY, 0, 1}}).to(DType.FLOAT32);
        assertThat(new CrossEntropyLoss().forward(minusInfTarget, Tensor.of(new long[] {0})).item())
                .isEqualTo(Double.POSITIVE_INFINITY);
    }

    @Test
    void crossEntropyBackwardIsSoftmaxMinusOneHotOverN() {
        Tensor s = scores().requiresGrad(true);
        new CrossEntropyLoss().forward(s, Y).backward();
        Tensor expected = s.detach().softmax(1).sub(Y.oneHot(4, DType.FLOAT64)).div(5);
        assertThat(s.grad().allClose(expected, 1e-12, 1e-15)).isTrue();
    }

    @Test
    void hugeScoresGiveFiniteLossesAndGradients() {
        for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            Tensor s = Tensor.of(new double[][] {{1e4, -1e4, 0}, {-1e4, 1e4, 5e3}}).to(dt).requiresGrad(true);
            Tensor y = Tensor.of(new long[] {1, 1});
            for (Loss loss : new Loss[] {new CrossEntropyLoss(), new MulticlassSvmLoss()}) {
                s.setGrad(null);
                Tensor l = loss.forward(s, y);
                l.backward();
                assertThat(l.allFinite()).isTrue();
                assertThat(s.grad().allFinite()).isTrue();
            }
        }
    }

    @Test
    void minusInfinityScoresAreHandled() {
        Tensor s = Tensor.of(new double[][] {{2, Double.NEGATIVE_INFINITY, 1}}).requiresGrad(true);
        Tensor y = Tensor.of(new long[] {0});
        Tensor ce = new CrossEntropyLoss().forward(s, y);
        ce.backward();
        assertThat(ce.item()).isFinite();
        assertThat(s.grad().allFinite()).isTrue();
        assertThat(new MulticlassSvmLoss().forward(s, y).item()).isZero();
        Tensor targetMinusInf = Tensor.of(new double[][] {{Double.NEGATIVE_INFINITY, 0, 1}});
        assertThat(new CrossEntropyLoss().forward(targetMinusInf, y).item()).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(new CrossEntropyLoss().forward(Tensor.of(new double[][] {{Double.NaN, 0, 1}}), y).item()).isNaN();
    }

    /**
     * Issue 17 item 10: the SVM loss gave NaN for a target score of −Inf (cross-entropy +Inf), and
     * for a NaN score a NaN loss with the finite gradient [1, −2, 1]. Now every loss follows one
     * rule: a non-finite input gives a non-finite loss and a NaN gradient where it is; −Inf in a
     * class a loss does not read is a mask, free and with a zero gradient; other rows are untouched.
     */
    @Test
    void nonFiniteScoresGiveANonFiniteLossAndANanGradientAcrossTheFamily() {
        double inf = Double.POSITIVE_INFINITY;
        double nan = Double.NaN;
        Tensor y = Tensor.of(new long[] {0, 1});
        List<Loss> classLosses = List.of(new MulticlassSvmLoss(), new CrossEntropyLoss(), new NllLoss(),
                new MulticlassSvmLoss(1, Variant.CRAMMER_SINGER, true, null, Reduction.MEAN),
                new MulticlassSvmLoss(1, Variant.ALL_CLASSES, false, null, Reduction.MEAN));
        double[][] poisoned = {{-inf, 0, 1}, {nan, 0, 1}, {2, inf, 1}, {inf, 0, 1}, {nan, nan, nan}};
        for (Loss loss : classLosses) {
            for (double[] row : poisoned) {
                Tensor s = Tensor.of(new double[][] {row, {0.5, 2, -1}}).requiresGrad(true);
                Tensor l = loss.forward(s, y);
                l.backward();
                String what = loss + " on " + java.util.Arrays.toString(row);
                assertThat(Double.isFinite(l.item())).as(what).isFalse();
                if (row[0] == -inf && row[1] == 0) { // the target at −Inf: the limit, +Inf, for every one of them
                    assertThat(l.item()).as(what).isEqualTo(Double.POSITIVE_INFINITY);
                }
                double[] g = s.grad().toDoubleArray();
                for (int j = 0; j < 3; j++) {
                    assertThat(g[j]).as(what + " gradient " + j).isNaN();
                }
                Tensor clean = Tensor.of(new double[][] {{0, 0, 0}, {0.5, 2, -1}}).requiresGrad(true);
                loss.forward(clean, y).backward();
                for (int j = 3; j < 6; j++) { // the finite row's gradient is the one it has alone (same N)
                    assertThat(g[j]).as(what + " gradient " + j).isEqualTo(clean.grad().toDoubleArray()[j]);
                }
            }
        }
        // unreduced: only the poisoned row is non-finite
        Tensor none = new MulticlassSvmLoss(1, Variant.WESTON_WATKINS, false, null, Reduction.NONE)
                .forward(Tensor.of(new double[][] {{inf, 0, 1}, {0.5, 2, -1}}), y);
        assertThat(none.toDoubleArray()[0]).isNaN();
        assertThat(none.toDoubleArray()[1]).isEqualTo(0.0);
        // the lecture's [1, −2, 1] case: a NaN score no longer yields a finite gradient
        Tensor s = Tensor.of(new double[][] {{3.2, 5.1, nan}}).requiresGrad(true);
        Tensor l = new MulticlassSvmLoss().forward(s, Tensor.of(new long[] {1}));
        l.backward();
        assertThat(l.item()).isNaN();
        assertThat(java.util.Arrays.stream(s.grad().toDoubleArray()).boxed().toList()).allMatch(v -> v.isNaN());

        List<Loss> pointwise = List.of(new MseLoss(), new L1Loss(), new HuberLoss(), new BinaryCrossEntropyWithLogits(),
                new KlDivLoss());
        for (Loss loss : pointwise) {
            for (double bad : new double[] {nan, inf, -inf}) {
                Tensor x = Tensor.of(new double[] {0.3, bad, -0.2}).requiresGrad(true);
                Tensor t = Tensor.of(new double[] {0.5, 0.5, 0.2});
                Tensor v = loss.forward(x, t);
                v.backward();
                String what = loss + " on " + bad;
                assertThat(Double.isFinite(v.item())).as(what).isFalse();
                assertThat(x.grad().toDoubleArray()[1]).as(what).isNaN();
                assertThat(x.grad().toDoubleArray()[0]).as(what).isFinite();
            }
        }
    }

    @Test
    void badTargetsNameTheRowAndTheValue() {
        Tensor s = Tensor.zeros(DType.FLOAT64, 4, 10);
        for (Loss loss : new Loss[] {new CrossEntropyLoss(), new MulticlassSvmLoss(), new NllLoss()}) {
            String name = loss.getClass().getSimpleName();
            assertThatThrownBy(() -> loss.forward(s, Tensor.of(new long[] {1, 2, 3, 10})))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage(name + ": target 10 at batch index 3 out of range [0, 10)");
            assertThatThrownBy(() -> loss.forward(s, Tensor.of(new long[] {-1, 2, 3, 4})))
                    .hasMessageContaining("target -1 at batch index 0");
            assertThatThrownBy(() -> loss.forward(s, Tensor.of(new long[] {1, 2, 3})))
                    .isInstanceOf(ShapeException.class).hasMessageContaining("expected 4 targets");
            assertThatThrownBy(() -> loss.forward(s, Tensor.of(new int[] {1, 2, 3, 4}).to(DType.FLOAT32).reshape(4)))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> loss.forward(s)).isInstanceOf(UnsupportedOperationException.class);
        }
        assertThatThrownBy(() -> new MseLoss().forward(Tensor.zeros(2, 3), Tensor.zeros(3, 2)))
                .hasMessageContaining("[2, 3]").hasMessageContaining("[3, 2]");
    }

    @Test
    void regularizationIsLambdaTimesTheSumOfSquaredWeightsOnly() {
        Linear layer = new Linear(3, 2, true, Generator.seeded(1));
        layer.to(DType.FLOAT64);
        Tensor weight = layer.namedParameters().get("weight");
        double expected = 0.01 * weight.square().sum().item();
        Tensor r = Regularization.l2(0.01, layer);
        assertThat(r.item()).isEqualTo(expected, org.assertj.core.api.Assertions.within(1e-15));
        r.backward();
        assertThat(weight.grad().allClose(weight.detach().mul(0.02), 1e-12, 0)).isTrue();
        assertThat(layer.namedParameters().get("bias").grad()).isNull();
        assertThat(Regularization.l1(0.5, layer).item()).isCloseTo(0.5 * weight.abs().sum().item(),
                org.assertj.core.api.Assertions.within(1e-12));
        Tensor scores = layer.forward(Tensor.ones(DType.FLOAT64, 4, 3));
        Tensor total = new MulticlassSvmLoss().forward(scores, Tensor.of(new long[] {0, 1, 0, 1}))
                .add(Regularization.l2(1e-3, layer));
        try (var s = Autograd.noGrad()) {
            assertThat(total.item()).isPositive();
        }
    }
}
