package io.jgrad.core;

/**
 * Elementwise kernels on raw arrays: unary maps, broadcasting binary maps, {@code where}, and
 * strided copies with dtype conversion. They record nothing in the graph; {@link Tensor}'s
 * methods wrap them with their gradients. Hot cases (contiguous float add/sub/mul/div, a
 * scalar operand, relu) have their own loops so the JIT can vectorize them; the rest go
 * through one generic loop per dtype.
 */
final class Elementwise {
    /** Below this many elements a kernel runs on the calling thread. */
    static final int GRAIN = 1 << 16;

    enum Unary { NEG, EXP, LOG, SQRT, ABS, TANH, SIGMOID, RELU, SIGN, RECIPROCAL, POW, CLAMP, LOG1P, SIN, COS, ERF }

    enum Binary {
        ADD, SUB, MUL, DIV, MAX, MIN, POW, GT, GE, LT, LE, EQ, NE;

        boolean isComparison() {
            return ordinal() >= GT.ordinal();
        }
    }

    private Elementwise() {}

    // ---------------------------------------------------------------- unary

    /** y = op(x) elementwise; p and q are POW's exponent and CLAMP's bounds. */
    static Tensor unary(Unary op, Tensor x, double p, double q) {
        Tensor deferred = Fused.unary(op, x);
        if (deferred != null) {
            return deferred;
        }
        if (x.dtype() == DType.FLOAT32 && !x.isContiguous() && x.dim() > 0 && x.strides[x.dim() - 1] == 1
                && x.numel() < GRAIN) {
            // a view with contiguous rows (a narrow of a gate block): row by row, without a copy first
            Tensor out = Tensor.empty(x.dtype(), x.shape);
            float[] in = x.storage.f();
            float[] o = out.storage.f();
            StridedLoop.forEach(x.shape, new int[][] {out.strides, x.strides}, new int[] {0, x.offset},
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
        Tensor c = x.contiguousNoGrad();
        Tensor out = Tensor.empty(x.dtype(), x.shape);
        int n = out.numel();
        Storage in = c.storage;
        Storage o = out.storage;
        int xo = c.offset;
        Parallel.forRange(n, GRAIN, (from, to) -> {
            switch (in.dtype) {
                case FLOAT32 -> unaryF(op, in.f(), xo, o.f(), from, to, p, q);
                case FLOAT64 -> unaryD(op, in.d, xo, o.d, from, to, p, q);
                case INT64 -> unaryL(op, in.l, xo, o.l, from, to, p, q);
            }
        });
        return out;
    }

    private static void unaryF(Unary op, float[] x, int xo, float[] y, int from, int to, double p, double q) {
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
                    y[i] = (float) apply(op, x[xo + i], p, q);
                }
            }
        }
    }

    /**
     * The vectorizable unary ops when input and output share their indices (the input starts at
     * offset 0): C2 in Java 17 vectorizes {@code y[i] = f(x[i])} but not {@code y[i] = f(x[xo + i])}
     * (it cannot rule out overlap), a 3-5x difference on large arrays. False if op has no such loop.
     */
    static boolean unaryAlignedF(Unary op, float[] x, float[] y, int from, int to, double p, double q) {
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

    private static void unaryD(Unary op, double[] x, int xo, double[] y, int from, int to, double p, double q) {
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
                    y[i] = apply(op, x[xo + i], p, q);
                }
            }
        }
    }

    private static void unaryL(Unary op, long[] x, int xo, long[] y, int from, int to, double p, double q) {
        for (int i = from; i < to; i++) {
            long v = x[xo + i];
            y[i] = switch (op) {
                case NEG -> -v;
                case ABS -> Math.abs(v);
                case RELU -> Math.max(v, 0L);
                case SIGN -> Long.signum(v);
                case CLAMP -> (long) Math.min(Math.max(v, p), q);
                case POW -> (long) Math.pow(v, p);
                default -> throw new IllegalArgumentException(op + " is not defined for int64");
            };
        }
    }

    /** The scalar function behind each unary op, in double precision. */
    static double apply(Unary op, double v, double p, double q) {
        return switch (op) {
            case NEG -> -v;
            case EXP -> Math.exp(v);
            case LOG -> Math.log(v);
            case SQRT -> Math.sqrt(v);
            case ABS -> Math.abs(v);
            case TANH -> Math.tanh(v);
            case SIGMOID -> v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)); // no overflow either side
            case RELU -> Math.max(v, 0.0);
            case SIGN -> Math.signum(v);
            case RECIPROCAL -> 1 / v;
            case POW -> p == 2 ? v * v : Math.pow(v, p);
            case CLAMP -> Math.min(Math.max(v, p), q);
            case LOG1P -> Math.log1p(v);
            case SIN -> Math.sin(v);
            case COS -> Math.cos(v);
            case ERF -> erf(v);
        };
    }

    /**
     * The error function to about 1e-15 relative: for |x| < 3 the series
     * 2/√π·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)), whose terms are all positive (no cancellation);
     * beyond, 1 − erfc(x) with erfc's continued fraction.
     */
    static double erf(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double a = Math.abs(x);
        double r;
        if (a < 3) {
            double term = a;
            double sum = a;
            double twoX2 = 2 * a * a;
            for (int n = 0; n < 200 && term > sum * 1e-17; n++) {
                term *= twoX2 / (2 * n + 3);
                sum += term;
            }
            r = 2 / Math.sqrt(Math.PI) * Math.exp(-a * a) * sum;
        } else if (a < 27) {
            double f = a; // erfc(a) = e^(−a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + ...))))
            for (int k = 80; k >= 1; k--) {
                f = a + (k / 2.0) / f;
            }
            r = 1 - Math.exp(-a * a) / (Math.sqrt(Math.PI) * f);
        } else {
            r = 1;
        }
        return x < 0 ? -r : r;
    }

    // ---------------------------------------------------------------- binary

    /** out = a op b with NumPy broadcasting; a and b must already have the same dtype. */
    static Tensor binary(Binary op, Tensor a, Tensor b) {
        Tensor deferred = Fused.binary(op, a, b);
        if (deferred != null) {
            return deferred;
        }
        int[] shape = Shapes.broadcast(op.name().toLowerCase(java.util.Locale.ROOT), a.shape, b.shape);
        Tensor out = Tensor.empty(a.dtype(), shape);
        int[][] strides = {out.strides, StridedLoop.broadcastStrides(a, shape), StridedLoop.broadcastStrides(b, shape)};
        int[] offsets = {0, a.offset, b.offset};
        Storage so = out.storage;
        Storage sa = a.storage;
        Storage sb = b.storage;
        if (out.numel() >= GRAIN && a.isContiguous() && b.isContiguous() && java.util.Arrays.equals(a.shape, b.shape)) {
            Parallel.forRange(out.numel(), GRAIN, (from, to) -> binaryRow(op, so, from, sa, a.offset + from, 1,
                    sb, b.offset + from, 1, to - from));
            return out;
        }
        int last = shape.length - 1;
        if (out.numel() >= GRAIN && last >= 0 && shape[last] > 1 && a.isContiguous() && java.util.Arrays.equals(a.shape, shape)
                && b.isContiguous() && b.numel() == shape[last] && b.shape[b.shape.length - 1] == shape[last]) {
            // a row (a bias) applied to every row of a: rows in parallel
            int n = shape[last];
            Parallel.forRange(out.numel() / n, Math.max(1, GRAIN / n), (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    binaryRow(op, so, r * n, sa, a.offset + r * n, 1, sb, b.offset, 1, n);
                }
            });
            return out;
        }
        StridedLoop.forEach(shape, strides, offsets, (off, n, st) ->
                binaryRow(op, so, off[0], sa, off[1], st[1], sb, off[2], st[2], n));
        return out;
    }

    private static void binaryRow(Binary op, Storage o, int oo, Storage a, int ao, int as, Storage b, int bo, int bs, int n) {
        switch (o.dtype) {
            case FLOAT32 -> binaryF(op, a.f(), ao, as, b.f(), bo, bs, o.f(), oo, n);
            case FLOAT64 -> binaryD(op, a.d, ao, as, b.d, bo, bs, o.d, oo, n);
            case INT64 -> binaryL(op, a.l, ao, as, b.l, bo, bs, o.l, oo, n);
        }
    }

    private static boolean commutes(Binary op) {
        return op == Binary.ADD || op == Binary.MUL || op == Binary.MAX || op == Binary.MIN;
    }

    private static void binaryF(Binary op, float[] a, int ao, int as, float[] b, int bo, int bs, float[] o, int oo, int n) {
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
        Fused.Op vectorized = Simd.ENABLED ? Fused.Op.of(op) : null;
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
                case MAX -> Math.max(x, y);
                case MIN -> Math.min(x, y);
                case POW -> (float) Math.pow(x, y);
                case GT -> x > y ? 1f : 0f;
                case GE -> x >= y ? 1f : 0f;
                case LT -> x < y ? 1f : 0f;
                case LE -> x <= y ? 1f : 0f;
                case EQ -> x == y ? 1f : 0f;
                case NE -> x != y ? 1f : 0f;
            };
        }
    }

    /** o[i] = a[i] op b[i] over [from, to), one index for all three so that C2 vectorizes it (see {@link #unaryAlignedF}). */
    static boolean binaryAlignedF(Binary op, float[] a, float[] b, float[] o, int from, int to) {
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
            case MAX -> {
                for (int i = from; i < to; i++) {
                    o[i] = Math.max(a[i], b[i]);
                }
            }
            case MIN -> {
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
    static boolean scalarAlignedF(Binary op, float[] a, float s, float[] o, int from, int to) {
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

    private static void binaryD(Binary op, double[] a, int ao, int as, double[] b, int bo, int bs, double[] o, int oo, int n) {
        if (as == 1 && bs == 1 && (op == Binary.ADD || op == Binary.MUL)) {
            if (op == Binary.ADD) {
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
                case MAX -> Math.max(x, y);
                case MIN -> Math.min(x, y);
                case POW -> Math.pow(x, y);
                case GT -> x > y ? 1 : 0;
                case GE -> x >= y ? 1 : 0;
                case LT -> x < y ? 1 : 0;
                case LE -> x <= y ? 1 : 0;
                case EQ -> x == y ? 1 : 0;
                case NE -> x != y ? 1 : 0;
            };
        }
    }

    private static void binaryL(Binary op, long[] a, int ao, int as, long[] b, int bo, int bs, long[] o, int oo, int n) {
        for (int i = 0; i < n; i++) {
            long x = a[ao + i * as];
            long y = b[bo + i * bs];
            o[oo + i] = switch (op) {
                case ADD -> x + y;
                case SUB -> x - y;
                case MUL -> x * y;
                case DIV -> {
                    if (y == 0) {
                        throw new ArithmeticException("div: integer division by zero");
                    }
                    yield Math.floorDiv(x, y);
                }
                case MAX -> Math.max(x, y);
                case MIN -> Math.min(x, y);
                case POW -> (long) Math.pow(x, y);
                case GT -> x > y ? 1 : 0;
                case GE -> x >= y ? 1 : 0;
                case LT -> x < y ? 1 : 0;
                case LE -> x <= y ? 1 : 0;
                case EQ -> x == y ? 1 : 0;
                case NE -> x != y ? 1 : 0;
            };
        }
    }

    /** out = x <= 0 ? 0 : dOut (relu's backward in one pass; dOut may broadcast, e.g. the expanded 1 of a sum). */
    static Tensor reluBackward(Tensor dOut, Tensor x) {
        Tensor deferred = Fused.reluBackward(dOut, x);
        if (deferred != null) {
            return deferred;
        }
        Tensor out = Tensor.empty(dOut.dtype(), x.shape);
        int[][] strides = {out.strides, StridedLoop.broadcastStrides(dOut, x.shape), x.strides};
        int[] offsets = {0, dOut.offset, x.offset};
        Storage so = out.storage;
        Storage sg = dOut.storage;
        Storage sx = x.storage;
        StridedLoop.forEach(x.shape, strides, offsets, (off, n, st) -> {
            int oo = off[0];
            int go = off[1];
            int gs = st[1];
            int xo = off[2];
            int xs = st[2];
            if (so.dtype == DType.FLOAT32 && xs == 1) {
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
    static Tensor activationBackward(boolean tanh, Tensor dOut, Tensor y) {
        Tensor out = Tensor.empty(y.dtype(), y.shape);
        int[][] strides = {out.strides, dOut.strides, y.strides};
        int[] offsets = {0, dOut.offset, y.offset};
        Storage so = out.storage;
        Storage sg = dOut.storage;
        Storage sy = y.storage;
        StridedLoop.forEach(y.shape, strides, offsets, (off, n, st) -> {
            int oo = off[0];
            int go = off[1];
            int gs = st[1];
            int yo = off[2];
            int ys = st[2];
            if (so.dtype == DType.FLOAT32) {
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

    /** out = cond != 0 ? a : b, broadcasting all three; a and b share a dtype. */
    static Tensor where(Tensor cond, Tensor a, Tensor b) {
        int[] shape = Shapes.broadcast("where", Shapes.broadcast("where", cond.shape, a.shape), b.shape);
        Tensor out = Tensor.empty(a.dtype(), shape);
        int[][] strides = {out.strides, StridedLoop.broadcastStrides(cond, shape),
                StridedLoop.broadcastStrides(a, shape), StridedLoop.broadcastStrides(b, shape)};
        int[] offsets = {0, cond.offset, a.offset, b.offset};
        Storage so = out.storage;
        StridedLoop.forEach(shape, strides, offsets, (off, n, st) -> {
            for (int i = 0; i < n; i++) {
                boolean c = cond.storage.get(off[1] + i * st[1]) != 0;
                int src = c ? off[2] + i * st[2] : off[3] + i * st[3];
                Storage from = c ? a.storage : b.storage;
                switch (so.dtype) {
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
    static void copy(Tensor src, Tensor dst) {
        if (transposingCopy(src, dst)) {
            return;
        }
        int[][] strides = {dst.strides, StridedLoop.broadcastStrides(src, dst.shape)};
        int[] offsets = {dst.offset, src.offset};
        Storage d = dst.storage;
        Storage s = src.storage;
        StridedLoop.forEach(dst.shape, strides, offsets, (off, n, st) -> copyRow(s, off[1], st[1], d, off[0], st[0], n));
    }

    /**
     * The copy of a float32 view whose last two dims are transposed (a convolution's [N, HW, C]
     * result read as [N, C, HW]) into a contiguous tensor, in 32×32 tiles so that reads and
     * writes both stay within cache lines. Returns false, doing nothing, for any other copy.
     */
    private static boolean transposingCopy(Tensor src, Tensor dst) {
        int r = dst.shape.length;
        if (r < 2 || src.dtype() != DType.FLOAT32 || dst.dtype() != DType.FLOAT32 || !dst.isContiguous()
                || !java.util.Arrays.equals(src.shape, dst.shape)) {
            return false;
        }
        int rows = src.shape[r - 2];
        int cols = src.shape[r - 1];
        int rowStride = src.strides[r - 2];
        int colStride = src.strides[r - 1];
        if (rowStride != 1 || colStride < rows || rows < 8 || cols < 8) {
            return false;
        }
        int batches = Shapes.prod(src.shape, 0, r - 2);
        int[] batchShape = java.util.Arrays.copyOf(src.shape, r - 2);
        float[] in = src.storage.f();
        float[] out = dst.storage.f();
        int plane = rows * cols;
        Parallel.forRange(batches, Math.max(1, GRAIN / plane), (from, to) -> {
            for (int b = from; b < to; b++) {
                int so = src.offset;
                for (int d = r - 3, rest = b; d >= 0; d--) {
                    so += (rest % batchShape[d]) * src.strides[d];
                    rest /= batchShape[d];
                }
                int dof = dst.offset + b * plane;
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
     * dst += src, in place, for tensors of one shape and dtype; dst may be a strided view (a
     * window of a gradient being summed). The sum of each element is the one {@code dst.add(src)}
     * computes.
     */
    static void addInPlace(Tensor src, Tensor dst) {
        if (src.dtype() != dst.dtype() || !java.util.Arrays.equals(src.shape, dst.shape)) {
            throw new IllegalArgumentException("addInPlace: " + Shapes.str(src.shape) + " " + src.dtype() + " into "
                    + Shapes.str(dst.shape) + " " + dst.dtype());
        }
        dst.storage.beforeWrite();
        // dims in dst's memory order (each element's sum is its own, so the order is free): a
        // transposed sum and a gradient of its layout then merge into one unit-stride row
        int r = dst.shape.length;
        int[] order = new int[r];
        for (int i = 0; i < r; i++) {
            order[i] = i;
        }
        for (int i = 1; i < r; i++) { // insertion sort by descending dst stride, stable
            for (int j = i; j > 0 && dst.strides[order[j]] > dst.strides[order[j - 1]]; j--) {
                int t = order[j];
                order[j] = order[j - 1];
                order[j - 1] = t;
            }
        }
        int[] shape = new int[r];
        int[][] strides = new int[2][r];
        for (int i = 0; i < r; i++) {
            shape[i] = dst.shape[order[i]];
            strides[0][i] = dst.strides[order[i]];
            strides[1][i] = src.strides[order[i]];
        }
        int[] offsets = {dst.offset, src.offset};
        Storage d = dst.storage;
        Storage s = src.storage;
        StridedLoop.forEach(shape, strides, offsets, (off, n, st) -> addRow(s, off[1], st[1], d, off[0], st[0], n));
        d.version++;
    }

    private static void addRow(Storage s, int so, int ss, Storage d, int dof, int ds, int n) {
        if (ds == 1) { // the output pass of binaryRow, reading and writing dst's row
            binaryRow(Binary.ADD, d, dof, d, dof, 1, s, so, ss, n);
            return;
        }
        switch (d.dtype) {
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

    private static void copyRow(Storage s, int so, int ss, Storage d, int dof, int ds, int n) {
        if (s.dtype == d.dtype && ss == 1 && ds == 1) {
            switch (s.dtype) {
                case FLOAT32 -> System.arraycopy(s.f(), so, d.f(), dof, n);
                case FLOAT64 -> System.arraycopy(s.d, so, d.d, dof, n);
                case INT64 -> System.arraycopy(s.l, so, d.l, dof, n);
            }
            return;
        }
        if (s.dtype == DType.FLOAT32 && d.dtype == DType.FLOAT32) {
            float[] dv = d.f();
            float[] sv = s.f();
            for (int i = 0; i < n; i++) {
                dv[dof + i * ds] = sv[so + i * ss];
            }
            return;
        }
        if (d.dtype == DType.INT64 && s.dtype == DType.INT64) {
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
