package io.jgrad.metrics;

import io.jgrad.core.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;

/**
 * Counts of (actual class, predicted class) over batches, and what they give: accuracy and,
 * per class, precision, recall, F1 and support, with their macro (unweighted) and weighted
 * (by support) averages. Conventions are scikit-learn's with {@code labels=range(K)}: rows are
 * actual classes, columns predicted ones; a precision, recall or F1 whose denominator is 0 is 0
 * ({@code zero_division=0}), and macro averages run over all K classes, also those that never
 * occur (scikit-learn's default without {@code labels} averages only over those that do).
 * As a {@link Metric} (of the argmax predictions) its value is the macro F1, named
 * {@code macro_f1}; read the rest from the matrix.
 */
public final class ConfusionMatrix implements Metric {
    private final int k;
    private final long[][] counts;

    /** A matrix for {@code classes} classes (at least 1). */
    public ConfusionMatrix(int classes) {
        if (classes < 1) {
            throw new IllegalArgumentException("ConfusionMatrix: need at least 1 class, got " + classes);
        }
        this.k = classes;
        this.counts = new long[classes][classes];
    }

    @Override
    public String name() {
        return "macro_f1";
    }

    /** Adds the argmax of each row of {@code scores} [N, K] against {@code targets} [N]. */
    @Override
    public void update(Tensor scores, Tensor targets) {
        Checks.targets("ConfusionMatrix", scores, targets);
        if (scores.size(1) != k) {
            throw new IllegalArgumentException("ConfusionMatrix: scores have " + scores.size(1) + " classes, the matrix "
                    + k);
        }
        add(scores.detach().argmax(1), targets);
    }

    /** Adds predicted class indices [N] against actual ones [N]. */
    public ConfusionMatrix add(Tensor predicted, Tensor actual) {
        if (predicted.dim() != 1) {
            throw new IllegalArgumentException("ConfusionMatrix: predictions must be 1-D class indices, got "
                    + predicted.shape());
        }
        long[] p = Checks.classes("ConfusionMatrix", predicted, predicted.size(0), k);
        long[] a = Checks.classes("ConfusionMatrix", actual, p.length, k);
        for (int i = 0; i < p.length; i++) {
            counts[(int) a[i]][(int) p[i]]++;
        }
        return this;
    }

    @Override
    public void reset() {
        for (long[] row : counts) {
            java.util.Arrays.fill(row, 0);
        }
    }

    /** The number of classes. */
    public int classes() {
        return k;
    }

    /** How many examples of class {@code actual} were predicted as {@code predicted}. */
    public long count(int actual, int predicted) {
        return counts[actual][predicted];
    }

    /** A copy of the counts, [actual][predicted]. */
    public long[][] counts() {
        long[][] c = new long[k][];
        for (int i = 0; i < k; i++) {
            c[i] = counts[i].clone();
        }
        return c;
    }

    /** Examples counted. */
    public long total() {
        long n = 0;
        for (long[] row : counts) {
            for (long c : row) {
                n += c;
            }
        }
        return n;
    }

    /** The macro F1 of the predictions so far; NaN before any example. */
    @Override
    public double value() {
        return total() == 0 ? Double.NaN : macroF1();
    }

    /** The fraction predicted correctly; NaN before any example. */
    public double accuracy() {
        long n = total();
        long right = 0;
        for (int i = 0; i < k; i++) {
            right += counts[i][i];
        }
        return n == 0 ? Double.NaN : (double) right / n;
    }

