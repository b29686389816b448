package io.jgrad.core.cpu;

import static io.jgrad.core.cpu.Views.st;

import io.jgrad.core.backend.ElementwiseOp;
import io.jgrad.core.backend.ScalarType;
import io.jgrad.core.backend.View;

/**
 * Reduction kernels: sums over any dims, and kernels over one dim of a contiguous tensor viewed
 * as [outer, K, inner]. Float sums accumulate in double; blocks are fixed, so results do not depend on
 * the thread count.
 */
final class Reduce {
    private static final int BLOCK = 1 << 14;

    private Reduce() {}

    /** Sum of all elements as a 0-d tensor of the same dtype. */
    static View sumAll(View x) {
        View c = Views.contiguous(x);
        int n = c.numel();
        ArrayStorage s = st(c);
        int base = c.offset();
        int blocks = Math.max(1, (n + BLOCK - 1) / BLOCK);
        View out = Views.uninitialized(x.type(), new int[0]);
        if (s.type() == ScalarType.INT64) {
            long[] partial = new long[blocks];
            Parallel.forRange(n, BLOCK, (from, to) -> {
                long acc = 0;
                for (int i = from; i < to; i++) {
                    acc += s.l[base + i];
                }
                partial[from / BLOCK] = acc;
            });
            long total = 0;
            for (long p : partial) {
                total += p;
            }
            st(out).l[0] = total;
            return out;
        }
        double[] partial = new double[blocks];
        Fused deferred = s.pending();
        // the same blocks and order, without storing the elements
        if (deferred == null || base != 0 || n != s.length() || !deferred.sumBlocks(n, BLOCK, partial)) {
            Parallel.forRange(n, BLOCK, (from, to) -> partial[from / BLOCK] = sumRange(s, base + from, to - from));
        }
        double total = 0;
        for (double p : partial) {
            total += p;
        }
        st(out).set(0, total);
        return out;
    }

    /**
     * Sum of {@code len} float32 or float64 elements of {@code s} from {@code from}, in double.
     * Float32 uses {@link #SUM_LANES} independent sums (see there).
     */
    static double sumRange(ArrayStorage s, int from, int len) {
        if (s.type() != ScalarType.FLOAT32) {
            double acc = 0;
            for (int i = 0; i < len; i++) {
                acc += s.d[from + i];
            }
            return acc;
        }
        return sumRange(s.f(), from, len);
    }

    /** {@link #sumRange(ArrayStorage, int, int)} for float32 values. */
    static double sumRange(float[] v, int from, int len) {
        return Simd.ENABLED ? SimdKernels.sum(v, from, len) : sumRangePlain(v, from, len);
    }

    /**
     * The number of independent double sums a float32 sum keeps: element i of a range goes to
     * sum i mod 16 (the last len mod 16 elements to sum 0, in order), and {@link #combine} adds
     * the sixteen pairwise. One chain of dependent adds waits for each add's latency: eight chains
     * summed 1M floats in 0.27 ms (plain loops, one thread) and four in 0.45; with the vectorized
     * kernels eight chains were still latency-bound and sixteen are 1.8x faster (BENCHMARKS.md).
     * The plain and vectorized sums share this order, so they give the same bits.
     */
    static final int SUM_LANES = 16;

    /** {@link #sumRange(float[], int, int)} in plain Java (what the vectorized sum must equal bit for bit). */
    static double sumRangePlain(float[] v, int from, int len) {
        double a0 = 0;
        double a1 = 0;
        double a2 = 0;
        double a3 = 0;
        double a4 = 0;
        double a5 = 0;
        double a6 = 0;
        double a7 = 0;
        double a8 = 0;
        double a9 = 0;
        double a10 = 0;
        double a11 = 0;
        double a12 = 0;
        double a13 = 0;
        double a14 = 0;
        double a15 = 0;
        int i = 0;
        for (; i + 15 < len; i += 16) {
            int j = from + i;
            a0 += v[j];
            a1 += v[j + 1];
            a2 += v[j + 2];
            a3 += v[j + 3];
            a4 += v[j + 4];
            a5 += v[j + 5];
            a6 += v[j + 6];
            a7 += v[j + 7];
            a8 += v[j + 8];
            a9 += v[j + 9];
            a10 += v[j + 10];
            a11 += v[j + 11];
            a12 += v[j + 12];
            a13 += v[j + 13];
            a14 += v[j + 14];
            a15 += v[j + 15];
        }
        for (; i < len; i++) {
            a0 += v[from + i];
        }
        return combine(new double[] {a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15});
    }

