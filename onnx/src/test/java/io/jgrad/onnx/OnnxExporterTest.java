package io.jgrad.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import io.jgrad.core.Autograd;
import io.jgrad.core.Block;
import io.jgrad.core.CustomOp;
import io.jgrad.core.DType;
import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import io.jgrad.core.Window2d;
import io.jgrad.layers.AvgPool2d;
import io.jgrad.layers.BatchNorm1d;
import io.jgrad.layers.BatchNorm2d;
import io.jgrad.layers.Conv2d;
import io.jgrad.layers.Dropout;
import io.jgrad.layers.Embedding;
import io.jgrad.layers.Flatten;
import io.jgrad.layers.Gelu;
import io.jgrad.layers.Gru;
import io.jgrad.layers.LayerNorm;
import io.jgrad.layers.LeakyRelu;
import io.jgrad.layers.Linear;
import io.jgrad.layers.LogSoftmax;
import io.jgrad.layers.Lstm;
import io.jgrad.layers.MaxPool2d;
import io.jgrad.layers.PositionalEncoding;
import io.jgrad.layers.Relu;
import io.jgrad.layers.Rnn;
import io.jgrad.layers.Sequential;
import io.jgrad.layers.Sigmoid;
import io.jgrad.layers.Softmax;
import io.jgrad.layers.Tanh;
import io.jgrad.layers.TransformerEncoderLayer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxExporterTest {
    private static final Generator RNG = Generator.seeded(7);

    /** Exports {@code model}, runs the file in ONNX Runtime at the example's batch and another, and compares. */
    private static ModelProto roundTrip(Block model, Tensor example, Tensor other) {
        return roundTrip(OnnxExporter.of(model), model, example, other);
    }

    private static ModelProto roundTrip(OnnxExporter exporter, Block model, Tensor example, Tensor other) {
        boolean training = model.isTraining();
        byte[] bytes = exporter.toBytes(example);
        assertThat(model.isTraining()).as("the model's mode is restored").isEqualTo(training);
        for (Tensor x : List.of(example, other)) {
            Tensor expected;
            model.eval();
            try (var s = Autograd.noGrad()) {
                expected = model.forward(x);
            } finally {
                if (training) {
                    model.train();
                }
            }
            OrtRunner.assertMatches(bytes, x, expected, 1e-5);
        }
        try {
            return ModelProto.parseFrom(bytes);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static List<String> opTypes(ModelProto m) {
        return m.getGraph().getNodeList().stream().map(NodeProto::getOpType).collect(Collectors.toList());
    }

    @Test
    void aTwoLayerNetRunsInOnnxRuntimeAtAnyBatchSize() {
        Block model = new Sequential(new Linear(20, 16, true, RNG), new Relu(), new Linear(16, 4, true, RNG));
        ModelProto m = roundTrip(model, Tensor.randn(RNG, 5, 20), Tensor.randn(RNG, 3, 20));
        assertThat(m.getIrVersion()).isEqualTo(8);
        assertThat(m.getOpsetImport(0).getVersion()).isEqualTo(17);
        assertThat(m.getGraph().getInitializerList()).extracting(t -> t.getName())
                .containsExactlyInAnyOrder("0.weight", "0.bias", "2.weight", "2.bias");
        TensorShapeProto out = m.getGraph().getOutput(0).getType().getTensorType().getShape();
        assertThat(out.getDim(0).getDimParam()).isEqualTo("batch");
        assertThat(out.getDim(1).getDimValue()).isEqualTo(4);
        assertThat(m.getGraph().getInput(0).getType().getTensorType().getShape().getDim(0).getDimParam())
                .isEqualTo("batch");
    }

    @Test
    void sumsOverOneOrSeveralDimsExportWithTheirAxes() {
        Block model = new Block() {
            private final Linear lin = registerChild("lin", new Linear(6, 4, true, RNG));

            @Override
            public Tensor forward(Tensor x) {
                Tensor y = lin.forward(x);
                Tensor both = x.reshape(-1, 2, 3).sum(new int[] {1, 2}, false).unsqueeze(1);
                return Tensor.cat(List.of(y.sum(1, true), y.mean(-1, true), both, y.sum(new int[] {1}, true)), 1);
            }
        };
        roundTrip(model, Tensor.randn(RNG, 5, 6), Tensor.randn(RNG, 3, 6));
    }

    @Test
    void aConvNetWithBatchNormAndPoolingExportsAsTheirOnnxOperators() {
        Block model = new Sequential(new Conv2d(2, 4, Window2d.square(3, 1, 1, 1), true, RNG), new BatchNorm2d(4),
                new Relu(), new MaxPool2d(2), new Conv2d(4, 3, Window2d.square(3, 2, 1, 2), false, RNG),
                new AvgPool2d(Window2d.square(2, 1, 1, 1)), new Flatten(), new Dropout(0.5),
                new Linear(3 * 2 * 2, 5, true, RNG), new BatchNorm1d(5), new LogSoftmax(1));
        train(model, Tensor.randn(RNG, 6, 2, 8, 8)); // running statistics that are not 0 and 1
        ModelProto m = roundTrip(model, Tensor.randn(RNG, 4, 2, 8, 8), Tensor.randn(RNG, 7, 2, 8, 8));
        assertThat(opTypes(m)).contains("Conv", "BatchNormalization", "MaxPool", "AveragePool", "LogSoftmax")
                .doesNotContain("Sqrt", "Div"); // roundTrip checks that the export restored train mode
    }

    /** A few training steps (the model in train mode), so that batch norms' running statistics move. */
    private static void train(Block model, Tensor x) {
        model.train();
        for (int i = 0; i < 3; i++) {
            try (var s = Autograd.noGrad()) {
                model.forward(x);
            }
        }
    }

    @Test
    void normsActivationsAndSoftmaxMatch() {
        LayerNorm ln = new LayerNorm(6);
        try (var s = Autograd.noGrad()) {
            ln.namedParameters().get("weight").copyFrom(Tensor.randn(RNG, 6));
            ln.namedParameters().get("bias").copyFrom(Tensor.randn(RNG, 6));
        }
        Block model = new Sequential(new Linear(6, 6, true, RNG), ln, new Gelu(), new Linear(6, 6, true, RNG),
                new Gelu(true), new LeakyRelu(0.2), new Tanh(), new Sigmoid(),
                new LayerNorm(new int[] {3, 6}, 1e-3, false), new Softmax(-1));
        ModelProto m = roundTrip(model, Tensor.randn(RNG, 2, 3, 6), Tensor.randn(RNG, 5, 3, 6));
        assertThat(opTypes(m)).contains("LayerNormalization", "Erf", "Tanh", "LeakyRelu", "Softmax")
                .doesNotContain("Gelu");
    }

    @Test
    void recurrentLayersExportAsOnnxRecurrentOperatorsWithPyTorchsGatesReordered() {
        for (Block rnn : List.of(new Lstm(5, 4, 2, true, true, RNG), new Gru(5, 4, 2, true, true, RNG),
                new Rnn(5, 4, 1, true, true, false, RNG), new Rnn(5, 4, 2, false, true, true, RNG),
                new Lstm(5, 4, 1, false, true, RNG))) {
            Block model = new Sequential(new Embedding(11, 5, RNG), rnn, new Linear(4, 3, true, RNG));
            Tensor tokens = Tensor.randint(RNG, 0, 11, 3, 6);
            ModelProto m = roundTrip(model, tokens, Tensor.randint(RNG, 0, 11, 2, 6));
            assertThat(opTypes(m)).as(rnn.toString()).contains("Gather")
                    .containsAnyOf("LSTM", "GRU", "RNN").doesNotContain("Sigmoid");
        }
    }

    @Test
    void aSequenceFirstLstmAndAnEncoderLayerWithPositionalEncodingsExportOpByOp() {
        Block lstm = new Lstm(4, 3, 1, true, false, RNG); // [T, B, in]: the batch is dim 1
        ModelProto seqFirst = roundTrip(OnnxExporter.of(lstm).batchDim(1), lstm, Tensor.randn(RNG, 5, 2, 4),
                Tensor.randn(RNG, 5, 3, 4));
        assertThat(seqFirst.getGraph().getOutput(0).getType().getTensorType().getShape().getDim(1).getDimParam())
                .isEqualTo("batch");
        Block encoder = new Sequential(PositionalEncoding.sinusoidal(16, 8),
                new TransformerEncoderLayer(8, 2, 16, true, true, true, RNG));
        ModelProto m = roundTrip(encoder, Tensor.randn(RNG, 3, 5, 8), Tensor.randn(RNG, 4, 5, 8));
        assertThat(opTypes(m)).contains("MatMul", "Softmax", "Transpose", "Reshape", "LayerNormalization");
    }

    @Test
    void aFixedBatchExportDeclaresTheExamplesShape() {
        Block model = new Linear(3, 2, false, RNG);
        ModelProto m = OnnxExporter.of(model).dynamicBatch(false).inputName("x").outputName("scores")
                .toModel(Tensor.randn(RNG, 4, 3));
        assertThat(m.getGraph().getInput(0).getName()).isEqualTo("x");
        assertThat(m.getGraph().getOutput(0).getName()).isEqualTo("scores");
        assertThat(m.getGraph().getOutput(0).getType().getTensorType().getShape().getDim(0).getDimValue()).isEqualTo(4);
    }

    /** A model whose forward pass calls an op of its own, which ONNX has no mapping for. */
    static final class Cube extends Block {
        @Override
        public Tensor forward(Tensor x) {
            return new CustomOp() {
                @Override
                public String name() {
                    return "cube";
                }

                @Override
                protected Tensor forward(Context ctx, Tensor... in) {
                    ctx.saveForBackward(in[0]);
                    return in[0].mul(in[0]).mul(in[0]).detach();
                }

                @Override
                protected Tensor[] backward(Context ctx, Tensor dOut) {
                    Tensor v = ctx.saved().get(0);
                    return new Tensor[] {dOut.mul(v.mul(v).mul(3))};
                }
            }.apply(x);
        }
    }

    @Test
    void anOpWithoutAMappingIsAnErrorNamingTheOpAndTheModelCode() {
        assertThatThrownBy(() -> OnnxExporter.of(new Sequential(new Linear(2, 2, true, RNG), new Cube()))
                .toBytes(Tensor.randn(RNG, 3, 2)))
                .isInstanceOf(OnnxExportException.class)
                .hasMessageContaining("op 'cube'")
                .hasMessageContaining("Cube.forward(OnnxExporterTest.java")
                .hasMessageContaining("no ONNX mapping");
    }

    @Test
    void aCustomOpNamedLikeABuiltInIsStillRefused() {
        CustomOp exp = new CustomOp() {
            @Override
            public String name() {
                return "exp";
            }

            @Override
            protected Tensor forward(Context ctx, Tensor... in) {
                return in[0].exp();
            }

            @Override
            protected Tensor[] backward(Context ctx, Tensor dOut) {
                return new Tensor[] {dOut};
            }
        };
        assertThatThrownBy(() -> OnnxExporter.of(new Linear(2, 2, true, RNG), exp::apply).toBytes(Tensor.randn(RNG, 3, 2)))
                .isInstanceOf(OnnxExportException.class).hasMessageContaining("op 'exp'")
                .hasMessageContaining("CustomOp has no ONNX mapping");
    }

    /** A model that squeezes every size-1 dim: at batch 1 that removes the batch dim itself. */
    static final class SqueezeAll extends Block {
        @Override
        public Tensor forward(Tensor x) {
            return x.squeeze().mul(2);
        }
    }

    @Test
    void aBatchOfOneWorksUnlessTheModelDropsTheBatchDim() {
        Block mlp = new Sequential(new Linear(4, 3, true, RNG), new Relu(), new Linear(3, 2, true, RNG));
        roundTrip(mlp, Tensor.randn(RNG, 1, 4), Tensor.randn(RNG, 6, 4));
        assertThatThrownBy(() -> OnnxExporter.of(new SqueezeAll()).toBytes(Tensor.randn(RNG, 1, 4)))
                .isInstanceOf(OnnxExportException.class).hasMessageContaining("op 'reshape'")
                .hasMessageContaining("rank 1 [4] for one batch size and rank 2 [2, 4]");
    }

    /** A model that builds a tensor from the batch size with a factory instead of from its input. */
    static final class BatchConstant extends Block {
        @Override
        public Tensor forward(Tensor x) {
            return x.add(Tensor.ones(x.size(0), 1));
        }
    }

    /** A model whose constant depends on the input's values, read outside the op table. */
    static final class ValueConstant extends Block {
        @Override
        public Tensor forward(Tensor x) {
            return x.sub(Tensor.scalar(x.sum().item()));
        }
    }

    @Test
    void tensorsMadeFromTheInputOutsideTheOpTableAreRefusedRatherThanFrozen() {
        assertThatThrownBy(() -> OnnxExporter.of(new BatchConstant()).toBytes(Tensor.randn(RNG, 3, 2)))
                .isInstanceOf(OnnxExportException.class).hasMessageContaining("op 'add'")
                .hasMessageContaining("BatchConstant.forward").hasMessageContaining("depends on the input");
        assertThatThrownBy(() -> OnnxExporter.of(new ValueConstant()).toBytes(Tensor.randn(RNG, 3, 2)))
                .isInstanceOf(OnnxExportException.class).hasMessageContaining("ValueConstant.forward");
    }

    @Test
    void theFileIsWrittenWholeOrNotAtAll(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("model.onnx");
        Files.writeString(file, "earlier");
        assertThatThrownBy(() -> OnnxExporter.of(new Cube()).export(Tensor.randn(RNG, 2, 2), file))
                .isInstanceOf(OnnxExportException.class);
        assertThat(Files.readString(file)).isEqualTo("earlier");
        assertThat(dir.toFile().list()).containsExactly("model.onnx");
        Block model = new Linear(2, 2, true, RNG);
        OnnxExporter.of(model).export(Tensor.randn(RNG, 2, 2), file);
        assertThat(ModelProto.parseFrom(Files.readAllBytes(file)).getGraph().getNodeCount()).isPositive();
    }

    @Test
    void float64ModelsExportAsDoubles() {
        Block model = new Sequential(new Linear(3, 4, true, RNG), new Tanh(), new Linear(4, 2, true, RNG));
        model.to(DType.FLOAT64);
        roundTrip(model, Tensor.randn(RNG, DType.FLOAT64, 2, 3), Tensor.randn(RNG, DType.FLOAT64, 5, 3));
    }

    @Test
    void theExportedFilePassesOnnxsOwnChecker(@TempDir Path dir) throws Exception {
        Block model = new Sequential(new Conv2d(1, 2, Window2d.square(3, 1, 1, 1), true, RNG), new BatchNorm2d(2),
                new Relu(), new MaxPool2d(2), new Flatten(), new Linear(2 * 2 * 2, 3, true, RNG),
                new LayerNorm(3), new Gelu());
        Path file = dir.resolve("m.onnx");
        OnnxExporter.of(model).export(Tensor.randn(RNG, 2, 1, 4, 4), file);
        OnnxChecker.assertValid(file);
        Block seq = new Sequential(new Embedding(7, 4, RNG), new Lstm(4, 3, 2, true, true, RNG));
        OnnxExporter.of(seq).export(Tensor.randint(RNG, 0, 7, 2, 5), file);
        OnnxChecker.assertValid(file);
    }
}
