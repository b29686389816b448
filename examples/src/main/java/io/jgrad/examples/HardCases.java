package io.jgrad.examples;

import io.jgrad.core.Block;
import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The lecture's three 2-D problems a linear classifier cannot solve, each trained with a linear
 * model and with a two-layer network: (1) an even vs an odd number of positive coordinates,
 * (2) 1 ≤ ‖x‖₂ ≤ 2 vs everything else, (3) three modes vs everything else. Prints a table of
 * accuracies and writes the decision regions as PNGs.
 */
public final class HardCases {
    private HardCases() {}

    record Problem(String name, Tensor x, Tensor y) {}

    static List<Problem> problems(long seed, int n) {
        Generator g = Generator.seeded(seed);
        float[] a = new float[2 * n];
        float[] b = new float[2 * n];
        float[] c = new float[2 * n];
        long[] ya = new long[n];
        long[] yb = new long[n];
        long[] yc = new long[n];
        double[][] modes = {{-1.5, 1.2}, {1.4, 1.0}, {0.1, -1.6}};
        for (int i = 0; i < n; i++) {
            double u = 6 * g.nextDouble() - 3;
            double v = 6 * g.nextDouble() - 3;
            a[2 * i] = (float) u;
            a[2 * i + 1] = (float) v;
            ya[i] = ((u > 0 ? 1 : 0) + (v > 0 ? 1 : 0)) % 2;          // odd number of positive coordinates
            b[2 * i] = (float) u;
            b[2 * i + 1] = (float) v;
            double r = Math.hypot(u, v);
            yb[i] = r >= 1 && r <= 2 ? 1 : 0;                          // the ring
            if (i % 2 == 0) {                                          // half the points from the three modes
                double[] m = modes[g.nextInt(3)];
                c[2 * i] = (float) (m[0] + 0.35 * g.nextGaussian());
                c[2 * i + 1] = (float) (m[1] + 0.35 * g.nextGaussian());
                yc[i] = 1;
            } else {
                c[2 * i] = (float) u;
                c[2 * i + 1] = (float) v;
                yc[i] = 0;
                for (double[] m : modes) {
                    if (Math.hypot(u - m[0], v - m[1]) < 0.7) {
                        yc[i] = 1;
                    }
                }
            }
        }
        return List.of(new Problem("odd-even", Tensor.of(a, n, 2), Tensor.of(ya)),
                new Problem("ring", Tensor.of(b, n, 2), Tensor.of(yb)),
                new Problem("three-modes", Tensor.of(c, n, 2), Tensor.of(yc)));
    }

    /** Trains both models on each problem; {@code --out DIR} (default runs/hardcases) receives the PNGs. */
    public static void main(String[] argv) {
        System.exit(run(argv));
    }

    /** Runs the program; returns the exit status. */
    static int run(String... argv) {
        Cli args = new Cli("HardCases").text("out", "DIR", "runs/hardcases", "folder for the decision-region PNGs")
                .option("seed", long.class, "0", "seed of the data and the initialisation");
        return args.run(argv, () -> trainAll(Path.of(args.get("out")), args.longValue("seed")));
    }

    private static int trainAll(Path out, long seed) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Cli.printBlas();
        Files.createDirectories(out);
        List<String> files = new ArrayList<>();
        java.util.Map<String, double[]> accuracies = new java.util.LinkedHashMap<>();
        System.out.println("problem       linear   two-layer (hidden 64)");
        for (Problem p : problems(seed, 2000)) {
            Block linear = Toy2d.train(Toy2d.model(0, 2, Generator.seeded(seed + 1)), p.x(), p.y(), 1500, 0.05);
            Block net = Toy2d.train(Toy2d.model(64, 2, Generator.seeded(seed + 1)), p.x(), p.y(), 1500, 0.02);
            double al = Toy2d.accuracy(linear, p.x(), p.y());
            double an = Toy2d.accuracy(net, p.x(), p.y());
            System.out.printf(Locale.ROOT, "%-12s  %.3f    %.3f%n", p.name(), al, an);
            files.add(Toy2d.plot(linear, p.x(), p.y(), 3, String.format(Locale.ROOT, "%s: linear, training accuracy "
                    + "%.3f", p.name(), al), out.resolve(p.name() + "-linear.png")).toString());
            files.add(Toy2d.plot(net, p.x(), p.y(), 3, String.format(Locale.ROOT, "%s: two-layer (hidden 64), "
                    + "training accuracy %.3f", p.name(), an), out.resolve(p.name() + "-two-layer.png")).toString());
            accuracies.put(p.name(), new double[] {al, an});
        }
        for (String f : files) {
            System.out.println("wrote " + f);
        }
        System.out.println("RESULT " + Json.object(g -> {
            g.writeStringField("program", "hard-cases");
            for (var e : accuracies.entrySet()) {
                g.writeObjectFieldStart(e.getKey());
                g.writeNumberField("linear", Math.round(e.getValue()[0] * 1e4) / 1e4);
                g.writeNumberField("two_layer", Math.round(e.getValue()[1] * 1e4) / 1e4);
                g.writeEndObject();
            }
            g.writeArrayFieldStart("files");
            for (String f : files) {
                g.writeString(f);
            }
            g.writeEndArray();
        }));
        return Cli.DONE;
    }
}
