package io.jgrad.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** softmax, logSoftmax and logsumexp at the edges: huge logits, shifts, -inf masks, NaN. */
class NumericsTest {
    private static Tensor row(double... v) {
        return Tensor.of(v, 1, v.length);
    }

    @Test
    void hugeLogitsStayFinite() {
        for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            Tensor x = row(1e4, -1e4, 0, 5e3).to(dt);
            assertThat(x.softmax(1).allFinite()).isTrue();
            assertThat(x.logSoftmax(1).allFinite()).isTrue();
            assertThat(x.logsumexp(1).item()).isEqualTo(1e4);
            assertThat(x.softmax(1).toDoubleArray()[0]).isEqualTo(1.0);
            Tensor huge = row(1e300, 1e299, -1e300);
            assertThat(huge.logSoftmax(1).toDoubleArray()[0]).isEqualTo(0.0);
        }
    }

    @Test
    void shiftingAllLogitsChangesNothing() {
        Tensor x = Tensor.randn(Generator.seeded(3), DType.FLOAT64, 4, 5);
        Tensor shifted = x.add(1e4);
        assertThat(shifted.softmax(1).allClose(x.softmax(1), 1e-9, 1e-12)).isTrue();
        assertThat(shifted.logSoftmax(1).allClose(x.logSoftmax(1), 1e-9, 1e-9)).isTrue();
        Tensor equalHuge = Tensor.full(DType.FLOAT64, 1e16, 4, 5);
        assertThat(equalHuge.logSoftmax(1).allClose(Tensor.full(DType.FLOAT64, -Math.log(5), 4, 5))).isTrue();
    }

    @Test
    void minusInfinityMasksGiveZeroProbabilityAndFiniteGradients() {
        Tensor x = row(1, Double.NEGATIVE_INFINITY, 2).requiresGrad(true);
        Tensor p = x.softmax(1);
        assertThat(p.toDoubleArray()[1]).isZero();
        assertThat(x.logSoftmax(1).toDoubleArray()[1]).isEqualTo(Double.NEGATIVE_INFINITY);
        p.mul(Tensor.of(new double[] {1, 2, 3}, 1, 3)).sum().backward();
        assertThat(x.grad().allFinite()).isTrue();
        assertThat(x.grad().toDoubleArray()[1]).isZero();
        assertThat(row(Double.NEGATIVE_INFINITY, 0).logsumexp(1).item()).isEqualTo(0.0);
    }

    /** Documented behaviour, as in PyTorch: a row with no finite logit has no distribution, so NaN. */
    @Test
    void anAllMinusInfinityRowGivesNaN() {
        Tensor x = row(Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY);
        assertThat(x.softmax(1).toDoubleArray()).containsOnly(Double.NaN);
        assertThat(x.logsumexp(1).item()).isEqualTo(Double.NEGATIVE_INFINITY);
    }

    @Test
    void nanAndPlusInfinityPropagateAsNaN() {
        assertThat(row(1, Double.NaN).softmax(1).toDoubleArray()).containsOnly(Double.NaN);
        assertThat(row(1, Double.POSITIVE_INFINITY).softmax(1).toDoubleArray()[1]).isNaN();
        assertThat(row(1, Double.POSITIVE_INFINITY).logsumexp(1).item()).isEqualTo(Double.POSITIVE_INFINITY);
    }

    @Test
    void sigmoidAndTanhSaturateWithoutOverflow() {
        Tensor x = Tensor.of(new float[] {-1000, -50, 0, 50, 1000});
        assertThat(x.sigmoid().toFloatArray()).containsExactly(0f, (float) (1 / (1 + Math.exp(50))), 0.5f, 1f, 1f);
        assertThat(x.tanh().allFinite()).isTrue();
    }
}
