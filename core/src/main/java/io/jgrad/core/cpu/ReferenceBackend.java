package io.jgrad.core.cpu;

import static io.jgrad.core.cpu.Views.st;

import io.jgrad.core.backend.Backend;
import io.jgrad.core.backend.ElementwiseOp;
import io.jgrad.core.backend.ScalarType;
import io.jgrad.core.backend.Storage;
import io.jgrad.core.backend.UpdateOp;
import io.jgrad.core.backend.View;
import io.jgrad.core.backend.Window;
import java.util.Arrays;
import java.util.Comparator;

/**
 * The reference backend: every kernel written the plainest way, one element at a time through
 * the ops' scalar functions, in double precision (long for INT64), rounded to the storage's type
 * once per result element; no fusion, no vectorized loops, no threads, no BLAS (a product is its
 * triple loop). It shares the CPU backend's memory ({@link ArrayStorage}), so tensors of the two
 * mix freely. Its use: the test that runs the whole op table on both backends and compares, and
 * {@code -Djgrad.backend=reference} to rule a kernel in or out when a result looks wrong.
 * FLOAT32 results may differ from the CPU backend's in the last bit or so (it rounds once, where
 * the CPU backend rounds each float operation and sums in other orders).
 */
public final class ReferenceBackend implements Backend {
    /** The one instance. */
    public static final ReferenceBackend INSTANCE = new ReferenceBackend();

    private ReferenceBackend() {}

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public String description() {
        return "reference: scalar loops in double precision, one thread";
    }

    @Override
    public String toString() {
        return name();
    }

    // ---------------------------------------------------------------- element access

    /** The storage offset of the element at {@code idx} of v, idx possibly longer than v's rank (broadcast from the left). */
    private static int at(View v, int[] idx) {
        int at = v.offset();
        int lead = idx.length - v.rank();
        for (int d = 0; d < v.rank(); d++) {
            if (v.shape()[d] != 1) {
                at += idx[lead + d] * v.strides()[d];
            }
        }
        return at;
    }

    private static double get(View v, int[] idx) {
        return st(v).get(at(v, idx));
    }

    private static long getLong(View v, int[] idx) {
        return st(v).getLong(at(v, idx));
    }

    /** Stores a double result in element i of s (rounded once to its type). */
    private static void put(ArrayStorage s, int i, double value) {
        s.set(i, value);
    }

    /** The next index of shape in row-major order; false after the last. */
    private static boolean next(int[] idx, int[] shape) {
        for (int d = shape.length - 1; d >= 0; d--) {
            if (++idx[d] < shape[d]) {
                return true;
            }
            idx[d] = 0;
        }
        return false;
    }

    private static int numel(int[] shape) {
        return View.prod(shape, 0, shape.length);
    }

    private ArrayStorage alloc(ScalarType type, int[] shape) {
        return ArrayStorage.allocate(this, type, numel(shape));
    }

    // ---------------------------------------------------------------- memory

    @Override
    public Storage allocate(ScalarType type, int length) {
        return ArrayStorage.allocate(this, type, length);
    }

    @Override
    public Storage wrap(float[] values) {
        return ArrayStorage.wrap(this, values);
    }

    @Override
    public Storage wrap(double[] values) {
        return ArrayStorage.wrap(this, values);
    }

    @Override
    public Storage wrap(long[] values) {
        return ArrayStorage.wrap(this, values);
    }

    @Override
    public float[] toFloatArray(View v) {
        ArrayStorage out = (ArrayStorage) contiguous(v, ScalarType.FLOAT32);
        return out.f();
    }

    @Override
    public double[] toDoubleArray(View v) {
        return ((ArrayStorage) contiguous(v, ScalarType.FLOAT64)).d;
    }

    @Override
    public long[] toLongArray(View v) {
        return ((ArrayStorage) contiguous(v, ScalarType.INT64)).l;
    }

    /** v's elements in row-major order in a new storage of {@code type}. */
    private Storage contiguous(View v, ScalarType type) {
        ArrayStorage out = alloc(type, v.shape());
        copy(v, View.of(out, v.shape()));
        return out;
    }

