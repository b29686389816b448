package io.jgrad.core;

/**
 * The kernels of {@link Tensor#conv2d}. The image batch is unfolded channel-major, as
 * columns [C·kh·kw, N·Ho·Wo] (one row per kernel tap, holding that tap's input for every output
 * position of every image), so that the whole convolution is one product
 * [O, C·kh·kw] · [C·kh·kw, N·Ho·Wo] = [O, N·Ho·Wo]. In this layout the unfolding copies runs of
 * whole output rows, the result reaches NCHW by copying runs of Ho·Wo values (with the bias
 * added on the way), and the backward gathers the output gradient the same way, summing the
 * bias gradient as it goes. The patch-row layout of {@link Tensor#im2col} instead needed a
 * transposing copy of the result, a separate bias pass, and the same again in backward.
 */
final class Conv {
    private Conv() {}

    /** Columns [C·kh·kw, N·Ho·Wo] of x [N, C, H, W] (contiguous, float32 or float64); zero outside the image. */
    static Tensor columns(Tensor x, Window2d w) {
        int n = x.shape[0];
        int ch = x.shape[1];
        int h = x.shape[2];
        int wd = x.shape[3];
        int oh = w.outH(h);
        int ow = w.outW(wd);
        int taps = w.kernelH() * w.kernelW();
        int positions = n * oh * ow;
        Tensor out = Tensor.empty(x.dtype(), new int[] {ch * taps, positions});
        Object src = x.dtype() == DType.FLOAT32 ? x.storage.f : x.storage.d;
        Object dst = out.dtype() == DType.FLOAT32 ? out.storage.f : out.storage.d;
        Parallel.forRange(ch * taps, 1, (from, to) -> {
            for (int r = from; r < to; r++) {
                int row = r;
                int c = row / taps;
                int ki = row % taps / w.kernelW();
                int kj = row % w.kernelW();
                walk(w, n, ch, h, wd, c, ki, kj, (imageAt, colAt, len, step) -> {
                    int at = row * positions + colAt;
                    int from0 = x.offset + imageAt;
                    if (step == 1) {
                        System.arraycopy(src, from0, dst, at, len);
                    } else if (src instanceof float[] s) {
                        float[] d = (float[]) dst;
                        for (int i = 0; i < len; i++) {
                            d[at + i] = s[from0 + i * step];
                        }
                    } else {
                        double[] s = (double[]) src;
                        double[] d = (double[]) dst;
                        for (int i = 0; i < len; i++) {
                            d[at + i] = s[from0 + i * step];
                        }
                    }
                });
            }
        });
        return out;
    }

    /** The adjoint of {@link #columns}: columns [C·kh·kw, N·Ho·Wo] (contiguous) summed into an image of {@code shape}. */
    static Tensor image(Tensor cols, int[] shape, Window2d w) {
        int n = shape[0];
        int ch = shape[1];
        int h = shape[2];
        int wd = shape[3];
        int taps = w.kernelH() * w.kernelW();
        int positions = n * w.outH(h) * w.outW(wd);
        Tensor out = Tensor.empty(cols.dtype(), shape);
        boolean f32 = cols.dtype() == DType.FLOAT32;
        // one image per task: every write of a task lands in its own image
        Parallel.forRange(n, 1, (from, to) -> {
            for (int c = 0; c < ch; c++) {
                for (int tap = 0; tap < taps; tap++) {
                    int row = c * taps + tap;
                    walkImages(w, from, to, ch, h, wd, c, tap / w.kernelW(), tap % w.kernelW(),
                            (imageAt, colAt, len, step) -> {
                                int src = cols.offset + row * positions + colAt;
                                if (f32) {
                                    float[] s = cols.storage.f;
                                    float[] d = out.storage.f;
                                    for (int i = 0; i < len; i++) {
                                        d[imageAt + i * step] += s[src + i];
                                    }
                                } else {
                                    double[] s = cols.storage.d;
                                    double[] d = out.storage.d;
                                    for (int i = 0; i < len; i++) {
                                        d[imageAt + i * step] += s[src + i];
                                    }
                                }
                            });
                }
            }
        });
        return out;
    }

    /** A run of one kernel tap's inputs: image elements imageAt, imageAt+step, ... for columns colAt.. colAt+len. */
    @FunctionalInterface
    private interface Run {
        void copy(int imageAt, int colAt, int len, int step);
    }

    private static void walk(Window2d w, int n, int ch, int h, int wd, int c, int ki, int kj, Run run) {
        walkImages(w, 0, n, ch, h, wd, c, ki, kj, run);
    }

