package io.jgrad.examples;

import io.jgrad.core.Autograd;
import io.jgrad.core.Block;
import io.jgrad.core.Tensor;
import io.jgrad.data.Batch;
import io.jgrad.data.DataLoader;
import io.jgrad.data.Dataset;
import io.jgrad.metrics.ConfusionMatrix;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** The programs' look at a trained model on the test set: the confusion matrix and the predictions. */
final class Evaluation {
    private Evaluation() {}

    /** Adds the model's predictions on {@code data} (eval mode) to {@code cm}; returns the accuracy. */
    static double confusion(Block model, Dataset data, ConfusionMatrix cm) {
        model.eval();
        try (var g = Autograd.noGrad()) {
            for (Batch b : new DataLoader(data, 1000)) {
                cm.update(model.forward(b.inputs()), b.targets());
            }
        } finally {
            model.train();
        }
        return cm.accuracy();
    }

    /** Writes {@code index,label,predicted} for every example of {@code data}, atomically; returns the file. */
    static Path writePredictions(Block model, Dataset data, Path csv) throws IOException {
        StringBuilder sb = new StringBuilder("index,label,predicted\n");
        model.eval();
        int i = 0;
        try (var g = Autograd.noGrad()) {
            for (Batch b : new DataLoader(data, 1000)) {
                long[] y = b.targets().toLongArray();
                long[] p = model.forward(b.inputs()).argmax(1).toLongArray();
                for (int k = 0; k < y.length; k++, i++) {
                    sb.append(i).append(',').append(y[k]).append(',').append(p[k]).append('\n');
                }
            }
        } finally {
            model.train();
        }
        if (csv.toAbsolutePath().getParent() != null) {
            Files.createDirectories(csv.toAbsolutePath().getParent());
        }
        io.jgrad.io.AtomicFiles.write(csv, out -> out.write(sb.toString().getBytes(StandardCharsets.UTF_8)));
        return csv;
    }
}
