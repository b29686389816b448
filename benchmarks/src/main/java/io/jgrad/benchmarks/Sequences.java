package io.jgrad.benchmarks;

import io.jgrad.core.Block;
import io.jgrad.core.Generator;
import io.jgrad.core.Parameter;
import io.jgrad.core.Tensor;
import io.jgrad.core.cpu.Parallel;
import io.jgrad.layers.Embedding;
import io.jgrad.layers.Linear;
import io.jgrad.layers.Lstm;
import io.jgrad.losses.CrossEntropyLoss;
import io.jgrad.optim.Adam;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * W6 and W6c of the benchmark specification (bench/README.md), measured as
 * {@code bench/pytorch/w6_lstm.py} measures them: a character-level LSTM language model,
 * Embedding(96, 64) → LSTM(64 → 128) → Linear(128, 96), cross-entropy over every step, Adam
 * lr 2e-3, float32, batches of 32 sequences of 64 seeded random tokens; 20 warm-up steps, then
 * the median tokens/s over 10 windows of 20 steps. W6 uses jgrad's {@link Lstm} layer; W6c the
 * cell written from tensor ops in a loop over the steps, as a researcher would write a new one.
 */
final class Sequences {
    private static final int VOCAB = 96;
    private static final int EMBED = 64;
    private static final int HIDDEN = 128;
    private static final int BATCH = 32;
    private static final int SEQ = 64;

    private Sequences() {}

    /** The W6c cell: PyTorch's layout, one bias, gates i, f, g, o. */
    static final class CellLstm extends Block {
        CellLstm(Generator g) {
            double k = 1 / Math.sqrt(HIDDEN);
            registerParameter("weight_ih", new Parameter(Tensor.uniform(g, -k, k, 4 * HIDDEN, EMBED)));
            registerParameter("weight_hh", new Parameter(Tensor.uniform(g, -k, k, 4 * HIDDEN, HIDDEN)));
            registerParameter("bias", new Parameter(Tensor.uniform(g, -k, k, 4 * HIDDEN)));
        }

        @Override
        public Tensor forward(Tensor x) { // x [B, T, E]
            int b = x.size(0);
            Tensor h = Tensor.zeros(b, HIDDEN);
            Tensor c = Tensor.zeros(b, HIDDEN);
            Tensor xw = x.matmul(param("weight_ih").t()).add(param("bias")); // every step's input projection at once
            Tensor whhT = param("weight_hh").t();
            List<Tensor> outs = new ArrayList<>();
            for (int s = 0; s < x.size(1); s++) {
                Tensor gates = xw.select(1, s).add(h.matmul(whhT));
                Tensor i = gates.narrow(1, 0, HIDDEN);
                Tensor f = gates.narrow(1, HIDDEN, HIDDEN);
                Tensor gg = gates.narrow(1, 2 * HIDDEN, HIDDEN);
                Tensor o = gates.narrow(1, 3 * HIDDEN, HIDDEN);
                c = f.sigmoid().mul(c).add(i.sigmoid().mul(gg.tanh()));
                h = o.sigmoid().mul(c.tanh());
                outs.add(h);
            }
            return Tensor.stack(outs, 1);
        }
    }

    /** Runs W6 ({@code cell} false) or W6c; returns the RESULT json. */
    static String run(boolean cell, int windows) {
        Generator g = Generator.seeded(0);
        Embedding embed = new Embedding(VOCAB, EMBED, g);
        Block rnn = cell ? new CellLstm(g) : new Lstm(EMBED, HIDDEN, 1, true, true, g);
        Linear head = new Linear(HIDDEN, VOCAB, true, g);
        List<Parameter> params = new ArrayList<>(embed.parameters());
        params.addAll(rnn.parameters());
        params.addAll(head.parameters());
        Adam adam = new Adam(params, Adam.Options.lr(2e-3));
        CrossEntropyLoss loss = new CrossEntropyLoss();
        Generator data = Generator.seeded(1);
        double lastLoss = Double.NaN;
        for (int w = 0; w < 20; w++) {
            lastLoss = step(embed, rnn, head, adam, loss, data);
        }
        List<Double> rates = new ArrayList<>();
        for (int w = 0; w < windows; w++) {
            long t0 = System.nanoTime();
            for (int s = 0; s < 20; s++) {
                lastLoss = step(embed, rnn, head, adam, loss, data);
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            rates.add(20.0 * BATCH * SEQ / secs);
            System.out.printf(Locale.ROOT, "window %d: %,.0f tokens/s, loss %.4f%n", w + 1, rates.get(w), lastLoss);
        }
        List<Double> sorted = new ArrayList<>(rates);
        sorted.sort(null);
        double median = sorted.size() % 2 == 1 ? sorted.get(sorted.size() / 2)
                : (sorted.get(sorted.size() / 2 - 1) + sorted.get(sorted.size() / 2)) / 2;
        return String.format(Locale.ROOT, "{\"workload\":\"%s\",\"tokens_per_s_median\":%.0f,\"threads\":%d,"
                + "\"last_loss\":%.4f}", cell ? "W6c" : "W6", median, Parallel.threads(), lastLoss);
    }

    private static double step(Embedding embed, Block rnn, Linear head, Adam adam, CrossEntropyLoss loss,
                               Generator data) {
        Tensor x = Tensor.randint(data, 0, VOCAB, BATCH, SEQ);
        Tensor y = Tensor.randint(data, 0, VOCAB, BATCH, SEQ);
        adam.zeroGrad();
        Tensor logits = head.forward(rnn.forward(embed.forward(x)));
        Tensor l = loss.forward(logits.reshape(BATCH * SEQ, VOCAB), y.reshape(BATCH * SEQ));
        l.backward();
        adam.step();
        return l.item();
    }
}
