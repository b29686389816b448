package io.jgrad.benchmarks.jmh;

import io.jgrad.core.Autograd;
import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** Elementwise ops on n floats, forward alone and forward + backward (E1's add + relu + sum). */
@State(Scope.Thread)
public class ElementwiseBenchmark extends Defaults {
    @Param({"16", "100000", "1000000"})
    public int n;

    private Tensor x;
    private Tensor c;
    private Tensor leaf;

    @Setup
    public void setup() {
        x = Tensor.randn(Generator.seeded(0), n);
        c = Tensor.randn(Generator.seeded(1), n);
        leaf = Tensor.randn(Generator.seeded(2), n).requiresGrad(true);
    }

    @Benchmark
    public Tensor add() {
        return x.add(c);
    }

    @Benchmark
    public Tensor relu() {
        return x.relu();
    }

    @Benchmark
    public Tensor broadcastAddRow() {
        return x.reshape(-1, n >= 16 ? 16 : 1).add(c.narrow(0, 0, n >= 16 ? 16 : 1));
    }

    @Benchmark
    public Tensor addReluSumForwardBackward() {
        leaf.setGrad(null);
        leaf.add(c).relu().sum().backward();
        return leaf.grad();
    }

    @Benchmark
    public Tensor addReluNoGrad() {
        try (var s = Autograd.noGrad()) {
            return leaf.add(c).relu();
        }
    }
}
