package io.jgrad.core.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.jgrad.core.*;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The pure-Java product's own promises: right values at every edge of its blocking (tiles, depth
 * blocks, column blocks, the transposed path for narrow products), and the same bits from its
 * Vector API kernels and its plain loops, and on one thread or two.
 */
class JavaGemmTest {
    /** m, k, n: edges of the 6-row tile, of 16/32-column tiles, of 256-deep blocks, of column blocks, narrow products. */
    static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of(1, 1, 1), Arguments.of(5, 3, 7), Arguments.of(6, 256, 32), Arguments.of(7, 257, 33),
                Arguments.of(13, 600, 45), Arguments.of(128, 784, 10), Arguments.of(10, 784, 128),
                Arguments.of(3, 40, 3100), Arguments.of(130, 513, 20), Arguments.of(64, 100, 600),
                Arguments.of(2, 1030, 17));
    }

    private static Tensor product(Blas.Backend backend, Tensor a, Tensor b) {
        return Blas.with(backend, () -> a.matmul(b));
    }

    /** Σ_p a[i, p] b[p, j] for 2-D a and b (any layout), summed in double: the products' reference. */
    static double[] reference(Tensor a, Tensor b) {
        double[] x = a.to(DType.FLOAT64).contiguous().toDoubleArray();
        double[] y = b.to(DType.FLOAT64).contiguous().toDoubleArray();
        int m = a.size(0);
        int k = a.size(1);
        int n = b.size(1);
        double[] c = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int p = 0; p < k; p++) {
                for (int j = 0; j < n; j++) {
                    c[i * n + j] += x[i * k + p] * y[p * n + j];
                }
            }
        }
        return c;
    }

    @ParameterizedTest(name = "{0}x{1}x{2}")
    @MethodSource("shapes")
    void vectorAndPlainKernelsGiveTheSameBitsInEveryLayout(int m, int k, int n) {
        List<Blas.Backend> kernels = new ArrayList<>(List.of(new JavaGemm(false)));
        if (Simd.ENABLED) {
            kernels.add(new JavaGemm(true));
        }
        Generator g = Generator.seeded(m * 1_000_003L + k * 1009L + n);
        for (DType dt : List.of(DType.FLOAT32, DType.FLOAT64)) {
            Tensor a = Tensor.randn(g, dt, m, k);
            Tensor b = Tensor.randn(g, dt, k, n);
            Tensor at = Tensor.randn(g, dt, k, m).t(); // transposed views: the 'T' packing paths
            Tensor bt = Tensor.randn(g, dt, n, k).t();
            double[] want = reference(a, b);
            double tol = dt == DType.FLOAT32 ? 1e-4 * Math.sqrt(k) : 1e-12 * Math.sqrt(k);
            for (Tensor[] ops : new Tensor[][] {{a, b}, {at, b}, {a, bt}, {at, bt}}) {
                double[] first = null;
                for (Blas.Backend kernel : kernels) {
                    double[] got = product(kernel, ops[0], ops[1]).toDoubleArray();
                    if (first == null) {
                        first = got;
                        double[] exact = ops[0] == a && ops[1] == b ? want : reference(ops[0], ops[1]);
                        for (int i = 0; i < got.length; i++) {
                            assertThat(Math.abs(got[i] - exact[i])).as("%s element %s", dt, i)
                                    .isLessThanOrEqualTo(tol * Math.max(1, Math.abs(exact[i])));
                        }
                    } else {
                        assertThat(got).as("%s: %s against %s", dt, kernel.description(), kernels.get(0).description())
                                .isEqualTo(first);
                    }
                }
            }
        }
    }

    @Test
    void oneThreadOrTwoGiveTheSameBits() {
        Generator g = Generator.seeded(3);
        Tensor a = Tensor.randn(g, 300, 700);
        Tensor b = Tensor.randn(g, 700, 500);
        for (JavaGemm kernel : Simd.ENABLED ? List.of(new JavaGemm(false), new JavaGemm(true)) : List.of(new JavaGemm(false))) {
            int before = Parallel.threads();
            try {
                Parallel.setThreads(1);
                float[] one = product(kernel, a, b).toFloatArray();
                Parallel.setThreads(2);
                assertThat(product(kernel, a, b).toFloatArray()).as(kernel.description()).isEqualTo(one);
            } finally {
                Parallel.setThreads(before);
            }
        }
    }

    /** IEEE products: an infinity times 0 is NaN, and padding inside the kernel must not leak into real elements. */
    @Test
    void infinitiesAndNansPropagateAsInASum() {
        Tensor a = Tensor.of(new float[] {Float.POSITIVE_INFINITY, 1, 2, 3, 0, Float.NaN, 1, 1, 1}, 3, 3);
        Tensor b = Tensor.of(new float[] {0, 1, 1, 1, 2, 0, 3, 1, 1}, 3, 3);
        for (JavaGemm kernel : Simd.ENABLED ? List.of(new JavaGemm(false), new JavaGemm(true)) : List.of(new JavaGemm(false))) {
            float[] c = product(kernel, a, b).toFloatArray();
            assertThat(c[0]).isNaN(); // inf·0 + 1·1 + 2·3
            assertThat(c[1]).isEqualTo(Float.POSITIVE_INFINITY);
            assertThat(c[2]).isEqualTo(Float.POSITIVE_INFINITY);
            assertThat(c[3]).isNaN(); // row 1 has a NaN
            assertThat(new float[] {c[6], c[7], c[8]}).containsExactly(4, 4, 2);
        }
    }

    @Test
    void depthBlocksDependOnKAlone() {
        assertThat(JavaGemm.depthBlock(256)).isEqualTo(256);
        assertThat(JavaGemm.depthBlock(257)).isEqualTo(129); // two blocks of 129 and 128
        assertThat(JavaGemm.depthBlock(784)).isEqualTo(196); // four of 196
        assertThat(JavaGemm.depthBlock(1)).isEqualTo(1);
    }
}
