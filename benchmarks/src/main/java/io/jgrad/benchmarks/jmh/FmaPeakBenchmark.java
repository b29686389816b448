package io.jgrad.benchmarks.jmh;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * The machine's float32 peak as Java reaches it: twelve independent chains of fused
 * multiply-adds on the widest vectors the JVM offers, no memory traffic. One operation is one
 * fma of one vector, so GFLOPS = 2 · lanes · ops/s (32 · ops/s with 512-bit vectors of 16 floats):
 * the figure a matrix product is measured against (BENCHMARKS.md). Needs the Vector API ({@code bench/jmh.sh} passes it);
 * {@code -t 2} runs it on both cores.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class FmaPeakBenchmark extends Defaults {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int STEPS = 10_000;

    public float x = 0.5f;
    public float y = 0.999f;

    /** 12 · 10,000 vector fmas per call; the score is vector fmas per second. */
    @Benchmark
    @OperationsPerInvocation(12 * STEPS)
    public float fma() {
        FloatVector a = FloatVector.broadcast(F, x);
        FloatVector m = FloatVector.broadcast(F, y);
        FloatVector c0 = a, c1 = a.add(1), c2 = a.add(2), c3 = a.add(3), c4 = a.add(4), c5 = a.add(5);
        FloatVector c6 = a.add(6), c7 = a.add(7), c8 = a.add(8), c9 = a.add(9), c10 = a.add(10), c11 = a.add(11);
        for (int i = 0; i < STEPS; i++) {
            c0 = c0.fma(m, a);
            c1 = c1.fma(m, a);
            c2 = c2.fma(m, a);
            c3 = c3.fma(m, a);
            c4 = c4.fma(m, a);
            c5 = c5.fma(m, a);
            c6 = c6.fma(m, a);
            c7 = c7.fma(m, a);
            c8 = c8.fma(m, a);
            c9 = c9.fma(m, a);
            c10 = c10.fma(m, a);
            c11 = c11.fma(m, a);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(VectorOperators.ADD);
    }

}
