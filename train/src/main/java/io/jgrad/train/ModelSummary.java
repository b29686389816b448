package io.jgrad.train;

import io.jgrad.core.Autograd;
import io.jgrad.core.Block;
import io.jgrad.core.DType;
import io.jgrad.core.Parameter;
import io.jgrad.core.Shape;
import io.jgrad.core.Tensor;
import io.jgrad.layers.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A model's layers with their output shapes and parameter counts, and the memory its parameters
 * and one forward pass's activations take, like Keras's {@code summary()} or torchinfo. The model
 * runs once, in eval mode without recording a graph, on zeros of the given input shape (batch
 * dimension included); the children of a {@link Sequential} are run one by one, so each gets its
 * output shape; the children of any other composite are listed under it, without one.
 */
public final class ModelSummary {
    /** One layer: its dotted name, type, output shape (null where not measured) and own parameter count. */
    public record Row(String name, String type, Shape outputShape, long parameters, long activationBytes) {}

    private final List<Row> rows;
    private final Shape input;
    private final long parameters;
    private final long trainable;
    private final long parameterBytes;
    private final long activationBytes;

    private ModelSummary(List<Row> rows, Shape input, long parameters, long trainable, long parameterBytes,
                         long activationBytes) {
        this.rows = List.copyOf(rows);
        this.input = input;
        this.parameters = parameters;
        this.trainable = trainable;
        this.parameterBytes = parameterBytes;
        this.activationBytes = activationBytes;
    }

    /** Summarises {@code model} for inputs of {@code inputShape} (batch first), in the dtype of its parameters. */
    public static ModelSummary of(Block model, int... inputShape) {
        List<Parameter> ps = model.parameters();
        DType dtype = ps.isEmpty() ? DType.FLOAT32 : ps.get(0).dtype();
        Tensor x = Tensor.zeros(dtype, inputShape);
        List<Row> rows = new ArrayList<>();
        boolean training = model.isTraining();
        model.eval();
        try (var g = Autograd.noGrad()) {
            visit("", model, x, rows);
        } finally {
            if (training) {
                model.train();
            }
        }
        long count = 0;
        long train = 0;
        long bytes = 0;
        for (Parameter p : ps) {
            count += p.numel();
            train += p.requiresGrad() ? p.numel() : 0;
            bytes += (long) p.numel() * p.dtype().byteSize();
        }
        long act = rows.stream().mapToLong(Row::activationBytes).sum();
        return new ModelSummary(rows, x.shape(), count, train, bytes, act);
    }

    private static Tensor visit(String prefix, Block m, Tensor x, List<Row> rows) {
        if (m instanceof Sequential && !m.namedChildren().isEmpty()) {
            Tensor y = x;
            for (Map.Entry<String, Block> c : m.namedChildren().entrySet()) {
                y = visit(prefix + c.getKey(), c.getValue(), y, rows);
            }
            return y;
        }
        Tensor y = m.forward(x);
        rows.add(new Row(prefix.isEmpty() ? "(model)" : prefix, m.getClass().getSimpleName(), y.shape(),
                m.parameterCount(), (long) y.numel() * y.dtype().byteSize()));
        listChildren(prefix, m, rows);
        return y;
    }

    private static void listChildren(String prefix, Block m, List<Row> rows) {
        for (Map.Entry<String, Block> c : m.namedChildren().entrySet()) {
            String name = (prefix.isEmpty() ? "" : prefix + ".") + c.getKey();
            rows.add(new Row("  " + name, c.getValue().getClass().getSimpleName(), null, c.getValue().parameterCount(), 0));
            listChildren(name, c.getValue(), rows);
        }
    }

    /** The rows, in forward order. */
    public List<Row> rows() {
        return rows;
    }

    /** Parameters in total. */
    public long parameters() {
        return parameters;
    }

    /** Parameters that require a gradient. */
    public long trainableParameters() {
        return trainable;
    }

    /** Bytes the parameters take. */
    public long parameterBytes() {
        return parameterBytes;
    }

    /** Bytes of every layer's output for one forward pass of the summarised batch (what backward keeps, roughly). */
    public long activationBytes() {
        return activationBytes;
    }

    @Override
    public String toString() {
        int n = "layer".length();
        int t = "type".length();
        int s = "output shape".length();
        for (Row r : rows) {
            n = Math.max(n, r.name().length());
            t = Math.max(t, r.type().length());
            s = Math.max(s, shape(r).length());
        }
        String fmt = "%-" + n + "s  %-" + t + "s  %-" + s + "s  %12s%n";
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, fmt, "layer", "type", "output shape", "params"));
        sb.append("-".repeat(n + t + s + 18)).append('\n');
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, fmt, r.name(), r.type(), shape(r), String.format(Locale.ROOT, "%,d",
                    r.parameters())));
        }
        sb.append("-".repeat(n + t + s + 18)).append('\n');
        sb.append(String.format(Locale.ROOT, "input %s; parameters %,d (trainable %,d), %s; activations of one "
                + "forward %s%n", input, parameters, trainable, size(parameterBytes), size(activationBytes)));
        return sb.toString();
    }

    private static String shape(Row r) {
        return r.outputShape() == null ? "-" : r.outputShape().toString();
    }

    private static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        if (bytes < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        }
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
    }
}