    /** Examples of each actual class. */
    public long[] support() {
        long[] s = new long[k];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                s[i] += counts[i][j];
            }
        }
        return s;
    }

    private long predictedAs(int j) {
        long n = 0;
        for (int i = 0; i < k; i++) {
            n += counts[i][j];
        }
        return n;
    }

    /** Per class: true positives / predicted positives (0 where nothing was predicted as that class). */
    public double[] precision() {
        double[] p = new double[k];
        for (int j = 0; j < k; j++) {
            long predicted = predictedAs(j);
            p[j] = predicted == 0 ? 0 : (double) counts[j][j] / predicted;
        }
        return p;
    }

    /** Per class: true positives / actual positives (0 where the class has no example). */
    public double[] recall() {
        double[] r = new double[k];
        long[] s = support();
        for (int i = 0; i < k; i++) {
            r[i] = s[i] == 0 ? 0 : (double) counts[i][i] / s[i];
        }
        return r;
    }

    /** Per class: the harmonic mean of precision and recall (0 where both are 0). */
    public double[] f1() {
        double[] p = precision();
        double[] r = recall();
        double[] f = new double[k];
        for (int i = 0; i < k; i++) {
            f[i] = p[i] + r[i] == 0 ? 0 : 2 * p[i] * r[i] / (p[i] + r[i]);
        }
        return f;
    }

    /** The unweighted mean over classes of {@code perClass}. */
    public static double macro(double[] perClass) {
        double sum = 0;
        for (double v : perClass) {
            sum += v;
        }
        return sum / perClass.length;
    }

    /** The mean over classes of {@code perClass} weighted by each class's support (0 without examples). */
    public double weighted(double[] perClass) {
        long[] s = support();
        double sum = 0;
        long n = 0;
        for (int i = 0; i < k; i++) {
            sum += perClass[i] * s[i];
            n += s[i];
        }
        return n == 0 ? 0 : sum / n;
    }

    /** The macro average of F1, the usual one-number summary for unbalanced classes. */
    public double macroF1() {
        return macro(f1());
    }

    private List<String> names(List<String> classNames) {
        if (classNames == null) {
            List<String> n = new ArrayList<>();
            for (int i = 0; i < k; i++) {
                n.add(Integer.toString(i));
            }
            return n;
        }
        if (classNames.size() != k) {
            throw new IllegalArgumentException("ConfusionMatrix: " + classNames.size() + " class names for " + k
                    + " classes");
        }
        return classNames;
    }

    /** The counts as a table, actual classes down, predicted across; {@code classNames} may be null. */
    public String toText(List<String> classNames) {
        List<String> names = names(classNames);
        int w = "actual".length() + 1;
        for (String n : names) {
            w = Math.max(w, n.length() + 1);
        }
        int cell = Math.max(6, Long.toString(total()).length() + 1);
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-" + w + "s", "actual"));
        for (int j = 0; j < k; j++) {
            sb.append(String.format(Locale.ROOT, "%" + cell + "s", j));
        }
        sb.append('\n');
        for (int i = 0; i < k; i++) {
            sb.append(String.format(Locale.ROOT, "%-" + w + "s", names.get(i)));
            for (int j = 0; j < k; j++) {
                sb.append(String.format(Locale.ROOT, "%" + cell + "d", counts[i][j]));
            }
            sb.append('\n');
        }
        if (classNames != null) {
            sb.append("(columns: ");
            for (int j = 0; j < k; j++) {
                sb.append(j == 0 ? "" : ", ").append(j).append(" = ").append(names.get(j));
            }
            sb.append(")\n");
        }
        return sb.toString();
    }

    /** Per-class precision, recall, F1 and support, then accuracy, macro and weighted averages (as scikit-learn prints). */
    public String report(List<String> classNames) {
        List<String> names = names(classNames);
        int w = 12;
        for (String n : names) {
            w = Math.max(w, n.length() + 2);
        }
        double[] p = precision();
        double[] r = recall();
        double[] f = f1();
        long[] s = support();
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-" + w + "s%10s%10s%10s%10s%n", "",
                "precision", "recall", "f1", "support"));
        for (int i = 0; i < k; i++) {
            sb.append(String.format(Locale.ROOT, "%-" + w + "s%10.4f%10.4f%10.4f%10d%n", names.get(i), p[i], r[i], f[i],
                    s[i]));
        }
        long n = total();
        sb.append(String.format(Locale.ROOT, "%-" + w + "s%10s%10s%10.4f%10d%n", "accuracy", "", "", accuracy(), n));
        sb.append(String.format(Locale.ROOT, "%-" + w + "s%10.4f%10.4f%10.4f%10d%n", "macro avg", macro(p), macro(r),
                macro(f), n));
        sb.append(String.format(Locale.ROOT, "%-" + w + "s%10.4f%10.4f%10.4f%10d%n", "weighted avg", weighted(p),
                weighted(r), weighted(f), n));
        return sb.toString();
    }

    /**
     * Writes the matrix as a PNG heat map, titled {@code title}, class names on both axes: each
     * cell holds (as colour and as number) the fraction of its actual class predicted as its
     * column's, so that rows of different sizes read alike; returns {@code png}.
     */
    public Path writePng(Path png, List<String> classNames, String title) throws IOException {
        List<String> names = names(classNames);
        long[] s = support();
        List<Number[]> cells = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                cells.add(new Number[] {j, k - 1 - i, s[i] == 0 ? 0 : (double) counts[i][j] / s[i]});
            }
        }
        List<String> rows = new ArrayList<>(names);
        java.util.Collections.reverse(rows); // actual class 0 at the top, as the text table reads
        int side = Math.max(500, 60 * k + 200);
        HeatMapChart chart = new HeatMapChartBuilder().width(side + 60 * k / 2 + 120).height(side).title(title)
                .xAxisTitle("predicted class").yAxisTitle("actual class").build();
        chart.getStyler().setShowValue(true).setMin(0).setMax(1)
                .setRangeColors(new java.awt.Color[] {java.awt.Color.WHITE, new java.awt.Color(0x9ecae1),
                    new java.awt.Color(0x08519c)}); // white for none, dark blue for all of a class
        chart.getStyler().setHeatMapValueDecimalPattern("0.00");
        chart.getStyler().setLegendVisible(true);
        chart.addSeries("fraction of the actual class", names, rows, cells);
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
        return png;
    }
}
