package io.jgrad.benchmarks;

import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import io.jgrad.core.cpu.Parallel;
import io.jgrad.layers.Linear;
import io.jgrad.layers.Relu;
import io.jgrad.layers.Sequential;
import io.jgrad.losses.CrossEntropyLoss;
import io.jgrad.optim.Sgd;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How a training step's cost grows with batch size, hidden width and threads: W2's MLP
 * (784-H-H/2-10, ReLU, softmax cross-entropy, SGD momentum 0.9) on random inputs, so only speed
 * is measured. For each configuration: at least 20 warm-up steps and 1 s (for the JIT), then the
 * median samples/s of 5 samples of about 0.3 s each. Prints one line per configuration and ends with {@code RESULT {json}};
 * {@code bench/pytorch/scaling.py} does the same in PyTorch.
 *
 * <pre>bench/run-jgrad.sh Scaling [--batches 32,128,1024] [--widths 512] [--threads 1,2]</pre>
 */
public final class Scaling {
    private Scaling() {}

    /** Runs every combination of the listed batch sizes, widths and thread counts. */
    public static void main(String[] args) {
        int[] batches = {32, 64, 128, 256, 512, 1024};
        int[] widths = {512};
        int[] threads = {Parallel.threads()};
        for (int i = 0; i + 1 < args.length; i += 2) {
            int[] values = java.util.Arrays.stream(args[i + 1].split(",")).mapToInt(Integer::parseInt).toArray();
            switch (args[i]) {
                case "--batches" -> batches = values;
                case "--widths" -> widths = values;
                case "--threads" -> threads = values;
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (--batches, --widths, --threads: comma-separated lists)");
            }
        }
        StringBuilder json = new StringBuilder("{\"workload\":\"scaling\",\"framework\":\"jgrad\",\"runs\":[");
        for (int t : threads) {
            for (int h : widths) {
                for (int b : batches) {
                    Parallel.setThreads(t);
                    double rate = samplesPerSecond(b, h);
                    System.out.printf(Locale.ROOT, "batch %5d width %5d threads %d: %9.0f samples/s (%.3f ms/step)%n",
                            b, h, t, rate, 1e3 * b / rate);
                    json.append(json.charAt(json.length() - 1) == '[' ? "" : ",").append(String.format(Locale.ROOT,
                            "{\"batch\":%d,\"width\":%d,\"threads\":%d,\"samples_per_s\":%.0f}", b, h, t, rate));
                }
            }
        }
        System.out.println("RESULT " + json.append("]}"));
    }

    private static double samplesPerSecond(int batch, int width) {
        Generator g = Generator.seeded(0);
        Sequential model = new Sequential(new Linear(784, width, true, g), new Relu(),
                new Linear(width, width / 2, true, g), new Relu(), new Linear(width / 2, 10, true, g));
        Sgd opt = new Sgd(model.parameters(), Sgd.Options.lr(0.01).withMomentum(0.9));
        CrossEntropyLoss loss = new CrossEntropyLoss();
        Tensor[] xs = new Tensor[8];
        Tensor[] ys = new Tensor[8];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = Tensor.randn(g, batch, 784);
            ys[i] = Tensor.randint(g, 0, 10, batch);
        }
        int step = 0;
        long warmUntil = System.nanoTime() + 1_000_000_000L; // the JIT compiles during the first second or so
        for (; step < 20 || System.nanoTime() < warmUntil; step++) {
            step(model, opt, loss, xs[step % 8], ys[step % 8]);
        }
        long t0 = System.nanoTime();
        step(model, opt, loss, xs[0], ys[0]);
        int perSample = (int) Math.max(1, 0.3 / ((System.nanoTime() - t0) / 1e9));
        List<Double> rates = new ArrayList<>();
        for (int s = 0; s < 5; s++) {
            long start = System.nanoTime();
            for (int i = 0; i < perSample; i++, step++) {
                step(model, opt, loss, xs[step % 8], ys[step % 8]);
            }
            rates.add((double) perSample * batch / ((System.nanoTime() - start) / 1e9));
        }
        return Workloads.median(rates);
    }

    private static void step(Sequential model, Sgd opt, CrossEntropyLoss loss, Tensor x, Tensor y) {
        opt.zeroGrad();
        loss.forward(model.forward(x), y).backward();
        opt.step();
    }
}
