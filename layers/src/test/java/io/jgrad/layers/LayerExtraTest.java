package io.jgrad.layers;

import static org.assertj.core.api.Assertions.assertThat;

import io.jgrad.core.Block;
import io.jgrad.core.DType;
import io.jgrad.core.Generator;
import io.jgrad.core.GradCheck;
import io.jgrad.core.Tensor;
import io.jgrad.io.Safetensors;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The layers whose inputs or randomness need their own gradient tests, and saving a model to a file. */
class LayerExtraTest {
    @Test
    void embeddingGradientWithRespectToItsTable() {
        Embedding e = new Embedding(5, 3, Generator.seeded(1));
        e.to(DType.FLOAT64);
        Tensor idx = Tensor.of(new long[] {0, 4, 2, 2}, 2, 2);
        Tensor table = Tensor.randn(Generator.seeded(2), DType.FLOAT64, 5, 3).requiresGrad(true);
        GradCheck.Report r = GradCheck.check(xs -> e.functionalCall(Map.of("weight", xs.get(0)), idx), table);
        assertThat(r.passed()).as(r.detail()).isTrue();
        GradCheck.checkSecondOrder(xs -> e.functionalCall(Map.of("weight", xs.get(0)), idx).square(), table)
                .assertPassed();
    }

    @Test
    void identityPassesTheGradientThrough() {
        Tensor x = Tensor.randn(Generator.seeded(3), DType.FLOAT64, 3, 4).requiresGrad(true);
        GradCheck.checkUnary(new Identity()::forward, x).assertPassed();
        assertThat(new Identity().forward(x)).isSameAs(x);
    }

    @Test
    void dropoutsTrainingGradientIsItsMaskScaled() {
        Dropout d = new Dropout(0.3, Generator.seeded(4));
        Tensor x = Tensor.randn(Generator.seeded(5), DType.FLOAT64, 1000).requiresGrad(true);
        Tensor y = d.forward(x);
        y.backward(Tensor.ones(DType.FLOAT64, 1000));
        double[] g = x.grad().toDoubleArray();
        double[] out = y.toDoubleArray();
        double[] in = x.toDoubleArray();
        for (int i = 0; i < g.length; i++) {
            boolean kept = out[i] != 0;
            assertThat(g[i]).isEqualTo(kept ? 1 / 0.7 : 0, org.assertj.core.api.Assertions.within(1e-12));
            if (kept) {
                assertThat(out[i]).isEqualTo(in[i] / 0.7, org.assertj.core.api.Assertions.within(1e-12));
            }
        }
    }

    @Test
    void aModelSavedToAFileAndLoadedIntoAFreshOneGivesBitIdenticalOutputs(@TempDir Path dir) throws Exception {
        Block a = new Sequential(new Conv2d(1, 4, 3), new BatchNorm2d(4), new Relu(), new MaxPool2d(2), new Flatten(),
                new Linear(4 * 3 * 3, 5, true, Generator.seeded(1)), new LayerNorm(5));
        Tensor x = Tensor.randn(Generator.seeded(2), 3, 1, 8, 8);
        a.forward(x); // training mode: moves the batch-norm running statistics
        a.eval();
        Path file = dir.resolve("model.safetensors");
        Safetensors.save(file, a.stateDict());
        Block b = new Sequential(new Conv2d(1, 4, 3), new BatchNorm2d(4), new Relu(), new MaxPool2d(2), new Flatten(),
                new Linear(4 * 3 * 3, 5, true, Generator.seeded(9)), new LayerNorm(5));
        b.loadStateDict(Safetensors.load(file).tensors(), true);
        b.eval();
        assertThat(b.forward(x).toFloatArray()).containsExactly(a.forward(x).toFloatArray());
    }
}