    /**
     * Calls {@code run} for each output row of images [from, to) with the stretch of output
     * columns whose input (tap ki, kj of channel c) lies inside the image; positions outside
     * stay zero in the columns and contribute nothing to the image.
     */
    private static void walkImages(Window2d w, int from, int to, int ch, int h, int wd, int c, int ki, int kj,
                                   Run run) {
        int oh = w.outH(h);
        int ow = w.outW(wd);
        int sw = w.strideW();
        int dx = kj * w.dilationW() - w.padW(); // input column of output column 0
        // output columns ox with 0 <= ox*sw + dx < wd
        int lo = dx >= 0 ? 0 : (-dx + sw - 1) / sw;
        int hi = wd - dx <= 0 ? 0 : Math.min(ow, (wd - dx - 1) / sw + 1);
        if (lo >= hi) {
            return;
        }
        for (int b = from; b < to; b++) {
            for (int oy = 0; oy < oh; oy++) {
                int iy = oy * w.strideH() - w.padH() + ki * w.dilationH();
                if (iy < 0 || iy >= h) {
                    continue;
                }
                int imageAt = ((b * ch + c) * h + iy) * wd + lo * sw + dx;
                int colAt = (b * oh + oy) * ow + lo;
                run.copy(imageAt, colAt, hi - lo, sw);
            }
        }
    }

    /**
     * out [N, O, Ho·Wo] (contiguous) from the product y [O, N·Ho·Wo]: out[n, o, :] = y[o, n·L:(n+1)·L] + bias[o].
     */
    static void scatter(Tensor y, Tensor bias, Tensor out, int n, int o, int plane) {
        boolean f32 = y.dtype() == DType.FLOAT32;
        int positions = n * plane;
        Parallel.forRange(n, Math.max(1, Elementwise.GRAIN / Math.max(1, o * plane)), (from, to) -> {
            for (int b = from; b < to; b++) {
                for (int k = 0; k < o; k++) {
                    int src = k * positions + b * plane;
                    int dst = (b * o + k) * plane;
                    double add = bias == null ? 0 : bias.storage.get(bias.offset + k * bias.strides[0]);
                    if (f32) {
                        float[] s = y.storage.f;
                        float[] d = out.storage.f;
                        float bf = (float) add;
                        for (int i = 0; i < plane; i++) {
                            d[dst + i] = s[src + i] + bf;
                        }
                    } else {
                        double[] s = y.storage.d;
                        double[] d = out.storage.d;
                        for (int i = 0; i < plane; i++) {
                            d[dst + i] = s[src + i] + add;
                        }
                    }
                }
            }
        });
    }

    /**
     * The reverse of {@link #scatter} for gradients: dOut [N, O, L] (contiguous) -> [O, N·L]; with
     * {@code biasGrad} non-null also sums each channel's gradient into it (in double, images in
     * order, so the sum does not depend on the thread count).
     */
    static Tensor gather(Tensor dOut, int n, int o, int plane, double[] biasGrad) {
        Tensor y = Tensor.empty(dOut.dtype(), new int[] {o, n * plane});
        boolean f32 = dOut.dtype() == DType.FLOAT32;
        int positions = n * plane;
        double[] partial = biasGrad == null ? null : new double[n * o];
        Parallel.forRange(n, Math.max(1, Elementwise.GRAIN / Math.max(1, o * plane)), (from, to) -> {
            for (int b = from; b < to; b++) {
                for (int k = 0; k < o; k++) {
                    int src = dOut.offset + (b * o + k) * plane;
                    int dst = k * positions + b * plane;
                    if (f32) {
                        System.arraycopy(dOut.storage.f, src, y.storage.f, dst, plane);
                    } else {
                        System.arraycopy(dOut.storage.d, src, y.storage.d, dst, plane);
                    }
                    if (partial != null) {
                        partial[b * o + k] = sum(dOut.storage, src, plane);
                    }
                }
            }
        });
        if (biasGrad != null) {
            for (int b = 0; b < n; b++) {
                for (int k = 0; k < o; k++) {
                    biasGrad[k] += partial[b * o + k];
                }
            }
        }
        return y;
    }

    private static double sum(Storage s, int from, int len) {
        double a0 = 0;
        double a1 = 0;
        double a2 = 0;
        double a3 = 0;
        int i = 0;
        if (s.dtype == DType.FLOAT32) {
            float[] v = s.f;
            for (; i + 3 < len; i += 4) {
                a0 += v[from + i];
                a1 += v[from + i + 1];
                a2 += v[from + i + 2];
                a3 += v[from + i + 3];
            }
            for (; i < len; i++) {
                a0 += v[from + i];
            }
        } else {
            double[] v = s.d;
            for (; i + 3 < len; i += 4) {
                a0 += v[from + i];
                a1 += v[from + i + 1];
                a2 += v[from + i + 2];
                a3 += v[from + i + 3];
            }
            for (; i < len; i++) {
                a0 += v[from + i];
            }
        }
        return (a0 + a1) + (a2 + a3);
    }
}
