package io.jgrad.layers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import io.jgrad.core.Block;
import io.jgrad.core.DType;
import io.jgrad.core.Generator;
import io.jgrad.core.GradCheck;
import io.jgrad.core.Tensor;
import io.jgrad.core.Window2d;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** Every layer in float64: gradient check with respect to its input and each of its parameters (and second order). */
class LayerGradientTest {
    record Spec(String name, Supplier<Block> layer, int[] input) {}

    static List<Spec> specs() {
        Generator g = Generator.seeded(3);
        return List.of(
                new Spec("Linear", () -> new Linear(4, 3, true, g), new int[] {5, 4}),
                new Spec("Linear on 3-d input", () -> new Linear(4, 2, false, g), new int[] {2, 3, 4}),
                new Spec("Sequential", () -> new Sequential(new Linear(3, 4, true, g), new Tanh(), new Linear(4, 2, true, g)),
                        new int[] {5, 3}),
                new Spec("Relu", Relu::new, new int[] {3, 4}),
                new Spec("LeakyRelu", () -> new LeakyRelu(0.2), new int[] {3, 4}),
                new Spec("Sigmoid", Sigmoid::new, new int[] {3, 4}),
                new Spec("Tanh", Tanh::new, new int[] {3, 4}),
                new Spec("Gelu", Gelu::new, new int[] {3, 4}),
                new Spec("Gelu tanh", () -> new Gelu(true), new int[] {3, 4}),
                new Spec("Softmax", () -> new Softmax(1), new int[] {3, 4}),
                new Spec("LogSoftmax", () -> new LogSoftmax(1), new int[] {3, 4}),
                new Spec("Flatten", Flatten::new, new int[] {2, 3, 2}),
                new Spec("LayerNorm", () -> new LayerNorm(4), new int[] {3, 4}),
                new Spec("BatchNorm1d", () -> new BatchNorm1d(3), new int[] {5, 3}),
                new Spec("BatchNorm1d eval", () -> new BatchNorm1d(3).eval(), new int[] {5, 3}),
                new Spec("BatchNorm2d", () -> new BatchNorm2d(2), new int[] {2, 2, 3, 3}),
                new Spec("Conv2d", () -> new Conv2d(2, 3, 3), new int[] {2, 2, 5, 4}),
                new Spec("Conv2d strided padded dilated", () -> new Conv2d(2, 2, new Window2d(3, 2, 2, 1, 1, 1, 2, 1),
                        true, g), new int[] {1, 2, 6, 5}),
                new Spec("MaxPool2d", () -> new MaxPool2d(2), new int[] {2, 2, 4, 4}),
                new Spec("MaxPool2d padded", () -> new MaxPool2d(Window2d.square(3, 2, 1, 1)), new int[] {1, 2, 5, 5}),
                new Spec("AvgPool2d", () -> new AvgPool2d(Window2d.square(3, 2, 1, 1)), new int[] {1, 2, 5, 5}),
                new Spec("Dropout eval", () -> new Dropout(0.5).eval(), new int[] {3, 4}));
    }

    private static List<DynamicTest> tests(boolean secondOrder) {
        List<DynamicTest> out = new ArrayList<>();
        long seed = 1;
        for (Spec s : specs()) {
            long sd = seed++;
            out.add(dynamicTest(s.name(), () -> {
                Block m = s.layer().get().to(DType.FLOAT64);
                List<String> names = new ArrayList<>(m.namedParameters().keySet());
                List<Tensor> inputs = new ArrayList<>();
                inputs.add(Tensor.randn(Generator.seeded(sd), DType.FLOAT64, s.input()).requiresGrad(true));
                for (String n : names) {
                    inputs.add(m.namedParameters().get(n).detach().add(
                            Tensor.randn(Generator.seeded(sd + 100), DType.FLOAT64, m.namedParameters().get(n).shape())
                                    .mul(0.1)).requiresGrad(true));
                }
                java.util.function.Function<List<Tensor>, Tensor> f = xs -> {
                    Map<String, Tensor> replace = new LinkedHashMap<>();
                    for (int i = 0; i < names.size(); i++) {
                        replace.put(names.get(i), xs.get(i + 1));
                    }
                    return m.functionalCall(replace, xs.get(0));
                };
                Tensor[] arr = inputs.toArray(new Tensor[0]);
                GradCheck.Report r = secondOrder ? GradCheck.checkSecondOrder(f, arr) : GradCheck.check(f, arr);
                assertThat(r.passed()).as(r.detail()).isTrue();
            }));
        }
        return out;
    }

    @TestFactory
    List<DynamicTest> inputAndParameterGradients() {
        return tests(false);
    }

    @TestFactory
    List<DynamicTest> secondOrder() {
        return tests(true);
    }
}
