package io.jgrad.layers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jgrad.core.Autograd;
import io.jgrad.core.Block;
import io.jgrad.core.DType;
import io.jgrad.core.Generator;
import io.jgrad.core.Parameter;
import io.jgrad.core.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The Block contract as layers use it: names, modes, state dicts, printing, and learning. */
class BlockTest {
    private static Sequential mlp(Generator g) {
        return new Sequential(new Linear(2, 16, true, g), new Relu(), new Linear(16, 3, true, g));
    }

    @Test
    void parametersGetPyTorchsDottedNamesInOrder() {
        Map<String, Block> parts = new LinkedHashMap<>();
        parts.put("encoder", mlp(Generator.seeded(0)));
        parts.put("head", new Linear(3, 1));
        Sequential net = new Sequential(parts);
        assertThat(net.namedParameters().keySet()).containsExactly("encoder.0.weight", "encoder.0.bias",
                "encoder.2.weight", "encoder.2.bias", "head.weight", "head.bias");
        assertThat(net.parameterCount()).isEqualTo(2 * 16 + 16 + 16 * 3 + 3 + 3 + 1);
        BatchNorm1d bn = new BatchNorm1d(4);
        assertThat(new Sequential(bn).stateDict().keySet()).containsExactly("0.weight", "0.bias", "0.running_mean",
                "0.running_var", "0.num_batches_tracked");
    }

    @Test
    void aSharedLayerIsListedOnce() {
        Linear shared = new Linear(3, 3);
        Sequential net = new Sequential(shared, new Relu(), shared);
        assertThat(net.parameters()).hasSize(2);
        assertThat(net.namedParameters().keySet()).containsExactly("0.weight", "0.bias");
    }

    @Test
    void trainAndEvalReachEveryDescendant() {
        Dropout d = new Dropout(0.5);
        Sequential net = new Sequential(new Sequential(d), new Relu());
        net.eval();
        assertThat(d.isTraining()).isFalse();
        net.train();
        assertThat(d.isTraining()).isTrue();
    }

    @Test
    void toStringPrintsTheTree() {
        Sequential net = new Sequential(new Linear(784, 512, true, Generator.seeded(0)), new Relu(),
                new Sequential(new Linear(512, 10, true, Generator.seeded(0))));
        assertThat(net.toString()).isEqualTo("""
                Sequential(
                  (0): Linear(in=784, out=512, bias=true)
                  (1): Relu()
                  (2): Sequential(
                    (0): Linear(in=512, out=10, bias=true)
                  )
                )""");
    }

    @Test
    void applyVisitsChildrenBeforeParents() {
        List<String> order = new ArrayList<>();
        new Sequential(new Linear(2, 2), new Relu()).apply(m -> order.add(m.getClass().getSimpleName()));
        assertThat(order).containsExactly("Relu", "Linear", "Sequential");
    }

    @Test
    void aStateDictRoundTripGivesBitIdenticalOutputs() {
        Sequential a = mlp(Generator.seeded(1));
        Sequential b = mlp(Generator.seeded(2));
        Tensor x = Tensor.randn(Generator.seeded(3), 5, 2);
        assertThat(b.forward(x).allClose(a.forward(x))).isFalse();
        b.loadStateDict(a.stateDict(), true);
        assertThat(b.forward(x).toFloatArray()).containsExactly(a.forward(x).toFloatArray());
    }

