package io.jgrad.core.cpu;

import static io.jgrad.core.cpu.Views.st;

import io.jgrad.core.backend.ElementwiseOp;
import io.jgrad.core.backend.ScalarType;
import io.jgrad.core.backend.View;

/**
 * The LSTM kernels ({@link io.jgrad.core.backend.Backend#lstmCell}, {@code lstmSequence} and
 * their backwards): one pass over each row where the op-by-op form makes a dozen, with the same
 * float operations in the same order, so the same bits; the sequence kernels run a whole layer's
 * recurrence into a few buffers of [T, B, ·] instead of a dozen small tensors per step. Rows run in
 * parallel blocks when there are enough of them; each row is one thread's.
 */
final class Cells {
    private Cells() {}

    /** Rows per parallel task: about {@link Elementwise#GRAIN} elements of work. */
    private static int grain(int n) {
        return Math.max(1, Elementwise.GRAIN / (8 * n));
    }

    /** [0] h', [1] c', [2] the activations, [3] tanh(c'); see the Backend method. */
    static View[] lstm(View gates, View c) {
        View gv = Views.contiguous(gates);
        View cv = Views.contiguous(c);
        int b = gv.shape()[0];
        int n = cv.shape()[1];
        ScalarType dt = gv.type();
        View acts = Views.uninitialized(dt, new int[] {b, 4 * n});
        View c2 = Views.uninitialized(dt, new int[] {b, n});
        View tanh = Views.uninitialized(dt, new int[] {b, n});
        View h = Views.uninitialized(dt, new int[] {b, n});
        Out out = new Out(st(acts), 0, st(c2), 0, st(tanh), 0, st(h), 0);
        ArrayStorage sg = st(gv);
        ArrayStorage sc = st(cv);
        Parallel.forRange(b, grain(n), (from, to) -> {
            for (int r = from; r < to; r++) {
                forwardRow(dt, sg, gv.offset() + r * 4 * n, sc, cv.offset() + r * n, out, r, n);
            }
        });
        return new View[] {h, c2, acts, tanh};
    }

    /** Where a step's results go: activations [·, 4n] and the other three [·, n], each from an offset. */
    private record Out(ArrayStorage acts, int actsAt, ArrayStorage c, int cAt, ArrayStorage tanh, int tanhAt,
                       ArrayStorage h, int hAt) {}

    /** Row r of one step: gates at g[g0, g0 + 4n), the cell state at c[c0, c0 + n). */
    private static void forwardRow(ScalarType dt, ArrayStorage sg, int g0, ArrayStorage sc, int c0, Out o, int r, int n) {
        int a0 = o.actsAt() + r * 4 * n;
        int o0 = r * n;
        if (dt == ScalarType.FLOAT32) {
            float[] g = sg.f();
            float[] a = o.acts().f();
            float[] cs = sc.f();
            float[] cn = o.c().f();
            float[] th = o.tanh().f();
            float[] hs = o.h().f();
            int cn0 = o.cAt() + o0;
            int th0 = o.tanhAt() + o0;
            int hs0 = o.hAt() + o0;
            activate(ElementwiseOp.SIGMOID, g, g0, a, a0, 2 * n); // i and f
            activate(ElementwiseOp.TANH, g, g0 + 2 * n, a, a0 + 2 * n, n);
            activate(ElementwiseOp.SIGMOID, g, g0 + 3 * n, a, a0 + 3 * n, n);
            for (int j = 0; j < n; j++) {
                cn[cn0 + j] = a[a0 + n + j] * cs[c0 + j] + a[a0 + j] * a[a0 + 2 * n + j];
            }
            activate(ElementwiseOp.TANH, cn, cn0, th, th0, n);
            for (int j = 0; j < n; j++) {
                hs[hs0 + j] = a[a0 + 3 * n + j] * th[th0 + j];
            }
            return;
        }
        double[] g = sg.d;
        double[] a = o.acts().d;
        for (int j = 0; j < 4 * n; j++) {
            ElementwiseOp op = j >= 2 * n && j < 3 * n ? ElementwiseOp.TANH : ElementwiseOp.SIGMOID;
            a[a0 + j] = op.unary(g[g0 + j], 0, 0);
        }
        for (int j = 0; j < n; j++) {
            double cj = a[a0 + n + j] * sc.d[c0 + j] + a[a0 + j] * a[a0 + 2 * n + j];
            double t = ElementwiseOp.TANH.unary(cj, 0, 0);
            o.c().d[o.cAt() + o0 + j] = cj;
            o.tanh().d[o.tanhAt() + o0 + j] = t;
            o.h().d[o.hAt() + o0 + j] = a[a0 + 3 * n + j] * t;
        }
    }

