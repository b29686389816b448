package io.jgrad.benchmarks;

import io.jgrad.core.Block;
import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import io.jgrad.losses.CrossEntropyLoss;
import io.jgrad.optim.Sgd;
import java.util.Arrays;
import java.util.Locale;

/**
 * One training step of W1, W2 or W3's model on a fixed random batch of 128, timed step by step:
 * the medians of the forward (with the loss), the backward, the optimizer step and the whole,
 * over the second half of the steps. No data pipeline and no evaluation, so two builds compare
 * more steadily than with the workloads' epochs (bench/ab.sh's W3 rounds spread by ±15%).
 *
 * <pre>bench/run-jgrad.sh StepBench W3 300</pre>
 */
public final class StepBench {
    private StepBench() {}

    /**
     * Runs the step.
     *
     * @param args the workload (W1, W2 or W3) and the number of steps
     */
    public static void main(String[] args) {
        String w = args.length > 0 ? args[0] : "W2";
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 300;
        Generator g = Generator.seeded(0);
        Block m = Workloads.model(w, g);
        CrossEntropyLoss loss = new CrossEntropyLoss();
        Sgd opt = new Sgd(m.parameters(), Sgd.Options.lr(0.01).withMomentum(0.9));
        Tensor x = w.equals("W3") ? Tensor.randn(g, 128, 1, 28, 28) : Tensor.randn(g, 128, 784);
        Tensor y = Tensor.randint(g, 0, 10, 128);
        long[][] t = new long[4][steps];
        for (int i = 0; i < steps; i++) {
            long t0 = System.nanoTime();
            Tensor l = loss.forward(m.forward(x), y);
            long t1 = System.nanoTime();
            opt.zeroGrad();
            l.backward();
            long t2 = System.nanoTime();
            opt.step();
            long t3 = System.nanoTime();
            t[0][i] = t3 - t0;
            t[1][i] = t1 - t0;
            t[2][i] = t2 - t1;
            t[3][i] = t3 - t2;
        }
        double[] med = new double[4];
        double[] mean = new double[4];
        for (int k = 0; k < 4; k++) {
            long[] tail = Arrays.copyOfRange(t[k], steps / 2, steps);
            mean[k] = Arrays.stream(tail).average().orElse(0) / 1e3;
            Arrays.sort(tail);
            med[k] = tail[tail.length / 2] / 1e3;
        }
        // medians, and the mean step of the second half (GC pauses and stalls count there, as in training)
        System.out.printf(Locale.ROOT, "RESULT {\"workload\":\"%s\",\"step_us\":%.1f,\"forward_us\":%.1f,"
                + "\"backward_us\":%.1f,\"optimizer_us\":%.1f,\"mean_step_us\":%.1f,\"mean_forward_us\":%.1f,"
                + "\"mean_backward_us\":%.1f}%n", w, med[0], med[1], med[2], med[3], mean[0], mean[1], mean[2]);
    }
}
