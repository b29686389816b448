package io.jgrad.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jgrad.core.DType;
import io.jgrad.core.Generator;
import io.jgrad.core.NonFiniteException;
import io.jgrad.core.Parameter;
import io.jgrad.core.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Resume bit-exactness, validation messages, clipping, and the no-graph contract. */
class OptimizerBehaviourTest {
    /** A small least-squares problem whose gradients depend on the parameters. */
    private static void backward(List<Parameter> ps, int step) {
        Tensor x = Tensor.randn(Generator.seeded(100 + step), 8, 3);
        Tensor y = Tensor.randn(Generator.seeded(200 + step), 8, 2);
        x.matmul(ps.get(0)).add(ps.get(1)).sub(y).square().mean().backward();
    }

    private static List<Parameter> params() {
        return List.of(new Parameter(Tensor.randn(Generator.seeded(1), 3, 2)), new Parameter(Tensor.zeros(2)));
    }

    private static List<float[]> run(Function<List<Parameter>, Optimizer<?>> make, int total, int resumeAt) {
        List<Parameter> ps = params();
        Optimizer<?> opt = make.apply(ps);
        for (int step = 0; step < total; step++) {
            if (step == resumeAt) {
                Map<String, Tensor> saved = opt.stateDict();
                List<Parameter> fresh = params();
                for (int i = 0; i < ps.size(); i++) {
                    try (var s = io.jgrad.core.Autograd.noGrad()) {
                        fresh.get(i).copyFrom(ps.get(i));
                    }
                }
                ps = fresh;
                opt = make.apply(ps);
                opt.loadStateDict(saved);
            }
            opt.zeroGrad();
            backward(ps, step);
            opt.step();
        }
        List<float[]> out = new ArrayList<>();
        for (Parameter p : ps) {
            out.add(p.toFloatArray());
        }
        return out;
    }

    @Test
    void savingAndLoadingMidwayResumesBitExactly() {
        List<Function<List<Parameter>, Optimizer<?>>> makers = List.of(
                ps -> new Sgd(ps, Sgd.Options.lr(0.05).withMomentum(0.9).withNesterov(true).withWeightDecay(1e-3)),
                ps -> new Adam(ps, Adam.Options.lr(0.01).withAmsgrad(true)),
                ps -> Adam.adamW(ps, 0.01),
                ps -> new RmsProp(ps, RmsProp.Options.lr(0.01).withCentered(true).withMomentum(0.5)),
                ps -> new Adagrad(ps, Adagrad.Options.lr(0.1).withLrDecay(0.01)));
        for (var make : makers) {
            List<float[]> straight = run(make, 10, -1);
            List<float[]> resumed = run(make, 10, 4);
            for (int i = 0; i < straight.size(); i++) {
                assertThat(resumed.get(i)).containsExactly(straight.get(i));
            }
        }
    }

    @Test
    void updatesRecordNoGraphAndLeaveLeaves() {
        List<Parameter> ps = params();
        Adam opt = new Adam(ps, Adam.Options.lr(0.1));
        backward(ps, 0);
        opt.step();
        for (Parameter p : ps) {
            assertThat(p.isLeaf()).isTrue();
            assertThat(p.requiresGrad()).isTrue();
        }
    }

