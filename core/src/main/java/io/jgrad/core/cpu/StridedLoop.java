package io.jgrad.core.cpu;

import io.jgrad.core.backend.ScalarType;
import io.jgrad.core.backend.View;

/**
 * Walks an n-d index space in row-major order for several operands at once (operand 0 is
 * usually the contiguous output), handing each innermost row to a visitor. Size-1 dims are
 * dropped and dims that are contiguous in every operand are merged, so a contiguous op is one
 * row and a bias add over [128, 10] is 128 rows of 10.
 */
final class StridedLoop {
    /** Receives one innermost row: the start offset of each operand, the row length and each operand's stride in it. */
    interface Row {
        void visit(int[] offsets, int n, int[] strides);
    }

    private StridedLoop() {}

    static void forEach(int[] shape, int[][] strides, int[] offsets, Row row) {
        int ops = strides.length;
        for (int s : shape) {
            if (s == 0) {
                return;
            }
        }
        int[] dims = new int[shape.length];
        int[][] st = new int[ops][shape.length];
        int rank = 0;
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] == 1) {
                continue;
            }
            boolean merge = rank > 0;
            for (int k = 0; k < ops && merge; k++) {
                merge = st[k][rank - 1] == (long) strides[k][d] * shape[d];
            }
            if (merge) {
                dims[rank - 1] *= shape[d];
                for (int k = 0; k < ops; k++) {
                    st[k][rank - 1] = strides[k][d];
                }
            } else {
                dims[rank] = shape[d];
                for (int k = 0; k < ops; k++) {
                    st[k][rank] = strides[k][d];
                }
                rank++;
            }
        }
        int[] off = offsets.clone();
        int[] inner = new int[ops];
        if (rank == 0) {
            row.visit(off, 1, inner);
            return;
        }
        int n = dims[rank - 1];
        for (int k = 0; k < ops; k++) {
            inner[k] = st[k][rank - 1];
        }
        int outer = 1;
        for (int d = 0; d < rank - 1; d++) {
            outer *= dims[d];
        }
        int[] idx = new int[rank];
        for (int o = 0; o < outer; o++) {
            row.visit(off, n, inner);
            for (int d = rank - 2; d >= 0; d--) {
                idx[d]++;
                for (int k = 0; k < ops; k++) {
                    off[k] += st[k][d];
                }
                if (idx[d] < dims[d]) {
                    break;
                }
                for (int k = 0; k < ops; k++) {
                    off[k] -= st[k][d] * dims[d];
                }
                idx[d] = 0;
            }
        }
    }

    /** Strides of {@code t} as seen from a broadcast shape {@code shape} (0 where t has size 1 or no dim). */
    static int[] broadcastStrides(View t, int[] shape) {
        int[] out = new int[shape.length];
        int lead = shape.length - t.shape().length;
        for (int d = 0; d < t.shape().length; d++) {
            out[lead + d] = t.shape()[d] == 1 ? 0 : t.strides()[d];
        }
        return out;
    }
}