    /** sigmoid or tanh of n floats, through FloatMath (vectorized where the machine can). */
    private static void activate(ElementwiseOp op, float[] x, int xo, float[] y, int yo, int n) {
        if (Simd.ENABLED) {
            SimdKernels.floatMath(op, x, xo, y, yo, n);
        } else {
            FloatMath.apply(op, x, xo, y, yo, n);
        }
    }

    /** [0] the gradient of the pre-activation gates, [1] that of c; see the Backend method. */
    static View[] lstmBackward(View dh, View dc, View acts, View tanhC, View c) {
        View dhv = Views.contiguous(dh);
        View av = Views.contiguous(acts);
        View tv = Views.contiguous(tanhC);
        View cv = Views.contiguous(c);
        int b = av.shape()[0];
        int n = cv.shape()[1];
        ScalarType dt = av.type();
        View dGates = Views.uninitialized(dt, new int[] {b, 4 * n});
        View dPrev = Views.copy(dc); // the cell state's gradient, updated in place row by row
        ArrayStorage sdh = st(dhv);
        Parallel.forRange(b, grain(n), (from, to) -> {
            for (int r = from; r < to; r++) {
                backwardRow(dt, null, 0, sdh, dhv.offset() + r * n, st(dPrev), r * n, st(av), av.offset() + r * 4 * n,
                        st(tv), tv.offset() + r * n, st(cv), cv.offset() + r * n, st(dGates), r * 4 * n, n);
            }
        });
        return new View[] {dGates, dPrev};
    }

    /**
     * Row r of one step's backward: dh is rec[rec0 + j] + dOut[d0 + j] (or dOut's alone, rec null),
     * dc at dc[dc0, dc0 + n) is read and overwritten with the previous cell state's gradient, and
     * the gates' gradient goes to gs[gs0, gs0 + 4n).
     */
    private static void backwardRow(ScalarType dt, ArrayStorage rec, int rec0, ArrayStorage dOut, int d0,
                                    ArrayStorage dc, int dc0, ArrayStorage acts, int a0, ArrayStorage tanh, int t0,
                                    ArrayStorage c, int c0, ArrayStorage gates, int gs0, int n) {
        if (dt == ScalarType.FLOAT32) {
            float[] rs = rec == null ? null : rec.f();
            float[] ds = dOut.f();
            float[] dcs = dc.f();
            float[] a = acts.f();
            float[] th = tanh.f();
            float[] cs = c.f();
            float[] gs = gates.f();
            for (int j = 0; j < n; j++) {
                float i = a[a0 + j];
                float f = a[a0 + n + j];
                float g = a[a0 + 2 * n + j];
                float o = a[a0 + 3 * n + j];
                float t = th[t0 + j];
                float d = rs == null ? ds[d0 + j] : rs[rec0 + j] + ds[d0 + j];
                float cc = dcs[dc0 + j] + d * o * (-(t * t) + 1f);
                gs[gs0 + j] = cc * g * i * (-i + 1f);
                gs[gs0 + n + j] = cc * cs[c0 + j] * f * (-f + 1f);
                gs[gs0 + 2 * n + j] = cc * i * (-(g * g) + 1f);
                gs[gs0 + 3 * n + j] = d * t * o * (-o + 1f);
                dcs[dc0 + j] = cc * f;
            }
            return;
        }
        for (int j = 0; j < n; j++) {
            double i = acts.d[a0 + j];
            double f = acts.d[a0 + n + j];
            double g = acts.d[a0 + 2 * n + j];
            double o = acts.d[a0 + 3 * n + j];
            double t = tanh.d[t0 + j];
            double d = rec == null ? dOut.d[d0 + j] : rec.d[rec0 + j] + dOut.d[d0 + j];
            double cc = dc.d[dc0 + j] + d * o * (-(t * t) + 1);
            gates.d[gs0 + j] = cc * g * i * (-i + 1);
            gates.d[gs0 + n + j] = cc * c.d[c0 + j] * f * (-f + 1);
            gates.d[gs0 + 2 * n + j] = cc * i * (-(g * g) + 1);
            gates.d[gs0 + 3 * n + j] = d * t * o * (-o + 1);
            dc.d[dc0 + j] = cc * f;
        }
    }

