package io.jgrad.core.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link SmallGemm}: every element is the fused multiply-add chain over the inner dimension from
 * p = 0 (checked bit for bit against {@link Math#fma} in float), for tile remainders in both
 * dimensions, windows of larger arrays and both layouts of A and of B; a transposed B is packed again when
 * it changes in place; and {@link Blas} routes exactly the small float products to it.
 */
class SmallGemmTest {
    private static void assumeKernel() {
        assumeTrue(SmallGemm.VECTOR, "needs the Vector API and 512-bit vectors: " + Simd.describe());
    }

    /** C[i][j] = fma chain over p of A(i, p)·B(p, j), A element (i, p) at aAt(i, p), B element (p, j) at bAt(p, j). */
    private static float chain(float[] a, java.util.function.IntBinaryOperator aAt, int i, int k,
                               java.util.function.IntBinaryOperator bAt, float[] b, int j) {
        float acc = 0f;
        for (int p = 0; p < k; p++) {
            acc = Math.fma(a[aAt.applyAsInt(i, p)], b[bAt.applyAsInt(p, j)], acc);
        }
        return acc;
    }

    @Test
    void everyElementIsTheFmaChainForEveryTileShapeAndLayout() {
        assumeKernel();
        everyElementIsTheFmaChain(true);
    }

    /** The plain loops that run without the Vector API give the tiles' bits, so the module never changes a result. */
    @Test
    void thePlainLoopsGiveTheSameChains() {
        everyElementIsTheFmaChain(false);
    }

    /**
     * The plain loops past their first block of columns (1,024, a short last block) and the largest
     * transposed A copied (64×1024), on both paths.
     */
    @Test
    void severalColumnBlocksAndTheLargestTransposedA() {
        Random r = new Random(11);
        for (boolean vector : SmallGemm.VECTOR ? new boolean[] {false, true} : new boolean[] {false}) {
            for (int m : new int[] {1, 9}) {
                for (int n : new int[] {1040, 2064}) {
                    checkProduct(r, m, n, 3, 'N', 'N', vector);
                    checkProduct(r, m, n, 3, 'T', 'N', vector);
                }
            }
            checkProduct(r, 64, 16, 1024, 'T', 'N', vector);
            checkProduct(r, 64, 32, 1024, 'T', 'T', vector);
        }
    }

    private static void everyElementIsTheFmaChain(boolean vector) {
        Random r = new Random(7);
        for (int m : new int[] {1, 5, 8, 13, 32, 64}) {
            for (int n : new int[] {16, 48, 64, 512}) {
                for (int k : new int[] {1, 7, 128}) {
                    for (char bt : new char[] {'N', 'T'}) {
                        for (char at : new char[] {'N', 'T'}) {
                            checkProduct(r, m, n, k, at, bt, vector);
                        }
                    }
                }
            }
        }
    }

    /** One product of random windows (A and B at offsets, rows not tight) against the fma chains, bit for bit. */
    private static void checkProduct(Random r, int m, int n, int k, char at, char bt, boolean vector) {
        // A is a window starting at offset 5: m rows k + 3 apart, or ('T') k rows m + 3 apart
        int lda = at == 'N' ? k + 3 : m + 3;
        int ao = 5;
        float[] a = new float[ao + (at == 'N' ? m : k) * lda];
        for (int x = 0; x < a.length; x++) {
            a[x] = (float) r.nextGaussian();
        }
        int bo = 2;
        int ldb = bt == 'N' ? n + 1 : k + 1; // B's rows (or columns) one element apart from tight
        float[] bs = new float[bo + (bt == 'N' ? k * ldb : n * ldb)];
        for (int x = 0; x < bs.length; x++) {
            bs[x] = (float) r.nextGaussian();
        }
        Blas.Operand pa = at == 'N'
                ? new Blas.Operand(ArrayStorage.wrap(CpuBackend.INSTANCE, a), ao, lda, m, k, 'N')
                : new Blas.Operand(ArrayStorage.wrap(CpuBackend.INSTANCE, a), ao, lda, k, m, 'T');
        java.util.function.IntBinaryOperator aAt = at == 'N' ? (i, p) -> ao + i * lda + p : (i, p) -> ao + p * lda + i;
        Blas.Operand pb = bt == 'N'
                ? new Blas.Operand(ArrayStorage.wrap(CpuBackend.INSTANCE, bs), bo, ldb, k, n, 'N')
                : new Blas.Operand(ArrayStorage.wrap(CpuBackend.INSTANCE, bs), bo, ldb, n, k, 'T');
        java.util.function.IntBinaryOperator bAt = bt == 'N' ? (p, j) -> bo + p * ldb + j : (p, j) -> bo + j * ldb + p;
        float[] out = new float[3 + m * n];
        java.util.Arrays.fill(out, Float.NaN);
        SmallGemm.gemm(pa, pb, m, n, k, out, 3, vector);
        assertThat(Float.isNaN(out[0]) && Float.isNaN(out[2])).as("nothing written before the offset").isTrue();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float want = chain(a, aAt, i, k, bAt, bs, j);
                assertThat(Float.floatToRawIntBits(out[3 + i * n + j]))
                        .as("%s m=%d n=%d k=%d A %s B %s: C[%d][%d] = %s, want %s", vector ? "tiles" : "plain", m, n, k, at,
                                bt, i, j, out[3 + i * n + j], want)
                        .isEqualTo(Float.floatToRawIntBits(want));
            }
        }
    }

    @Test
    void aTransposedWeightChangedInPlaceIsPackedAgain() {
        assumeTrue(Blas.SMALL, "products go to the library (-Djgrad.blas.small=false)");
        Generator g = Generator.seeded(3);
        Tensor h = Tensor.uniform(g, -1, 1, 32, 128);
        Tensor w = Tensor.uniform(g, -1, 1, 512, 128); // used as wᵀ, like a recurrent weight
        Tensor before = h.matmul(w.t());
        w.mulInPlace(2);
        Tensor after = h.matmul(w.t());
        float[] hv = h.toFloatArray();
        float[] wv = w.toFloatArray();
        for (int i = 0; i < 32; i += 7) {
            for (int j = 0; j < 512; j += 37) {
                float want = 0f;
                for (int p = 0; p < 128; p++) {
                    want = Math.fma(hv[i * 128 + p], wv[j * 128 + p], want);
                }
                assertThat((float) after.get(i, j)).as("C[%d][%d] after the change", i, j).isEqualTo(want);
                assertThat((float) after.get(i, j)).isEqualTo(2 * (float) before.get(i, j)); // doubling is exact
            }
        }
    }

    /**
     * Two windows of one storage (different offsets) and five weights in turn, more than the four
     * packed copies a thread keeps: each product uses its own B, never another window's copy.
     */
    @Test
    void packedCopiesAreKeptPerWindowAndTheOldestIsReplaced() {
        Random r = new Random(11);
        int k = 32;
        int n = 64;
        int m = 8;
        float[] a = new float[m * k];
        for (int x = 0; x < a.length; x++) {
            a[x] = (float) r.nextGaussian();
        }
        Blas.Operand pa = new Blas.Operand(ArrayStorage.wrap(CpuBackend.INSTANCE, a), 0, k, m, k, 'N');
        float[] shared = new float[2 * n * k];
        for (int x = 0; x < shared.length; x++) {
            shared[x] = (float) r.nextGaussian();
        }
        ArrayStorage sharedStorage = ArrayStorage.wrap(CpuBackend.INSTANCE, shared);
        java.util.List<Blas.Operand> bs = new java.util.ArrayList<>();
        java.util.List<float[]> arrays = new java.util.ArrayList<>();
        java.util.List<Integer> offsets = new java.util.ArrayList<>();
        for (int w = 0; w < 2; w++) { // two windows of one storage
            bs.add(new Blas.Operand(sharedStorage, w * n * k, k, n, k, 'T'));
            arrays.add(shared);
            offsets.add(w * n * k);
        }
        for (int w = 0; w < 3; w++) { // three more weights: five in all
            float[] b = new float[n * k];
            for (int x = 0; x < b.length; x++) {
                b[x] = (float) r.nextGaussian();
            }
            bs.add(new Blas.Operand(ArrayStorage.wrap(CpuBackend.INSTANCE, b), 0, k, n, k, 'T'));
            arrays.add(b);
            offsets.add(0);
        }
        for (int round = 0; round < 3; round++) {
            for (int w = 0; w < bs.size(); w++) {
                float[] out = new float[m * n];
                SmallGemm.gemm(pa, bs.get(w), m, n, k, out, 0);
                float[] b = arrays.get(w);
                int bo = offsets.get(w);
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        float want = chain(a, (ii, p) -> ii * k + p, i, k, (p, jj) -> bo + jj * k + p, b, j);
                        assertThat(out[i * n + j]).as("round %d, weight %d, C[%d][%d]", round, w, i, j).isEqualTo(want);
                    }
                }
            }
        }
    }

    @Test
    void blasSendsOnlySmallFloatProductsWithColumnsInSixteens() {
        Blas.Operand n = GemmFixtures.STORED;
        Blas.Operand t = GemmFixtures.TRANSPOSED;
        assertThat(Blas.small(n, t, 32, 512, 128)).isTrue(); // W6c's h·Wₕₕᵀ
        assertThat(Blas.small(n, n, 32, 128, 512)).isTrue(); // and its backward
        assertThat(Blas.small(n, n, 64, 16, 1)).isTrue();
        assertThat(Blas.small(n, t, 65, 512, 128)).as("more than 64 rows").isFalse();
        assertThat(Blas.small(n, n, 32, 500, 128)).as("columns not a multiple of 16").isFalse();
        assertThat(Blas.small(t, n, 10, 784, 128)).as("a transposed A (a linear layer's dYᵀ·X)").isTrue();
        assertThat(Blas.small(t, n, 64, 16, 1024)).as("a transposed A of 64K elements").isTrue();
        assertThat(Blas.small(t, n, 64, 16, 1025)).as("a transposed A over 256 KB").isFalse();
        assertThat(Blas.small(n, n, 64, 1024, 512)).as("over 16 MFLOP: cut across threads by the library").isFalse();
        assertThat(Blas.small(n, n, 1, 1024, 1024)).as("a large B as stored").isTrue();
        assertThat(Blas.small(n, t, 1, 1024, 1024)).as("a transposed B over 1 MB: not copied").isFalse();
    }

    /**
     * Products past the small rule ({@link Blas#wide}): W2's first layer (Y = X·Wᵀ, dX = dY·W,
     * dW = dYᵀ·X at 784 inputs and 512 outputs), cut into column blocks with a short last block and
     * run on jgrad's threads, are still the fma chains, bit for bit, on the tiles and the plain loops.
     */
    @Test
    void wideProductsCutIntoColumnBlocksAreStillTheChains() {
        Random r = new Random(5);
        for (boolean vector : SmallGemm.VECTOR ? new boolean[] {false, true} : new boolean[] {false}) {
            checkProduct(r, 128, 784, 512, 'N', 'N', vector); // dX = dY·W (m over 64, 103 MFLOP: cut)
            checkProduct(r, 512, 784, 128, 'T', 'N', vector); // dW = dYᵀ·X, A read in place as stored
            checkProduct(r, 67, 208, 300, 'N', 'N', vector);  // 8.4 MFLOP: cut, a last block of 16 columns, 3 lone rows
            checkProduct(r, 128, 512, 784, 'N', 'T', vector); // Y = X·Wᵀ: each block copies its columns of B
            checkProduct(r, 67, 208, 300, 'T', 'T', vector);  // both transposed, a short last panel
            checkProduct(r, 33, 48, 7000, 'N', 'T', vector);  // 22 MFLOP: cut, a panel per block
            checkProduct(r, 1, 64, 4200, 'N', 'T', vector);   // B over MAX_PACKED, not cut: one panel of all of n
            checkProduct(r, 64, 512, 128, 'N', 'T', vector);  // 8.4 MFLOP, 64 rows: cut, blocks read the kept copy
            checkProduct(r, 392, 48, 300, 'N', 'N', vector);  // 49 tiles over a 300×32 strip: copied; the 16-wide one not
        }
    }

    /** A cut product gives the same bits on one thread as on two (the blocks' chains do not depend on who runs them). */
    @Test
    void wideProductsGiveTheSameBitsOnOneThreadAndOnTwo() {
        Generator g = Generator.seeded(9);
        Tensor a = Tensor.randn(g, 128, 512);
        Tensor b = Tensor.randn(g, 512, 784);
        // each run: A·B, a transposed A's product (dW = dYᵀ·X) and A·B with B transposed (panels per block)
        java.util.function.Supplier<float[][]> run = () -> new float[][] {a.matmul(b).toFloatArray(),
            a.t().matmul(Tensor.randn(Generator.seeded(2), 128, 784)).toFloatArray(),
            a.matmul(b.t().contiguous().t()).toFloatArray()};
        float[][] one = GemmFixtures.onThreads(1, run);
        float[][] two = GemmFixtures.onThreads(2, run);
        assertThat(two[0]).isEqualTo(one[0]);
        assertThat(two[1]).isEqualTo(one[1]);
        assertThat(two[2]).isEqualTo(one[2]).isEqualTo(one[0]);
    }

    @Test
    void wideProductsHaveColumnsInSixteensAndAOfAtMostOneMegabyte() {
        Blas.Operand n = GemmFixtures.STORED;
        Blas.Operand t = GemmFixtures.TRANSPOSED;
        assertThat(Blas.wide(n, n, 128, 784, 512)).as("a linear layer's dX = dY·W").isTrue();
        assertThat(Blas.wide(t, n, 512, 784, 128)).as("its dW = dYᵀ·X").isTrue();
        assertThat(Blas.wide(n, t, 128, 512, 784)).as("its forward X·Wᵀ: B transposed, copied in panels").isTrue();
        assertThat(Blas.wide(n, t, 31, 512, 784)).as("B transposed under 32 rows").isFalse();
        assertThat(Blas.wide(n, n, 128, 10, 512)).as("columns not a multiple of 16").isFalse();
        assertThat(Blas.wide(n, n, 512, 512, 512)).as("an A of 256K elements").isTrue();
        assertThat(Blas.wide(n, n, 1024, 1024, 1024)).as("an A over 1 MB").isFalse();
        assertThat(Blas.wide(t, n, 512, 784, 129)).as("a transposed A over 256 KB").isFalse();
        assertThat(Blas.wide(n, n, 64, 512, 4096)).as("deeper than 2,048").isFalse();
    }
}
