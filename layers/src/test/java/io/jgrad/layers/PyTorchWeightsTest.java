package io.jgrad.layers;

import static org.assertj.core.api.Assertions.assertThat;

import io.jgrad.core.Autograd;
import io.jgrad.core.Block;
import io.jgrad.core.DType;
import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import io.jgrad.core.Window2d;
import io.jgrad.io.Safetensors;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A PyTorch model's state dict, saved as safetensors, loads into the jgrad model of the same
 * layers with {@code loadStateDict(Safetensors.load(file).tensors(), true)} (the names and layouts
 * of Linear, Conv2d, BatchNorm2d, LayerNorm and Embedding are PyTorch's), and the loaded model
 * gives PyTorch's recorded outputs to 1e-6. The files were written by PyTorch 1.13
 * ({@code layers/src/test/python/make_pytorch_models.py}); the models are float64.
 */
class PyTorchWeightsTest {
    private static Safetensors.Contents load(String file) throws IOException {
        try (InputStream in = PyTorchWeightsTest.class.getResourceAsStream("pytorch/" + file)) {
            return Safetensors.read(in.readAllBytes(), file);
        }
    }

    private static void matchesPyTorch(String name, Block model) throws IOException {
        Safetensors.Contents weights = load(name + ".safetensors");
        assertThat(weights.metadata().get("torch")).startsWith("1.13");
        Block.LoadResult r = model.to(DType.FLOAT64).loadStateDict(weights.tensors(), true);
        assertThat(r.missingKeys()).isEmpty();
        assertThat(r.unexpectedKeys()).isEmpty();
        model.eval();
        Map<String, Tensor> io = load(name + "-io.safetensors").tensors();
        Tensor out;
        try (var g = Autograd.noGrad()) {
            out = model.forward(io.get("input"));
        }
        Tensor want = io.get("output");
        assertThat(out.shape()).isEqualTo(want.shape());
        double[] a = out.toDoubleArray();
        double[] b = want.toDoubleArray();
        for (int i = 0; i < b.length; i++) {
            assertThat(a[i]).as("%s output %s", name, i).isCloseTo(b[i],
                    org.assertj.core.api.Assertions.within(1e-6 * Math.max(1, Math.abs(b[i]))));
        }
    }

    @Test
    void aLinearNetworkFromPyTorchGivesPyTorchsOutputs() throws IOException {
        Generator g = Generator.seeded(0); // any initial weights: all of them are replaced
        matchesPyTorch("mlp", new Sequential(new Linear(8, 16, true, g), new Relu(), new Linear(16, 4, true, g)));
    }

    @Test
    void aConvolutionalNetworkWithBatchNormFromPyTorchGivesPyTorchsOutputs() throws IOException {
        Generator g = Generator.seeded(0);
        matchesPyTorch("cnn", new Sequential(new Conv2d(1, 4, Window2d.square(3, 1, 1, 1), true, g), new BatchNorm2d(4),
                new Relu(), new MaxPool2d(2), new Flatten(), new Linear(4 * 4 * 4, 3, true, g)));
    }

    @Test
    void anEmbeddingWithLayerNormFromPyTorchGivesPyTorchsOutputs() throws IOException {
        Generator g = Generator.seeded(0);
        matchesPyTorch("embedding", new Sequential(new Embedding(10, 6, g), new LayerNorm(6), new Linear(6, 2, true, g),
                new Tanh()));
    }
}
