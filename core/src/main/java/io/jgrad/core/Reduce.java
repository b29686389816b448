package io.jgrad.core;

/**
 * Reduction kernels over one dim of a contiguous tensor viewed as [outer, K, inner], and over
 * everything. Float sums accumulate in double; blocks are fixed, so results do not depend on
 * the thread count.
 */
final class Reduce {
    private static final int BLOCK = 1 << 14;

    private Reduce() {}

    /** Sum of all elements as a 0-d tensor of the same dtype. */
    static Tensor sumAll(Tensor x) {
        Tensor c = x.contiguousNoGrad();
        int n = c.numel();
        Storage s = c.storage;
        int base = c.offset;
        int blocks = Math.max(1, (n + BLOCK - 1) / BLOCK);
        Tensor out = Tensor.empty(x.dtype(), new int[0]);
        if (s.dtype == DType.INT64) {
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
            out.storage.l[0] = total;
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
        out.storage.set(0, total);
        return out;
    }

    /**
     * Sum of {@code len} float32 or float64 elements of {@code s} from {@code from}, in double.
     * Float32 uses {@link #SUM_LANES} independent sums (see there).
     */
    static double sumRange(Storage s, int from, int len) {
        if (s.dtype != DType.FLOAT32) {
            double acc = 0;
            for (int i = 0; i < len; i++) {
                acc += s.d[from + i];
            }
            return acc;
        }
        return sumRange(s.f(), from, len);
    }

    /** {@link #sumRange(Storage, int, int)} for float32 values. */
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

    /** Sum over {@code dim}; the result has x's shape without that dim. */
    static Tensor sumDim(Tensor x, int dim) {
        Tensor c = x.contiguousNoGrad();
        int outer = Shapes.prod(c.shape, 0, dim);
        int k = c.shape[dim];
        int inner = Shapes.prod(c.shape, dim + 1, c.shape.length);
        Tensor out = Tensor.empty(x.dtype(), Shapes.copyWithout(c.shape, dim));
        Storage s = c.storage;
        Storage o = out.storage;
        int base = c.offset;
        int grain = Math.max(1, Elementwise.GRAIN / Math.max(1, k * inner));
        Parallel.forRange(outer, grain, (from, to) -> {
            double[] acc = new double[inner];
            for (int r = from; r < to; r++) {
                java.util.Arrays.fill(acc, 0);
                int rowBase = base + r * k * inner;
                if (s.dtype == DType.INT64) {
                    for (int i = 0; i < inner; i++) {
                        long a = 0;
                        for (int j = 0; j < k; j++) {
                            a += s.l[rowBase + j * inner + i];
                        }
                        o.l[r * inner + i] = a;
                    }
                    continue;
                }
                if (inner == 1) {
                    double a = 0;
                    if (s.dtype == DType.FLOAT32) {
                        float[] v = s.f();
                        for (int j = 0; j < k; j++) {
                            a += v[rowBase + j];
                        }
                    } else {
                        for (int j = 0; j < k; j++) {
                            a += s.d[rowBase + j];
                        }
                    }
                    acc[0] = a;
                } else if (s.dtype == DType.FLOAT32) {
                    float[] v = s.f();
                    for (int j = 0; j < k; j++) {
                        int at = rowBase + j * inner;
                        for (int i = 0; i < inner; i++) {
                            acc[i] += v[at + i];
                        }
                    }
                } else {
                    for (int j = 0; j < k; j++) {
                        int at = rowBase + j * inner;
                        for (int i = 0; i < inner; i++) {
                            acc[i] += s.d[at + i];
                        }
                    }
                }
                for (int i = 0; i < inner; i++) {
                    o.set(r * inner + i, acc[i]);
                }
            }
        });
        return out;
    }

    /**
     * Running sums along {@code dim} (x's shape and dtype): floats accumulate in double, as
     * PyTorch's CPU kernel does, integers in long.
     */
    static Tensor cumsumDim(Tensor x, int dim, boolean fromEnd) {
        Tensor c = x.contiguousNoGrad();
        int outer = Shapes.prod(c.shape, 0, dim);
        int k = c.shape[dim];
        int inner = Shapes.prod(c.shape, dim + 1, c.shape.length);
        Tensor out = Tensor.empty(x.dtype(), c.shape.clone());
        Storage s = c.storage;
        Storage o = out.storage;
        int base = c.offset;
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
                    if (s.dtype == DType.INT64) {
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
    static Tensor argsortDim(Tensor x, int dim, boolean descending) {
        Tensor c = x.contiguousNoGrad();
        int outer = Shapes.prod(c.shape, 0, dim);
        int k = c.shape[dim];
        int inner = Shapes.prod(c.shape, dim + 1, c.shape.length);
        Tensor out = Tensor.empty(DType.INT64, c.shape.clone());
        Storage s = c.storage;
        long[] o = out.storage.l;
        int base = c.offset;
        Parallel.forRange(outer * inner, Math.max(1, Elementwise.GRAIN / Math.max(1, k * 8)), (from, to) -> {
            double[] v = new double[k];
            Integer[] order = new Integer[k];
            for (int q = from; q < to; q++) {
                int r = q / inner;
                int i = q % inner;
                int at = base + r * k * inner + i;
                for (int j = 0; j < k; j++) {
                    v[j] = s.dtype == DType.INT64 ? 0 : s.get(at + j * inner);
                    order[j] = j;
                }
                // NaN is the largest either way; -0.0 and 0.0 are equal (Double.compare would order them);
                // integers compare exactly (a double holds them only up to 2^53)
                java.util.Comparator<Integer> up = (a, b) -> {
                    if (s.dtype == DType.INT64) {
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
    static Tensor[] extremeDim(Tensor x, int dim, boolean max) {
        Tensor c = x.contiguousNoGrad();
        int outer = Shapes.prod(c.shape, 0, dim);
        int k = c.shape[dim];
        int inner = Shapes.prod(c.shape, dim + 1, c.shape.length);
        int[] shape = Shapes.copyWithout(c.shape, dim);
        Tensor values = Tensor.empty(x.dtype(), shape);
        Tensor indices = Tensor.empty(DType.INT64, shape);
        Storage s = c.storage;
        if (s.dtype == DType.FLOAT32) {
            float[] v = s.f();
            float[] vo = values.storage.f();
            long[] io = indices.storage.l;
            int off = c.offset;
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
            return new Tensor[] {values, indices};
        }
        for (int r = 0; r < outer; r++) {
            for (int i = 0; i < inner; i++) {
                int at = c.offset + r * k * inner + i;
                int best = 0;
                double bv = s.get(at);
                long bl = s.getLong(at);
                for (int j = 1; j < k && !Double.isNaN(bv); j++) {
                    int p = at + j * inner;
                    boolean better;
                    if (s.dtype == DType.INT64) {
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
                if (s.dtype == DType.INT64) {
                    values.storage.l[o] = bl;
                } else {
                    values.storage.set(o, bv);
                }
                indices.storage.l[o] = best;
            }
        }
        return new Tensor[] {values, indices};
    }

    /** softmax (or log-softmax) over {@code dim}, shifted by the max so exp cannot overflow. */
    static Tensor softmax(Tensor x, int dim, boolean log) {
        Tensor c = x.contiguousNoGrad();
        int outer = Shapes.prod(c.shape, 0, dim);
        int k = c.shape[dim];
        int inner = Shapes.prod(c.shape, dim + 1, c.shape.length);
        Tensor out = Tensor.empty(x.dtype(), c.shape);
        Storage s = c.storage;
        Storage o = out.storage;
        int grain = Math.max(1, Elementwise.GRAIN / Math.max(1, k * inner));
        Parallel.forRange(outer, grain, (from, to) -> {
            for (int r = from; r < to; r++) {
                for (int i = 0; i < inner; i++) {
                    int in = c.offset + r * k * inner + i;
                    int on = r * k * inner + i;
                    if (s.dtype == DType.FLOAT32 && inner == 1) {
                        softmaxRowF(s.f(), in, o.f(), on, k, log);
                    } else {
                        softmaxRowGeneric(s, in, o, on, k, inner, log);
                    }
                }
            }
        });
        return out;
    }

    /**
     * A float32 row: the shifted scores' exponentials go through {@link FloatMath} (8 lanes at a
     * time where the machine has them) into y, are summed in double, then y is rescaled (softmax)
     * or rewritten as the shifted scores minus log of the sum (log-softmax).
     */
    private static void softmaxRowF(float[] x, int in, float[] y, int on, int k, boolean log) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < k; j++) {
            max = Math.max(max, x[in + j]);
        }
        for (int j = 0; j < k; j++) {
            y[on + j] = x[in + j] - max;
        }
        if (Simd.ENABLED) {
            SimdKernels.floatMath(Elementwise.Unary.EXP, y, on, y, on, k);
        } else {
            FloatMath.apply(Elementwise.Unary.EXP, y, on, y, on, k);
        }
        double sum = 0;
        for (int j = 0; j < k; j++) {
            sum += y[on + j];
        }
        if (log) {
            float lse = (float) Math.log(sum);
            for (int j = 0; j < k; j++) {
                y[on + j] = x[in + j] - max - lse;
            }
        } else {
            double inv = 1 / sum;
            for (int j = 0; j < k; j++) {
                y[on + j] = (float) (y[on + j] * inv);
            }
        }
    }

    private static void softmaxRowGeneric(Storage x, int in, Storage y, int on, int k, int stride, boolean log) {
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