    /** The final combination of the {@link #SUM_LANES} sums: pairwise, in this order. */
    static double combine(double[] a) {
        return (((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])))
                + (((a[8] + a[9]) + (a[10] + a[11])) + ((a[12] + a[13]) + (a[14] + a[15])));
    }

    /**
     * The sum over {@code dims} (distinct, ascending); the result has x's shape without them.
     * After dropping size-1 dims and merging neighbours, the dims alternate between kept and
     * summed runs. When the innermost run is summed, each output element is the sum, in order,
     * of {@link #sumRange}s of those contiguous runs (a bias's gradient over [N, C, H·W]); when it
     * is kept, rows of it are accumulated element by element (a sum over the batch of [N, F]).
     * Floats accumulate in double; each output element is one thread's, so the bits do not
     * depend on the thread count.
     */
    static View sum(View x, int[] dims) {
        int rank = x.rank();
        boolean[] summed = new boolean[rank];
        for (int d : dims) {
            summed[d] = true;
        }
        int[] outShape = new int[rank - dims.length];
        for (int d = 0, j = 0; d < rank; d++) {
            if (!summed[d]) {
                outShape[j++] = x.shape()[d];
            }
        }
        if (dims.length == rank) {
            return sumAll(x);
        }
        View out = Views.empty(x.type(), outShape);
        if (x.numel() == 0) {
            return out;
        }
        View c = Views.contiguous(x);
        // runs of neighbouring dims of one kind, size-1 dims dropped: sizes, strides, kinds
        int[] size = new int[rank];
        int[] stride = new int[rank];
        boolean[] isSum = new boolean[rank];
        int runs = 0;
        for (int d = rank - 1; d >= 0; d--) {
            int n = c.shape()[d];
            if (n == 1) {
                continue;
            }
            if (runs > 0 && isSum[runs - 1] == summed[d]) {
                size[runs - 1] *= n;
            } else {
                stride[runs] = c.strides()[d];
                size[runs] = n;
                isSum[runs] = summed[d];
                runs++;
            }
        }
        // runs[0] is the innermost; split into kept and summed lists, outermost first
        int summedRuns = 0;
        for (int r = 0; r < runs; r++) {
            summedRuns += isSum[r] ? 1 : 0;
        }
        int ns = summedRuns;
        int nk = runs - summedRuns;
        int[] kSize = new int[nk];
        int[] kStride = new int[nk];
        int[] sSize = new int[ns];
        int[] sStride = new int[ns];
        for (int r = runs - 1, i = 0, j = 0; r >= 0; r--) {
            if (isSum[r]) {
                sSize[j] = size[r];
                sStride[j++] = stride[r];
            } else {
                kSize[i] = size[r];
                kStride[i++] = stride[r];
            }
        }
        ArrayStorage src = st(c);
        ArrayStorage dst = st(out);
        int base = c.offset();
        if (runs == 0) { // one element
            Elementwise.copy(new View(src, base, new int[0], new int[0]), new View(dst, 0, new int[0], new int[0]));
            return out;
        }
        boolean innerSummed = isSum[0];
        if (innerSummed) {
            int len = sSize[ns - 1]; // the innermost run, contiguous
            int outer = View.prod(sSize, 0, ns - 1);
            int outputs = View.prod(kSize, 0, nk);
            Parallel.forRange(outputs, Math.max(1, Elementwise.GRAIN / Math.max(1, outer * len)), (from, to) -> {
                for (int o = from; o < to; o++) {
                    int at = base + offsetOf(o, kSize, kStride, nk);
                    if (src.type() == ScalarType.INT64) {
                        long acc = 0;
                        for (int r = 0; r < outer; r++) {
                            int row = at + offsetOf(r, sSize, sStride, ns - 1);
                            for (int i = 0; i < len; i++) {
                                acc += src.l[row + i];
                            }
                        }
                        dst.l[o] = acc;
                        continue;
                    }
                    double acc = 0;
                    for (int r = 0; r < outer; r++) {
                        acc += sumRange(src, at + offsetOf(r, sSize, sStride, ns - 1), len);
                    }
                    dst.set(o, acc);
                }
            });
            return out;
        }
        int len = kSize[nk - 1]; // the innermost run, kept and contiguous
        int rows = View.prod(kSize, 0, nk - 1);
        int terms = View.prod(sSize, 0, ns);
        Parallel.forRange(rows, Math.max(1, Elementwise.GRAIN / Math.max(1, terms * len)), (from, to) -> {
            double[] acc = new double[len];
            long[] lacc = src.type() == ScalarType.INT64 ? new long[len] : null;
            for (int o = from; o < to; o++) {
                int at = base + offsetOf(o, kSize, kStride, nk - 1);
                java.util.Arrays.fill(acc, 0);
                if (lacc != null) {
                    java.util.Arrays.fill(lacc, 0);
                }
                for (int r = 0; r < terms; r++) {
                    int row = at + offsetOf(r, sSize, sStride, ns);
                    switch (src.type()) {
                        case FLOAT32 -> {
                            float[] v = src.f();
                            for (int i = 0; i < len; i++) {
                                acc[i] += v[row + i];
                            }
                        }
                        case FLOAT64 -> {
                            for (int i = 0; i < len; i++) {
                                acc[i] += src.d[row + i];
                            }
                        }
                        case INT64 -> {
                            for (int i = 0; i < len; i++) {
                                lacc[i] += src.l[row + i];
                            }
                        }
                    }
                }
                for (int i = 0; i < len; i++) {
                    if (lacc != null) {
                        dst.l[o * len + i] = lacc[i];
                    } else {
                        dst.set(o * len + i, acc[i]);
                    }
                }
            }
        });
        return out;
    }

    /** The offset of the {@code index}-th position (row-major) of the first {@code n} runs of sizes and strides. */
    private static int offsetOf(int index, int[] size, int[] stride, int n) {
        int at = 0;
        for (int d = n - 1; d >= 0; d--) {
            at += (index % size[d]) * stride[d];
            index /= size[d];
        }
        return at;
    }

    /**
     * Running sums along {@code dim} (x's shape and dtype): floats accumulate in double, as
     * PyTorch's CPU kernel does, integers in long.
     */
    static View cumsum(View x, int dim, boolean fromEnd) {
        View c = Views.contiguous(x);
        int outer = View.prod(c.shape(), 0, dim);
        int k = c.shape()[dim];
        int inner = View.prod(c.shape(), dim + 1, c.shape().length);
        View out = Views.uninitialized(x.type(), c.shape().clone());
        ArrayStorage s = st(c);
        ArrayStorage o = st(out);
        int base = c.offset();
        int grain = Math.max(1, Elementwise.GRAIN / Math.max(1, k * inner));
        Parallel.forRange(outer, grain, (from, to) -> {
            double[] acc = new double[inner];
            long[] lacc = new long[inner];
            for (int r = from; r < to; r++) {
                int row = r * k * inner;
                java.util.Arrays.fill(acc, 0);
                java.util.Arrays.fill(lacc, 0);
                for (int step = 0; step < k; step++) { // row after row along dim: memory in order
                    int j = fromEnd ? k - 1 - step : step;
                    int at = row + j * inner;
                    if (s.type() == ScalarType.INT64) {
                        for (int i = 0; i < inner; i++) {
                            lacc[i] += s.l[base + at + i];
                            o.l[at + i] = lacc[i];
                        }
                    } else {
                        for (int i = 0; i < inner; i++) {
                            acc[i] += s.get(base + at + i);
                            o.set(at + i, acc[i]);
                        }
                    }
                }
            }
        });
        return out;
    }

    /**
     * The indices (INT64, x's shape) that sort every slice along {@code dim}, ascending or
     * descending; stable (equal values keep their order), NaN sorts as the largest value, as in
     * PyTorch.
     */
    static View argsort(View x, int dim, boolean descending) {
        View c = Views.contiguous(x);
        int outer = View.prod(c.shape(), 0, dim);
        int k = c.shape()[dim];
        int inner = View.prod(c.shape(), dim + 1, c.shape().length);
        View out = Views.uninitialized(ScalarType.INT64, c.shape().clone());
        ArrayStorage s = st(c);
        long[] o = st(out).l;
        int base = c.offset();
        Parallel.forRange(outer * inner, Math.max(1, Elementwise.GRAIN / Math.max(1, k * 8)), (from, to) -> {
            double[] v = new double[k];
            Integer[] order = new Integer[k];
            for (int q = from; q < to; q++) {
                int r = q / inner;
                int i = q % inner;
                int at = base + r * k * inner + i;
                for (int j = 0; j < k; j++) {
                    v[j] = s.type() == ScalarType.INT64 ? 0 : s.get(at + j * inner);
                    order[j] = j;
                }
                // NaN is the largest either way; -0.0 and 0.0 are equal (Double.compare would order them);
                // integers compare exactly (a double holds them only up to 2^53)
                java.util.Comparator<Integer> up = (a, b) -> {
                    if (s.type() == ScalarType.INT64) {
                        return Long.compare(s.l[at + a * inner], s.l[at + b * inner]);
                    }
                    double x1 = v[a];
                    double x2 = v[b];
                    if (Double.isNaN(x1) || Double.isNaN(x2)) {
                        return Boolean.compare(Double.isNaN(x1), Double.isNaN(x2));
                    }
                    return x1 < x2 ? -1 : x1 > x2 ? 1 : 0;
                };
                java.util.Arrays.sort(order, descending ? up.reversed() : up); // a merge sort: stable
                int row = r * k * inner + i;
                for (int j = 0; j < k; j++) {
                    o[row + j * inner] = order[j];
                }
            }
        });
        return out;
    }

    /**
     * Max (or min) over {@code dim}: values (x's dtype) and the index of the first extreme
     * element (INT64), both with x's shape without that dim. A NaN counts as the extreme, as in PyTorch.
     */
    static View[] extreme(View x, int dim, boolean max) {
        View c = Views.contiguous(x);
        int outer = View.prod(c.shape(), 0, dim);
        int k = c.shape()[dim];
        int inner = View.prod(c.shape(), dim + 1, c.shape().length);
        int[] shape = Views.copyWithout(c.shape(), dim);
        View values = Views.uninitialized(x.type(), shape);
        View indices = Views.uninitialized(ScalarType.INT64, shape);
        ArrayStorage s = st(c);
        if (s.type() == ScalarType.FLOAT32) {
            float[] v = s.f();
            float[] vo = st(values).f();
            long[] io = st(indices).l;
            int off = c.offset();
            Parallel.forRange(outer, Math.max(1, Elementwise.GRAIN / Math.max(1, k * inner)), (from, to) -> {
                for (int r = from; r < to; r++) {
                    for (int i = 0; i < inner; i++) {
                        int at = off + r * k * inner + i;
                        int best = 0;
                        float bv = v[at];
                        for (int j = 1; j < k && bv == bv; j++) { // bv != bv: a NaN, which wins
                            float x1 = v[at + j * inner];
                            if (x1 != x1 || (max ? x1 > bv : x1 < bv)) {
                                bv = x1;
                                best = j;
                            }
                        }
                        vo[r * inner + i] = bv;
                        io[r * inner + i] = best;
                    }
                }
            });
            return new View[] {values, indices};
        }
        for (int r = 0; r < outer; r++) {
            for (int i = 0; i < inner; i++) {
                int at = c.offset() + r * k * inner + i;
                int best = 0;
                double bv = s.get(at);
                long bl = s.getLong(at);
                for (int j = 1; j < k && !Double.isNaN(bv); j++) {
                    int p = at + j * inner;
                    boolean better;
                    if (s.type() == ScalarType.INT64) {
                        long v = s.l[p];
                        better = max ? v > bl : v < bl;
                        if (better) {
                            bl = v;
                        }
                    } else {
                        double v = s.get(p);
                        better = Double.isNaN(v) || (max ? v > bv : v < bv);
                        if (better) {
                            bv = v;
                        }
                    }
                    if (better) {
                        best = j;
                    }
                }
                int o = r * inner + i;
                if (s.type() == ScalarType.INT64) {
                    st(values).l[o] = bl;
                } else {
                    st(values).set(o, bv);
                }
                st(indices).l[o] = best;
            }
        }
        return new View[] {values, indices};
    }

    /** softmax (or log-softmax) over {@code dim}, shifted by the max so exp cannot overflow. */
    static View softmax(View x, int dim, boolean log) {
        View c = Views.contiguous(x);
        int outer = View.prod(c.shape(), 0, dim);
        int k = c.shape()[dim];
        int inner = View.prod(c.shape(), dim + 1, c.shape().length);
        View out = Views.uninitialized(x.type(), c.shape());
        ArrayStorage s = st(c);
        ArrayStorage o = st(out);
        int grain = Math.max(1, Elementwise.GRAIN / Math.max(1, k * inner));
        Parallel.forRange(outer, grain, (from, to) -> {
            if (s.type() == ScalarType.FLOAT32 && inner == 1) {
                softmaxRowsF(s.f(), c.offset() + from * k, o.f(), from * k, to - from, k, log);
                return;
            }
            for (int r = from; r < to; r++) {
                for (int i = 0; i < inner; i++) {
                    softmaxRowGeneric(s, c.offset() + r * k * inner + i, o, r * k * inner + i, k, inner, log);
                }
            }
        });
        return out;
    }

    /**
     * Float32 rows of k scores, rows·k of them contiguous from in: each row's scores minus its
     * maximum go into y, the exponentials of all rows together through {@link FloatMath} (8 lanes at
     * a time where the machine has them: with few classes, row by row left most of them to the scalar
     * tail), each row's sum in double, then y is rescaled (softmax) or rewritten as the shifted
     * scores minus log of the sum (log-softmax). Each element's operations are those of a row on its
     * own, so the bits do not depend on how rows are grouped.
     */
    private static void softmaxRowsF(float[] x, int in, float[] y, int on, int rows, int k, boolean log) {
        float[] maxes = new float[rows];
        for (int r = 0; r < rows; r++) {
            int xr = in + r * k;
            int yr = on + r * k;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < k; j++) {
                max = Math.max(max, x[xr + j]);
            }
            maxes[r] = max;
            for (int j = 0; j < k; j++) {
                y[yr + j] = x[xr + j] - max;
            }
        }
        if (Simd.ENABLED) {
            SimdKernels.floatMath(ElementwiseOp.EXP, y, on, y, on, rows * k);
        } else {
            FloatMath.apply(ElementwiseOp.EXP, y, on, y, on, rows * k);
        }
        for (int r = 0; r < rows; r++) {
            int xr = in + r * k;
            int yr = on + r * k;
            double sum = 0;
            for (int j = 0; j < k; j++) {
                sum += y[yr + j];
            }
            if (log) {
                float lse = (float) Math.log(sum);
                float max = maxes[r];
                for (int j = 0; j < k; j++) {
                    y[yr + j] = x[xr + j] - max - lse;
                }
            } else {
                double inv = 1 / sum;
                for (int j = 0; j < k; j++) {
                    y[yr + j] = (float) (y[yr + j] * inv);
                }
            }
        }
    }

    private static void softmaxRowGeneric(ArrayStorage x, int in, ArrayStorage y, int on, int k, int stride, boolean log) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < k; j++) {
            double v = x.get(in + j * stride);
            max = Double.isNaN(v) ? v : Math.max(max, v);
        }
        double sum = 0;
        for (int j = 0; j < k; j++) {
            sum += Math.exp(x.get(in + j * stride) - max);
        }
        double lse = Math.log(sum);
        for (int j = 0; j < k; j++) {
            double shifted = x.get(in + j * stride) - max;
            y.set(on + j * stride, log ? shifted - lse : Math.exp(shifted) / sum);
        }
    }
}
