package io.jgrad.core.cpu;

import static io.jgrad.core.cpu.Views.st;

import io.jgrad.core.backend.ScalarType;
import io.jgrad.core.backend.View;
import io.jgrad.core.backend.Window;

/** Kernels for {@link View#im2col} and its adjoint {@link View#col2im}: patches of an NCHW tensor as rows. */
final class Im2col {
    private Im2col() {}

    /** x [N, C, H, W] (contiguous) -> [N, Ho*Wo, C*kh*kw]; outside the image reads {@code padValue}. */
    static View forward(View x, Window w, double padValue) {
        View c = Views.contiguous(x);
        int n = c.shape()[0];
        int ch = c.shape()[1];
        int h = c.shape()[2];
        int wd = c.shape()[3];
        int oh = w.outH(h);
        int ow = w.outW(wd);
        int kk = w.kernelH() * w.kernelW();
        int cols = ch * kk;
        View out = Views.uninitialized(x.type(), new int[] {n, oh * ow, cols});
        ArrayStorage s = st(c);
        ArrayStorage o = st(out);
        if (s.type() == ScalarType.FLOAT32) {
            Parallel.forRange(n, 1, (from, to) -> patchesF(s.f(), c.offset(), o.f(), 0, ch, h, wd, w, (float) padValue, false,
                    from, to));
            return out;
        }
        Parallel.forRange(n, 1, (from, to) -> { // any other dtype, element by element
            for (int b = from; b < to; b++) {
                for (int y = 0; y < oh; y++) {
                    for (int xx = 0; xx < ow; xx++) {
                        int row = (b * oh * ow + y * ow + xx) * cols;
                        for (int cc = 0; cc < ch; cc++) {
                            int plane = c.offset() + (b * ch + cc) * h * wd;
                            for (int ki = 0; ki < w.kernelH(); ki++) {
                                int iy = y * w.strideH() - w.padH() + ki * w.dilationH();
                                for (int kj = 0; kj < w.kernelW(); kj++) {
                                    int ix = xx * w.strideW() - w.padW() + kj * w.dilationW();
                                    int at = row + cc * kk + ki * w.kernelW() + kj;
                                    boolean inside = iy >= 0 && iy < h && ix >= 0 && ix < wd;
                                    o.set(at, inside ? s.get(plane + iy * wd + ix) : padValue);
                                }
                            }
                        }
                    }
                }
            }
        });
        return out;
    }

    /**
     * The float32 kernel for images [from, to), both directions: {@code cols[o] = image[at]}
     * (im2col) or, with {@code adjoint}, {@code image[at] += cols[o]} (col2im). Invariants are
     * hoisted, windows wholly inside the image (all of them without padding) skip the bounds
     * checks, and the usual 3-wide row is unrolled (loops of three ran slowly).
     */
    private static void patchesF(float[] image, int imageOff, float[] cols, int colsOff, int ch, int h, int wd,
                                 Window w, float pad, boolean adjoint, int from, int to) {
        int kh = w.kernelH();
        int kw = w.kernelW();
        int dh = w.dilationH();
        int dw = w.dilationW();
        int oh = w.outH(h);
        int ow = w.outW(wd);
        int plane = h * wd;
        int o = colsOff + from * oh * ow * ch * kh * kw;
        for (int b = from; b < to; b++) {
            int first = imageOff + b * ch * plane;
            for (int y = 0; y < oh; y++) {
                int iy0 = y * w.strideH() - w.padH();
                boolean rowsInside = iy0 >= 0 && iy0 + (kh - 1) * dh < h;
                for (int x = 0; x < ow; x++) {
                    int ix0 = x * w.strideW() - w.padW();
                    if (rowsInside && ix0 >= 0 && ix0 + (kw - 1) * dw < wd) {
                        for (int cc = 0, base = first + iy0 * wd + ix0; cc < ch; cc++, base += plane) {
                            for (int ki = 0, r = base; ki < kh; ki++, r += dh * wd) {
                                if (kw == 3 && dw == 1) {
                                    if (adjoint) {
                                        image[r] += cols[o];
                                        image[r + 1] += cols[o + 1];
                                        image[r + 2] += cols[o + 2];
                                    } else {
                                        cols[o] = image[r];
                                        cols[o + 1] = image[r + 1];
                                        cols[o + 2] = image[r + 2];
                                    }
                                    o += 3;
                                    continue;
                                }
                                for (int kj = 0, at = r; kj < kw; kj++, at += dw, o++) {
                                    if (adjoint) {
                                        image[at] += cols[o];
                                    } else {
                                        cols[o] = image[at];
                                    }
                                }
                            }
                        }
                        continue;
                    }
                    for (int cc = 0; cc < ch; cc++) {
                        int p = first + cc * plane;
                        for (int ki = 0; ki < kh; ki++) {
                            int iy = iy0 + ki * dh;
                            for (int kj = 0; kj < kw; kj++, o++) {
                                int ix = ix0 + kj * dw;
                                boolean inside = iy >= 0 && iy < h && ix >= 0 && ix < wd;
                                if (adjoint) {
                                    if (inside) {
                                        image[p + iy * wd + ix] += cols[o];
                                    }
                                } else {
                                    cols[o] = inside ? image[p + iy * wd + ix] : pad;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** The adjoint: cols [N, Ho*Wo, C*kh*kw] (as the caller checked) summed back into an image of {@code shape} [N, C, H, W]. */
    static View backward(View cols, int[] shape, Window w) {
        View c = Views.contiguous(cols);
        int n = shape[0];
        int ch = shape[1];
        int h = shape[2];
        int wd = shape[3];
        int oh = w.outH(h);
        int ow = w.outW(wd);
        int kk = w.kernelH() * w.kernelW();
        int ncols = ch * kk;
        View out = Views.empty(cols.type(), shape);
        ArrayStorage s = st(c);
        ArrayStorage o = st(out);
        if (s.type() == ScalarType.FLOAT32) {
            Parallel.forRange(n, 1, (from, to) -> patchesF(o.f(), 0, s.f(), c.offset(), ch, h, wd, w, 0, true, from, to));
            return out;
        }
        Parallel.forRange(n, 1, (from, to) -> {
            for (int b = from; b < to; b++) {
                for (int y = 0; y < oh; y++) {
                    for (int xx = 0; xx < ow; xx++) {
                        int row = c.offset() + (b * oh * ow + y * ow + xx) * ncols;
                        for (int cc = 0; cc < ch; cc++) {
                            int plane = (b * ch + cc) * h * wd;
                            for (int ki = 0; ki < w.kernelH(); ki++) {
                                int iy = y * w.strideH() - w.padH() + ki * w.dilationH();
                                if (iy < 0 || iy >= h) {
                                    continue;
                                }
                                for (int kj = 0; kj < w.kernelW(); kj++) {
                                    int ix = xx * w.strideW() - w.padW() + kj * w.dilationW();
                                    if (ix < 0 || ix >= wd) {
                                        continue;
                                    }
                                    int at = row + cc * kk + ki * w.kernelW() + kj;
                                    o.set(plane + iy * wd + ix, o.get(plane + iy * wd + ix) + s.get(at));
                                }
                            }
                        }
                    }
                }
            }
        });
        return out;
    }
}
