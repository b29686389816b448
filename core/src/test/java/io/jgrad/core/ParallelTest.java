package io.jgrad.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

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
            Tensor sums = Tensor.cat(java.util.List.of(x.sum().reshape(1), x.exp().mean().reshape(1),
                    x.narrow(0, 3, 1_000_000).reshape(1000, 1000).sum(0).sum().reshape(1), x.narrow(0, 0, 1_000_000).reshape(1000, 1000)
                            .softmax(1).sum().reshape(1)), 0);
            return Tensor.cat(java.util.List.of(sums, a.matmul(b).reshape(-1), x.relu().add(x).reshape(-1)), 0)
                    .toFloatArray();
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void concurrentSplitProductsAgreeEveryTime() {
        Generator g = Generator.seeded(10);
        Tensor a = Tensor.randn(g, 256, 300);
        Tensor b = Tensor.randn(g, 300, 200);
        float[] first = a.matmul(b).toFloatArray();
        for (int i = 0; i < 300; i++) {
            assertThat(java.util.Arrays.equals(a.matmul(b).toFloatArray(), first)).as("run %s", i).isTrue();
        }
    }

    @Test
    void oneThreadAndTwoThreadsGiveBitIdenticalResults() {
        float[] one = run(1);
        float[] two = run(2);
        int at = java.util.Arrays.mismatch(one, two);
        assertThat(at).as("first differing element %s: %s vs %s", at, at < 0 ? 0 : one[at], at < 0 ? 0 : two[at])
                .isEqualTo(-1);
    }
}
