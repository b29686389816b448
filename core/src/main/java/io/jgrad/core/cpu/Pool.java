package io.jgrad.core.cpu;

import static io.jgrad.core.cpu.Views.st;

import io.jgrad.core.backend.ScalarType;
import io.jgrad.core.backend.View;
import io.jgrad.core.backend.Window;

/**
 * Kernels of max pooling: each window's max read straight from the image, and the
 * flat index of the element it came from, which backward sends the gradient to.
 */
final class Pool {
    private Pool() {}

    /**
     * Max of each window of x [N, C, H, W]: [0] the values, [1] the INT64 flat index into x of
     * each (-1: no pixel in the window).
     */
    static View[] maxForward(View x, Window w) {
        int planes = x.shape()[0] * x.shape()[1];
        int h = x.shape()[2];
        int wd = x.shape()[3];
        View indices = Views.uninitialized(ScalarType.INT64, new int[] {x.shape()[0], x.shape()[1], w.outH(h), w.outW(wd)});
        long[] argmax = st(indices).l;
        int oh = w.outH(h);
        int ow = w.outW(wd);
        View out = Views.uninitialized(x.type(), new int[] {x.shape()[0], x.shape()[1], oh, ow});
        int grain = Math.max(1, Elementwise.GRAIN / Math.max(1, h * wd));
        Fused relu = reluOperand(x, w);
        if (relu != null) {
            // x = relu(a), not computed yet: pool a and apply relu to the maxima (relu keeps order,
            // so the same values and windows' first maxima), never writing x
            float[] a = relu.leaf.f();
            float[] o = st(out).f();
            Parallel.forRange(planes, grain, (from, to) -> maxForward2x2(a, relu.offset, o, argmax, h, wd, w, from, to, true));
            return new View[] {out, indices};
        }
        View c = Views.contiguous(x);
        ArrayStorage s = st(c);
        ArrayStorage o = st(out);
        if (s.type() == ScalarType.FLOAT32) {
            Parallel.forRange(planes, grain, (from, to) -> maxForwardF(s.f(), c.offset(), o.f(), argmax, h, wd, w, from, to));
            return new View[] {out, indices};
        }
        Parallel.forRange(planes, grain, (from, to) -> { // float64 (x is floating point)
            for (int p = from; p < to; p++) {
                int plane = p * h * wd;
                int outAt = p * oh * ow;
                for (int y = 0; y < oh; y++) {
                    for (int xx = 0; xx < ow; xx++) {
                        int best = -1;
                        double bv = Double.NEGATIVE_INFINITY;
                        for (int ki = 0; ki < w.kernelH() && !Double.isNaN(bv); ki++) {
                            int iy = y * w.strideH() - w.padH() + ki * w.dilationH();
                            if (iy < 0 || iy >= h) {
                                continue;
                            }
                            for (int kj = 0; kj < w.kernelW(); kj++) {
                                int ix = xx * w.strideW() - w.padW() + kj * w.dilationW();
                                if (ix < 0 || ix >= wd) {
                                    continue;
                                }
                                int at = plane + iy * wd + ix;
                                double v = s.d[c.offset() + at];
                                if (best < 0 || v > bv || Double.isNaN(v)) { // the first max; a NaN wins
                                    bv = v;
                                    best = at;
                                    if (Double.isNaN(v)) {
                                        break;
                                    }
                                }
                            }
                        }
                        argmax[outAt] = best;
                        o.d[outAt++] = bv;
                    }
                }
            }
        });
        return new View[] {out, indices};
    }

    /**
     * When x is a deferred relu of one array ({@link Fused}) that a 2x2 window without padding
     * pools, that array's leaf; else null (x is computed and pooled as it is).
     */
    private static Fused reluOperand(View x, Window w) {
        Fused f = x.type() == ScalarType.FLOAT32 ? st(x).pending() : null;
        if (f == null || !takes2x2Path(w) || x.offset() != 0 || !x.isContiguous() || x.numel() != st(x).length()) {
            return null;
        }
        return f.reluOfArray();
    }

