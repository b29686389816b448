package io.jgrad.examples;

import io.jgrad.core.Block;
import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

/**
 * Error decomposition on a problem with a known Bayes error: x uniform on [-2, 2]², and
 * P(y = 1 | x) = 0.9 inside the disc {@code ‖x‖ < 1.2}, 0.1 outside, so the best possible classifier
 * (say 1 inside the disc) errs exactly 10% of the time. The excess test error over 0.10 is
 * traced against training-set size (estimation), model capacity (approximation) and
 * optimisation steps (optimisation). Prints three tables and plots them.
 */
public final class ErrorDecomposition {
    static final double BAYES = 0.10;

    private ErrorDecomposition() {}

    static Tensor[] sample(int n, long seed) {
        Generator g = Generator.seeded(seed);
        float[] x = new float[2 * n];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            double u = 4 * g.nextDouble() - 2;
            double v = 4 * g.nextDouble() - 2;
            x[2 * i] = (float) u;
            x[2 * i + 1] = (float) v;
            boolean inside = Math.hypot(u, v) < 1.2;
            y[i] = g.nextDouble() < (inside ? 0.9 : 0.1) ? 1 : 0;
        }
        return new Tensor[] {Tensor.of(x, n, 2), Tensor.of(y)};
    }

    private static double testError(Block m, Tensor[] test) {
        return 1 - Toy2d.accuracy(m, test[0], test[1]);
    }

    /** Runs the three sweeps; {@code --out DIR} (default runs/error-decomposition) receives the plot. */
    public static void main(String[] argv) {
        System.exit(run(argv));
    }

    /** Runs the program; returns the exit status. */
    static int run(String... argv) {
        Cli args = new Cli("ErrorDecomposition").text("out", "DIR", "runs/error-decomposition", "folder for the plot");
        return args.run(argv, () -> sweep(Path.of(args.get("out"))));
    }

    private static int sweep(Path out) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Cli.printBlas();
        Files.createDirectories(out);
        Tensor[] test = sample(20_000, 99);
        System.out.printf(Locale.ROOT, "Bayes error %.3f; empirical error of the Bayes classifier on the test set %.3f%n",
                BAYES, bayesOnTest(test));

        int[] sizes = {20, 50, 100, 300, 1000, 5000};
        double[] est = new double[sizes.length];
        System.out.println("estimation: hidden 32, 2000 Adam steps; training examples -> test error (excess)");
        for (int i = 0; i < sizes.length; i++) {
            Tensor[] train = sample(sizes[i], i);
            est[i] = testError(Toy2d.train(Toy2d.model(32, 2, Generator.seeded(1)), train[0], train[1], 2000, 0.01), test);
            System.out.printf(Locale.ROOT, "  n = %5d  %.3f  (+%.3f)%n", sizes[i], est[i], est[i] - BAYES);
        }

        int[] widths = {0, 1, 2, 4, 16, 64};
        double[] approx = new double[widths.length];
        Tensor[] big = sample(20_000, 7);
        System.out.println("approximation: 20000 examples, 2000 Adam steps; hidden width (0 = linear) -> test error");
        for (int i = 0; i < widths.length; i++) {
            approx[i] = testError(Toy2d.train(Toy2d.model(widths[i], 2, Generator.seeded(1)), big[0], big[1], 2000, 0.02),
                    test);
            System.out.printf(Locale.ROOT, "  width %3d  %.3f  (+%.3f)%n", widths[i], approx[i], approx[i] - BAYES);
        }

        int[] steps = {1, 10, 30, 100, 300, 1000, 3000};
        double[] opt = new double[steps.length];
        System.out.println("optimisation: 20000 examples, hidden 64; Adam steps -> test error");
        for (int i = 0; i < steps.length; i++) {
            opt[i] = testError(Toy2d.train(Toy2d.model(64, 2, Generator.seeded(1)), big[0], big[1], steps[i], 0.01), test);
            System.out.printf(Locale.ROOT, "  steps %5d  %.3f  (+%.3f)%n", steps[i], opt[i], opt[i] - BAYES);
        }

        List<XYChart> charts = List.of(
                sweepChart("estimation: more training examples", "training examples (hidden 32, 2000 Adam steps)",
                        sizes, est, true),
                sweepChart("approximation: a wider hidden layer", "hidden width + 1 (linear at 1; 20000 examples)",
                        widths, approx, false),
                sweepChart("optimisation: more steps", "Adam steps (hidden 64, 20000 examples)", steps, opt, true));
        Path png = out.resolve("error-decomposition.png");
        BitmapEncoder.saveBitmap(charts, 1, 3, png.toString(), BitmapEncoder.BitmapFormat.PNG);
        System.out.println("wrote " + png);
        System.out.println("RESULT " + Json.object(g -> {
            g.writeStringField("program", "error-decomposition");
            g.writeNumberField("bayes", BAYES);
            g.writeNumberField("largest_n_error", Math.round(est[est.length - 1] * 1e4) / 1e4);
            g.writeNumberField("linear_error", Math.round(approx[0] * 1e4) / 1e4);
            g.writeNumberField("widest_error", Math.round(approx[approx.length - 1] * 1e4) / 1e4);
            g.writeArrayFieldStart("files");
            g.writeString(png.toString());
            g.writeEndArray();
        }));
        return Cli.DONE;
    }

    /**
     * One sweep's test error against its knob, with the Bayes error as a dashed line: what the
     * gap between them is made of is in the title.
     */
    private static XYChart sweepChart(String title, String knob, int[] xs, double[] errors, boolean logX) {
        XYChart c = new XYChartBuilder().width(460).height(420).title(title).xAxisTitle(knob)
                .yAxisTitle("test error").build();
        double[] x = new double[xs.length];
        for (int i = 0; i < xs.length; i++) {
            x[i] = logX ? xs[i] : xs[i] + 1; // width + 1 on the log axis, so that linear (0) has a place
        }
        c.getStyler().setXAxisLogarithmic(true).setYAxisMin(0.0).setYAxisMax(0.5).setLegendPosition(
                org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
        c.addSeries("test error", x, errors);
        org.knowm.xchart.XYSeries bayes = c.addSeries("Bayes error " + BAYES, new double[] {x[0], x[x.length - 1]},
                new double[] {BAYES, BAYES});
        bayes.setMarker(org.knowm.xchart.style.markers.SeriesMarkers.NONE);
        bayes.setLineStyle(org.knowm.xchart.style.lines.SeriesLines.DASH_DASH);
        return c;
    }

    private static double bayesOnTest(Tensor[] test) {
        float[] x = test[0].toFloatArray();
        long[] y = test[1].toLongArray();
        int wrong = 0;
        for (int i = 0; i < y.length; i++) {
            long pred = Math.hypot(x[2 * i], x[2 * i + 1]) < 1.2 ? 1 : 0;
            wrong += pred != y[i] ? 1 : 0;
        }
        return (double) wrong / y.length;
    }

}
