package io.jgrad.benchmarks.jmh;

import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** Reductions over a [1000, 1000] float32 tensor: everything, and along each dim. */
@State(Scope.Thread)
public class ReductionBenchmark extends Defaults {
    private Tensor x;

    @Setup
    public void setup() {
        x = Tensor.randn(Generator.seeded(0), 1000, 1000);
    }

    @Benchmark
    public Tensor sumAll() {
        return x.sum();
    }

    @Benchmark
    public Tensor sumRows() {
        return x.sum(1, false);
    }

    @Benchmark
    public Tensor sumColumns() {
        return x.sum(0, false);
    }

    @Benchmark
    public Tensor maxRows() {
        return x.max(1, false).values();
    }

    @Benchmark
    public Tensor logSumExpRows() {
        return x.logsumexp(1, false);
    }
}
