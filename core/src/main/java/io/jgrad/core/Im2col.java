package io.jgrad.core;

/** Kernels for {@link Tensor#im2col} and its adjoint {@link Tensor#col2im}: patches of an NCHW tensor as rows. */
final class Im2col {
    private Im2col() {}

    /** x [N, C, H, W] (contiguous) -> [N, Ho*Wo, C*kh*kw]; outside the image reads {@code padValue}. */
    static Tensor forward(Tensor x, Window2d w, double padValue) {
        Tensor c = x.contiguousNoGrad();
        int n = c.shape[0];
        int ch = c.shape[1];
        int h = c.shape[2];
        int wd = c.shape[3];
        int oh = w.outH(h);
        int ow = w.outW(wd);
        int kk = w.kernelH() * w.kernelW();
        int cols = ch * kk;
        Tensor out = Tensor.empty(x.dtype(), new int[] {n, oh * ow, cols});
        Storage s = c.storage;
        Storage o = out.storage;
        if (s.dtype == DType.FLOAT32) {
            Parallel.forRange(n, 1, (from, to) -> forwardF(s.f, c.offset, o.f, ch, h, wd, w, (float) padValue, from, to));
            return out;
        }
        Parallel.forRange(n, 1, (from, to) -> {
            for (int b = from; b < to; b++) {
                for (int y = 0; y < oh; y++) {
                    for (int xx = 0; xx < ow; xx++) {
                        int row = (b * oh * ow + y * ow + xx) * cols;
                        for (int cc = 0; cc < ch; cc++) {
                            int plane = c.offset + (b * ch + cc) * h * wd;
                            for (int ki = 0; ki < w.kernelH(); ki++) {
                                int iy = y * w.strideH() - w.padH() + ki * w.dilationH();
                                for (int kj = 0; kj < w.kernelW(); kj++) {
                                    int ix = xx * w.strideW() - w.padW() + kj * w.dilationW();
                                    int at = row + cc * kk + ki * w.kernelW() + kj;
                                    boolean inside = iy >= 0 && iy < h && ix >= 0 && ix < wd;
                                    if (s.dtype == DType.FLOAT32) {
                                        o.f[at] = inside ? s.f[plane + iy * wd + ix] : (float) padValue;
                                    } else {
                                        o.set(at, inside ? s.get(plane + iy * wd + ix) : padValue);
                                    }
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
     * The float32 forward for images [from, to): invariants hoisted, and windows that lie wholly
     * inside the image (all of them without padding) copied without bounds checks.
     */
    private static void forwardF(float[] src, int srcOff, float[] dst, int ch, int h, int wd, Window2d w, float pad,
                                 int from, int to) {
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
        int plane = h * wd;
        int o = from * oh * ow * ch * kh * kw;
        for (int b = from; b < to; b++) {
            int image = srcOff + b * ch * plane;
            for (int y = 0; y < oh; y++) {
                int iy0 = y * sh - ph;
                boolean rowsInside = iy0 >= 0 && iy0 + (kh - 1) * dh < h;
                for (int x = 0; x < ow; x++) {
                    int ix0 = x * sw - pw;
                    if (rowsInside && ix0 >= 0 && ix0 + (kw - 1) * dw < wd) {
                        if (kw == 3 && dw == 1) { // the usual 3-wide window, unrolled: loops of three run slowly
                            for (int cc = 0, base = image + iy0 * wd + ix0; cc < ch; cc++, base += plane) {
                                for (int ki = 0, r = base; ki < kh; ki++, r += dh * wd, o += 3) {
                                    dst[o] = src[r];
                                    dst[o + 1] = src[r + 1];
                                    dst[o + 2] = src[r + 2];
                                }
                            }
                            continue;
                        }
                        for (int cc = 0, base = image + iy0 * wd + ix0; cc < ch; cc++, base += plane) {
                            for (int ki = 0, r = base; ki < kh; ki++, r += dh * wd) {
                                for (int kj = 0, at = r; kj < kw; kj++, at += dw) {
                                    dst[o++] = src[at];
                                }
                            }
                        }
                    } else {
                        for (int cc = 0; cc < ch; cc++) {
                            int p = image + cc * plane;
                            for (int ki = 0; ki < kh; ki++) {
                                int iy = iy0 + ki * dh;
                                for (int kj = 0; kj < kw; kj++) {
                                    int ix = ix0 + kj * dw;
                                    dst[o++] = iy >= 0 && iy < h && ix >= 0 && ix < wd ? src[p + iy * wd + ix] : pad;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** The float32 adjoint for images [from, to): sums each column entry back into its pixel. */
    private static void backwardF(float[] src, int srcOff, float[] dst, int ch, int h, int wd, Window2d w, int from,
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
        int plane = h * wd;
        int o = srcOff + from * oh * ow * ch * kh * kw;
        for (int b = from; b < to; b++) {
            int image = b * ch * plane;
            for (int y = 0; y < oh; y++) {
                int iy0 = y * sh - ph;
                boolean rowsInside = iy0 >= 0 && iy0 + (kh - 1) * dh < h;
                for (int x = 0; x < ow; x++) {
                    int ix0 = x * sw - pw;
                    if (rowsInside && ix0 >= 0 && ix0 + (kw - 1) * dw < wd) {
                        if (kw == 3 && dw == 1) {
                            for (int cc = 0, base = image + iy0 * wd + ix0; cc < ch; cc++, base += plane) {
                                for (int ki = 0, r = base; ki < kh; ki++, r += dh * wd, o += 3) {
                                    dst[r] += src[o];
                                    dst[r + 1] += src[o + 1];
                                    dst[r + 2] += src[o + 2];
                                }
                            }
                            continue;
                        }
                        for (int cc = 0, base = image + iy0 * wd + ix0; cc < ch; cc++, base += plane) {
                            for (int ki = 0, r = base; ki < kh; ki++, r += dh * wd) {
                                for (int kj = 0, at = r; kj < kw; kj++, at += dw) {
                                    dst[at] += src[o++];
                                }
                            }
                        }
                    } else {
                        for (int cc = 0; cc < ch; cc++) {
                            int p = image + cc * plane;
                            for (int ki = 0; ki < kh; ki++) {
                                int iy = iy0 + ki * dh;
                                for (int kj = 0; kj < kw; kj++) {
                                    int ix = ix0 + kj * dw;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < wd) {
                                        dst[p + iy * wd + ix] += src[o];
                                    }
                                    o++;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** The adjoint: cols [N, Ho*Wo, C*kh*kw] summed back into an image of {@code shape} [N, C, H, W]. */
    static Tensor backward(Tensor cols, int[] shape, Window2d w) {
        Tensor c = cols.contiguousNoGrad();
        int n = shape[0];
        int ch = shape[1];
        int h = shape[2];
        int wd = shape[3];
        int oh = w.outH(h);
        int ow = w.outW(wd);
        int kk = w.kernelH() * w.kernelW();
        int ncols = ch * kk;
        if (c.shape.length != 3 || c.shape[0] != n || c.shape[1] != oh * ow || c.shape[2] != ncols) {
            throw new ShapeException("col2im: columns " + Shapes.str(c.shape) + " do not match image "
                    + Shapes.str(shape) + " with " + w + " (expected [" + n + ", " + oh * ow + ", " + ncols + "])");
        }
        Tensor out = Tensor.empty(cols.dtype(), shape);
        Storage s = c.storage;
        Storage o = out.storage;
        if (s.dtype == DType.FLOAT32) {
            Parallel.forRange(n, 1, (from, to) -> backwardF(s.f, c.offset, o.f, ch, h, wd, w, from, to));
            return out;
        }
        Parallel.forRange(n, 1, (from, to) -> {
            for (int b = from; b < to; b++) {
                for (int y = 0; y < oh; y++) {
                    for (int xx = 0; xx < ow; xx++) {
                        int row = c.offset + (b * oh * ow + y * ow + xx) * ncols;
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
                                    if (s.dtype == DType.FLOAT32) {
                                        o.f[plane + iy * wd + ix] += s.f[at];
                                    } else {
                                        o.set(plane + iy * wd + ix, o.get(plane + iy * wd + ix) + s.get(at));
                                    }
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
