package io.jgrad.core.cpu;

import static io.jgrad.core.cpu.Views.st;

import io.jgrad.core.backend.ElementwiseOp;
import io.jgrad.core.backend.ScalarType;
import io.jgrad.core.backend.View;

/**
 * Elementwise kernels on arrays: unary maps, broadcasting binary maps, {@code where}, and
 * strided copies with type conversion. Hot cases (contiguous float add/sub/mul/div, a scalar
 * operand, relu) have their own loops so the JIT can vectorize them; every other op runs
 * through its scalar function ({@link ElementwiseOp}), so an op this class has never heard of
 * works too.
 */
final class Elementwise {
    /** Below this many elements a kernel runs on the calling thread. */
    static final int GRAIN = 1 << 16;

    private Elementwise() {}

    // ---------------------------------------------------------------- unary

    /** y = op(x) elementwise; p and q are POW's exponent and CLAMP's bounds. */
    static View unary(ElementwiseOp op, View x, double p, double q) {
        View deferred = Fused.unary(op, x);
        if (deferred != null) {
            return deferred;
        }
        if (x.type() == ScalarType.FLOAT32 && !x.isContiguous() && x.rank() > 0 && x.strides()[x.rank() - 1] == 1
                && x.numel() < GRAIN) {
            // a view with contiguous rows (a narrow of a gate block): row by row, without a copy first
            View out = Views.uninitialized(x.type(), x.shape());
            float[] in = st(x).f();
            float[] o = st(out).f();
            StridedLoop.forEach(x.shape(), new int[][] {out.strides(), x.strides()}, new int[] {0, x.offset()},
                    (off, n, st) -> {
                        if (st[1] == 1) {
                            unaryF(op, in, off[1] - off[0], o, off[0], off[0] + n, p, q);
                        } else {
                            for (int i = 0; i < n; i++) {
                                o[off[0] + i] = in[off[1] + i * st[1]];
                            }
                            unaryF(op, o, 0, o, off[0], off[0] + n, p, q);
                        }
                    });
            return out;
        }
        View c = Views.contiguous(x);
        View out = Views.uninitialized(x.type(), x.shape());
        int n = out.numel();
        ArrayStorage in = st(c);
        ArrayStorage o = st(out);
        int xo = c.offset();
        Parallel.forRange(n, GRAIN, (from, to) -> {
            switch (in.type()) {
                case FLOAT32 -> unaryF(op, in.f(), xo, o.f(), from, to, p, q);
                case FLOAT64 -> unaryD(op, in.d, xo, o.d, from, to, p, q);
                case INT64 -> unaryL(op, in.l, xo, o.l, from, to, p, q);
            }
        });
        return out;
    }

    private static void unaryF(ElementwiseOp op, float[] x, int xo, float[] y, int from, int to, double p, double q) {
        if (xo == 0 && unaryAlignedF(op, x, y, from, to, p, q)) {
            return;
        }
        if (FloatMath.handles(op)) {
            if (Simd.ENABLED) {
                SimdKernels.floatMath(op, x, xo + from, y, from, to - from);
            } else {
                FloatMath.apply(op, x, xo + from, y, from, to - from);
            }
            return;
        }
        switch (op) {
            case NEG -> {
                for (int i = from; i < to; i++) {
                    y[i] = -x[xo + i];
                }
            }
            case RELU -> {
                for (int i = from; i < to; i++) {
                    y[i] = Math.max(x[xo + i], 0f); // NaN stays NaN, as in PyTorch
                }
            }
            case ABS -> {
                for (int i = from; i < to; i++) {
                    y[i] = Math.abs(x[xo + i]);
                }
            }
            case CLAMP -> {
                float lo = (float) p;
                float hi = (float) q;
                for (int i = from; i < to; i++) {
                    y[i] = Math.min(Math.max(x[xo + i], lo), hi);
                }
            }
            default -> {
                for (int i = from; i < to; i++) {
                    y[i] = (float) op.unary(x[xo + i], p, q);
                }
            }
        }
    }