    @Override
    public void fill(View dst, double value) {
        st(dst).beforeWrite();
        int[] idx = new int[dst.rank()];
        if (dst.numel() == 0) {
            return;
        }
        do {
            st(dst).set(at(dst, idx), value);
        } while (next(idx, dst.shape()));
    }

    @Override
    public void copy(View src, View dst) {
        st(dst).beforeWrite();
        if (dst.numel() == 0) {
            return;
        }
        int[] idx = new int[dst.rank()];
        boolean ints = src.type() == ScalarType.INT64 && dst.type() == ScalarType.INT64;
        do {
            if (ints) {
                st(dst).l[at(dst, idx)] = getLong(src, idx);
            } else {
                st(dst).set(at(dst, idx), get(src, idx));
            }
        } while (next(idx, dst.shape()));
    }

    // ---------------------------------------------------------------- elementwise

    @Override
    public Storage unary(ElementwiseOp op, View x, double p, double q) {
        ArrayStorage out = alloc(x.type(), x.shape());
        if (x.numel() == 0) {
            return out;
        }
        int[] idx = new int[x.rank()];
        int i = 0;
        do {
            if (x.type() == ScalarType.INT64) {
                out.l[i++] = op.unaryLong(getLong(x, idx), p, q);
            } else {
                put(out, i++, op.unary(get(x, idx), p, q));
            }
        } while (next(idx, x.shape()));
        return out;
    }

    @Override
    public Storage binary(ElementwiseOp op, View a, View b, int[] shape) {
        ArrayStorage out = alloc(a.type(), shape);
        if (numel(shape) == 0) {
            return out;
        }
        int[] idx = new int[shape.length];
        int i = 0;
        do {
            if (a.type() == ScalarType.INT64) {
                out.l[i++] = op.binaryLong(getLong(a, idx), getLong(b, idx));
            } else {
                put(out, i++, op.binary(get(a, idx), get(b, idx)));
            }
        } while (next(idx, shape));
        return out;
    }

    @Override
    public Storage where(View cond, View a, View b, int[] shape) {
        ArrayStorage out = alloc(a.type(), shape);
        if (numel(shape) == 0) {
            return out;
        }
        int[] idx = new int[shape.length];
        int i = 0;
        do {
            View from = get(cond, idx) != 0 ? a : b;
            if (out.type() == ScalarType.INT64) {
                out.l[i++] = getLong(from, idx);
            } else {
                put(out, i++, get(from, idx));
            }
        } while (next(idx, shape));
        return out;
    }

    @Override
    public void addInPlace(View dst, View src, double alpha) {
        ArrayStorage d = st(dst);
        d.beforeWrite();
        if (dst.numel() == 0) {
            return;
        }
        int[] idx = new int[dst.rank()];
        do {
            int i = at(dst, idx);
            if (d.type() == ScalarType.INT64) {
                d.l[i] = (long) (d.l[i] + alpha * getLong(src, idx));
            } else {
                d.set(i, d.get(i) + alpha * get(src, idx));
            }
        } while (next(idx, dst.shape()));
    }

    @Override
    public void update(UpdateOp op, View x, View a, View b, double alpha, double beta) {
        ArrayStorage s = st(x);
        s.beforeWrite();
        if (x.numel() == 0) {
            return;
        }
        int[] idx = new int[x.rank()];
        do {
            int i = at(x, idx);
            s.set(i, op.apply(s.get(i), a == null ? 0 : get(a, idx), b == null ? 0 : get(b, idx), alpha, beta));
        } while (next(idx, x.shape()));
    }

    @Override
    public boolean allFinite(View x) {
        if (!x.type().isFloatingPoint() || x.numel() == 0) {
            return true;
        }
        int[] idx = new int[x.rank()];
        do {
            if (!Double.isFinite(get(x, idx))) {
                return false;
            }
        } while (next(idx, x.shape()));
        return true;
    }

    // ---------------------------------------------------------------- reductions

    /** x's shape without dims {@code drop} (sorted). */
    private static int[] without(int[] shape, int[] drop) {
        int[] out = new int[shape.length - drop.length];
        for (int d = 0, j = 0; d < shape.length; d++) {
            if (Arrays.binarySearch(drop, d) < 0) {
                out[j++] = shape[d];
            }
        }
        return out;
    }

