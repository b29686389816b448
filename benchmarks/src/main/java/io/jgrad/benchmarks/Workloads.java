package io.jgrad.benchmarks;

import io.jgrad.core.Autograd;
import io.jgrad.core.Block;
import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import io.jgrad.core.Window2d;
import io.jgrad.core.cpu.Parallel;
import io.jgrad.data.Batch;
import io.jgrad.data.DataLoader;
import io.jgrad.data.FashionMnist;
import io.jgrad.data.ImageDataset;
import io.jgrad.layers.Conv2d;
import io.jgrad.layers.Flatten;
import io.jgrad.layers.Linear;
import io.jgrad.layers.MaxPool2d;
import io.jgrad.layers.Relu;
import io.jgrad.layers.Sequential;
import io.jgrad.losses.CrossEntropyLoss;
import io.jgrad.losses.Loss;
import io.jgrad.losses.MulticlassSvmLoss;
import io.jgrad.optim.Sgd;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The speed workloads of the benchmark specification (bench/README.md), measured the way the
 * PyTorch reference scripts in bench/pytorch measure them: W1 (linear 784→10, softmax or hinge),
 * W2 (MLP 784-512-256-10), W3 (small CNN), each trained on Fashion-MNIST with SGD lr/momentum as
 * specified, batch 128, a fresh permutation per epoch; W4 (per-op overhead of a 1,000-op chain of
 * 4×4 tensors, forward and backward); W5 (sgemm GFLOPS at three shapes); W6 and W6c (an LSTM
 * language model, see {@link Sequences}). Prints a line per
 * epoch or sample and ends with {@code RESULT {json}}.
 *
 * <pre>./bench/run-jgrad.sh W1 [--epochs N]      (or W1h, W2, W3, W4, W5)</pre>
 */
public final class Workloads {
    private Workloads() {}

    /** The training workloads' seed ({@code --seed}). */
    private static long seed;
    /** Whether the training batches are gathered ahead on a background thread ({@code --prefetch true}). */
    private static boolean prefetch;

