package io.jgrad.losses;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.jgrad.core.DType;
import io.jgrad.core.Tensor;
import io.jgrad.losses.Loss.Reduction;
import io.jgrad.losses.MulticlassSvmLoss.Variant;
import org.junit.jupiter.api.Test;

/** The lecture's worked numbers, as tests (float64). Rows are images; columns cat, car, frog. */
class LectureTest {
    private static final Tensor SCORES = Tensor.of(new double[][] {{3.2, 5.1, -1.7}, {1.3, 4.9, 2.0}, {2.2, 2.5, -3.1}});
    private static final Tensor LABELS = Tensor.of(new long[] {0, 1, 2}); // cat, car, frog

    private static MulticlassSvmLoss svm(Reduction r) {
        return new MulticlassSvmLoss(1, Variant.WESTON_WATKINS, false, null, r);
    }

    @Test
    void svmLossesAre2Point9And0And12Point9WithMean5Point27() {
        assertThat(svm(Reduction.NONE).forward(SCORES, LABELS).toDoubleArray())
                .containsExactly(new double[] {2.9, 0, 12.9}, within(1e-9));
        double mean = new MulticlassSvmLoss().forward(SCORES, LABELS).item();
        assertThat(mean).isCloseTo((2.9 + 0 + 12.9) / 3, within(1e-9));
        assertThat(Math.round(mean * 100) / 100.0).isEqualTo(5.27);
    }

    @Test
    void softmaxOfTheCatScoresAndItsLoss() {
        Tensor cat = SCORES.narrow(0, 0, 1);
        double[] p = cat.softmax(1).toDoubleArray();
        assertThat(Math.round(p[0] * 100) / 100.0).isEqualTo(0.13);
        assertThat(Math.round(p[1] * 100) / 100.0).isEqualTo(0.87);
        assertThat(Math.round(p[2] * 100) / 100.0).isEqualTo(0.00);
        double loss = new CrossEntropyLoss().forward(cat, LABELS.narrow(0, 0, 1)).item();
        assertThat(loss).isCloseTo(-Math.log(p[0]), within(1e-12));
        assertThat(Math.round(loss * 100) / 100.0).isEqualTo(2.04);
        assertThat(-Math.log10(p[0])).isCloseTo(0.89, within(0.005)); // the slide's base-10 figure
    }

    @Test
    void atInitialisationScoresNearZeroGiveKMinus1AndLnK() {
        for (int k : new int[] {3, 10, 100}) {
            Tensor small = Tensor.randn(io.jgrad.core.Generator.seeded(k), DType.FLOAT64, 64, k).mul(1e-8);
            Tensor y = Tensor.randint(io.jgrad.core.Generator.seeded(k + 1), 0, k, 64);
            assertThat(new MulticlassSvmLoss().forward(small, y).item()).isCloseTo(k - 1, within(1e-6));
            assertThat(new CrossEntropyLoss().forward(small, y).item()).isCloseTo(Math.log(k), within(1e-6));
        }
    }

    @Test
    void doublingWKeepsAZeroSvmLossAtZero() {
        Tensor x = Tensor.of(new double[][] {{1, 0}, {0, 1}, {1, 1}});
        Tensor w = Tensor.of(new double[][] {{3, -1}, {-1, 3}}); // scores: class 0 wins row 0, class 1 row 1
        Tensor y = Tensor.of(new long[] {0, 1, 0});
        Tensor w1 = Tensor.of(new double[][] {{4, 0}, {0, 2}});  // row 2: 4 vs 2, margin met
        assertThat(new MulticlassSvmLoss().forward(x.matmul(w1.t()), y).item()).isZero();
        assertThat(new MulticlassSvmLoss().forward(x.matmul(w1.mul(2).t()), y).item()).isZero();
        assertThat(new MulticlassSvmLoss().forward(x.matmul(w.t()), Tensor.of(new long[] {0, 1, 1})).item()).isPositive();
    }

    @Test
    void theLecturesQuestionsAboutTheSvmLoss() {
        // Q: sum over all classes including j = y_i: every L_i grows by exactly the margin
        Tensor all = new MulticlassSvmLoss(1, Variant.ALL_CLASSES, false, null, Reduction.NONE).forward(SCORES, LABELS);
        assertThat(all.toDoubleArray()).containsExactly(new double[] {3.9, 1, 13.9}, within(1e-9));
        // Q: mean instead of sum over classes: the loss is scaled, not changed in its minimiser
        assertThat(svm(Reduction.SUM).forward(SCORES, LABELS).item()).isCloseTo(15.8, within(1e-9));
        // Q: min and max: 0 at best, unbounded above
        assertThat(svm(Reduction.NONE).forward(SCORES, LABELS).min().item()).isZero();
        // Q: squared hinge: a different loss (penalises large violations more)
        Tensor sq = new MulticlassSvmLoss(1, Variant.WESTON_WATKINS, true, null, Reduction.NONE).forward(SCORES, LABELS);
        assertThat(sq.toDoubleArray()).containsExactly(new double[] {2.9 * 2.9, 0, 6.3 * 6.3 + 6.6 * 6.6}, within(1e-9));
        // Crammer-Singer: the largest violation only
        Tensor cs = new MulticlassSvmLoss(1, Variant.CRAMMER_SINGER, false, null, Reduction.NONE).forward(SCORES, LABELS);
        assertThat(cs.toDoubleArray()).containsExactly(new double[] {2.9, 0, 6.6}, within(1e-9));
        // Q: small changes to a car score that already wins by more than the margin change nothing
        Tensor nudged = SCORES.add(Tensor.of(new double[][] {{0, 0, 0}, {0.1, 0, 0}, {0, 0, 0}}));
        assertThat(svm(Reduction.NONE).forward(nudged, LABELS).toDoubleArray()[1]).isZero();
    }
}