    @Test
    void loadingChecksEverythingFirstAndChangesNothingOnFailure() {
        Sequential net = mlp(Generator.seeded(1));
        float[] before = net.parameters().get(0).toFloatArray();
        Map<String, Tensor> bad = new LinkedHashMap<>(mlp(Generator.seeded(9)).stateDict());
        bad.remove("2.bias");
        bad.put("extra", Tensor.zeros(1));
        bad.put("0.bias", Tensor.zeros(15));
        bad.put("2.weight", Tensor.zeros(DType.FLOAT64, 3, 16));
        assertThatThrownBy(() -> net.loadStateDict(bad, true)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Missing key(s): 2.bias")
                .hasMessageContaining("Unexpected key(s): extra")
                .hasMessageContaining("size mismatch for 0.bias: copying a tensor of shape [15]")
                .hasMessageContaining("the shape in the current model is [16]")
                .hasMessageContaining("dtype mismatch for 2.weight");
        assertThat(net.parameters().get(0).toFloatArray()).containsExactly(before);
        Map<String, Tensor> partial = new LinkedHashMap<>(mlp(Generator.seeded(9)).stateDict());
        partial.remove("2.bias");
        partial.put("extra", Tensor.zeros(1));
        Block.LoadResult r = net.loadStateDict(partial, false);
        assertThat(r.missingKeys()).containsExactly("2.bias");
        assertThat(r.unexpectedKeys()).containsExactly("extra");
    }

    @Test
    void zeroGradResetsEveryParameter() {
        Sequential net = mlp(Generator.seeded(1));
        net.forward(Tensor.ones(2, 2)).sum().backward();
        assertThat(net.parameters()).allMatch(p -> p.grad() != null);
        net.zeroGrad();
        for (Parameter p : net.parameters()) {
            assertThat(p.grad().toFloatArray()).containsOnly(0f);
        }
    }

    @Test
    void dropoutScalesTrainingAndIsIdentityInEval() {
        Dropout d = new Dropout(0.25, Generator.seeded(5));
        Tensor x = Tensor.ones(100_000);
        Tensor y = d.forward(x);
        double zeros = y.eq(0).mean().item();
        assertThat(zeros).isBetween(0.24, 0.26);
        assertThat(y.mean().item()).isBetween(0.99, 1.01);
        assertThat(y.max().item()).isEqualTo(1 / 0.75, org.assertj.core.api.Assertions.within(1e-6));
        Tensor again = new Dropout(0.25, Generator.seeded(5)).forward(x);
        assertThat(again.toFloatArray()).isEqualTo(y.toFloatArray());
        d.eval();
        assertThat(d.forward(x)).isSameAs(x);
        assertThatThrownBy(() -> new Dropout(1.5)).hasMessageContaining("1.5");
    }

    @Test
    void badInputShapesAreNamed() {
        assertThatThrownBy(() -> new Linear(784, 10).forward(Tensor.zeros(2, 783)))
                .hasMessageContaining("Linear(784 -> 10)").hasMessageContaining("[2, 783]");
        assertThatThrownBy(() -> new Conv2d(3, 8, 3).forward(Tensor.zeros(2, 1, 28, 28)))
                .hasMessageContaining("[2, 1, 28, 28]");
        assertThatThrownBy(() -> new BatchNorm2d(4).forward(Tensor.zeros(2, 4, 3)))
                .hasMessageContaining("BatchNorm2d(4)");
        assertThatThrownBy(() -> new MaxPool2d(5).forward(Tensor.zeros(1, 1, 3, 3)))
                .hasMessageContaining("smaller than the dilated kernel");
    }

    @Test
    void initialisersFollowPyTorchsFormulas() {
        Tensor w = Tensor.zeros(256, 512);
        Init.kaimingNormal(w, 0, Init.FanMode.FAN_IN, Init.Nonlinearity.RELU, Generator.seeded(1));
        assertThat(w.var().item()).isCloseTo(2.0 / 512, org.assertj.core.api.Assertions.within(2e-4));
        Init.xavierUniform(w, 1, Generator.seeded(2));
        double bound = Math.sqrt(6.0 / (256 + 512));
        assertThat(w.max().item()).isLessThanOrEqualTo(bound);
        assertThat(w.min().item()).isGreaterThanOrEqualTo(-bound);
        assertThat(w.var().item()).isCloseTo(bound * bound / 3, org.assertj.core.api.Assertions.within(1e-4));
        Init.constant(w, 0.5);
        assertThat(w.toFloatArray()).containsOnly(0.5f);
    }

    /** Three interleaved spiral arms: no line separates them, a two-layer network does. */
    @Test
    void aTwoLayerNetworkLearnsASpiralThatALinearModelCannot() {
        Generator g = Generator.seeded(42);
        int perClass = 100;
        int classes = 3;
        float[] pts = new float[perClass * classes * 2];
        long[] labels = new long[perClass * classes];
        for (int c = 0; c < classes; c++) {
            for (int i = 0; i < perClass; i++) {
                double r = (double) i / perClass;
                double theta = c * 4 + 4 * r + 0.2 * g.nextGaussian();
                int k = c * perClass + i;
                pts[2 * k] = (float) (r * Math.sin(theta));
                pts[2 * k + 1] = (float) (r * Math.cos(theta));
                labels[k] = c;
            }
        }
        Tensor x = Tensor.of(pts, perClass * classes, 2);
        Tensor y = Tensor.of(labels);
        double linear = train(new Linear(2, 3, true, Generator.seeded(1)), x, y);
        double twoLayer = train(new Sequential(new Linear(2, 100, true, Generator.seeded(1)), new Relu(),
                new Linear(100, 3, true, Generator.seeded(2))), x, y);
        assertThat(linear).isLessThan(0.65);
        assertThat(twoLayer).isGreaterThanOrEqualTo(0.95);
    }

    /** Full-batch gradient descent on softmax cross-entropy; returns training accuracy. */
    private static double train(Block model, Tensor x, Tensor y) {
        for (int step = 0; step < 3000; step++) {
            Tensor loss = model.forward(x).logSoftmax(1).gather(1, y.unsqueeze(1)).mean().neg();
            model.zeroGrad();
            loss.backward();
            try (var s = Autograd.noGrad()) {
                for (Parameter p : model.parameters()) {
                    p.addInPlace(p.grad(), -1.0);
                }
            }
        }
        return model.forward(x).argmax(1).eq(y).to(DType.FLOAT32).mean().item();
    }
}