    /**
     * Runs one workload: W1, W1h, W2, W3, W4, W5 or E1, with optional {@code --epochs N} and
     * {@code --samples N}; the training workloads also take {@code --seed N} (the model's
     * initialisation and the batches' order; 0 by default, as the PyTorch scripts' {@code --seed}) and
     * {@code --prefetch true} (the batches gathered ahead on a background thread);
     * E1 also takes {@code --reset none|zero}.
     */
    public static void main(String[] args) throws IOException {
        String w = args.length > 0 ? args[0] : "W1";
        int epochs = -1;
        int samples = 7;
        String reset = "none";
        for (int i = 1; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--epochs" -> epochs = Integer.parseInt(args[i + 1]);
                case "--samples" -> samples = Integer.parseInt(args[i + 1]);
                case "--reset" -> reset = args[i + 1];
                case "--seed" -> seed = Long.parseLong(args[i + 1]);
                case "--prefetch" -> prefetch = Boolean.parseBoolean(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        String result = switch (w) {
            case "W1" -> train("W1", false, 10, 0.01, 0.84, epochs, false);
            case "W1h" -> train("W1h", false, 10, 0.01, 0.84, epochs, true);
            case "W2" -> train("W2", false, 10, 0.05, 0.88, epochs, false);
            case "W3" -> train("W3", true, 2, 0.05, 0.88, epochs, false);
            case "W4" -> overhead(samples);
            case "W5" -> gemm(samples);
            case "E1" -> elementwise(samples, reset);
            case "W6" -> Sequences.run(false, Integer.getInteger("jgrad.bench.windows", 10));
            case "W6c" -> Sequences.run(true, Integer.getInteger("jgrad.bench.windows", 10));
            default -> throw new IllegalArgumentException("unknown workload " + w + " (W1, W1h, W2, W3, W4, W5, E1, W6, "
                    + "W6c)");
        };
        System.out.println("RESULT " + result);
    }

    static Block model(String w, Generator g) {
        return switch (w) {
            case "W1", "W1h" -> new Linear(784, 10, true, g);
            case "W2" -> new Sequential(new Linear(784, 512, true, g), new Relu(), new Linear(512, 256, true, g),
                    new Relu(), new Linear(256, 10, true, g));
            default -> new Sequential(new Conv2d(1, 32, Window2d.square(3, 1, 0, 1), true, g), new Relu(),
                    new MaxPool2d(2), new Conv2d(32, 64, Window2d.square(3, 1, 0, 1), true, g), new Relu(),
                    new MaxPool2d(2), new Flatten(), new Linear(1600, 128, true, g), new Relu(),
                    new Linear(128, 10, true, g));
        };
    }

    private static double accuracy(Block m, ImageDataset test) {
        long correct = 0;
        try (var s = Autograd.noGrad()) {
            for (Batch b : new DataLoader(test, 1000)) {
                try (b) {
                    correct += (long) m.forward(b.inputs()).argmax(1).eq(b.targets()).sum().item();
                }
            }
        }
        return (double) correct / test.size();
    }

    private static String train(String w, boolean image, int defaultEpochs, double lr, double target, int epochsArg,
                                boolean hinge) throws IOException {
        int epochs = epochsArg > 0 ? epochsArg : defaultEpochs;
        FashionMnist.Splits data = FashionMnist.load(null, false);
        double[] ms = data.train().pixelMeanStd();
        ImageDataset train = data.train().withNormalization(ms[0], ms[1]).withFlatten(!image);
        ImageDataset test = data.test().withNormalization(ms[0], ms[1]).withFlatten(!image);
        Block m = model(w, Generator.seeded(seed));
        Loss loss = hinge ? new MulticlassSvmLoss() : new CrossEntropyLoss();
        Sgd opt = new Sgd(m.parameters(), Sgd.Options.lr(lr).withMomentum(0.9));
        DataLoader loader = new DataLoader(train, 128, DataLoader.Options.shuffled(seed).withPrefetch(prefetch));
        List<Double> rates = new ArrayList<>();
        List<Double> accs = new ArrayList<>();
        double clock = 0;
        double toTarget = -1;
        int stepsToTarget = -1;
        int steps = 0;
        for (int e = 0; e < epochs; e++) {
            long epochNanos = 0;
            int seen = 0;
            List<Long> stepNanos = new ArrayList<>();
            java.util.Iterator<Batch> batches = loader.epoch(e).iterator();
            while (batches.hasNext()) {
                // the clock runs from asking for the batch, as PyTorch's scripts time their index gather: the
                // gather on this thread counts (or, with --prefetch true, any wait for the prefetch thread)
                long t0 = System.nanoTime();
                Batch b = batches.next();
                int size = b.size();
                try (b) { // the batch's array goes back to the dataset for a later batch (PyTorch's allocator reuses memory too)
                    Tensor l = loss.forward(m.forward(b.inputs()), b.targets());
                    opt.zeroGrad();
                    l.backward();
                    opt.step();
                }
                long dt = System.nanoTime() - t0;
                epochNanos += dt;
                stepNanos.add(dt);
                clock += dt / 1e9;
                seen += size;
                if (++steps % 50 == 0 && toTarget < 0 && accuracy(m, test) >= target) {
                    toTarget = clock;
                    stepsToTarget = steps;
                }
            }
            double rate = seen / (epochNanos / 1e9);
            rates.add(rate);
            double acc = accuracy(m, test);
            accs.add(acc);
            java.util.Collections.sort(stepNanos);
            System.out.printf(Locale.ROOT, "%s epoch %d: %.0f samples/s, test accuracy %.4f, train clock %.2f s,"
                    + " median step %.0f us%n", w, e + 1, rate, acc, clock, stepNanos.get(stepNanos.size() / 2) / 1e3);
        }
        List<Double> after = rates.size() > 1 ? rates.subList(1, rates.size()) : rates;
        return String.format(Locale.ROOT, "{\"workload\":\"%s\",\"framework\":\"jgrad\",\"samples_per_s_median\":%.0f,"
                        + "\"test_accuracy\":%s,\"seconds_to_target\":%s,\"steps_to_target\":%s,\"target\":%.2f,"
                        + "\"peak_rss_mib\":%.0f,\"threads\":%d,\"blas\":\"%s\"}", w, median(after), accs,
                toTarget < 0 ? "null" : String.format(Locale.ROOT, "%.2f", toTarget),
                stepsToTarget < 0 ? "null" : Integer.toString(stepsToTarget), target, peakRssMib(),
                io.jgrad.core.cpu.Parallel.threads(), io.jgrad.core.cpu.Blas.backend());
    }

    private static String overhead(int samples) {
        Tensor x = Tensor.randn(Generator.seeded(0), 4, 4).requiresGrad(true);
        Tensor c = Tensor.randn(Generator.seeded(1), 4, 4);
        int n = 1000;
        List<Double> fwd = new ArrayList<>();
        List<Double> bwd = new ArrayList<>();
        // warm-up: samples are thrown away until 2 s have passed (the JIT compiles the op paths;
        // the first, interpreted sample is reported as "cold_*")
        long warmUntil = System.nanoTime() + 2_000_000_000L;
        double coldTotal = -1;
        for (int s = 0; s < samples; s++) {
            boolean warming = System.nanoTime() < warmUntil;
            int reps = 10;
            long tf = 0;
            long tb = 0;
            for (int r = 0; r < reps; r++) {
                x.setGrad(null);
                long t0 = System.nanoTime();
                Tensor y = x;
                for (int i = 0; i < n; i++) {
                    int k = i % 3;
                    y = k == 0 ? y.add(c) : k == 1 ? y.mul(0.5) : y.relu();
                }
                long t1 = System.nanoTime();
                y.sum().backward();
                tb += System.nanoTime() - t1;
                tf += t1 - t0;
            }
            if (coldTotal < 0) {
                coldTotal = (tf + tb) / 1e3 / reps / n;
            }
            if (warming) {
                s--;
            } else {
                fwd.add(tf / 1e3 / reps / n);
                bwd.add(tb / 1e3 / reps / n);
            }
        }
        List<Double> tot = new ArrayList<>();
        for (int i = 0; i < fwd.size(); i++) {
            tot.add(fwd.get(i) + bwd.get(i));
        }
        Tensor y = x;
        for (int i = 0; i < 100_000; i++) {
            int k = i % 3;
            y = k == 0 ? y.add(c) : k == 1 ? y.mul(0.5) : y.relu();
        }
        y.sum().backward();
        System.out.printf(Locale.ROOT, "chain1000: fwd %.2f bwd %.2f total %.2f us/op; chain of 100000 ops: ok%n",
                median(fwd), median(bwd), median(tot));
        return String.format(Locale.ROOT, "{\"workload\":\"W4\",\"framework\":\"jgrad\",\"fwd_us_per_op\":%.3f,"
                + "\"bwd_us_per_op\":%.3f,\"fwd_plus_bwd_us_per_op\":%.3f,\"cold_fwd_plus_bwd_us_per_op\":%.3f,"
                + "\"chain100000\":\"ok\"}", median(fwd), median(bwd), median(tot), coldTotal);
    }

    private static String gemm(int samples) {
        int[][] shapes = {{128, 784, 512}, {512, 512, 512}, {1024, 1024, 1024}};
        StringBuilder json = new StringBuilder("{\"workload\":\"W5\",\"framework\":\"jgrad\",\"blas\":\""
                + io.jgrad.core.cpu.Blas.backend() + "\",\"gflops_median\":{");
        for (int[] s : shapes) {
            Tensor a = Tensor.randn(Generator.seeded(0), s[0], s[1]);
            Tensor b = Tensor.randn(Generator.seeded(1), s[1], s[2]);
            // into one output, as the PyTorch script's torch.mm(a, b, out=c): a fresh output (4 MB at 1024²)
            // would be zeroed by the JVM before every product
            Tensor c = Tensor.zeros(s[0], s[2]);
            double flop = 2.0 * s[0] * s[1] * s[2];
            // 1 s of warm-up: the first shape's samples otherwise include the JIT compiling the
            // Java side of the call (operand lookup, output allocation, copy-out), which read as
            // 99-154 instead of ~185 GFLOPS at 128x784x512. PyTorch has no such warm-up to do.
            // Before it, the vector kernels' own warm-up must have let them in: on two busy cores that
            // came 1.2-1.5 s after the start, inside the samples (the first shape read 145 GFLOPS
            // [15-229] where it runs at ~310 with them in)
            try {
                if (!io.jgrad.core.cpu.Blas.awaitWarmUp(java.time.Duration.ofSeconds(30))) {
                    System.err.println("W5: the vector kernels' warm-up had not finished after 30 s; timing anyway");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the kernels' warm-up", e);
            }
            long warm = System.nanoTime();
            while (System.nanoTime() - warm < 1_000_000_000L) {
                a.mm(b, c);
            }
            long t0 = System.nanoTime();
            a.mm(b, c);
            int reps = (int) Math.max(1, 0.15 / Math.max(1e-7, (System.nanoTime() - t0) / 1e9));
            List<Double> g = new ArrayList<>();
            for (int k = 0; k < samples; k++) {
                long start = System.nanoTime();
                for (int r = 0; r < reps; r++) {
                    a.mm(b, c);
                }
                g.add(flop * reps / (System.nanoTime() - start));
            }
            String key = s[0] + "x" + s[1] + "x" + s[2];
            System.out.printf(Locale.ROOT, "%s: %.1f GFLOPS [%.1f-%.1f]%n", key, median(g), g.stream()
                    .mapToDouble(Double::doubleValue).min().orElse(0), g.stream().mapToDouble(Double::doubleValue)
                    .max().orElse(0));
            json.append(json.charAt(json.length() - 1) == '{' ? "" : ",").append(String.format(Locale.ROOT,
                    "\"%s\":%.1f", key, median(g)));
        }
        return json.append("}}").toString();
    }

    /**
     * E1: y = relu(x + c).sum() and its backward on 1,000,000 floats, as bench/pytorch/e1_elementwise.py.
     * Before each iteration x's gradient is reset as PyTorch's script does it: {@code none} drops
     * it ({@code x.grad = None}: backward stores a new one), {@code zero} zeroes it in place
     * ({@code x.grad.zero_()}: backward adds into it, as jgrad's optimizers' zeroGrad does).
     * PyTorch's script also times add and relu alone under no_grad; jgrad defers those results
     * (loop fusion) until something reads them, so timing them alone would time nothing.
     */
    private static String elementwise(int samples, String reset) {
        if (!reset.equals("none") && !reset.equals("zero")) {
            throw new IllegalArgumentException("--reset must be none or zero, not " + reset);
        }
        boolean zero = reset.equals("zero");
        Tensor x = Tensor.randn(Generator.seeded(0), 1_000_000).requiresGrad(true);
        Tensor c = Tensor.randn(Generator.seeded(1), 1_000_000);
        x.add(c).relu().sum().backward();
        List<Double> fb = new ArrayList<>();
        for (int s = -5; s < samples; s++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < 50; i++) {
                if (zero) {
                    x.zeroGrad();
                } else {
                    x.setGrad(null);
                }
                x.add(c).relu().sum().backward();
            }
            long t1 = System.nanoTime();
            if (s >= 0) {
                fb.add((t1 - t0) / 50e6);
            }
        }
        System.out.printf(Locale.ROOT, "1M add+relu+sum fwd+bwd (grad reset: %s) %.3f ms; %s%n", reset, median(fb),
                "vectorized kernels " + Parallel.vectorization());
        return String.format(Locale.ROOT, "{\"workload\":\"E1\",\"framework\":\"jgrad\",\"reset\":\"%s\","
                + "\"fwd_bwd_ms_median\":%.3f}", reset, median(fb));
    }

    static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (a.length == 0) {
            return 0;
        }
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    private static double peakRssMib() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

}