    @Override
    public Storage sum(View x, int[] dims) {
        int[] outShape = without(x.shape(), dims);
        ArrayStorage out = alloc(x.type(), outShape);
        double[] acc = new double[out.length()];
        long[] lacc = new long[out.length()];
        if (x.numel() > 0) {
            int[] idx = new int[x.rank()];
            int[] o = new int[outShape.length];
            do {
                for (int d = 0, j = 0; d < idx.length; d++) {
                    if (Arrays.binarySearch(dims, d) < 0) {
                        o[j++] = idx[d];
                    }
                }
                int k = 0;
                for (int d = 0; d < o.length; d++) {
                    k = k * outShape[d] + o[d];
                }
                if (x.type() == ScalarType.INT64) {
                    lacc[k] += getLong(x, idx);
                } else {
                    acc[k] += get(x, idx);
                }
            } while (next(idx, x.shape()));
        }
        for (int k = 0; k < acc.length; k++) {
            if (x.type() == ScalarType.INT64) {
                out.l[k] = lacc[k];
            } else {
                put(out, k, acc[k]);
            }
        }
        return out;
    }

    /** Calls body with the offsets of every slice along dim: x's shape without dim, row-major. */
    private interface SliceBody {
        void slice(int slice, int[] base);
    }

    private static void forEachSlice(View x, int dim, SliceBody body) {
        int[] rest = x.shape().clone();
        rest[dim] = 1;
        int[] idx = new int[x.rank()];
        int slice = 0;
        do {
            body.slice(slice++, idx.clone());
        } while (next(idx, rest));
    }

    /** The storage offset of element j of the slice along dim that starts at base. */
    private static int along(View x, int[] base, int dim, int j) {
        int[] i = base.clone();
        i[dim] = j;
        return at(x, i);
    }

    /** Row-major position in x's shape of the element at {@code idx}. */
    private static int position(int[] shape, int[] idx) {
        int k = 0;
        for (int d = 0; d < shape.length; d++) {
            k = k * shape[d] + idx[d];
        }
        return k;
    }

    @Override
    public Storage[] extreme(View x, int dim, boolean max) {
        int[] outShape = without(x.shape(), new int[] {dim});
        ArrayStorage values = alloc(x.type(), outShape);
        ArrayStorage indices = alloc(ScalarType.INT64, outShape);
        ArrayStorage s = st(x);
        if (numel(outShape) > 0) {
            forEachSlice(x, dim, (slice, base) -> {
                int best = 0;
                for (int j = 1; j < x.shape()[dim]; j++) {
                    int a = along(x, base, dim, j);
                    int b = along(x, base, dim, best);
                    boolean better;
                    if (x.type() == ScalarType.INT64) {
                        better = max ? s.l[a] > s.l[b] : s.l[a] < s.l[b];
                    } else {
                        double v = s.get(a);
                        double w = s.get(b);
                        better = !Double.isNaN(w) && (Double.isNaN(v) || (max ? v > w : v < w));
                    }
                    if (better) {
                        best = j;
                    }
                }
                int from = along(x, base, dim, best);
                if (x.type() == ScalarType.INT64) {
                    values.l[slice] = s.l[from];
                } else {
                    values.set(slice, s.get(from));
                }
                indices.l[slice] = best;
            });
        }
        return new Storage[] {values, indices};
    }

    @Override
    public Storage cumsum(View x, int dim, boolean reverse) {
        ArrayStorage out = alloc(x.type(), x.shape());
        if (x.numel() == 0) {
            return out;
        }
        int n = x.shape()[dim];
        forEachSlice(x, dim, (slice, base) -> {
            double acc = 0;
            long lacc = 0;
            for (int step = 0; step < n; step++) {
                int j = reverse ? n - 1 - step : step;
                int[] i = base.clone();
                i[dim] = j;
                int o = position(x.shape(), i);
                if (x.type() == ScalarType.INT64) {
                    lacc += getLong(x, i);
                    out.l[o] = lacc;
                } else {
                    acc += get(x, i);
                    put(out, o, acc);
                }
            }
        });
        return out;
    }

