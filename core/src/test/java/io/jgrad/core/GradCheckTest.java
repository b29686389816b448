package io.jgrad.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** GradCheck must catch each kind of broken backward and say where. */
class GradCheckTest {
    /** x³ with a configurable (possibly wrong) backward. */
    private static CustomOp cube(java.util.function.BiFunction<Tensor, Tensor, Tensor> backward) {
        return new CustomOp() {
            @Override
            protected Tensor forward(Context ctx, Tensor... in) {
                ctx.saveForBackward(in[0]);
                return in[0].pow(3);
            }

            @Override
            protected Tensor[] backward(Context ctx, Tensor dOut) {
                return new Tensor[] {backward.apply(ctx.saved().get(0), dOut)};
            }
        };
    }

    private static Tensor input() {
        return Tensor.of(new double[] {0.5, -1.5, 2.0, 1.25}, 2, 2).requiresGrad(true);
    }

    @Test
    void aCorrectBackwardPasses() {
        CustomOp good = cube((x, g) -> g.mul(x.mul(x)).mul(3));
        GradCheck.Report r = GradCheck.checkUnary(good::apply, input());
        assertThat(r.passed()).as(r.detail()).isTrue();
        assertThat(r.maxAbsError()).isLessThan(1e-6);
        GradCheck.checkSecondOrder(xs -> good.apply(xs.get(0)), input()).assertPassed();
    }

    @Test
    void aWrongBackwardFailsNamingTheWorstElement() {
        // 3x instead of 3x²: relative to the allowed error, x = -1.5 (element [0, 1]) is worst
        CustomOp wrong = cube((x, g) -> g.mul(x).mul(3));
        GradCheck.Report r = GradCheck.checkUnary(wrong::apply, input());
        assertThat(r.passed()).isFalse();
        assertThat(r.detail()).contains("Jacobian mismatch").contains("input 0 element [0, 1]");
        assertThatThrownBy(r::assertPassed).isInstanceOf(AssertionError.class).hasMessageContaining("analytical");
    }

    @Test
    void aBackwardThatIgnoresTheUpstreamGradientFails() {
        CustomOp ignores = cube((x, g) -> x.mul(x).mul(3));
        GradCheck.Report r = GradCheck.checkUnary(ignores::apply, input());
        assertThat(r.passed()).isFalse();
        assertThat(r.detail()).contains("zero upstream gradient");
    }

    @Test
    void aNonReentrantBackwardFails() {
        AtomicInteger calls = new AtomicInteger();
        CustomOp drifting = cube((x, g) -> g.mul(x.mul(x)).mul(3 + 1e-9 * calls.incrementAndGet()));
        GradCheck.Report r = GradCheck.checkUnary(drifting::apply, input());
        assertThat(r.passed()).isFalse();
        assertThat(r.detail()).contains("not reentrant");
    }

    @Test
    void aBackwardThatIsNotItselfDifferentiableFailsTheSecondOrderCheck() {
        // right first derivative, but computed from a detached x: grad of grad is lost
        CustomOp flat = cube((x, g) -> g.mul(x.detach().mul(x.detach())).mul(3));
        GradCheck.checkUnary(flat::apply, input()).assertPassed();
        GradCheck.Report r = GradCheck.checkSecondOrder(xs -> flat.apply(xs.get(0)), input());
        assertThat(r.passed()).isFalse();
    }

    @Test
    void float32InputsAreRefused() {
        Tensor x = Tensor.ones(2).requiresGrad(true);
        assertThatThrownBy(() -> GradCheck.checkUnary(Tensor::exp, x)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("FLOAT64");
    }

    @Test
    void maxRelativeErrorIsSmallForACorrectOp() {
        Tensor x = Tensor.randn(Generator.seeded(42), DType.FLOAT64, 3, 4).requiresGrad(true);
        assertThat(GradCheck.maxRelativeError(Tensor::tanh, x)).isLessThan(1e-6);
    }
}
