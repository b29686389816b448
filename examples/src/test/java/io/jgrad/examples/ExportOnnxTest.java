package io.jgrad.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.jgrad.core.Autograd;
import io.jgrad.core.Block;
import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import io.jgrad.core.Window2d;
import io.jgrad.data.FashionMnist;
import io.jgrad.data.ImageDataset;
import io.jgrad.io.Safetensors;
import io.jgrad.layers.BatchNorm1d;
import io.jgrad.layers.BatchNorm2d;
import io.jgrad.layers.Conv2d;
import io.jgrad.layers.Flatten;
import io.jgrad.layers.LayerNorm;
import io.jgrad.layers.Linear;
import io.jgrad.layers.MaxPool2d;
import io.jgrad.layers.Relu;
import io.jgrad.layers.Sequential;
import io.jgrad.onnx.OnnxExporter;
import io.jgrad.onnx.OrtRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The example programs' models exported to ONNX give ONNX Runtime's outputs on real Fashion-MNIST images. */
class ExportOnnxTest {
    private static ImageDataset testImages(boolean flatten) throws IOException {
        FashionMnist.Splits s = FashionMnistData.subset(); // real images, on every machine
        double[] ms = s.train().pixelMeanStd();
        return s.test().withNormalization(ms[0], ms[1]).withFlatten(flatten);
    }

    private static Tensor batch(ImageDataset d, int from, int n) {
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = (from + i * 31) % d.size(); // across the classes (the subset is stored class by class)
        }
        return d.batch(idx).inputs();
    }

    /** A few training steps in train mode, so that the batch norms' running statistics are not 0 and 1. */
    private static void moveRunningStats(Block model, Tensor x) {
        model.train();
        try (var s = Autograd.noGrad()) {
            for (int i = 0; i < 3; i++) {
                model.forward(x);
            }
        }
        model.eval();
    }

    private static void assertOrtMatches(Block model, ImageDataset data) {
        model.eval();
        Tensor example = batch(data, 0, 32);
        byte[] onnx = OnnxExporter.of(model).toBytes(example);
        for (Tensor x : new Tensor[] {example, batch(data, 5, 7)}) { // the graph's batch is dynamic
            Tensor expected;
            try (var s = Autograd.noGrad()) {
                expected = model.forward(x);
            }
            OrtRunner.assertMatches(onnx, x, expected, 1e-5);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"LinearClassifier", "TwoLayerNet", "SmallCnn"})
    void theExampleProgramsModelsGiveOnnxRuntimesOutputs(String program) throws IOException {
        FashionMnistProgram p = switch (program) {
            case "LinearClassifier" -> LinearClassifier.PROGRAM;
            case "TwoLayerNet" -> TwoLayerNet.PROGRAM;
            default -> SmallCnn.PROGRAM;
        };
        assertOrtMatches(p.model(new int[] {1, 28, 28}, Generator.seeded(3)), testImages(p.flattens()));
    }

    @Test
    void aModelWithBatchNormAndLayerNormGivesOnnxRuntimesOutputs() throws IOException {
        Generator rng = Generator.seeded(4);
        Block model = new Sequential(new Conv2d(1, 8, Window2d.square(3, 1, 1, 1), true, rng), new BatchNorm2d(8),
                new Relu(), new MaxPool2d(2), new Flatten(), new Linear(8 * 14 * 14, 32, true, rng), new BatchNorm1d(32),
                new Relu(), new LayerNorm(32), new Linear(32, 10, true, rng));
        ImageDataset data = testImages(false);
        moveRunningStats(model, batch(data, 1, 24));
        assertOrtMatches(model, data);
    }

    @Test
    void theProgramTrainsExportsAndWritesASampleThatOnnxRuntimeReproduces(@TempDir Path dir) throws IOException {
        Console.Run r = Console.capture(() -> ExportOnnx.run("--program", "LinearClassifier", "--epochs", "1",
                "--batch", "8", "--out", dir.toString(), "--no-download"));
        assertThat(r.status()).as(r.err()).isZero();
        String line = r.out().lines().filter(l -> l.startsWith("RESULT ")).reduce((a, b) -> b).orElseThrow();
        Map<String, String> result = fields(line.substring("RESULT ".length()));
        Path onnx = Path.of(result.get("onnx"));
        Path sample = Path.of(result.get("sample"));
        assertThat(onnx).isEqualTo(dir.resolve("model.onnx"));
        assertThat(sample).isEqualTo(dir.resolve("sample.safetensors"));
        Safetensors.Contents c = Safetensors.load(sample);
        assertThat(c.tensors().get("input").shape().toArray()).containsExactly(8, 784);
        assertThat(c.metadata()).containsEntry("program", "LinearClassifier").containsKey("pixel_mean");
        OrtRunner.assertMatches(Files.readAllBytes(onnx), c.tensors().get("input"), c.tensors().get("output"), 1e-5);

        // loading the run's checkpoint instead of training gives the same file
        byte[] first = Files.readAllBytes(onnx);
        Path again = dir.resolve("again");
        Console.Run loaded = Console.capture(() -> ExportOnnx.run("--program", "LinearClassifier", "--from",
                dir.resolve("train").toString(), "--out", again.toString(), "--no-download"));
        assertThat(loaded.status()).as(loaded.err()).isZero();
        assertThat(Files.readAllBytes(again.resolve("model.onnx"))).isEqualTo(first);
    }

    @Test
    void aFolderWithoutTheProgramsCheckpointsIsABadOption(@TempDir Path dir) {
        Console.Run r = Console.capture(() -> ExportOnnx.run("--program", "SmallCnn", "--from", dir.toString(),
                "--out", dir.resolve("o").toString(), "--no-download"));
        assertThat(r.status()).isEqualTo(Cli.BAD_OPTIONS);
        assertThat(r.firstErrorLine()).contains("no smallcnn-softmax-step").contains("./run SmallCnn --out");
    }

    /** The top-level string fields of a JSON object. */
    private static Map<String, String> fields(String json) throws IOException {
        Map<String, String> out = new java.util.HashMap<>();
        try (JsonParser p = new JsonFactory().createParser(json)) {
            assertThat(p.nextToken()).isEqualTo(JsonToken.START_OBJECT);
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.getCurrentName();
                JsonToken t = p.nextToken();
                if (t == JsonToken.VALUE_STRING) {
                    out.put(name, p.getText());
                } else {
                    p.skipChildren();
                }
            }
        }
        return out;
    }
}
