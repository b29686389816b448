package io.jgrad.benchmarks;

import io.jgrad.core.Block;
import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import io.jgrad.data.Batch;
import io.jgrad.data.DataLoader;
import io.jgrad.data.FashionMnist;
import io.jgrad.data.ImageDataset;
import io.jgrad.layers.Linear;
import io.jgrad.layers.Relu;
import io.jgrad.layers.Sequential;
import io.jgrad.losses.CrossEntropyLoss;
import io.jgrad.optim.Sgd;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.Locale;

/**
 * Heap in use after a full collection at the end of each epoch of the two-layer network
 * (784-512-10, SGD), for 5 epochs: a graph kept alive by mistake would make it grow epoch by epoch.
 *
 * <pre>java -cp ... io.jgrad.benchmarks.HeapFlatness [epochs]</pre>
 */
public final class HeapFlatness {
    private HeapFlatness() {}

    /** Trains and prints the heap after each epoch. */
    public static void main(String[] args) throws IOException {
        int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        FashionMnist.Splits data = FashionMnist.load(null, false);
        double[] ms = data.train().pixelMeanStd();
        ImageDataset train = data.train().withNormalization(ms[0], ms[1]);
        Block m = new Sequential(new Linear(784, 512, true, Generator.seeded(0)), new Relu(),
                new Linear(512, 10, true, Generator.seeded(1)));
        Sgd sgd = new Sgd(m.parameters(), Sgd.Options.lr(0.05).withMomentum(0.9));
        CrossEntropyLoss loss = new CrossEntropyLoss();
        DataLoader loader = new DataLoader(train, 128, DataLoader.Options.shuffled(0));
        MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
        StringBuilder json = new StringBuilder();
        for (int e = 0; e < epochs; e++) {
            for (Batch b : loader.epoch(e)) {
                Tensor l = loss.forward(m.forward(b.inputs()), b.targets());
                sgd.zeroGrad();
                l.backward();
                sgd.step();
            }
            System.gc();
            double mib = mem.getHeapMemoryUsage().getUsed() / (1024.0 * 1024);
            System.out.printf(Locale.ROOT, "epoch %d: heap in use after GC %.1f MiB%n", e + 1, mib);
            json.append(json.length() == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.1f", mib));
        }
        System.out.println("RESULT {\"program\":\"heap-flatness\",\"heap_mib_after_gc_per_epoch\":[" + json + "]}");
    }
}
