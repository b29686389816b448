package io.jgrad.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** {@link Tensor#matmul(Tensor, Tensor)} and {@link Tensor#mm(Tensor, Tensor)}: PyTorch's {@code out=}. */
class MatMulOutTest {
    /** out filled with NaN first: a kernel that added into out instead of writing it would show. */
    private static Tensor nanLike(Tensor t) {
        return Tensor.full(t.dtype(), Double.NaN, t.shape().toArray());
    }

    private static void assertSameBits(Tensor got, Tensor want, String what) {
        assertThat(got.shape()).as(what).isEqualTo(want.shape());
        float[] g = got.to(DType.FLOAT32).toFloatArray();
        float[] w = want.to(DType.FLOAT32).toFloatArray();
        for (int i = 0; i < w.length; i++) {
            if (Float.floatToRawIntBits(g[i]) != Float.floatToRawIntBits(w[i])) {
                throw new AssertionError(what + ": element " + i + " is " + g[i] + ", matmul gives " + w[i]);
            }
        }
    }

    /** Shapes that reach every product path: tiny, few rows, dot products of rows, the tiles, the library. */
    private static final int[][] SHAPES = {
        {3, 4, 5}, {1, 7, 1}, {10, 784, 10}, {17, 128, 48}, {64, 64, 64}, {128, 784, 10}, {128, 784, 512},
        {300, 200, 100}, {512, 512, 512},
    };

    @Test
    void theProductIntoOutHasMatmulsBitsEveryTime() {
        Generator rng = Generator.seeded(5);
        for (int[] s : SHAPES) {
            Tensor a = Tensor.randn(rng, s[0], s[1]);
            Tensor b = Tensor.randn(rng, s[1], s[2]);
            Tensor want = a.matmul(b);
            Tensor out = nanLike(want);
            assertThat(a.matmul(b, out)).isSameAs(out);
            assertSameBits(out, want, java.util.Arrays.toString(s));
            a.matmul(b, out); // again into the same memory: written, not added to
            assertSameBits(out, want, java.util.Arrays.toString(s) + " again");
            // a linear layer's X·Wᵀ: the second operand a transposed view
            Tensor w = Tensor.randn(rng, s[2], s[1]);
            Tensor wantT = a.matmul(w.t());
            Tensor outT = nanLike(wantT);
            a.mm(w.t(), outT);
            assertSameBits(outT, wantT, java.util.Arrays.toString(s) + " with Bᵀ");
        }
    }

    @Test
    void batchesBroadcastAndFloat64() {
        Generator rng = Generator.seeded(6);
        Tensor a = Tensor.randn(rng, 2, 3, 4, 5);
        Tensor b = Tensor.randn(rng, 3, 5, 6);
        Tensor want = a.matmul(b);
        assertSameBits(a.matmul(b, nanLike(want)), want, "broadcast batch");
        Tensor shared = Tensor.randn(rng, 5, 6);
        Tensor wantShared = a.matmul(shared);
        assertSameBits(a.matmul(shared, nanLike(wantShared)), wantShared, "one matrix for every batch entry");
        Tensor a64 = Tensor.randn(rng, DType.FLOAT64, Shape.of(9, 13));
        Tensor b64 = Tensor.randn(rng, DType.FLOAT64, Shape.of(13, 7));
        Tensor want64 = a64.matmul(b64);
        Tensor out64 = a64.matmul(b64, nanLike(want64));
        assertThat(out64.toDoubleArray()).containsExactly(want64.toDoubleArray());
    }

    /** [..., n, k] @ [k, m] is one product of the rows stacked in matmul(other): the same with out, also for a non-contiguous A. */
    @Test
    void stackedRowsAreFoldedAsMatmulFoldsThem() {
        Generator rng = Generator.seeded(16);
        Tensor t = Tensor.randn(rng, 16, 8, 512);
        Tensor b = Tensor.randn(rng, 512, 512);
        for (Tensor a : new Tensor[] {t, t.transpose(0, 1)}) {
            Tensor want = a.matmul(b);
            assertSameBits(a.matmul(b, nanLike(want)), want, "rows of " + a.shape());
            Tensor across = Tensor.full(Double.NaN, want.shape().get(2), want.shape().get(1), want.shape().get(0));
            assertSameBits(a.matmul(b, across.permute(2, 1, 0)), want, "into a permuted out");
        }
    }

    @Test
    void anOutThatIsAViewIsWrittenAndNothingElse() {
        Generator rng = Generator.seeded(7);
        Tensor a = Tensor.randn(rng, 6, 8);
        Tensor b = Tensor.randn(rng, 8, 5);
        Tensor want = a.matmul(b);
        Tensor big = Tensor.full(-3, 3, 6, 5);
        a.matmul(b, big.select(0, 1)); // contiguous, at an offset
        assertSameBits(big.select(0, 1), want, "the middle block");
        assertThat(big.select(0, 0).toFloatArray()).containsOnly(-3f);
        assertThat(big.select(0, 2).toFloatArray()).containsOnly(-3f);
        Tensor columns = Tensor.full(-3, 5, 6); // a transposed view: not contiguous
        a.matmul(b, columns.t());
        assertSameBits(columns.t(), want, "a transposed out");
    }

    @Test
    void theReferenceBackendWritesTheSameValues() {
        Generator rng = Generator.seeded(8);
        double[] x = Tensor.randn(rng, DType.FLOAT64, Shape.of(5, 7)).toDoubleArray();
        double[] y = Tensor.randn(rng, DType.FLOAT64, Shape.of(7, 3)).toDoubleArray();
        Supplier<Tensor> run = () -> {
            Tensor a = Tensor.of(x, 5, 7);
            Tensor out = Tensor.zeros(DType.FLOAT64, 5, 3);
            return a.matmul(Tensor.of(y, 7, 3), out);
        };
        Tensor ref = Backends.with(Backends.reference(), run);
        assertThat(ref.backend()).isSameAs(Backends.reference());
        assertThat(ref.allClose(run.get(), 1e-12, 1e-14)).isTrue();
    }

    @Test
    void badOutsAreRefusedNamingWhatIsWrong() {
        Tensor a = Tensor.randn(Generator.seeded(9), 4, 3);
        Tensor b = Tensor.randn(Generator.seeded(10), 3, 2);
        assertThatThrownBy(() -> a.matmul(b, Tensor.zeros(2, 4))).isInstanceOf(ShapeException.class)
                .hasMessageContaining("out has shape [2, 4], the product [4, 2]");
        assertThatThrownBy(() -> a.matmul(b, Tensor.zeros(DType.FLOAT64, 4, 2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("out is float64, the product is float32");
        Tensor square = Tensor.randn(Generator.seeded(11), 3, 3);
        assertThatThrownBy(() -> square.matmul(square, square)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("shares memory with an operand");
        // two tensors over one array are two storages, but one memory: refused too
        float[] shared = new float[9];
        Tensor left = Tensor.wrapArray(shared, 3, 3);
        Tensor over = Tensor.wrapArray(shared, 3, 3);
        assertThatThrownBy(() -> left.matmul(square, over)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("shares memory with an operand");
        assertThatThrownBy(() -> square.matmul(left, over)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("shares memory with an operand");
        assertThat(square.matmul(left, Tensor.wrapArray(new float[9], 3, 3)).shape().toArray()).containsExactly(3, 3);
        assertThatThrownBy(() -> a.matmul(Tensor.randn(Generator.seeded(1), 4, 2), Tensor.zeros(4, 2)))
                .isInstanceOf(ShapeException.class).hasMessageContaining("inner dimensions differ");
        assertThatThrownBy(() -> a.matmul(Tensor.randn(Generator.seeded(1), 3), Tensor.zeros(4)))
                .isInstanceOf(ShapeException.class).hasMessageContaining("at least 2 dims");
        assertThatThrownBy(() -> a.mm(Tensor.randn(Generator.seeded(1), 2, 3, 2), Tensor.zeros(2, 4, 2)))
                .isInstanceOf(ShapeException.class).hasMessageContaining("mm: expects two matrices");
    }

    @Test
    void itRecordsNoGradientSoOperandsThatNeedOneAreRefusedOutsideNoGrad() {
        Tensor w = Tensor.randn(Generator.seeded(12), 3, 2).requiresGrad(true);
        Tensor x = Tensor.randn(Generator.seeded(13), 4, 3);
        Tensor out = Tensor.zeros(4, 2);
        assertThatThrownBy(() -> x.matmul(w, out)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("records no gradient");
        try (var s = Autograd.noGrad()) {
            assertThat(x.matmul(w, out).requiresGrad()).isFalse();
            assertSameBits(out, x.matmul(w), "under noGrad");
        }
        Tensor leaf = Tensor.zeros(4, 2).requiresGrad(true);
        assertThatThrownBy(() -> x.matmul(Tensor.randn(Generator.seeded(17), 3, 2), leaf))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("in-place update");
    }

    @Test
    void aGraphThatSavedOutNoticesTheWrite() {
        Tensor out = Tensor.zeros(4, 2);
        Tensor p = Tensor.randn(Generator.seeded(14), 4, 2).requiresGrad(true);
        Tensor loss = p.mul(out).sum(); // saves out for p's gradient
        Tensor.randn(Generator.seeded(15), 4, 3).matmul(Tensor.randn(Generator.seeded(16), 3, 2), out);
        assertThatThrownBy(loss::backward).hasMessageContaining("modified by an in-place operation");
    }
}