    @Test
    void hyperparametersAreValidatedNamingTheValue() {
        assertThatThrownBy(() -> Sgd.Options.lr(0.1).withMomentum(1.5)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Sgd: momentum must be in [0, 1), got 1.5");
        assertThatThrownBy(() -> Sgd.Options.lr(-1)).hasMessageContaining("got -1.0");
        assertThatThrownBy(() -> Sgd.Options.lr(0.1).withNesterov(true)).hasMessageContaining("Nesterov");
        assertThatThrownBy(() -> Adam.Options.lr(0.1).withBetas(1.0, 0.9)).hasMessageContaining("beta1");
        assertThatThrownBy(() -> RmsProp.Options.lr(Double.NaN)).hasMessageContaining("NaN");
        assertThatThrownBy(() -> new Sgd(List.of(), Sgd.Options.lr(0.1))).hasMessageContaining("needs parameters");
        Parameter p = new Parameter(Tensor.zeros(2));
        assertThatThrownBy(() -> new Sgd(List.of(new Optimizer.Group<>(List.of(p), Sgd.Options.lr(0.1)),
                new Optimizer.Group<>(List.of(p), Sgd.Options.lr(0.1))))).hasMessageContaining("more than one group");
        Sgd sgd = new Sgd(List.of(p), Sgd.Options.lr(0.1).withMomentum(0.9));
        assertThatThrownBy(() -> sgd.loadStateDict(Map.of("state.5.momentum_buffer", Tensor.zeros(2), "bogus",
                Tensor.zeros(1)))).hasMessageContaining("parameter 5").hasMessageContaining("unexpected key bogus")
                .hasMessageContaining("learning rates for 0 groups");
    }

    @Test
    void clipGradNormScalesLikePyTorchAndSurvivesHugeValues() {
        Parameter a = new Parameter(Tensor.zeros(DType.FLOAT64, 2));
        Parameter b = new Parameter(Tensor.zeros(DType.FLOAT64, 1));
        a.setGrad(Tensor.of(new double[] {3, 0}));
        b.setGrad(Tensor.of(new double[] {4}));
        assertThat(GradClip.clipGradNorm(List.of(a, b), 1.0)).isEqualTo(5.0);
        double coef = 1.0 / (5.0 + 1e-6);
        assertThat(a.grad().toDoubleArray()).containsExactly(3 * coef, 0);
        assertThat(b.grad().toDoubleArray()).containsExactly(4 * coef);
        a.setGrad(Tensor.of(new double[] {1e300, 1e300}));
        double norm = GradClip.clipGradNorm(List.of(a), 1.0);
        assertThat(norm).isCloseTo(Math.sqrt(2) * 1e300, org.assertj.core.api.Assertions.withinPercentage(1e-9));
        assertThat(a.grad().allFinite()).isTrue();
        a.setGrad(Tensor.of(new double[] {Double.NaN, 1}));
        assertThatThrownBy(() -> GradClip.clipGradNorm(List.of(a), 1.0)).isInstanceOf(NonFiniteException.class)
                .hasMessageContaining("NaN");
        a.setGrad(Tensor.of(new double[] {-7, 0.5}));
        GradClip.clipGradValue(List.of(a), 1);
        assertThat(a.grad().toDoubleArray()).containsExactly(-1, 0.5);
    }

    @Test
    void everyOptimizerTakesParameterGroupsWithTheirOwnOptions() {
        Parameter a = new Parameter(Tensor.ones(2));
        Parameter b = new Parameter(Tensor.ones(2));
        a.setGrad(Tensor.ones(2));
        b.setGrad(Tensor.ones(2));
        new RmsProp(List.of(new Optimizer.Group<>(List.of(a), RmsProp.Options.lr(0.1)),
                new Optimizer.Group<>(List.of(b), RmsProp.Options.lr(0)))).step();
        assertThat(a.toFloatArray()[0]).isLessThan(1f);
        assertThat(b.toFloatArray()).containsExactly(1f, 1f);
        new Adagrad(List.of(new Optimizer.Group<>(List.of(a), Adagrad.Options.lr(0)),
                new Optimizer.Group<>(List.of(b), Adagrad.Options.lr(0.1)))).step();
        assertThat(b.toFloatArray()[0]).isLessThan(1f);
    }

    @Test
    void parametersWithoutGradientsAreSkipped() {
        Parameter p = new Parameter(Tensor.ones(2));
        new Sgd(List.of(p), Sgd.Options.lr(1)).step();
        assertThat(p.toFloatArray()).containsExactly(1, 1);
    }
}
