package io.jgrad.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** matmul against a plain triple loop, through every layout path (transposed views, windows, batches, split). */
class MatMulTest {
    private static double[] naive(Tensor a, Tensor b) {
        int m = a.size(0);
        int k = a.size(1);
        int n = b.size(1);
        double[] out = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    s += a.get(i, p) * b.get(p, j);
                }
                out[i * n + j] = s;
            }
        }
        return out;
    }

    private static void assertClose(double[] actual, double[] expected, double tol) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < actual.length; i++) {
            assertThat(Math.abs(actual[i] - expected[i])).as("element %s", i)
                    .isLessThanOrEqualTo(tol * Math.max(1, Math.abs(expected[i])));
        }
    }

    @Test
    void transposedOperandsUseTheRightLayout() {
        Generator g = Generator.seeded(5);
        Tensor a = Tensor.randn(g, DType.FLOAT64, 7, 5);
        Tensor b = Tensor.randn(g, DType.FLOAT64, 6, 7);
        assertClose(a.t().matmul(b.t()).toDoubleArray(), naive(a.t(), b.t()), 1e-12);
        assertClose(a.t().matmul(a).toDoubleArray(), naive(a.t(), a), 1e-12);
        Tensor window = Tensor.randn(g, DType.FLOAT64, 50, 40).narrow(0, 10, 3).narrow(1, 5, 7);
        assertClose(window.matmul(a).toDoubleArray(), naive(window, a), 1e-12);
        Tensor strided = Tensor.randn(g, DType.FLOAT64, 7, 12).slice(1, 0, 12, 2);
        assertClose(strided.t().matmul(strided).toDoubleArray(), naive(strided.t(), strided), 1e-12);
    }

    @Test
    void largeProductsAreRight() {
        Generator g = Generator.seeded(6);
        Tensor a = Tensor.randn(g, DType.FLOAT64, 300, 200);
        Tensor b = Tensor.randn(g, DType.FLOAT64, 200, 100);
        assertClose(a.matmul(b).toDoubleArray(), naive(a, b), 1e-12);
        Tensor f = a.to(DType.FLOAT32).matmul(b.to(DType.FLOAT32));
        assertClose(f.toDoubleArray(), naive(a, b), 1e-4);
    }

    @Test
    void batchedProductsBroadcastBatchDims() {
        Generator g = Generator.seeded(7);
        Tensor a = Tensor.randn(g, DType.FLOAT64, 2, 1, 3, 4);
        Tensor b = Tensor.randn(g, DType.FLOAT64, 5, 4, 2);
        Tensor c = a.matmul(b);
        assertThat(c.shape()).containsExactly(2, 5, 3, 2);
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 5; j++) {
                Tensor ai = a.select(0, i).select(0, 0);
                Tensor bj = b.select(0, j);
                assertClose(c.select(0, i).select(0, j).toDoubleArray(), naive(ai, bj), 1e-12);
            }
        }
        Tensor shared = Tensor.randn(g, DType.FLOAT64, 4, 2);
        Tensor folded = a.matmul(shared);
        assertThat(folded.shape()).containsExactly(2, 1, 3, 2);
        assertClose(folded.reshape(6, 2).toDoubleArray(), naive(a.reshape(6, 4), shared), 1e-12);
    }
}
