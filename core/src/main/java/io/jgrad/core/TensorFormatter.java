package io.jgrad.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@link Tensor#toString()} in PyTorch's layout: values aligned in nested brackets, four
 * decimals (or scientific notation when magnitudes span a wide range, or "1." when every value
 * is an integer), and only the three first and last items of each dim once the tensor has more
 * than 1000 elements. Shape and dtype follow the values.
 */
final class TensorFormatter {
    private static final int THRESHOLD = 1000;
    private static final int EDGE = 3;
    private static final int LINE_WIDTH = 80;

    private TensorFormatter() {}

    static String format(Tensor tensor) {
        Tensor t = tensor.detach(); // walking the values must not record ops
        boolean summarize = t.numel() > THRESHOLD;
        List<Double> shown = new ArrayList<>();
        collect(t, summarize, shown);
        Style style = Style.of(t.dtype(), shown);
        StringBuilder sb = new StringBuilder("tensor(");
        body(sb, t, summarize, style, "tensor(".length());
        sb.append(", shape=").append(Shapes.str(t.shape)).append(", dtype=").append(t.dtype());
        if (tensor.gradFn != null) {
            sb.append(", gradFn=").append(tensor.gradFn.op);
        } else if (tensor.requiresGrad) {
            sb.append(", requiresGrad=true");
        }
        return sb.append(')').toString();
    }

    private record Style(DType dtype, String pattern, int width) {
        static Style of(DType dtype, List<Double> values) {
            if (dtype == DType.INT64) {
                int w = 1;
                for (double v : values) {
                    w = Math.max(w, Long.toString((long) v).length());
                }
                return new Style(dtype, "%d", w);
            }
            double maxAbs = 0;
            double minAbs = Double.POSITIVE_INFINITY;
            boolean integral = true;
            for (double v : values) {
                if (!Double.isFinite(v)) {
                    continue;
                }
                integral &= v == Math.rint(v);
                double a = Math.abs(v);
                if (a != 0) {
                    maxAbs = Math.max(maxAbs, a);
                    minAbs = Math.min(minAbs, a);
                }
            }
            String pattern;
            boolean wide = maxAbs > 0 && (maxAbs / minAbs > 1000 || maxAbs > 1e8);
            if (integral) {
                pattern = wide ? "%.4e" : "%.0f.";
            } else if (wide || (maxAbs > 0 && minAbs < 1e-4)) {
                pattern = "%.4e";
            } else {
                pattern = "%.4f";
            }
            int w = 1;
            for (double v : values) {
                w = Math.max(w, text(dtype, pattern, v).length());
            }
            return new Style(dtype, pattern, w);
        }

        String format(double v) {
            String s = text(dtype, pattern, v);
            return " ".repeat(Math.max(0, width - s.length())) + s;
        }

        private static String text(DType dtype, String pattern, double v) {
            if (dtype == DType.INT64) {
                return Long.toString((long) v);
            }
            if (Double.isNaN(v)) {
                return "nan";
            }
            if (Double.isInfinite(v)) {
                return v > 0 ? "inf" : "-inf";
            }
            return String.format(Locale.ROOT, pattern, v);
        }
    }

    private static void collect(Tensor t, boolean summarize, List<Double> out) {
        if (t.dim() == 0) {
            out.add(t.storage.get(t.offset));
            return;
        }
        for (int i : items(t.shape[0], summarize)) {
            collect(t.select(0, i).detach(), summarize, out);
        }
    }

    private static int[] items(int n, boolean summarize) {
        if (!summarize || n <= 2 * EDGE) {
            int[] all = new int[n];
            for (int i = 0; i < n; i++) {
                all[i] = i;
            }
            return all;
        }
        return new int[] {0, 1, 2, n - 3, n - 2, n - 1};
    }

    private static void body(StringBuilder sb, Tensor t, boolean summarize, Style style, int indent) {
        if (t.dim() == 0) {
            sb.append(style.format(t.storage.get(t.offset)).strip());
            return;
        }
        int n = t.shape[0];
        int[] items = items(n, summarize);
        boolean elide = items.length < n;
        List<String> parts = new ArrayList<>();
        for (int j = 0; j < items.length; j++) {
            if (elide && j == EDGE) {
                parts.add(t.dim() == 1 ? " ..." : "...");
            }
            if (t.dim() == 1) {
                parts.add(style.format(t.storage.get(t.offset + items[j] * t.strides[0])));
            } else {
                StringBuilder child = new StringBuilder();
                body(child, t.select(0, items[j]), summarize, style, indent + 1);
                parts.add(child.toString());
            }
        }
        String pad = " ".repeat(indent + 1);
        sb.append('[');
        if (t.dim() == 1) {
            int perLine = Math.max(1, (LINE_WIDTH - indent) / (style.width() + 2));
            for (int j = 0; j < parts.size(); j += perLine) {
                if (j > 0) {
                    sb.append(",\n").append(pad);
                }
                sb.append(String.join(", ", parts.subList(j, Math.min(parts.size(), j + perLine))));
            }
        } else {
            sb.append(String.join("," + "\n".repeat(t.dim() - 1) + pad, parts));
        }
        sb.append(']');
    }
}