    /**
     * The vectorizable unary ops when input and output share their indices (the input starts at
     * offset 0): C2 in Java 17 vectorizes {@code y[i] = f(x[i])} but not {@code y[i] = f(x[xo + i])}
     * (it cannot rule out overlap), a 3-5x difference on large arrays. False if op has no such loop.
     */
    static boolean unaryAlignedF(ElementwiseOp op, float[] x, float[] y, int from, int to, double p, double q) {
        switch (op) {
            case NEG -> {
                for (int i = from; i < to; i++) {
                    y[i] = -x[i];
                }
            }
            case RELU -> {
                for (int i = from; i < to; i++) {
                    y[i] = Math.max(x[i], 0f);
                }
            }
            case ABS -> {
                for (int i = from; i < to; i++) {
                    y[i] = Math.abs(x[i]);
                }
            }
            case CLAMP -> {
                float lo = (float) p;
                float hi = (float) q;
                for (int i = from; i < to; i++) {
                    y[i] = Math.min(Math.max(x[i], lo), hi);
                }
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    private static void unaryD(ElementwiseOp op, double[] x, int xo, double[] y, int from, int to, double p, double q) {
        switch (op) {
            case NEG -> {
                for (int i = from; i < to; i++) {
                    y[i] = -x[xo + i];
                }
            }
            case RELU -> {
                for (int i = from; i < to; i++) {
                    y[i] = Math.max(x[xo + i], 0.0);
                }
            }
            default -> {
                for (int i = from; i < to; i++) {
                    y[i] = op.unary(x[xo + i], p, q);
                }
            }
        }
    }

    private static void unaryL(ElementwiseOp op, long[] x, int xo, long[] y, int from, int to, double p, double q) {
        for (int i = from; i < to; i++) {
            y[i] = op.unaryLong(x[xo + i], p, q);
        }
    }

    // ---------------------------------------------------------------- binary

    /** out = a op b, both broadcast to {@code shape}; a and b have the same type. */
    static View binary(ElementwiseOp op, View a, View b, int[] shape) {
        View deferred = Fused.binary(op, a, b, shape);
        if (deferred != null) {
            return deferred;
        }
        switch (op) {
            case RELU_BACKWARD -> {
                return reluBackward(a, b);
            }
            case SIGMOID_BACKWARD, TANH_BACKWARD -> {
                return activationBackward(op == ElementwiseOp.TANH_BACKWARD, a, b);
            }
            default -> { }
        }
        View out = Views.uninitialized(a.type(), shape);
        int[][] strides = {out.strides(), a.broadcastStrides(shape), b.broadcastStrides(shape)};
        int[] offsets = {0, a.offset(), b.offset()};
        ArrayStorage so = st(out);
        ArrayStorage sa = st(a);
        ArrayStorage sb = st(b);
        if (out.numel() >= GRAIN && a.isContiguous() && b.isContiguous() && java.util.Arrays.equals(a.shape(), b.shape())) {
            Parallel.forRange(out.numel(), GRAIN, (from, to) -> binaryRow(op, so, from, sa, a.offset() + from, 1,
                    sb, b.offset() + from, 1, to - from));
            return out;
        }
        int last = shape.length - 1;
        if (out.numel() >= GRAIN && last >= 0 && shape[last] > 1 && a.isContiguous() && java.util.Arrays.equals(a.shape(), shape)
                && b.isContiguous() && b.numel() == shape[last] && b.shape()[b.shape().length - 1] == shape[last]) {
            // a row (a bias) applied to every row of a: rows in parallel
            int n = shape[last];
            Parallel.forRange(out.numel() / n, Math.max(1, GRAIN / n), (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    binaryRow(op, so, r * n, sa, a.offset() + r * n, 1, sb, b.offset(), 1, n);
                }
            });
            return out;
        }
        StridedLoop.forEach(shape, strides, offsets, (off, n, st) ->
                binaryRow(op, so, off[0], sa, off[1], st[1], sb, off[2], st[2], n));
        return out;
    }

    private static void binaryRow(ElementwiseOp op, ArrayStorage o, int oo, ArrayStorage a, int ao, int as, ArrayStorage b, int bo, int bs, int n) {
        switch (o.type()) {
            case FLOAT32 -> binaryF(op, a.f(), ao, as, b.f(), bo, bs, o.f(), oo, n);
            case FLOAT64 -> binaryD(op, a.d, ao, as, b.d, bo, bs, o.d, oo, n);
            case INT64 -> binaryL(op, a.l, ao, as, b.l, bo, bs, o.l, oo, n);
        }
    }

    private static boolean commutes(ElementwiseOp op) {
        return op == ElementwiseOp.ADD || op == ElementwiseOp.MUL || op == ElementwiseOp.MAXIMUM || op == ElementwiseOp.MINIMUM;
    }

    private static void binaryF(ElementwiseOp op, float[] a, int ao, int as, float[] b, int bo, int bs, float[] o, int oo, int n) {
        if (as == 0 && bs == 1 && commutes(op)) {
            binaryF(op, b, bo, bs, a, ao, as, o, oo, n); // x op y == y op x exactly for these
            return;
        }
        if (as == 1 && bs == 1 && ao == oo && bo == oo && binaryAlignedF(op, a, b, o, oo, oo + n)) {
            return;
        }
        if (as == 1 && bs == 0 && ao == oo && scalarAlignedF(op, a, b[bo], o, oo, oo + n)) {
            return;
        }
        ElementwiseOp vectorized = Simd.ENABLED && (op == ElementwiseOp.ADD || op == ElementwiseOp.SUB || op == ElementwiseOp.MUL) ? op : null;
        if (vectorized != null && as == 1 && bs == 1) { // any offsets (C2 vectorizes only shared indices)
            SimdKernels.binary(vectorized, a, ao, b, bo, o, oo, n);
            return;
        }
        if (vectorized != null && as == 1 && bs == 0) {
            SimdKernels.arrayScalar(vectorized, a, ao, b[bo], o, oo, n);
            return;
        }
        if (as == 1 && bs == 1) {
            switch (op) {
                case ADD -> {
                    for (int i = 0; i < n; i++) {
                        o[oo + i] = a[ao + i] + b[bo + i];
                    }
                    return;
                }
                case SUB -> {
                    for (int i = 0; i < n; i++) {
                        o[oo + i] = a[ao + i] - b[bo + i];
                    }
                    return;
                }
                case MUL -> {
                    for (int i = 0; i < n; i++) {
                        o[oo + i] = a[ao + i] * b[bo + i];
                    }
                    return;
                }
                case DIV -> {
                    for (int i = 0; i < n; i++) {
                        o[oo + i] = a[ao + i] / b[bo + i];
                    }
                    return;
                }
                default -> { }
            }
        } else if (as == 1 && bs == 0) {
            float s = b[bo];
            switch (op) {
                case ADD -> {
                    for (int i = 0; i < n; i++) {
                        o[oo + i] = a[ao + i] + s;
                    }
                    return;
                }
                case MUL -> {
                    for (int i = 0; i < n; i++) {
                        o[oo + i] = a[ao + i] * s;
                    }
                    return;
                }
                case SUB -> {
                    for (int i = 0; i < n; i++) {
                        o[oo + i] = a[ao + i] - s;
                    }
                    return;
                }
                case DIV -> {
                    for (int i = 0; i < n; i++) {
                        o[oo + i] = a[ao + i] / s;
                    }
                    return;
                }
                case GT -> {
                    for (int i = 0; i < n; i++) {
                        o[oo + i] = a[ao + i] > s ? 1f : 0f;
                    }
                    return;
                }
                default -> { }
            }
        }
        for (int i = 0; i < n; i++) {
            float x = a[ao + i * as];
            float y = b[bo + i * bs];
            o[oo + i] = switch (op) {
                case ADD -> x + y;
                case SUB -> x - y;
                case MUL -> x * y;
                case DIV -> x / y;
                case MAXIMUM -> Math.max(x, y);
                case MINIMUM -> Math.min(x, y);
                case GT -> x > y ? 1f : 0f;
                case GE -> x >= y ? 1f : 0f;
                case LT -> x < y ? 1f : 0f;
                case LE -> x <= y ? 1f : 0f;
                case EQ -> x == y ? 1f : 0f;
                case NE -> x != y ? 1f : 0f;
                default -> (float) op.binary(x, y);
            };
        }
    }

    /** o[i] = a[i] op b[i] over [from, to), one index for all three so that C2 vectorizes it (see {@link #unaryAlignedF}). */
    static boolean binaryAlignedF(ElementwiseOp op, float[] a, float[] b, float[] o, int from, int to) {
        switch (op) {
            case ADD -> {
                for (int i = from; i < to; i++) {
                    o[i] = a[i] + b[i];
                }
            }
            case SUB -> {
                for (int i = from; i < to; i++) {
                    o[i] = a[i] - b[i];
                }
            }
            case MUL -> {
                for (int i = from; i < to; i++) {
                    o[i] = a[i] * b[i];
                }
            }
            case DIV -> {
                for (int i = from; i < to; i++) {
                    o[i] = a[i] / b[i];
                }
            }
            case MAXIMUM -> {
                for (int i = from; i < to; i++) {
                    o[i] = Math.max(a[i], b[i]);
                }
            }
            case MINIMUM -> {
                for (int i = from; i < to; i++) {
                    o[i] = Math.min(a[i], b[i]);
                }
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    /** o[i] = a[i] op s over [from, to), one index for both arrays. */
    static boolean scalarAlignedF(ElementwiseOp op, float[] a, float s, float[] o, int from, int to) {
        switch (op) {
            case ADD -> {
                for (int i = from; i < to; i++) {
                    o[i] = a[i] + s;
                }
            }
            case SUB -> {
                for (int i = from; i < to; i++) {
                    o[i] = a[i] - s;
                }
            }
            case MUL -> {
                for (int i = from; i < to; i++) {
                    o[i] = a[i] * s;
                }
            }
            case DIV -> {
                for (int i = from; i < to; i++) {
                    o[i] = a[i] / s;
                }
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    private static void binaryD(ElementwiseOp op, double[] a, int ao, int as, double[] b, int bo, int bs, double[] o, int oo, int n) {
        if (as == 1 && bs == 1 && (op == ElementwiseOp.ADD || op == ElementwiseOp.MUL)) {
            if (op == ElementwiseOp.ADD) {
                for (int i = 0; i < n; i++) {
                    o[oo + i] = a[ao + i] + b[bo + i];
                }
            } else {
                for (int i = 0; i < n; i++) {
                    o[oo + i] = a[ao + i] * b[bo + i];
                }
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            double x = a[ao + i * as];
            double y = b[bo + i * bs];
            o[oo + i] = switch (op) {
                case ADD -> x + y;
                case SUB -> x - y;
                case MUL -> x * y;
                case DIV -> x / y;
                case MAXIMUM -> Math.max(x, y);
                case MINIMUM -> Math.min(x, y);
                default -> op.binary(x, y);
            };
        }
    }

    private static void binaryL(ElementwiseOp op, long[] a, int ao, int as, long[] b, int bo, int bs, long[] o, int oo, int n) {
        for (int i = 0; i < n; i++) {
            long x = a[ao + i * as];
            long y = b[bo + i * bs];
            o[oo + i] = op.binaryLong(x, y);
        }
    }

    /** out = x <= 0 ? 0 : dOut (relu's backward in one pass; dOut may broadcast, e.g. the expanded 1 of a sum). */
    private static View reluBackward(View dOut, View x) {
        View out = Views.uninitialized(dOut.type(), x.shape());
        int[][] strides = {out.strides(), dOut.broadcastStrides(x.shape()), x.strides()};
        int[] offsets = {0, dOut.offset(), x.offset()};
        ArrayStorage so = st(out);
        ArrayStorage sg = st(dOut);
        ArrayStorage sx = st(x);
        StridedLoop.forEach(x.shape(), strides, offsets, (off, n, st) -> {
            int oo = off[0];
            int go = off[1];
            int gs = st[1];
            int xo = off[2];
            int xs = st[2];
            if (so.type() == ScalarType.FLOAT32 && xs == 1) {
                float[] o = so.f();
                float[] g = sg.f();
                float[] xv = sx.f();
                Parallel.forRange(n, GRAIN, (from, to) -> {
                    if (Simd.ENABLED && gs == 1) {
                        SimdKernels.reluBackward(g, go + from, xv, xo + from, o, oo + from, to - from);
                    } else if (Simd.ENABLED && gs == 0) {
                        SimdKernels.reluBackward(g[go], xv, xo + from, o, oo + from, to - from);
                    } else {
                        for (int i = from; i < to; i++) {
                            o[oo + i] = Float.intBitsToFloat(Float.floatToRawIntBits(g[go + i * gs])
                                    & reluMask(xv[xo + i]));
                        }
                    }
                });
                return;
            }
            for (int i = 0; i < n; i++) {
                so.set(oo + i, sx.get(xo + i * xs) <= 0 ? 0 : sg.get(go + i * gs));
            }
        });
        return out;
    }

    /**
     * The backward of sigmoid (dOut·y·(1 − y)) or tanh (dOut·(1 − y²)) from the forward's output
     * y, in one pass: the bits of those products computed op by op, (dOut·y)·(1 − y) and
     * dOut·(1 − y·y). dOut and y have one shape and dtype, any strides.
     */
    static View activationBackward(boolean tanh, View dOut, View y) {
        View out = Views.uninitialized(y.type(), y.shape());
        int[][] strides = {out.strides(), dOut.strides(), y.strides()};
        int[] offsets = {0, dOut.offset(), y.offset()};
        ArrayStorage so = st(out);
        ArrayStorage sg = st(dOut);
        ArrayStorage sy = st(y);
        StridedLoop.forEach(y.shape(), strides, offsets, (off, n, st) -> {
            int oo = off[0];
            int go = off[1];
            int gs = st[1];
            int yo = off[2];
            int ys = st[2];
            if (so.type() == ScalarType.FLOAT32) {
                float[] o = so.f();
                float[] g = sg.f();
                float[] yv = sy.f();
                if (Simd.ENABLED && gs == 1 && ys == 1) {
                    SimdKernels.activationBackward(tanh, g, go, yv, yo, o, oo, n);
                } else if (tanh) {
                    for (int i = 0; i < n; i++) {
                        float v = yv[yo + i * ys];
                        o[oo + i] = g[go + i * gs] * (1 - v * v);
                    }
                } else {
                    for (int i = 0; i < n; i++) {
                        float v = yv[yo + i * ys];
                        o[oo + i] = g[go + i * gs] * v * (1 - v);
                    }
                }
                return;
            }
            for (int i = 0; i < n; i++) {
                double v = sy.get(yo + i * ys);
                double d = sg.get(go + i * gs);
                so.set(oo + i, tanh ? d * (1 - v * v) : d * v * (1 - v));
            }
        });
        return out;
    }

    /**
     * All ones where relu passes the gradient, that is where {@code !(x <= 0)}: x > 0 or x is a
     * NaN of either sign (PyTorch's threshold_backward), else 0. Branch-free, because a
     * data-dependent branch on random signs mispredicts half the time and costs ten times the loop.
     */
    static int reluMask(float x) {
        int b = Float.floatToRawIntBits(x);
        int positive = ((-b) & ~b) >> 31; // the sign of -b is set iff b > 0 as an int; "& ~b" excludes b = MIN_VALUE (-0.0)
        int nan = (0x7f800000 - (b & 0x7fffffff)) >> 31; // negative iff the magnitude's bits exceed infinity's
        return positive | nan;
    }

    // ---------------------------------------------------------------- where, copy

    /** out = cond != 0 ? a : b, all three broadcast to {@code shape}; a and b share a type. */
    static View where(View cond, View a, View b, int[] shape) {
        View out = Views.uninitialized(a.type(), shape);
        int[][] strides = {out.strides(), cond.broadcastStrides(shape),
                a.broadcastStrides(shape), b.broadcastStrides(shape)};
        int[] offsets = {0, cond.offset(), a.offset(), b.offset()};
        ArrayStorage so = st(out);
        ArrayStorage sc = st(cond);
        ArrayStorage sa = st(a);
        ArrayStorage sb = st(b);
        StridedLoop.forEach(shape, strides, offsets, (off, n, st) -> {
            for (int i = 0; i < n; i++) {
                boolean c = sc.get(off[1] + i * st[1]) != 0;
                int src = c ? off[2] + i * st[2] : off[3] + i * st[3];
                ArrayStorage from = c ? sa : sb;
                switch (so.type()) {
                    case FLOAT32 -> so.f()[off[0] + i] = from.f()[src];
                    case FLOAT64 -> so.d[off[0] + i] = from.d[src];
                    case INT64 -> so.l[off[0] + i] = from.l[src];
                }
            }
        });
        return out;
    }

    /**
     * Copies {@code src} (any strides, broadcast to dst's shape) into {@code dst}'s elements,
     * converting the dtype; dst may itself be a strided view.
     */
    static void copy(View src, View dst) {
        if (transposingCopy(src, dst)) {
            return;
        }
        int[][] strides = {dst.strides(), src.broadcastStrides(dst.shape())};
        int[] offsets = {dst.offset(), src.offset()};
        ArrayStorage d = st(dst);
        ArrayStorage s = st(src);
        StridedLoop.forEach(dst.shape(), strides, offsets, (off, n, st) -> copyRow(s, off[1], st[1], d, off[0], st[0], n));
    }

    /**
     * The copy of a float32 view whose last two dims are transposed (a convolution's [N, HW, C]
     * result read as [N, C, HW]) into a contiguous tensor, in 32×32 tiles so that reads and
     * writes both stay within cache lines. Returns false, doing nothing, for any other copy.
     */
    private static boolean transposingCopy(View src, View dst) {
        int r = dst.shape().length;
        if (r < 2 || src.type() != ScalarType.FLOAT32 || dst.type() != ScalarType.FLOAT32 || !dst.isContiguous()
                || !java.util.Arrays.equals(src.shape(), dst.shape())) {
            return false;
        }
        int rows = src.shape()[r - 2];
        int cols = src.shape()[r - 1];
        int rowStride = src.strides()[r - 2];
        int colStride = src.strides()[r - 1];
        if (rowStride != 1 || colStride < rows || rows < 8 || cols < 8) {
            return false;
        }
        int batches = View.prod(src.shape(), 0, r - 2);
        int[] batchShape = java.util.Arrays.copyOf(src.shape(), r - 2);
        float[] in = st(src).f();
        float[] out = st(dst).f();
        int plane = rows * cols;
        Parallel.forRange(batches, Math.max(1, GRAIN / plane), (from, to) -> {
            for (int b = from; b < to; b++) {
                int so = src.offset();
                for (int d = r - 3, rest = b; d >= 0; d--) {
                    so += (rest % batchShape[d]) * src.strides()[d];
                    rest /= batchShape[d];
                }
                int dof = dst.offset() + b * plane;
                for (int i0 = 0; i0 < rows; i0 += 32) {
                    int i1 = Math.min(rows, i0 + 32);
                    for (int j0 = 0; j0 < cols; j0 += 32) {
                        int j1 = Math.min(cols, j0 + 32);
                        for (int i = i0; i < i1; i++) {
                            for (int j = j0; j < j1; j++) {
                                out[dof + i * cols + j] = in[so + i + j * colStride];
                            }
                        }
                    }
                }
            }
        });
        return true;
    }

    /**
     * dst += alpha · src, in place; src (dst's type) broadcasts to dst's shape, and dst may be a
     * strided view (a window of a gradient being summed). Each element's sum is the one
     * {@code dst.add(src.mul(alpha))} computes (for alpha 1, {@code dst.add(src)}).
     */
    static void addInPlace(View src, View dst, double alpha) {
        // dims in dst's memory order (each element's sum is its own, so the order is free): a
        // transposed sum and a gradient of its layout then merge into one unit-stride row
        int r = dst.shape().length;
        int[] srcStrides = src.broadcastStrides(dst.shape());
        int[] order = new int[r];
        for (int i = 0; i < r; i++) {
            order[i] = i;
        }
        for (int i = 1; i < r; i++) { // insertion sort by descending dst stride, stable
            for (int j = i; j > 0 && dst.strides()[order[j]] > dst.strides()[order[j - 1]]; j--) {
                int t = order[j];
                order[j] = order[j - 1];
                order[j - 1] = t;
            }
        }
        int[] shape = new int[r];
        int[][] strides = new int[2][r];
        for (int i = 0; i < r; i++) {
            shape[i] = dst.shape()[order[i]];
            strides[0][i] = dst.strides()[order[i]];
            strides[1][i] = srcStrides[order[i]];
        }
        int[] offsets = {dst.offset(), src.offset()};
        ArrayStorage d = st(dst);
        ArrayStorage s = st(src);
        StridedLoop.forEach(shape, strides, offsets, (off, n, st) -> {
            if (alpha == 1) {
                addRow(s, off[1], st[1], d, off[0], st[0], n);
            } else {
                addScaledRow(s, off[1], st[1], d, off[0], st[0], n, alpha);
            }
        });
    }

    private static void addRow(ArrayStorage s, int so, int ss, ArrayStorage d, int dof, int ds, int n) {
        if (ds == 1) { // the output pass of binaryRow, reading and writing dst's row
            binaryRow(ElementwiseOp.ADD, d, dof, d, dof, 1, s, so, ss, n);
            return;
        }
        switch (d.type()) {
            case FLOAT32 -> {
                float[] dv = d.f();
                float[] sv = s.f();
                for (int i = 0; i < n; i++) {
                    dv[dof + i * ds] += sv[so + i * ss];
                }
            }
            case FLOAT64 -> {
                for (int i = 0; i < n; i++) {
                    d.d[dof + i * ds] += s.d[so + i * ss];
                }
            }
            case INT64 -> {
                for (int i = 0; i < n; i++) {
                    d.l[dof + i * ds] += s.l[so + i * ss];
                }
            }
        }
    }

    /** d += alpha · s along a row, alpha and the product rounded to d's type first. */
    private static void addScaledRow(ArrayStorage s, int so, int ss, ArrayStorage d, int dof, int ds, int n, double alpha) {
        switch (d.type()) {
            case FLOAT32 -> {
                float[] dv = d.f();
                float[] sv = s.f();
                float al = (float) alpha;
                if (ds == 1 && ss == 1) {
                    for (int i = 0; i < n; i++) {
                        dv[dof + i] += al * sv[so + i];
                    }
                } else {
                    for (int i = 0; i < n; i++) {
                        dv[dof + i * ds] += al * sv[so + i * ss];
                    }
                }
            }
            case FLOAT64 -> {
                for (int i = 0; i < n; i++) {
                    d.d[dof + i * ds] += alpha * s.d[so + i * ss];
                }
            }
            case INT64 -> {
                for (int i = 0; i < n; i++) {
                    d.l[dof + i * ds] = (long) (d.l[dof + i * ds] + alpha * s.l[so + i * ss]);
                }
            }
        }
    }

    private static void copyRow(ArrayStorage s, int so, int ss, ArrayStorage d, int dof, int ds, int n) {
        if (s.type() == d.type() && ss == 1 && ds == 1) {
            switch (s.type()) {
                case FLOAT32 -> System.arraycopy(s.f(), so, d.f(), dof, n);
                case FLOAT64 -> System.arraycopy(s.d, so, d.d, dof, n);
                case INT64 -> System.arraycopy(s.l, so, d.l, dof, n);
            }
            return;
        }
        if (s.type() == ScalarType.FLOAT32 && d.type() == ScalarType.FLOAT32) {
            float[] dv = d.f();
            float[] sv = s.f();
            for (int i = 0; i < n; i++) {
                dv[dof + i * ds] = sv[so + i * ss];
            }
            return;
        }
        if (d.type() == ScalarType.INT64 && s.type() == ScalarType.INT64) {
            for (int i = 0; i < n; i++) {
                d.l[dof + i * ds] = s.l[so + i * ss];
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            d.set(dof + i * ds, s.get(so + i * ss));
        }
    }
}
