package io.jgrad.examples;

import io.jgrad.core.Autograd;
import io.jgrad.core.Block;
import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import io.jgrad.data.ImageDataset;
import io.jgrad.io.CheckpointStore;
import io.jgrad.io.Safetensors;
import io.jgrad.onnx.OnnxExportException;
import io.jgrad.onnx.OnnxExporter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Writes one of the Fashion-MNIST programs' models as ONNX: trained by that program here
 * ({@code --epochs}, into {@code OUT/train}) or loaded from the newest checkpoint of an earlier run
 * ({@code --from} that run's {@code --out}); then {@code OUT/model.onnx} (input {@code input}, a
 * batch of normalised images with a dynamic batch dim; output {@code output}, the class scores)
 * and {@code OUT/sample.safetensors} (tensors {@code input}, the first {@code --batch} test images
 * as the model takes them, and {@code output}, jgrad's scores for them; metadata: the program and
 * the normalisation), so any ONNX runtime's answers can be checked against jgrad's.
 */
public final class ExportOnnx {
    private static final List<String> PROGRAMS = List.of("LinearClassifier", "TwoLayerNet", "SmallCnn");

    private ExportOnnx() {}

    /** Runs the program; {@code --help} lists the options. */
    public static void main(String[] argv) {
        System.exit(run(argv));
    }

    /** Runs the program; returns the exit status. */
    static int run(String... argv) {
        Cli args = new Cli("ExportOnnx")
                .text("program", String.join("|", PROGRAMS), "SmallCnn", "whose model to export")
                .text("from", "DIR", null, "load the newest checkpoint the program wrote in DIR (its --out) "
                        + "instead of training")
                .option("epochs", int.class, "1", "without --from: train the program for this many epochs first")
                .text("loss", "softmax|svm", "softmax", "the loss the program trains (or trained) with")
                .option("batch", int.class, "16", "test images in sample.safetensors")
                .text("data", "DIR", null, "the Fashion-MNIST folder, as for the programs")
                .negatableFlag("download", "download Fashion-MNIST if it is not found (default), as the programs do")
                .text("out", "DIR", "runs/exportonnx", "folder for model.onnx and sample.safetensors");
        return args.run(argv, () -> export(args));
    }

    private static int export(Cli args) throws IOException {
        String name = args.choice("program", PROGRAMS.toArray(new String[0]));
        String loss = args.choice("loss", "softmax", "svm");
        int batch = args.integer("batch", 1);
        Path out = Path.of(args.get("out"));
        FashionMnistProgram program = switch (name) {
            case "LinearClassifier" -> LinearClassifier.PROGRAM;
            case "TwoLayerNet" -> TwoLayerNet.PROGRAM;
            default -> SmallCnn.PROGRAM;
        };
        Path from;
        Path dataPath = args.get("data").isEmpty() ? null : Path.of(args.get("data"));
        if (!args.get("from").isEmpty()) {
            from = Path.of(args.get("from"));
        } else {
            from = out.resolve("train");
            List<String> train = new ArrayList<>(List.of("--epochs", String.valueOf(args.integer("epochs", 1)),
                    "--loss", loss, "--out", from.toString(), "--overwrite"));
            if (dataPath != null) {
                train.addAll(List.of("--data", dataPath.toString()));
            }
            if (!args.flag("download")) {
                train.add("--no-download");
            }
            System.out.println("training " + name + " with " + String.join(" ", train));
            int status = program.run(train.toArray(new String[0]));
            if (status != Cli.DONE) {
                return status;
            }
        }
        CheckpointStore store = new CheckpointStore(from, program.checkpointStem(loss), 3);
        Optional<CheckpointStore.Loaded> loaded = store.loadLatest();
        if (loaded.isEmpty()) {
            throw new Cli.Failure(Cli.BAD_OPTIONS, "--from " + from + ": no " + program.checkpointStem(loss)
                    + "*.safetensors checkpoint there; run ./run " + name + " --out " + from + " first", false);
        }
        FashionMnistData.Loaded data = FashionMnistData.load(dataPath, args.flag("download"),
                FashionMnistData.Sources.standard());
        int[] shape = {1, 28, 28};
        Block model = program.model(shape, Generator.seeded(0));
        Map<String, Tensor> state = new LinkedHashMap<>();
        loaded.get().contents().tensors().forEach((k, v) -> {
            if (k.startsWith("model.")) {
                state.put(k.substring("model.".length()), v);
            }
        });
        model.loadStateDict(state, true);
        model.eval();
        System.out.println("loaded " + loaded.get().file() + " (step " + loaded.get().step() + ")");

        double[] meanStd = data.splits().train().pixelMeanStd(); // what the program normalised with
        ImageDataset test = data.splits().test().withNormalization(meanStd[0], meanStd[1])
                .withFlatten(program.flattens());
        int n = Math.min(batch, test.size());
        int[] first = new int[n];
        for (int i = 0; i < n; i++) {
            first[i] = i;
        }
        Tensor input = test.batch(first).inputs();
        Tensor output;
        try (var s = Autograd.noGrad()) {
            output = model.forward(input);
        }
        Files.createDirectories(out);
        Path onnx = out.resolve("model.onnx");
        Path sample = out.resolve("sample.safetensors");
        try {
            OnnxExporter.of(model).graphName(name).export(input, onnx);
        } catch (OnnxExportException e) {
            throw new Cli.Failure(Cli.IO_PROBLEM, "error: " + e.getMessage(), false);
        }
        Safetensors.save(sample, Map.of("input", input, "output", output), Map.of("program", name,
                "pixel_mean", String.valueOf(meanStd[0]), "pixel_std", String.valueOf(meanStd[1]),
                "normalisation", "(pixel / 255 - pixel_mean) / pixel_std"));
        System.out.printf(Locale.ROOT, "wrote %s (ONNX opset %d, IR version %d; input %s, output [batch, 10])%n", onnx,
                OnnxExporter.OPSET, OnnxExporter.IR_VERSION, input.shape().toString().replaceFirst("^\\[\\d+", "[batch"));
        System.out.println("wrote " + sample + " (input " + input.shape() + ", output " + output.shape() + ")");
        System.out.println("RESULT " + Json.object(g -> {
            g.writeStringField("program", "exportonnx");
            g.writeStringField("model", name);
            g.writeStringField("checkpoint", loaded.get().file().toString());
            g.writeStringField("onnx", onnx.toString());
            g.writeStringField("sample", sample.toString());
            g.writeNumberField("opset", OnnxExporter.OPSET);
        }));
        return Cli.DONE;
    }
}