    @Override
    public Storage argsort(View x, int dim, boolean descending) {
        ArrayStorage out = alloc(ScalarType.INT64, x.shape());
        if (x.numel() == 0) {
            return out;
        }
        int n = x.shape()[dim];
        ArrayStorage s = st(x);
        forEachSlice(x, dim, (slice, base) -> {
            Integer[] order = new Integer[n];
            for (int j = 0; j < n; j++) {
                order[j] = j;
            }
            Comparator<Integer> up = (a, b) -> {
                int p = along(x, base, dim, a);
                int q = along(x, base, dim, b);
                if (x.type() == ScalarType.INT64) {
                    return Long.compare(s.l[p], s.l[q]);
                }
                double v = s.get(p);
                double w = s.get(q);
                if (Double.isNaN(v) || Double.isNaN(w)) {
                    return Boolean.compare(Double.isNaN(v), Double.isNaN(w)); // NaN is the largest
                }
                return Double.compare(v + 0.0, w + 0.0) == 0 ? 0 : v < w ? -1 : 1; // -0 equals 0
            };
            Arrays.sort(order, descending ? up.reversed() : up); // stable
            for (int j = 0; j < n; j++) {
                int[] i = base.clone();
                i[dim] = j;
                out.l[position(x.shape(), i)] = order[j];
            }
        });
        return out;
    }

