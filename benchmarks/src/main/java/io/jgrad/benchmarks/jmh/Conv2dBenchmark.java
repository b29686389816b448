package io.jgrad.benchmarks.jmh;

import io.jgrad.core.Block;
import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import io.jgrad.core.Window2d;
import io.jgrad.layers.Conv2d;
import io.jgrad.layers.MaxPool2d;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** W3's two convolutions (batch 128, 3x3) and its first max pool, forward and forward + backward. */
@State(Scope.Thread)
public class Conv2dBenchmark extends Defaults {
    /** in -> out channels on a square image: "1-32-28" is W3's first layer, "32-64-13" its second. */
    @Param({"1-32-28", "32-64-13"})
    public String layer;

    private Block conv;
    private Tensor x;
    private Tensor leaf;
    private Tensor pooled;
    private final MaxPool2d pool = new MaxPool2d(2);

    @Setup
    public void setup() {
        String[] d = layer.split("-");
        int in = Integer.parseInt(d[0]);
        int size = Integer.parseInt(d[2]);
        conv = new Conv2d(in, Integer.parseInt(d[1]), Window2d.square(3, 1, 0, 1), true, Generator.seeded(0));
        x = Tensor.randn(Generator.seeded(1), 128, in, size, size);
        leaf = x.clone().requiresGrad(true);
        pooled = Tensor.randn(Generator.seeded(2), 128, Integer.parseInt(d[1]), size - 2, size - 2);
    }

    @Benchmark
    public Tensor forward() {
        return conv.forward(x);
    }

    @Benchmark
    public Tensor forwardBackward() {
        conv.zeroGrad();
        leaf.setGrad(null);
        conv.forward(leaf).sum().backward();
        return leaf.grad();
    }

    @Benchmark
    public Tensor maxPoolForward() {
        return pool.forward(pooled);
    }
}
