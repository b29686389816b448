package io.jgrad.benchmarks.jmh;

import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** float32 matmul at W5's shapes and W1/W2's layer shapes (GFLOPS = 2·m·k·n / time). */
@State(Scope.Thread)
public class MatMulBenchmark extends Defaults {
    /** m x k x n. */
    @Param({"128x784x512", "512x512x512", "1024x1024x1024", "128x784x10", "128x512x256"})
    public String shape;

    private Tensor a;
    private Tensor b;
    private Tensor bTransposed; // [n, k] contiguous, used as the [k, n] view bᵀ

    @Setup
    public void setup() {
        String[] d = shape.split("x");
        a = Tensor.randn(Generator.seeded(0), Integer.parseInt(d[0]), Integer.parseInt(d[1]));
        b = Tensor.randn(Generator.seeded(1), Integer.parseInt(d[1]), Integer.parseInt(d[2]));
        bTransposed = b.t().contiguous();
    }

    @Benchmark
    public Tensor matmul() {
        return a.matmul(b);
    }

    /** A product with a transposed right operand, as a linear layer computes x·Wᵀ. */
    @Benchmark
    public Tensor matmulTransposedRight() {
        return a.matmul(bTransposed.t());
    }
}
