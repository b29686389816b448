package io.jgrad.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jgrad.core.Block;
import io.jgrad.core.CustomOp;
import io.jgrad.core.DType;
import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import io.jgrad.data.Batch;
import io.jgrad.layers.Conv2d;
import io.jgrad.layers.Flatten;
import io.jgrad.layers.Linear;
import io.jgrad.layers.MaxPool2d;
import io.jgrad.layers.Relu;
import io.jgrad.layers.Sequential;
import io.jgrad.losses.CrossEntropyLoss;
import io.jgrad.losses.MulticlassSvmLoss;
import io.jgrad.optim.Sgd;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The lecture's checks pass on a correct model and fail, naming the problem, on broken ones. */
class SanityChecksTest {
    private static Batch twenty(long seed, int features, int classes) {
        Generator g = Generator.seeded(seed);
        long[] y = new long[20];
        for (int i = 0; i < 20; i++) {
            y[i] = i % classes;
        }
        return new Batch(Tensor.randn(g, 20, features), Tensor.of(y));
    }

    private static Block net(long seed) {
        Generator g = Generator.seeded(seed);
        return new Sequential(new Linear(30, 32, true, g), new Relu(), new Linear(32, 10, true, g));
    }

    @Test
    void aCorrectModelPassesAllThreeAndIsLeftAsItWas() {
        Block model = net(1);
        Map<String, Tensor> before = model.stateDict();
        double[] w = before.get("0.weight").toDoubleArray();
        for (var loss : new io.jgrad.losses.Loss[] {new CrossEntropyLoss(), new MulticlassSvmLoss()}) {
            SanityChecks.Report r = SanityChecks.run(model, loss, 10, twenty(2, 30, 10),
                    ps -> new Sgd(ps, Sgd.Options.lr(0.1).withMomentum(0.9)), 300);
            assertThat(r.passed()).as(r.toString()).isTrue();
            assertThat(r.results()).hasSize(3);
            r.assertPassed();
        }
        assertThat(model.stateDict().get("0.weight").toDoubleArray()).containsExactly(w);
        assertThat(model.parameters().get(0).grad()).isNull();
        assertThat(SanityChecks.expectedInitialLoss(new CrossEntropyLoss(), 10)).isEqualTo(Math.log(10));
        assertThat(SanityChecks.expectedInitialLoss(new MulticlassSvmLoss(), 10)).isEqualTo(9.0);
    }

    @Test
    void aLossWithTheWrongInitialValueFails() {
        Block model = net(3);
        CrossEntropyLoss ce = new CrossEntropyLoss();
        // summed instead of averaged over the batch: 20 ln 10 at small weights, not ln 10
        SanityChecks.Result r = SanityChecks.initialLoss(model, (s, y) -> ce.forward(s, y).mul(s.size(0)),
                twenty(4, 30, 10), Math.log(10), 0.02);
        assertThat(r.passed()).isFalse();
        assertThat(r.measured()).isEqualTo("46.0517");
        assertThat(r.expected()).isEqualTo("2.3026 ± 2%");
        assertThat(r.meaning()).contains("check its mean over the batch");
        SanityChecks.Report report = new SanityChecks.Report(java.util.List.of(r));
        assertThatThrownBy(report::assertPassed).isInstanceOf(AssertionError.class)
                .hasMessageStartingWith("sanity checks: initial loss (small weights) failed: 46.0517, expected 2.3026 "
                        + "± 2%");
        assertThat(report.toString()).contains("FAIL");
    }

    /** tanh with a backward that forgets the square: 1 - y instead of 1 - y². */
    private static final class WrongTanh extends CustomOp {
        @Override
        protected Tensor forward(Context ctx, Tensor... in) {
            Tensor y = in[0].tanh();
            ctx.saveForBackward(y);
            return y;
        }

        @Override
        protected Tensor[] backward(Context ctx, Tensor dOut) {
            Tensor y = ctx.saved().get(0);
            return new Tensor[] {dOut.mul(y.neg().add(1))};
        }
    }

    @Test
    void aWrongBackwardFailsTheGradientCheckNamingTheParameterBehindIt() {
        Generator g = Generator.seeded(5);
        Linear first = new Linear(30, 16, true, g);
        Linear second = new Linear(16, 10, true, g);
        Block broken = new Block() {
            {
                registerChild("0", first);
                registerChild("1", second);
            }

            @Override
            public Tensor forward(Tensor x) {
                return second.forward(new WrongTanh().apply(first.forward(x)));
            }
        };
        Batch b = twenty(6, 30, 10);
        SanityChecks.Result r = SanityChecks.gradients(broken, new CrossEntropyLoss()::forward, new Batch(
                b.inputs().narrow(0, 0, 4), b.targets().narrow(0, 0, 4)), 8, 0);
        assertThat(r.passed()).as(r.toString()).isFalse();
        assertThat(r.measured()).contains("at 0.");
        assertThat(r.meaning()).contains("the backward of an op behind '0.");
        // the same model with the right tanh passes
        Block right = new Sequential(first, new io.jgrad.layers.Tanh(), second);
        assertThat(SanityChecks.gradients(right, new CrossEntropyLoss()::forward, b, 8, 0).passed()).isTrue();
    }

    @Test
    void aModelThatCannotLearnFailsTheOverfitCheck() {
        Block model = net(7);
        // a learning rate of 0: nothing moves
        SanityChecks.Result r = SanityChecks.overfit(model, new CrossEntropyLoss()::forward,
                ps -> new Sgd(ps, Sgd.Options.lr(0)), twenty(8, 30, 10), 50, 0.1);
        assertThat(r.passed()).isFalse();
        assertThat(r.meaning()).contains("cannot fit 20 examples");
    }

    @Test
    void theSummaryGivesShapesParametersAndMemory() {
        Generator g = Generator.seeded(0);
        Block cnn = new Sequential(new Conv2d(1, 8, io.jgrad.core.Window2d.square(3, 1, 1, 1), true, g), new Relu(),
                new MaxPool2d(2), new Flatten(), new Linear(8 * 14 * 14, 10, true, g));
        ModelSummary s = ModelSummary.of(cnn, 1, 1, 28, 28);
        assertThat(s.rows()).extracting(ModelSummary.Row::name).containsExactly("0", "1", "2", "3", "4");
        assertThat(s.rows().get(0).outputShape().toArray()).containsExactly(1, 8, 28, 28);
        assertThat(s.rows().get(2).outputShape().toArray()).containsExactly(1, 8, 14, 14);
        assertThat(s.rows().get(4).outputShape().toArray()).containsExactly(1, 10);
        assertThat(s.rows().get(0).parameters()).isEqualTo(8 * 9 + 8);
        assertThat(s.parameters()).isEqualTo(80 + 8 * 14 * 14 * 10 + 10).isEqualTo(cnn.parameterCount());
        assertThat(s.parameterBytes()).isEqualTo(4 * s.parameters());
        assertThat(s.activationBytes()).isEqualTo(4L * (2 * 8 * 28 * 28 + 2 * 8 * 14 * 14 + 10));
        assertThat(s.toString()).contains("0      Conv2d     [1, 8, 28, 28]").contains("parameters 15,770 (trainable "
                + "15,770), 61.6 KiB; activations of one forward 61.3 KiB");
        assertThat(cnn.isTraining()).isTrue();
        ModelSummary d = ModelSummary.of(net(1).to(DType.FLOAT64), 2, 30);
        assertThat(d.parameterBytes()).isEqualTo(8 * d.parameters());
    }
}