    /**
     * The float32 forward for planes [from, to): windows wholly inside the image skip the bounds
     * checks. Like the float64 loop (and PyTorch), each output is the window's first maximum in
     * scan order, so -0 before +0 gives -0, or its first NaN.
     */
    private static void maxForwardF(float[] v, int off, float[] out, long[] argmax, int h, int wd, Window w, int from,
                                    int to) {
        int kh = w.kernelH();
        int kw = w.kernelW();
        int sh = w.strideH();
        int sw = w.strideW();
        int ph = w.padH();
        int pw = w.padW();
        int dh = w.dilationH();
        int dw = w.dilationW();
        int oh = w.outH(h);
        int ow = w.outW(wd);
        if (takes2x2Path(w)) {
            maxForward2x2(v, off, out, argmax, h, wd, w, from, to, false);
            return;
        }
        for (int p = from; p < to; p++) {
            int plane = p * h * wd;
            int o = p * oh * ow;
            for (int y = 0; y < oh; y++) {
                int iy0 = y * sh - ph;
                boolean rowsInside = iy0 >= 0 && iy0 + (kh - 1) * dh < h;
                for (int x = 0; x < ow; x++, o++) {
                    int ix0 = x * sw - pw;
                    int best = -1;
                    float bv = Float.NEGATIVE_INFINITY;
                    if (rowsInside && ix0 >= 0 && ix0 + (kw - 1) * dw < wd) {
                        int first = plane + iy0 * wd + ix0;
                        best = first;
                        bv = v[off + first];
                        // branch-free: on real data each comparison is a coin flip, and mispredicted
                        // branches made this loop several times slower (a float select compiles to
                        // one, Math.max does not). A NaN (rare) is redone below.
                        for (int ki = 0, r = first; ki < kh; ki++, r += dh * wd) {
                            for (int kj = 0, at = r; kj < kw; kj++, at += dw) {
                                float t = v[off + at];
                                int take = t > bv ? 1 : 0;
                                best += take * (at - best);
                                bv = Math.max(bv, t);
                            }
                        }
                        if (bv != bv) { // the first NaN wins
                            best = firstNaN(v, off, first, kh, kw, dh * wd, dw);
                        }
                        bv = v[off + best]; // the first maximum itself: Math.max makes +0 of a -0 and +0
                    } else {
                        window:
                        for (int ki = 0; ki < kh; ki++) {
                            int iy = iy0 + ki * dh;
                            if (iy < 0 || iy >= h) {
                                continue;
                            }
                            for (int kj = 0; kj < kw; kj++) {
                                int ix = ix0 + kj * dw;
                                if (ix < 0 || ix >= wd) {
                                    continue;
                                }
                                int at = plane + iy * wd + ix;
                                float t = v[off + at];
                                if (best < 0 || t > bv || t != t) {
                                    bv = t;
                                    best = at;
                                    if (t != t) {
                                        break window;
                                    }
                                }
                            }
                        }
                    }
                    argmax[o] = best;
                    out[o] = bv;
                }
            }
        }
    }

    /** A 2x2 window without padding, which {@link #maxForward2x2} takes: every window lies inside the image. */
    private static boolean takes2x2Path(Window w) {
        return w.kernelH() == 2 && w.kernelW() == 2 && w.padH() == 0 && w.padW() == 0;
    }

    /**
     * {@link #maxForwardF} for a 2x2 window without padding (any stride and dilation; the usual
     * pool is 2x2 with stride 2): the four values compared as two pairs, then the pair winners (a
     * tie keeps the earlier one, so the result is still the first maximum in scan order): two
     * dependent comparisons instead of three. With {@code relu}, the windows of relu(v): a maximum
     * that is not above 0 becomes +0, and the window's first element its first maximum (relu made
     * every element +0); a NaN stays.
     */
    private static void maxForward2x2(float[] v, int off, float[] out, long[] argmax, int h, int wd, Window w,
                                      int from, int to, boolean relu) {
        int oh = w.outH(h);
        int ow = w.outW(wd);
        int sh = w.strideH();
        int sw = w.strideW();
        int down = w.dilationH() * wd;
        int across = w.dilationW();
        for (int p = from; p < to; p++) {
            int plane = p * h * wd;
            int o = p * oh * ow;
            for (int y = 0; y < oh; y++, o += ow) {
                int r0 = plane + y * sh * wd;
                for (int x = 0; x < ow; x++) {
                    int i0 = r0 + x * sw;
                    int i2 = i0 + down;
                    float a = v[off + i0];
                    float b = v[off + i0 + across];
                    float c = v[off + i2];
                    float d = v[off + i2 + across];
                    int j01 = b > a ? i0 + across : i0;
                    int j23 = d > c ? i2 + across : i2;
                    float m01 = Math.max(a, b);
                    float m23 = Math.max(c, d);
                    int j = m23 > m01 ? j23 : j01;
                    float m = v[off + j]; // the first maximum itself (Math.max would make +0 of -0 and +0)
                    if (Math.max(m01, m23) != Math.max(m01, m23)) { // a NaN: the first one wins
                        j = a != a ? i0 : b != b ? i0 + across : c != c ? i2 : i2 + across;
                        m = v[off + j];
                    } else if (relu && !(m > 0)) {
                        m = 0f;
                        j = i0;
                    }
                    out[o + x] = m;
                    argmax[o + x] = j;
                }
            }
        }
    }

    private static int firstNaN(float[] v, int off, int first, int kh, int kw, int rowStep, int colStep) {
        for (int ki = 0, r = first; ki < kh; ki++, r += rowStep) {
            for (int kj = 0, at = r; kj < kw; kj++, at += colStep) {
                if (Float.isNaN(v[off + at])) {
                    return at;
                }
            }
        }
        return first;
    }

    /** Sends each output gradient to its window's max: dx[argmax[i]] += dOut[i]; windows stay within their plane. */
    static View maxBackward(View dOut, View indices, int[] inputShape) {
        long[] argmax = Views.longs(indices);
        View g = Views.contiguous(dOut);
        View dx = Views.empty(dOut.type(), inputShape);
        int planes = inputShape[0] * inputShape[1];
        int per = argmax.length / Math.max(1, planes);
        ArrayStorage s = st(g);
        ArrayStorage o = st(dx);
        int grain = Math.max(1, Elementwise.GRAIN / Math.max(1, per));
        float[] of = o.type() == ScalarType.FLOAT32 ? o.f() : null;
        float[] sf = s.type() == ScalarType.FLOAT32 ? s.f() : null;
        Parallel.forRange(planes, grain, (from, to) -> {
            for (int i = from * per, end = to * per; i < end; i++) {
                int at = (int) argmax[i];
                if (at < 0) {
                    continue;
                }
                if (of != null) {
                    of[at] += sf[g.offset() + i];
                } else {
                    o.d[at] += s.d[g.offset() + i];
                }
            }
        });
        return dx;
    }
}
