package io.jgrad.core.cpu;

import static io.jgrad.core.cpu.Views.st;

import io.jgrad.core.backend.ScalarType;
import io.jgrad.core.backend.UpdateOp;
import io.jgrad.core.backend.View;

/**
 * The optimizers' in-place updates ({@link UpdateOp}). FLOAT32 tensors that are contiguous, with
 * contiguous operands, take loops in which every array shares one index where the operands start
 * where x does (the only form C2 vectorizes), in parallel blocks; anything else one element at a
 * time through the same float operations, or the op's scalar function for FLOAT64.
 */
final class Updates {
    private Updates() {}

    static void apply(UpdateOp op, View x, View a, View b, double alpha, double beta) {
        boolean fast = x.type() == ScalarType.FLOAT32 && x.isContiguous() && fastOperand(a) && fastOperand(b);
        if (fast) {
            float[] xs = st(x).f();
            float[] av = a == null ? null : st(a).f();
            float[] bv = b == null ? null : st(b).f();
            int ao = a == null ? 0 : a.offset() - x.offset();
            int bo = b == null ? 0 : b.offset() - x.offset();
            float al = (float) alpha;
            float be = (float) beta;
            int start = x.offset();
            Parallel.forRange(x.numel(), Elementwise.GRAIN,
                    (from, to) -> range(op, xs, av, ao, bv, bo, al, be, start + from, start + to));
            return;
        }
        int[] shape = x.shape();
        View none = new View(x.storage(), x.offset(), shape, new int[shape.length]);
        View av = a == null ? none : a;
        View bv = b == null ? none : b;
        ArrayStorage sx = st(x);
        ArrayStorage sa = st(av);
        ArrayStorage sb = st(bv);
        StridedLoop.forEach(shape, new int[][] {x.strides(), av.strides(), bv.strides()},
                new int[] {x.offset(), av.offset(), bv.offset()}, (off, n, st) -> {
                    for (int i = 0; i < n; i++) {
                        int xi = off[0] + i * st[0];
                        int ai = off[1] + i * st[1];
                        int bi = off[2] + i * st[2];
                        switch (x.type()) {
                            case FLOAT32 -> {
                                float[] xf = sx.f();
                                xf[xi] = single(op, xf[xi], (float) sa.get(ai), (float) sb.get(bi), (float) alpha,
                                        (float) beta);
                            }
                            case FLOAT64 -> sx.d[xi] = op.apply(sx.d[xi], sa.get(ai), sb.get(bi), alpha, beta);
                            case INT64 -> sx.l[xi] = (long) op.apply(sx.l[xi], sa.get(ai), sb.get(bi), alpha, beta);
                        }
                    }
                });
    }

    private static boolean fastOperand(View v) {
        return v == null || v.type() == ScalarType.FLOAT32 && v.isContiguous();
    }

    /** One FLOAT32 element: the update's float operations in its Javadoc's order. */
    private static float single(UpdateOp op, float x, float a, float b, float al, float be) {
        return switch (op) {
            case SCALE -> x * al;
            case ADD_SCALAR -> x + al;
            case ADD_SCALED -> x + al * a;
            case SCALE_ADD -> x * al + be * a;
            case ADD_PRODUCT -> x + al * a * b;
            case ADD_QUOTIENT -> x + al * a / b;
            case SQRT -> (float) Math.sqrt(x);
            case MAXIMUM -> Math.max(x, a);
            case CLAMP -> Math.min(Math.max(x, al), be);
        };
    }

    /** The fast path over x[from, to) (operands at x's index plus ao, bo). */
    private static void range(UpdateOp op, float[] x, float[] av, int ao, float[] bv, int bo, float al, float be,
                              int from, int end) {
        switch (op) {
            case SCALE -> {
                for (int i = from; i < end; i++) {
                    x[i] *= al;
                }
            }
            case ADD_SCALAR -> {
                for (int i = from; i < end; i++) {
                    x[i] += al;
                }
            }
            case ADD_SCALED -> {
                if (ao == 0) { // one index for all arrays: the form C2 vectorizes
                    for (int i = from; i < end; i++) {
                        x[i] += al * av[i];
                    }
                } else {
                    for (int i = from; i < end; i++) {
                        x[i] += al * av[i + ao];
                    }
                }
            }
            case SCALE_ADD -> {
                if (ao == 0) {
                    for (int i = from; i < end; i++) {
                        x[i] = x[i] * al + be * av[i];
                    }
                } else {
                    for (int i = from; i < end; i++) {
                        x[i] = x[i] * al + be * av[i + ao];
                    }
                }
            }
            case ADD_PRODUCT -> {
                if (ao == 0 && bo == 0) {
                    for (int i = from; i < end; i++) {
                        x[i] += al * av[i] * bv[i];
                    }
                } else {
                    for (int i = from; i < end; i++) {
                        x[i] += al * av[i + ao] * bv[i + bo];
                    }
                }
            }
            case ADD_QUOTIENT -> {
                if (ao == 0 && bo == 0) {
                    for (int i = from; i < end; i++) {
                        x[i] += al * av[i] / bv[i];
                    }
                } else {
                    for (int i = from; i < end; i++) {
                        x[i] += al * av[i + ao] / bv[i + bo];
                    }
                }
            }
            case SQRT -> {
                for (int i = from; i < end; i++) {
                    x[i] = (float) Math.sqrt(x[i]);
                }
            }
            case MAXIMUM -> {
                for (int i = from; i < end; i++) {
                    x[i] = Math.max(x[i], av[i + ao]);
                }
            }
            case CLAMP -> {
                for (int i = from; i < end; i++) {
                    x[i] = Math.min(Math.max(x[i], al), be);
                }
            }
        }
    }
}
