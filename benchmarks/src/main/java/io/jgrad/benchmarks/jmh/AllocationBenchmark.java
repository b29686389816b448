package io.jgrad.benchmarks.jmh;

import java.util.Arrays;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What a fresh Java array costs next to reusing one, in plain Java (no jgrad): the floor under
 * any op that returns a new tensor of n floats. A new large array is zeroed in memory that has
 * left the cache (the heap cycles through far more than the L3 holds), while a reused one stays
 * cached; PyTorch's allocator hands a freed block straight back, so its outputs are warm.
 */
@State(Scope.Thread)
public class AllocationBenchmark extends Defaults {
    @Param({"100000", "1000000"})
    public int n;

    private float[] x;
    private float[] c;
    private float[] reused;

    @Setup
    public void setup() {
        x = new float[n];
        c = new float[n];
        reused = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (i % 7) - 3;
            c[i] = (i % 5) - 2;
        }
    }

    @Benchmark
    public float[] newArray() {
        return new float[n];
    }

    @Benchmark
    public float[] zeroReused() {
        Arrays.fill(reused, 0f);
        return reused;
    }

    @Benchmark
    public float[] addIntoNew() {
        float[] o = new float[n];
        for (int i = 0; i < n; i++) {
            o[i] = x[i] + c[i];
        }
        return o;
    }

    @Benchmark
    public float[] addIntoReused() {
        float[] o = reused;
        for (int i = 0; i < n; i++) {
            o[i] = x[i] + c[i];
        }
        return o;
    }
}
