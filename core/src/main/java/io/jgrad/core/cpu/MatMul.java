package io.jgrad.core.cpu;

import static io.jgrad.core.cpu.Views.st;

import io.jgrad.core.backend.ScalarType;
import io.jgrad.core.backend.View;

/** Matrix products of operands of rank >= 2 with broadcast batch dims, each one gemm call. */
final class MatMul {
    private MatMul() {}

    /** a [..., m, k] @ b [..., k, n] into a new view of {@code outShape} [batch..., m, n]. */
    static View forward(View a, View b, int[] outShape) {
        View out = Views.uninitialized(a.type(), outShape);
        into(a, b, out);
        return out;
    }

    /**
     * a [..., m, k] @ b [..., k, n] into {@code out}, a contiguous view of the products' shape
     * [batch..., m, n] (at any offset of its storage) that shares no storage with a or b.
     */
    static void into(View a, View b, View out) {
        int ra = a.shape().length;
        int rb = b.shape().length;
        int m = a.shape()[ra - 2];
        int k = a.shape()[ra - 1];
        int n = b.shape()[rb - 1];
        int[] batchA = java.util.Arrays.copyOf(a.shape(), ra - 2);
        int[] batch = java.util.Arrays.copyOf(out.shape(), out.shape().length - 2);
        if (out.numel() == 0) {
            return;
        }
        int at = out.offset();
        int batches = View.prod(batch, 0, batch.length);
        if (batches == 1) {
            Blas.gemm(matrix(a, ra, a.offset()), matrix(b, rb, b.offset()), st(out), at);
            return;
        }
        boolean bShared = isShared(b, rb, batch);
        if (bShared && a.isContiguous() && java.util.Arrays.equals(batchA, batch)) {
            // [batch..., m, k] @ [k, n] is one [batch*m, k] @ [k, n] product
            View a2 = new View(a.storage(), a.offset(), new int[] {batches * m, k}, new int[] {k, 1});
            Blas.gemm(a2, matrix(b, rb, b.offset()), st(out), at);
            return;
        }
        int[] sa = batchStrides(a, batch);
        int[] sb = batchStrides(b, batch);
        int[] idx = new int[batch.length];
        for (int i = 0; i < batches; i++) {
            int oa = a.offset();
            int ob = b.offset();
            for (int d = 0; d < batch.length; d++) {
                oa += idx[d] * sa[d];
                ob += idx[d] * sb[d];
            }
            Blas.gemm(matrix(a, ra, oa), matrix(b, rb, ob), st(out), at + i * m * n);
            for (int d = batch.length - 1; d >= 0; d--) {
                if (++idx[d] < batch[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
    }

    /** The 2-D matrix view of the last two dims of t, starting at {@code offset}. */
    private static View matrix(View t, int rank, int offset) {
        return new View(t.storage(), offset, new int[] {t.shape()[rank - 2], t.shape()[rank - 1]},
                new int[] {t.strides()[rank - 2], t.strides()[rank - 1]});
    }

    private static boolean isShared(View t, int rank, int[] batch) {
        int[] st = batchStrides(t, batch);
        for (int s : st) {
            if (s != 0) {
                return false;
            }
        }
        return true;
    }

    /** Strides of t's batch dims seen from the broadcast batch shape (0 where broadcast). */
    private static int[] batchStrides(View t, int[] batch) {
        int own = t.shape().length - 2;
        int lead = batch.length - own;
        int[] st = new int[batch.length];
        for (int d = 0; d < own; d++) {
            st[lead + d] = t.shape()[d] == 1 ? 0 : t.strides()[d];
        }
        return st;
    }
}