    @Override
    public Storage softmax(View x, int dim, boolean log) {
        ArrayStorage out = alloc(x.type(), x.shape());
        if (x.numel() == 0) {
            return out;
        }
        int n = x.shape()[dim];
        forEachSlice(x, dim, (slice, base) -> {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                double v = st(x).get(along(x, base, dim, j));
                max = Double.isNaN(v) ? v : Math.max(max, v);
            }
            double sum = 0;
            for (int j = 0; j < n; j++) {
                sum += Math.exp(st(x).get(along(x, base, dim, j)) - max);
            }
            for (int j = 0; j < n; j++) {
                int[] i = base.clone();
                i[dim] = j;
                double shifted = get(x, i) - max;
                put(out, position(x.shape(), i), log ? shifted - Math.log(sum) : Math.exp(shifted) / sum);
            }
        });
        return out;
    }

    // ---------------------------------------------------------------- products and windows

    @Override
    public Storage matmul(View a, View b, int[] shape) {
        ArrayStorage out = alloc(a.type(), shape);
        if (numel(shape) == 0) {
            return out;
        }
        int k = a.shape()[a.rank() - 1];
        int[] idx = new int[shape.length];
        int r = shape.length;
        int i = 0;
        do {
            double acc = 0;
            int[] ai = idx.clone();
            int[] bi = idx.clone();
            for (int t = 0; t < k; t++) {
                ai[r - 1] = t; // a[..., row, t]
                bi[r - 2] = t; // b[..., t, col]
                acc += get(a, ai) * get(b, bi);
            }
            put(out, i++, acc);
        } while (next(idx, shape));
        return out;
    }

    /** The input pixel of channel c at output (oy, ox) and tap (ki, kj), or null outside the image. */
    private static int[] pixel(Window w, int n, int c, int oy, int ox, int ki, int kj, int h, int wd) {
        int iy = oy * w.strideH() - w.padH() + ki * w.dilationH();
        int ix = ox * w.strideW() - w.padW() + kj * w.dilationW();
        return iy < 0 || iy >= h || ix < 0 || ix >= wd ? null : new int[] {n, c, iy, ix};
    }

    @Override
    public Storage im2col(View x, Window w, double pad) {
        int[] s = x.shape();
        int oh = w.outH(s[2]);
        int ow = w.outW(s[3]);
        int taps = s[1] * w.kernelH() * w.kernelW();
        ArrayStorage out = alloc(x.type(), new int[] {s[0], oh * ow, taps});
        for (int n = 0; n < s[0]; n++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    for (int c = 0, col = 0; c < s[1]; c++) {
                        for (int ki = 0; ki < w.kernelH(); ki++) {
                            for (int kj = 0; kj < w.kernelW(); kj++, col++) {
                                int[] p = pixel(w, n, c, oy, ox, ki, kj, s[2], s[3]);
                                put(out, ((n * oh + oy) * ow + ox) * taps + col, p == null ? pad : get(x, p));
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    @Override
    public Storage col2im(View cols, int[] imageShape, Window w) {
        int[] s = imageShape;
        int oh = w.outH(s[2]);
        int ow = w.outW(s[3]);
        double[] acc = new double[numel(s)];
        for (int n = 0; n < s[0]; n++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    for (int c = 0, col = 0; c < s[1]; c++) {
                        for (int ki = 0; ki < w.kernelH(); ki++) {
                            for (int kj = 0; kj < w.kernelW(); kj++, col++) {
                                int[] p = pixel(w, n, c, oy, ox, ki, kj, s[2], s[3]);
                                if (p != null) {
                                    acc[position(s, p)] += get(cols, new int[] {n, oy * ow + ox, col});
                                }
                            }
                        }
                    }
                }
            }
        }
        return stored(acc, cols.type(), s);
    }

    private ArrayStorage stored(double[] values, ScalarType type, int[] shape) {
        ArrayStorage out = alloc(type, shape);
        for (int i = 0; i < values.length; i++) {
            put(out, i, values[i]);
        }
        return out;
    }

    @Override
    public Storage conv2d(View x, View weight, View bias, Window w) {
        int[] s = x.shape();
        int o = weight.shape()[0];
        int oh = w.outH(s[2]);
        int ow = w.outW(s[3]);
        int[] shape = {s[0], o, oh, ow};
        double[] acc = new double[numel(shape)];
        for (int n = 0; n < s[0]; n++) {
            for (int f = 0; f < o; f++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double v = bias == null ? 0 : get(bias, new int[] {f});
                        for (int c = 0; c < s[1]; c++) {
                            for (int ki = 0; ki < w.kernelH(); ki++) {
                                for (int kj = 0; kj < w.kernelW(); kj++) {
                                    int[] p = pixel(w, n, c, oy, ox, ki, kj, s[2], s[3]);
                                    if (p != null) {
                                        v += get(x, p) * get(weight, new int[] {f, c, ki, kj});
                                    }
                                }
                            }
                        }
                        acc[position(shape, new int[] {n, f, oy, ox})] = v;
                    }
                }
            }
        }
        return stored(acc, x.type(), shape);
    }

    @Override
    public Storage[] conv2dBackward(View dOut, View x, View weight, Window w, boolean input, boolean weights,
                                    boolean bias) {
        int[] s = x.shape();
        int[] ws = weight.shape();
        int o = ws[0];
        int oh = w.outH(s[2]);
        int ow = w.outW(s[3]);
        double[] gx = new double[input ? numel(s) : 0];
        double[] gw = new double[weights ? numel(ws) : 0];
        double[] gb = new double[bias ? o : 0];
        for (int n = 0; n < s[0]; n++) {
            for (int f = 0; f < o; f++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double g = get(dOut, new int[] {n, f, oy, ox});
                        if (bias) {
                            gb[f] += g;
                        }
                        for (int c = 0; c < s[1]; c++) {
                            for (int ki = 0; ki < w.kernelH(); ki++) {
                                for (int kj = 0; kj < w.kernelW(); kj++) {
                                    int[] p = pixel(w, n, c, oy, ox, ki, kj, s[2], s[3]);
                                    if (p == null) {
                                        continue;
                                    }
                                    int[] tap = {f, c, ki, kj};
                                    if (input) {
                                        gx[position(s, p)] += g * get(weight, tap);
                                    }
                                    if (weights) {
                                        gw[position(ws, tap)] += g * get(x, p);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return new Storage[] {input ? stored(gx, dOut.type(), s) : null, weights ? stored(gw, dOut.type(), ws) : null,
            bias ? stored(gb, dOut.type(), new int[] {o}) : null};
    }

    @Override
    public Storage[] maxPool2d(View x, Window w) {
        int[] s = x.shape();
        int oh = w.outH(s[2]);
        int ow = w.outW(s[3]);
        int[] shape = {s[0], s[1], oh, ow};
        ArrayStorage values = alloc(x.type(), shape);
        ArrayStorage indices = alloc(ScalarType.INT64, shape);
        for (int n = 0, i = 0; n < s[0]; n++) {
            for (int c = 0; c < s[1]; c++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++, i++) {
                        int best = -1;
                        double bv = Double.NEGATIVE_INFINITY;
                        for (int ki = 0; ki < w.kernelH(); ki++) {
                            for (int kj = 0; kj < w.kernelW(); kj++) {
                                int[] p = pixel(w, n, c, oy, ox, ki, kj, s[2], s[3]);
                                if (p == null || best >= 0 && Double.isNaN(bv)) {
                                    continue;
                                }
                                double v = get(x, p);
                                if (best < 0 || v > bv || Double.isNaN(v)) { // the first max; the first NaN wins
                                    best = position(s, p);
                                    bv = v;
                                }
                            }
                        }
                        values.set(i, bv);
                        indices.l[i] = best;
                    }
                }
            }
        }
        return new Storage[] {values, indices};
    }

    @Override
    public Storage maxPool2dBackward(View dOut, View indices, int[] inputShape) {
        double[] acc = new double[numel(inputShape)];
        int[] idx = new int[dOut.rank()];
        if (dOut.numel() > 0) {
            do {
                long at = getLong(indices, idx);
                if (at >= 0) {
                    acc[(int) at] += get(dOut, idx);
                }
            } while (next(idx, dOut.shape()));
        }
        return stored(acc, dOut.type(), inputShape);
    }

    // ---------------------------------------------------------------- fused recurrent cells

    @Override
    public Storage[] lstmCell(View gates, View c) {
        int b = gates.shape()[0];
        int n = c.shape()[1];
        ScalarType dt = gates.type();
        ArrayStorage h = alloc(dt, new int[] {b, n});
        ArrayStorage c2 = alloc(dt, new int[] {b, n});
        ArrayStorage acts = alloc(dt, new int[] {b, 4 * n});
        ArrayStorage tanh = alloc(dt, new int[] {b, n});
        for (int r = 0; r < b; r++) {
            for (int j = 0; j < n; j++) {
                double i = ElementwiseOp.SIGMOID.unary(get(gates, new int[] {r, j}), 0, 0);
                double f = ElementwiseOp.SIGMOID.unary(get(gates, new int[] {r, n + j}), 0, 0);
                double g = Math.tanh(get(gates, new int[] {r, 2 * n + j}));
                double o = ElementwiseOp.SIGMOID.unary(get(gates, new int[] {r, 3 * n + j}), 0, 0);
                double cj = f * get(c, new int[] {r, j}) + i * g;
                double t = Math.tanh(cj);
                put(acts, r * 4 * n + j, i);
                put(acts, r * 4 * n + n + j, f);
                put(acts, r * 4 * n + 2 * n + j, g);
                put(acts, r * 4 * n + 3 * n + j, o);
                put(c2, r * n + j, cj);
                put(tanh, r * n + j, t);
                put(h, r * n + j, o * t);
            }
        }
        return new Storage[] {h, c2, acts, tanh};
    }

    @Override
    public Storage[] lstmCellBackward(View dh, View dc, View acts, View tanhC, View c) {
        int b = acts.shape()[0];
        int n = c.shape()[1];
        ScalarType dt = acts.type();
        ArrayStorage dGates = alloc(dt, new int[] {b, 4 * n});
        ArrayStorage dPrev = alloc(dt, new int[] {b, n});
        for (int r = 0; r < b; r++) {
            for (int j = 0; j < n; j++) {
                double i = get(acts, new int[] {r, j});
                double f = get(acts, new int[] {r, n + j});
                double g = get(acts, new int[] {r, 2 * n + j});
                double o = get(acts, new int[] {r, 3 * n + j});
                double t = get(tanhC, new int[] {r, j});
                double d = get(dh, new int[] {r, j});
                double cc = get(dc, new int[] {r, j}) + d * o * (1 - t * t);
                put(dGates, r * 4 * n + j, cc * g * i * (1 - i));
                put(dGates, r * 4 * n + n + j, cc * get(c, new int[] {r, j}) * f * (1 - f));
                put(dGates, r * 4 * n + 2 * n + j, cc * i * (1 - g * g));
                put(dGates, r * 4 * n + 3 * n + j, d * t * o * (1 - o));
                put(dPrev, r * n + j, cc * f);
            }
        }
        return new Storage[] {dGates, dPrev};
    }

    @Override
    public Storage[] lstmSequence(View ih, View h0, View c0, View whh, View bhh) {
        int steps = ih.shape()[0];
        int b = ih.shape()[1];
        int n = c0.shape()[1];
        ScalarType dt = ih.type();
        ArrayStorage packed = alloc(dt, new int[] {steps + 1, b, n});
        ArrayStorage acts = alloc(dt, new int[] {steps, b, 4 * n});
        ArrayStorage cs = alloc(dt, new int[] {steps, b, n});
        ArrayStorage tanhs = alloc(dt, new int[] {steps, b, n});
        View h = h0;
        View c = c0;
        for (int t = 0; t < steps; t++) {
            ArrayStorage gates = alloc(dt, new int[] {b, 4 * n});
            for (int r = 0; r < b; r++) {
                for (int j = 0; j < 4 * n; j++) {
                    double hh = 0;
                    for (int k = 0; k < n; k++) {
                        hh += get(h, new int[] {r, k}) * get(whh, new int[] {j, k});
                    }
                    double bias = bhh == null ? 0 : get(bhh, new int[] {j});
                    put(gates, r * 4 * n + j, get(ih, new int[] {t, r, j}) + hh + bias);
                }
            }
            Storage[] step = lstmCell(View.of(gates, new int[] {b, 4 * n}), c);
            copyInto(step[0], packed, t * b * n);
            copyInto(step[2], acts, t * b * 4 * n);
            copyInto(step[1], cs, t * b * n);
            copyInto(step[3], tanhs, t * b * n);
            h = View.of(step[0], new int[] {b, n});
            c = View.of(step[1], new int[] {b, n});
        }
        copyInto(contiguous(c, dt), packed, steps * b * n);
        return new Storage[] {packed, acts, cs, tanhs};
    }

    /** Copies all of {@code from} into {@code to} from element {@code at}. */
    private static void copyInto(Storage from, ArrayStorage to, int at) {
        for (int i = 0; i < from.length(); i++) {
            to.set(at + i, from.get(i));
        }
    }

    @Override
    public Storage[] lstmSequenceBackward(View dOut, View acts, View cs, View tanhs, View c0, View whh) {
        int steps = acts.shape()[0];
        int b = acts.shape()[1];
        int n = c0.shape()[1];
        ScalarType dt = acts.type();
        ArrayStorage dGates = alloc(dt, new int[] {steps, b, 4 * n});
        ArrayStorage dh = alloc(dt, new int[] {b, n});
        ArrayStorage dc = alloc(dt, new int[] {b, n});
        for (int r = 0; r < b; r++) {
            for (int j = 0; j < n; j++) {
                put(dc, r * n + j, get(dOut, new int[] {steps, r, j}));
            }
        }
        for (int t = steps - 1; t >= 0; t--) {
            ArrayStorage d = alloc(dt, new int[] {b, n});
            for (int r = 0; r < b; r++) {
                for (int j = 0; j < n; j++) {
                    double rec = t == steps - 1 ? 0 : dh.get(r * n + j);
                    put(d, r * n + j, rec + get(dOut, new int[] {t, r, j}));
                }
            }
            int[] bn = {b, n};
            View cPrev = t == 0 ? c0 : slice(cs, t - 1, b, n); // cs[t] is the state step t made
            Storage[] g = lstmCellBackward(View.of(d, bn), View.of(dc, bn), slice(acts, t, b, 4 * n),
                    slice(tanhs, t, b, n), cPrev);
            copyInto(g[0], dGates, t * b * 4 * n);
            copyInto(g[1], dc, 0);
            for (int r = 0; r < b; r++) {
                for (int k = 0; k < n; k++) {
                    double acc = 0;
                    for (int j = 0; j < 4 * n; j++) {
                        acc += g[0].get(r * 4 * n + j) * get(whh, new int[] {j, k});
                    }
                    put(dh, r * n + k, acc);
                }
            }
        }
        return new Storage[] {dGates, dh, dc};
    }

    /** Step t of a [T, B, n] view, as a [B, n] view. */
    private static View slice(View v, int t, int b, int n) {
        return new View(v.storage(), v.offset() + t * v.strides()[0], new int[] {b, n},
                new int[] {v.strides()[1], v.strides()[2]});
    }

    // ---------------------------------------------------------------- indexing

    /** The index value at idx of index, checked against bound. */
    private static int index(String op, View index, int[] idx, int bound, int position) {
        long v = getLong(index, idx);
        if (v < 0 || v >= bound) {
            throw new IndexOutOfBoundsException(op + ": index " + v + " at position " + position
                    + " is out of range [0, " + bound + ")");
        }
        return (int) v;
    }

    @Override
    public Storage indexSelect(View x, int dim, View index) {
        int[] shape = x.shape().clone();
        shape[dim] = index.numel();
        ArrayStorage out = alloc(x.type(), shape);
        int[] at = new int[index.rank()];
        if (numel(shape) == 0) {
            return out;
        }
        int[] idx = new int[shape.length];
        int i = 0;
        do {
            int j = idx[dim];
            if (at.length == 1) {
                at[0] = j;
            }
            int[] src = idx.clone();
            src[dim] = index("indexSelect", index, at, x.shape()[dim], j);
            copyElement(x, src, out, i++);
        } while (next(idx, shape));
        return out;
    }

    private static void copyElement(View x, int[] idx, ArrayStorage out, int i) {
        if (out.type() == ScalarType.INT64) {
            out.l[i] = getLong(x, idx);
        } else {
            out.set(i, get(x, idx));
        }
    }

    /** A contiguous copy of self to add into. */
    private ArrayStorage copyOf(View self) {
        ArrayStorage out = alloc(self.type(), self.shape());
        copy(self, View.of(out, self.shape()));
        return out;
    }

    @Override
    public Storage indexAdd(View self, int dim, View index, View src) {
        ArrayStorage out = copyOf(self);
        if (src.numel() == 0) {
            return out;
        }
        int[] idx = new int[src.rank()];
        int[] at = new int[index.rank()];
        do {
            if (at.length == 1) {
                at[0] = idx[dim];
            }
            int[] dst = idx.clone();
            dst[dim] = index("indexAdd", index, at, self.shape()[dim], idx[dim]);
            addElement(out, position(self.shape(), dst), src, idx);
        } while (next(idx, src.shape()));
        return out;
    }

    private static void addElement(ArrayStorage out, int i, View src, int[] idx) {
        if (out.type() == ScalarType.INT64) {
            out.l[i] += getLong(src, idx);
        } else {
            out.set(i, out.get(i) + get(src, idx));
        }
    }

    @Override
    public Storage gather(View x, int dim, View index) {
        ArrayStorage out = alloc(x.type(), index.shape());
        if (index.numel() == 0) {
            return out;
        }
        int[] idx = new int[index.rank()];
        int i = 0;
        do {
            int[] src = idx.clone();
            src[dim] = index("gather", index, idx, x.shape()[dim], i);
            copyElement(x, src, out, i++);
        } while (next(idx, index.shape()));
        return out;
    }

    @Override
    public Storage scatterAdd(View self, int dim, View index, View src) {
        ArrayStorage out = copyOf(self);
        if (index.numel() == 0) {
            return out;
        }
        int[] idx = new int[index.rank()];
        int i = 0;
        do {
            int[] dst = idx.clone();
            dst[dim] = index("scatterAdd", index, idx, self.shape()[dim], i++);
            addElement(out, position(self.shape(), dst), src, idx);
        } while (next(idx, index.shape()));
        return out;
    }

    @Override
    public Storage oneHot(View labels, int classes, ScalarType type) {
        int n = labels.numel();
        ArrayStorage out = ArrayStorage.allocate(this, type, n * classes);
        if (n == 0) {
            return out;
        }
        int[] idx = new int[labels.rank()];
        int i = 0;
        do {
            long c = getLong(labels, idx);
            if (c < 0 || c >= classes) {
                throw new IndexOutOfBoundsException("oneHot: class index " + c + " at position " + i
                        + " is out of range [0, " + classes + ")");
            }
            out.set(i * classes + (int) c, 1);
            i++;
        } while (next(idx, labels.shape()));
        return out;
    }
}
