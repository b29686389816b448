package io.jgrad.core.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.jgrad.core.*;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Fixed chunking: the thread count never changes a result, bit for bit. */
class ParallelTest {
    private static float[] run(int threads) {
        int saved = Parallel.threads();
        Parallel.setThreads(threads);
        try {
            Generator g = Generator.seeded(9);
            Tensor x = Tensor.randn(g, 1_000_003);
            Tensor a = Tensor.randn(g, 256, 300);
            Tensor b = Tensor.randn(g, 300, 200);
            Tensor x128 = Tensor.randn(g, 128, 784);
            Tensor w = Tensor.randn(g, 512, 784); // 128×784×512 with a transposed operand: cut into column blocks
            Tensor sums = Tensor.cat(java.util.List.of(x.sum().reshape(1), x.exp().mean().reshape(1),
                    x.narrow(0, 3, 1_000_000).reshape(1000, 1000).sum(0).sum().reshape(1), x.narrow(0, 0, 1_000_000).reshape(1000, 1000)
                            .softmax(1).sum().reshape(1)), 0);
            return Tensor.cat(java.util.List.of(sums, a.matmul(b).reshape(-1), x128.matmul(w.t()).reshape(-1),
                    w.matmul(x128.t()).reshape(-1), x.relu().add(x).reshape(-1)), 0)
                    .toFloatArray();
        } finally {
            Parallel.setThreads(saved);
        }
    }

    /**
     * jblas's OpenBLAS gives wrong products when called from two threads at once (8 in 207,000
     * calls at this shape, measured): two user threads sharing weights must still get right answers.
     */
    @ParameterizedTest
    @MethodSource("io.jgrad.core.cpu.BlasBackends#names")
    void twoThreadsMultiplyingAtOnceAlwaysGetTheRightProduct(String backend) {
        BlasBackends.run(backend, ParallelTest::twoThreadsMultiplying);
    }

    private static void twoThreadsMultiplying() {
        Generator g = Generator.seeded(10);
        Tensor a = Tensor.randn(g, 64, 784);
        Tensor b = Tensor.randn(g, 784, 512);
        float[] expected = a.matmul(b).toFloatArray();
        int[] wrong = new int[2];
        Thread[] threads = new Thread[2];
        for (int t = 0; t < 2; t++) {
            int id = t;
            threads[t] = new Thread(() -> {
                for (int i = 0; i < 400; i++) {
                    if (!java.util.Arrays.equals(a.matmul(b).toFloatArray(), expected)) {
                        wrong[id]++;
                    }
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
        assertThat(wrong).containsExactly(0, 0);
    }

    @ParameterizedTest
    @MethodSource("io.jgrad.core.cpu.BlasBackends#names")
    void oneThreadAndTwoThreadsGiveBitIdenticalResults(String backend) {
        float[] one = BlasBackends.with(backend, () -> run(1));
        float[] two = BlasBackends.with(backend, () -> run(2));
        int at = java.util.Arrays.mismatch(one, two);
        assertThat(at).as("first differing element %s: %s vs %s", at, at < 0 ? 0 : one[at], at < 0 ? 0 : two[at])
                .isEqualTo(-1);
    }
}