    /** [0] h₁…h_T and c_T, [1] the activations, [2] the cell states, [3] their tanh; see the Backend method. */
    static View[] lstmSequence(View ih, View h0, View c0, View whh, View bhh) {
        View ihv = Views.contiguous(ih);
        int steps = ihv.shape()[0];
        int b = ihv.shape()[1];
        int n = c0.shape()[1];
        ScalarType dt = ihv.type();
        View packed = Views.uninitialized(dt, new int[] {steps + 1, b, n});
        View acts = Views.uninitialized(dt, new int[] {steps, b, 4 * n});
        View cs = Views.uninitialized(dt, new int[] {steps, b, n});
        View tanhs = Views.uninitialized(dt, new int[] {steps, b, n});
        View whhT = Views.t(Views.contiguous(whh)); // [H, 4H]
        View bias = bhh == null ? null : Views.contiguous(bhh);
        ArrayStorage hh = ArrayStorage.uninitialized(dt, b * 4 * n); // this step's h·whhᵀ
        ArrayStorage gates = ArrayStorage.uninitialized(dt, b * 4 * n); // ih[t] + (h·whhᵀ + bhh)
        ArrayStorage sp = st(packed);
        View hPrev = Views.contiguous(h0);
        View cPrev = Views.contiguous(c0);
        for (int t = 0; t < steps; t++) {
            Blas.gemm(hPrev, whhT, hh, 0);
            hh.bumpVersion(); // rewritten every step: no BLAS copy may stand for what it held
            addGates(dt, ihv, t * b * 4 * n, hh, bias, gates, b * 4 * n, 4 * n);
            Out out = new Out(st(acts), t * b * 4 * n, st(cs), t * b * n, st(tanhs), t * b * n, sp, t * b * n);
            View cp = cPrev;
            Parallel.forRange(b, grain(n), (from, to) -> {
                for (int r = from; r < to; r++) {
                    forwardRow(dt, gates, r * 4 * n, st(cp), cp.offset() + r * n, out, r, n);
                }
            });
            sp.bumpVersion();
            hPrev = new View(sp, t * b * n, new int[] {b, n}, new int[] {n, 1});
            cPrev = new View(cs.storage(), t * b * n, new int[] {b, n}, new int[] {n, 1});
        }
        Elementwise.copy(cPrev, new View(sp, steps * b * n, new int[] {b, n}, new int[] {n, 1})); // c_T
        hh.recycle();
        gates.recycle();
        return new View[] {packed, acts, cs, tanhs};
    }

    /** gates[i] = ih[at + i] + (hh[i] + bias[i mod width]) (without the bias: ih + hh), for i below count. */
    private static void addGates(ScalarType dt, View ih, int at, ArrayStorage hh, View bias, ArrayStorage gates,
                                 int count, int width) {
        int io = ih.offset() + at;
        if (dt == ScalarType.FLOAT32) {
            float[] x = st(ih).f();
            float[] h = hh.f();
            float[] g = gates.f();
            float[] bv = bias == null ? null : st(bias).f();
            int bo = bias == null ? 0 : bias.offset();
            for (int i = 0; i < count; i++) {
                g[i] = bv == null ? x[io + i] + h[i] : x[io + i] + (h[i] + bv[bo + i % width]);
            }
            return;
        }
        double[] x = st(ih).d;
        for (int i = 0; i < count; i++) {
            gates.d[i] = bias == null ? x[io + i] + hh.d[i] : x[io + i] + (hh.d[i] + st(bias).d[bias.offset() + i % width]);
        }
    }

    /** [0] the gates' gradients [T, B, 4H], [1] h0's, [2] c0's; see the Backend method. */
    static View[] lstmSequenceBackward(View dOut, View acts, View cs, View tanhs, View c0, View whh) {
        View dv = Views.contiguous(dOut);
        View av = Views.contiguous(acts);
        View cv = Views.contiguous(cs);
        View tv = Views.contiguous(tanhs);
        View c0v = Views.contiguous(c0);
        View wv = Views.contiguous(whh); // [4H, H]
        int steps = av.shape()[0];
        int b = av.shape()[1];
        int n = c0v.shape()[1];
        ScalarType dt = av.type();
        View dGates = Views.uninitialized(dt, new int[] {steps, b, 4 * n});
        View dc = Views.copy(new View(dv.storage(), dv.offset() + steps * b * n, new int[] {b, n}, new int[] {n, 1}));
        // dGates_{t+1}·whh, then h0's gradient (zero when there is no step)
        View dh = steps == 0 ? Views.empty(dt, new int[] {b, n}) : Views.uninitialized(dt, new int[] {b, n});
        ArrayStorage sg = st(dGates);
        for (int t = steps - 1; t >= 0; t--) {
            int step = t;
            boolean last = t == steps - 1;
            View cp = t == 0 ? c0v : new View(cv.storage(), cv.offset() + (t - 1) * b * n, new int[] {b, n},
                    new int[] {n, 1});
            Parallel.forRange(b, grain(n), (from, to) -> {
                for (int r = from; r < to; r++) {
                    backwardRow(dt, last ? null : st(dh), r * n, st(dv), dv.offset() + (step * b + r) * n, st(dc), r * n,
                            st(av), av.offset() + (step * b + r) * 4 * n, st(tv), tv.offset() + (step * b + r) * n,
                            st(cp), cp.offset() + r * n, sg, (step * b + r) * 4 * n, n);
                }
            });
            sg.bumpVersion();
            Blas.gemm(new View(sg, t * b * 4 * n, new int[] {b, 4 * n}, new int[] {4 * n, 1}), wv, st(dh), 0);
            st(dh).bumpVersion();
        }
        return new View[] {dGates, dh, dc};
    }
}
