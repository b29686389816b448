package io.jgrad.layers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import io.jgrad.core.Block;
import io.jgrad.core.DType;
import io.jgrad.core.ReferenceFile;
import io.jgrad.core.Tensor;
import io.jgrad.core.Window2d;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Layer outputs (and batch-norm running statistics) compared with PyTorch's for the same
 * parameters and inputs: {@code reference/layers.txt}, written by {@code make_reference.py}
 * with Debian's python3-torch. Parameters load through {@code loadStateDict} under PyTorch's names.
 */
class LayerReferenceTest {
    private static final Map<String, Supplier<Block>> LAYERS = new LinkedHashMap<>();

    static {
        LAYERS.put("linear", () -> new Linear(4, 3));
        LAYERS.put("linear_no_bias_3d", () -> new Linear(4, 2, false, io.jgrad.core.Generator.seeded(0)));
        LAYERS.put("conv2d", () -> new Conv2d(2, 3, 3));
        LAYERS.put("conv2d_stride_pad_dilation", () -> new Conv2d(2, 3, new Window2d(3, 2, 2, 2, 1, 1, 2, 1), true,
                io.jgrad.core.Generator.seeded(0)));
        LAYERS.put("maxpool2d", () -> new MaxPool2d(2));
        LAYERS.put("maxpool2d_pad_stride", () -> new MaxPool2d(Window2d.square(3, 2, 1, 1)));
        LAYERS.put("avgpool2d", () -> new AvgPool2d(2));
        LAYERS.put("avgpool2d_pad", () -> new AvgPool2d(Window2d.square(3, 2, 1, 1)));
        LAYERS.put("batchnorm1d_train", () -> new BatchNorm1d(3));
        LAYERS.put("batchnorm1d_train_3d", () -> new BatchNorm1d(3));
        LAYERS.put("batchnorm2d_train", () -> new BatchNorm2d(2));
        LAYERS.put("batchnorm1d_eval", () -> new BatchNorm1d(3).eval());
        LAYERS.put("layernorm", () -> new LayerNorm(3, 4));
        LAYERS.put("gelu", Gelu::new);
        LAYERS.put("gelu_tanh", () -> new Gelu(true));
        LAYERS.put("leaky_relu", () -> new LeakyRelu(0.2));
        LAYERS.put("embedding", () -> new Embedding(5, 3, io.jgrad.core.Generator.seeded(0)));
        LAYERS.put("flatten", Flatten::new);
        LAYERS.put("softmax", () -> new Softmax(1));
        LAYERS.put("log_softmax", () -> new LogSoftmax(0));
    }

    record Case(String name, Map<String, Tensor> params, Tensor input, Tensor output, Map<String, Tensor> after) {}

    static List<Case> load() throws IOException {
        return ReferenceFile.load(LayerReferenceTest.class, "/reference/layers.txt", "param", "after").stream()
                .map(c -> new Case(c.name(), c.labelled("param"), c.one("in"), c.one("out"), c.labelled("after")))
                .toList();
    }

    @Test
    void everyCaseHasALayer() throws IOException {
        assertThat(load().stream().map(Case::name).toList()).containsExactlyInAnyOrderElementsOf(LAYERS.keySet());
    }

    @TestFactory
    List<DynamicTest> matchesPyTorch() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Case c : load()) {
            tests.add(dynamicTest(c.name(), () -> {
                Block m = LAYERS.get(c.name()).get().to(DType.FLOAT64);
                m.loadStateDict(c.params(), true);
                Tensor y = m.forward(c.input());
                assertThat(y.shape()).isEqualTo(c.output().shape());
                assertThat(y.allClose(c.output(), 1e-10, 1e-12)).as("%s%nexpected %s%nactual   %s", c.name(),
                        c.output(), y).isTrue();
                for (var e : c.after().entrySet()) {
                    Tensor actual = m.stateDict().get(e.getKey());
                    assertThat(actual.allClose(e.getValue(), 1e-10, 1e-12)).as("%s after forward: %s %s vs %s",
                            c.name(), e.getKey(), actual, e.getValue()).isTrue();
                }
            }));
        }
        return tests;
    }
}
