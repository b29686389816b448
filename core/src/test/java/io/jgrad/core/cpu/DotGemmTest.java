package io.jgrad.core.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link DotGemm}: every element of A·Wᵀ is the documented chain (sixteen lane sums, a fixed tree, the
 * last k mod 16 terms fused in one by one), written out here independently and compared bit for bit, on
 * the vector kernel and on the plain loops, for row and column counts that leave every kind of edge
 * block, windows of larger arrays and inner dimensions with and without a tail; the result is close to a
 * double-precision product; one thread and two give the same bits; and {@link Blas} sends it exactly the
 * narrow products.
 */
class DotGemmTest {
    /** The chain of one element, as DotGemm's class comment states it. */
    private static float chain(float[] a, int ai, float[] w, int wj, int k) {
        float[] lanes = new float[16];
        int kv = k - k % 16;
        for (int p = 0; p < kv; p++) {
            lanes[p % 16] = Math.fma(a[ai + p], w[wj + p], lanes[p % 16]);
        }
        float[] pairs = new float[8];
        for (int l = 0; l < 8; l++) {
            pairs[l] = lanes[2 * l] + lanes[2 * l + 1];
        }
        float s = ((pairs[0] + pairs[1]) + (pairs[2] + pairs[3])) + ((pairs[4] + pairs[5]) + (pairs[6] + pairs[7]));
        for (int p = kv; p < k; p++) {
            s = Math.fma(a[ai + p], w[wj + p], s);
        }
        return s;
    }

    @Test
    void everyElementIsTheChainOnTheVectorKernel() {
        assumeTrue(SmallGemm.VECTOR, "needs the Vector API and 512-bit vectors: " + Simd.describe());
        everyElementIsTheChain(true);
    }

    /** The plain loops, which run before the kernel is compiled, give the kernel's bits. */
    @Test
    void thePlainLoopsGiveTheSameChains() {
        everyElementIsTheChain(false);
    }

    private static void everyElementIsTheChain(boolean vector) {
        Random r = new Random(3);
        for (int m : new int[] {1, 2, 3, 4, 5, 7, 9, 128, 131}) {
            for (int n : new int[] {1, 2, 3, 10, 15, 17, 63}) {
                for (int k : new int[] {16, 17, 31, 128, 784}) {
                    check(r, m, n, k, vector);
                }
            }
        }
    }

    /** One product of windows (A and W at offsets, rows not tight) against the chains, bit for bit, and near the double product. */
    private static void check(Random r, int m, int n, int k, boolean vector) {
        int lda = k + 3;
        int ldw = k + 5;
        float[] a = new float[7 + m * lda];
        float[] w = new float[2 + n * ldw];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) r.nextGaussian();
        }
        Blas.Operand pa = new Blas.Operand(ArrayStorage.wrap(CpuBackend.INSTANCE, a), 7, lda, m, k, 'N');
        Blas.Operand pw = new Blas.Operand(ArrayStorage.wrap(CpuBackend.INSTANCE, w), 2, ldw, n, k, 'T');
        float[] out = new float[4 + m * n];
        out[0] = 42f;
        DotGemm.gemm(pa, pw, m, n, k, out, 4, vector);
        assertThat(out[0]).as("nothing written before the output").isEqualTo(42f);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float want = chain(a, 7 + i * lda, w, 2 + j * ldw, k);
                double exact = 0;
                for (int p = 0; p < k; p++) {
                    exact += (double) a[7 + i * lda + p] * w[2 + j * ldw + p];
                }
                String where = String.format("%dx%dx%d %s C[%d][%d]", m, n, k, vector ? "vector" : "plain", i, j);
                assertThat(out[4 + i * n + j]).as(where).isEqualTo(want);
                assertThat((double) out[4 + i * n + j]).as(where).isCloseTo(exact, within(1e-4 * Math.sqrt(k) * 4));
            }
        }
    }

    /** Large enough to be cut into row blocks on jgrad's threads: the same bits on one thread and on two. */
    @Test
    void oneThreadAndTwoGiveTheSameBits() {
        Tensor x = Tensor.randn(Generator.seeded(4), 1024, 784);
        Tensor wt = Tensor.randn(Generator.seeded(5), 10, 784);
        float[] one = GemmFixtures.onThreads(1, () -> x.matmul(wt.t()).toFloatArray());
        float[] two = GemmFixtures.onThreads(2, () -> x.matmul(wt.t()).toFloatArray());
        assertThat(two).isEqualTo(one);
    }

    @Test
    void takesOnlyNarrowProductsOfAAsStoredByATransposedWeight() {
        Blas.Operand n = GemmFixtures.STORED;
        Blas.Operand t = GemmFixtures.TRANSPOSED;
        assertThat(DotGemm.takes(n, t, 128, 10, 784)).as("W1's X·Wᵀ").isTrue();
        assertThat(DotGemm.takes(n, t, 128, 63, 256)).isTrue();
        assertThat(DotGemm.takes(n, t, 128, 16, 784)).as("columns in sixteens: the tiles'").isFalse();
        assertThat(DotGemm.takes(n, t, 128, 64, 784)).as("64 columns or more").isFalse();
        assertThat(DotGemm.takes(n, n, 128, 10, 784)).as("B as stored").isFalse();
        assertThat(DotGemm.takes(t, t, 128, 10, 784)).as("A transposed").isFalse();
        assertThat(DotGemm.takes(n, t, 128, 10, 15)).as("k under 16").isFalse();
        assertThat(DotGemm.takes(n, t, 128, 10, 2049)).as("k over 2,048").isFalse();
    }

    /** Through Tensor.matmul, where the kernel runs: a linear layer's forward with 10 outputs, against double precision. */
    @Test
    void aLinearLayersForwardWithTenOutputs() {
        Tensor x = Tensor.randn(Generator.seeded(6), 128, 784);
        Tensor wt = Tensor.randn(Generator.seeded(7), 10, 784);
        float[] y = x.matmul(wt.t()).toFloatArray();
        double[] xd = x.toDoubleArray();
        double[] wd = wt.toDoubleArray();
        for (int i = 0; i < 128; i++) {
            for (int j = 0; j < 10; j++) {
                double e = 0;
                for (int p = 0; p < 784; p++) {
                    e += xd[i * 784 + p] * wd[j * 784 + p];
                }
                assertThat((double) y[i * 10 + j]).isCloseTo(e, within(1e-3));
            }
        }
    }
}
