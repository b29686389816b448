package io.jgrad.core.cpu;

import io.jgrad.core.*;
import io.jgrad.core.backend.ElementwiseOp;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * jgrad's float kernels on one thread, plain Java against vectorized ({@link SimdKernels}) and
 * step by step against a per-expression loop ({@link ChainKernels}), on E1's data: x and c of n
 * floats. In core's test sources, in package io.jgrad.core, to reach the package-private kernels
 * without a second module holding classes of that package; JMH is a test dependency of core, and
 * its annotation processor runs on core's test compile. Needs the Vector API ({@code bench/jmh.sh}
 * passes {@code --add-modules jdk.incubator.vector}). {@code bench/jmh.sh KernelBenchmark}.
 */
// the settings of the benchmarks module's jmh.Defaults, which core cannot see
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
@State(Scope.Thread)
public class KernelBenchmark {
    private static final int CHUNK = 1024;

    @Param({"1000000"})
    public int n;

    private float[] x;
    private float[] c;
    private float[] out;
    private final float[] buf = new float[CHUNK];
    private float[][] operands;
    private float[] scalars;
    private ChainKernels.Kernel addReluKernel;
    private ChainKernels.Kernel reluBackwardOfAddKernel;

    @Setup
    public void setup() {
        if (!Simd.ENABLED) {
            throw new IllegalStateException("the vectorized kernels are " + Simd.describe());
        }
        Generator g = Generator.seeded(0);
        x = Tensor.randn(g, n).toFloatArray();
        c = Tensor.randn(g, n).toFloatArray();
        out = new float[n];
        operands = new float[][] {x, c, null, null, null};
        scalars = new float[] {0, 0, 1f, 0, 0};
        int[] addRelu = new int[ChainKernels.SIGNATURE_LENGTH]; // x + c, then relu
        addRelu[0] = 2;
        addRelu[1] = 1;
        addRelu[2] = ElementwiseOp.ADD.ordinal();
        addRelu[3] = 1;
        addRelu[5] = ElementwiseOp.RELU.ordinal();
        addReluKernel = ChainKernels.define(addRelu);
        int[] backward = addRelu.clone(); // x + c, then relu's backward of the one value 1 (slot 2) at it
        backward[5] = ElementwiseOp.RELU_BACKWARD.ordinal();
        backward[6] = 2;
        backward[7] = 1;
        reluBackwardOfAddKernel = ChainKernels.define(backward);
    }

    @Benchmark
    public double sumPlain() {
        return Reduce.sumRangePlain(x, 0, n);
    }

    @Benchmark
    public double sumVectorized() {
        return SimdKernels.sum(x, 0, n);
    }

    @Benchmark
    public float[] reluBackwardPlain() {
        int g = Float.floatToRawIntBits(1f);
        for (int i = 0; i < n; i++) {
            out[i] = Float.intBitsToFloat(g & Elementwise.reluMask(x[i]));
        }
        return out;
    }

    @Benchmark
    public float[] reluBackwardVectorized() {
        SimdKernels.reluBackward(1f, x, 0, out, 0, n);
        return out;
    }

    /** relu(x + c) summed, op by op over chunks that stay in L1 (what runs until the kernel is warm). */
    @Benchmark
    public double addReluSumStepByStep() {
        double[] lanes = new double[Reduce.SUM_LANES];
        for (int s = 0; s < n; s += CHUNK) {
            int len = Math.min(CHUNK, n - s);
            SimdKernels.binary(ElementwiseOp.ADD, x, s, c, s, buf, 0, len);
            SimdKernels.unary(ElementwiseOp.RELU, buf, 0, buf, 0, len);
            SimdKernels.accumulate(buf, 0, len, lanes);
        }
        return Reduce.combine(lanes);
    }

    @Benchmark
    public double addReluSumKernel() {
        double[] lanes = new double[Reduce.SUM_LANES];
        addReluKernel.sum(operands, scalars, 0, n, lanes);
        return Reduce.combine(lanes);
    }

    /** relu's backward of (x + c) for the gradient of a sum, stored, op by op. */
    @Benchmark
    public float[] reluBackwardOfAddStepByStep() {
        for (int s = 0; s < n; s += CHUNK) {
            int len = Math.min(CHUNK, n - s);
            SimdKernels.binary(ElementwiseOp.ADD, x, s, c, s, out, s, len);
            SimdKernels.reluBackward(1f, out, s, out, s, len);
        }
        return out;
    }

    @Benchmark
    public float[] reluBackwardOfAddKernel() {
        reluBackwardOfAddKernel.store(operands, scalars, out, 0, n);
        return out;
    }
}
