package io.jgrad.core.cpu;

import static io.jgrad.core.cpu.Views.st;

import io.jgrad.core.backend.ScalarType;
import io.jgrad.core.backend.View;
import io.jgrad.core.backend.Window;

/**
 * The kernels of {@link View#conv2d}. Images are unfolded channel-major, as columns
 * [C·kh·kw, images·Ho·Wo] (one row per kernel tap, holding that tap's input at every output
 * position), so a convolution is the product [O, C·kh·kw] · columns = [O, images·Ho·Wo]. The
 * batch goes through in chunks of whole images sized so that a chunk's columns and product
 * stay in cache (a few MB): the columns are built, multiplied and the product copied to NCHW
 * with the bias added, chunk after chunk, into buffers reused across chunks. Backward rebuilds
 * each chunk's columns rather than keeping the whole batch's (at W3's second layer 18 MB per
 * step) and applies the adjoint of the unfolding chunk by chunk as well.
 *
 * <p>A chunk's width (images × output positions) is a multiple of 16 where a whole number of images
 * allows it, so that its products take {@link SmallGemm}'s vector tiles. Where a chunk whose
 * columns and product fit a core's cache can be cut ({@link Geometry#imagesPerTaskChunk}), the
 * threads take whole chunks, each running its own products, instead of splitting every product
 * between them: a convolution is then mostly traffic between the columns and a cache that stays
 * warm (W3's steps ran 20% shorter so).
 *
 * <p>The chunking depends only on the shapes, and partial sums across chunks are added in a
 * fixed order, so results do not depend on the thread count.
 */
final class Conv {
    /** Target size of a chunk's columns or product (4 MB; tests set it smaller to cut more chunks). */
    static volatile long chunkBytes = 4L << 20;

    private Conv() {}

    /**
     * Whether convolutions hand whole chunks to the threads where their shapes allow it ({@link
     * Geometry#imagesPerTaskChunk}); off, each product is split between the threads (for measuring).
     */
    static volatile boolean taskChunks = true;

    /** Shapes of one convolution: input [n, ch, h, wd], o output channels, output oh × ow, taps = ch·kh·kw. */
    record Geometry(int n, int ch, int h, int wd, int o, Window w) {
        int oh() {
            return w.outH(h);
        }

        int ow() {
            return w.outW(wd);
        }

        int plane() {
            return oh() * ow();
        }

        int taps() {
            return ch * w.kernelH() * w.kernelW();
        }

        /**
         * Row {@code row} of the columns: input channel, kernel row, the input column that output
         * column 0 reads ({@link #columnShift}) and the output columns [lo, hi) whose input lies
         * inside the image.
         */
        record Tap(int channel, int ki, int dx, int lo, int hi) {}

        Tap tap(int row) {
            int kk = w.kernelH() * w.kernelW();
            int kj = row % w.kernelW();
            return new Tap(row / kk, row % kk / w.kernelW(), columnShift(kj), firstInside(kj), endInside(kj));
        }

        /** The input row that output row oy reads for kernel row ki (outside [0, h) in the padding). */
        int inputRow(int oy, int ki) {
            return oy * w.strideH() - w.padH() + ki * w.dilationH();
        }

        /** Offset of row iy of channel c of image b in a contiguous [n, ch, h, wd] tensor. */
        int rowStart(int b, int c, int iy) {
            return ((b * ch + c) * h + iy) * wd;
        }

        /** The input column that output column 0 reads for kernel column kj (negative inside the padding). */
        int columnShift(int kj) {
            return kj * w.dilationW() - w.padW();
        }

        /** The first output column whose input for kernel column kj lies inside the image. */
        int firstInside(int kj) {
            int dx = columnShift(kj);
            return Math.min(ow(), dx >= 0 ? 0 : (-dx + w.strideW() - 1) / w.strideW());
        }

        /** One past the last output column whose input for kernel column kj lies inside the image. */
        int endInside(int kj) {
            int dx = columnShift(kj);
            int end = wd - dx <= 0 ? 0 : Math.min(ow(), (wd - dx - 1) / w.strideW() + 1);
            return Math.max(firstInside(kj), end);
        }

        /** Whole images per chunk: as many as keep the larger of its columns and product near {@link #chunkBytes}. */
        int imagesPerChunk(int bytes) {
            long perImage = (long) Math.max(taps(), o) * plane() * bytes;
            int per = (int) Math.max(1, Math.min(n, chunkBytes / Math.max(1, perImage)));
            // a chunk's width (images · plane) a multiple of 16 where that leaves a whole image, so that
            // its products take the vector tiles (Blas#wide) instead of copies into native memory
            int step = 16 / gcd(plane(), 16);
            return per >= step && per < n ? per - per % step : per;
        }

        /**
         * Images per chunk when whole chunks go to the threads ({@link #taskChunks}): the chunk's
         * columns and product together within {@link #TASK_CHUNK_BYTES}, or the fewest images whose
         * width is a multiple of 16 if that is larger and within {@link #TASK_CHUNK_MAX_BYTES}; 0 when
         * no such chunk exists, there would be only one, or the chunks' shares of dW would pass
         * {@link #TASK_SHARES_MAX}.
         */
        int imagesPerTaskChunk(int bytes) {
            long perImage = (long) (taps() + o) * plane() * bytes;
            int step = 16 / gcd(plane(), 16);
            int per = (int) Math.min(n, TASK_CHUNK_BYTES / Math.max(1, perImage));
            per = Math.max(step, per - per % step); // at least one width in sixteens, if it fits the cap
            boolean fits = (long) per * perImage <= TASK_CHUNK_MAX_BYTES;
            // backward keeps each chunk's share of dW apart until all are done: bounded too
            boolean sharesFit = ((long) n / per + 1) * o * taps() <= TASK_SHARES_MAX;
            return !fits || !sharesFit || n / per < 2 ? 0 : per; // never the thread count: the chunks decide dW's sums
        }

        private static int gcd(int a, int b) {
            return b == 0 ? Math.max(1, a) : gcd(b, a % b);
        }
    }

    /** The geometry of x [N, C, H, W] convolved with weight [O, C, kh, kw]. */
    private static Geometry geometry(View x, View weight, Window w) {
        int[] s = x.shape();
        return new Geometry(s[0], s[1], s[2], s[3], weight.shape()[0], w);
    }

    /** The weight [O, C, kh, kw] as a contiguous matrix [O, C·kh·kw]. */
    private static View matrix(View weight, Geometry g) {
        View wc = Views.contiguous(weight);
        return Views.with(wc, wc.offset(), new int[] {g.o(), g.taps()}, new int[] {g.taps(), 1});
    }

    /** conv(x, weight) + bias: x [N, C, H, W], weight [O, C, kh, kw], bias [O] or null; [N, O, Ho, Wo]. */
    static View forward(View x, View weight, View bias, Window w) {
        Geometry g = geometry(x, weight, w);
        return forward(Views.contiguous(x), matrix(weight, g), bias, g);
    }

    /**
     * The bytes of a chunk's columns and product aimed at when whole chunks go to the threads: they
     * stay in a core's L2 (2 MB on this project's machine) from the unfolding through the scatter.
     */
    static final long TASK_CHUNK_BYTES = 1L << 20;
    /**
     * The most bytes of such a chunk where the smallest width in sixteens needs more than {@link
     * #TASK_CHUNK_BYTES}: W3's second convolution (16 images, 2.7 MB) ran its steps 8% faster in
     * chunks on the threads than with each product split between them (in-JVM alternation), and
     * 32-image chunks (5.4 MB) 15% slower.
     */
    static final long TASK_CHUNK_MAX_BYTES = 4L << 20;
    /** The most elements of dW's shares, all chunks together, when chunks go to the threads (32 MB of doubles). */
    static final long TASK_SHARES_MAX = 1L << 22;

    /** out [n, o, oh, ow] = conv(x, w) + bias; x contiguous, wm the weight as [o, taps], bias [o] or null. */
    private static View forward(View x, View wm, View bias, Geometry g) {
        ScalarType dt = x.type();
        int plane = g.plane();
        int perTask = taskChunks ? g.imagesPerTaskChunk(dt.byteSize()) : 0;
        int per = perTask > 0 ? perTask : g.imagesPerChunk(dt.byteSize());
        View out = Views.uninitialized(dt, new int[] {g.n(), g.o(), g.oh(), g.ow()});
        Parallel.RangeBody chunks = (c0, c1) -> {
            ArrayStorage cols = ArrayStorage.uninitialized(dt, Math.multiplyExact(g.taps(), per * plane));
            ArrayStorage prod = ArrayStorage.uninitialized(dt, Math.multiplyExact(g.o(), per * plane));
            for (int c = c0; c < c1; c++) {
                int n0 = c * per;
                int n1 = Math.min(g.n(), n0 + per);
                View cv = fillColumns(x, g, n0, n1, cols);
                Blas.gemm(wm, cv, prod, 0);
                scatter(prod, (n1 - n0) * plane, bias, out, g, n0, n1);
            }
            cols.recycle(); // scratch: the next convolution reuses it
            prod.recycle();
        };
        runChunks(g, per, perTask > 0, chunks);
        return out;
    }

    /**
     * Runs body over the chunks of per images: with {@code inTasks} each thread takes whole chunks
     * small enough to stay in its cache and runs their products itself (nested parallel loops run on
     * the caller), so the columns and the product are read where they were just written; else the
     * chunks go in order on the caller and each of their steps is split between the threads.
     */
    private static void runChunks(Geometry g, int per, boolean inTasks, Parallel.RangeBody body) {
        int chunks = (g.n() + per - 1) / per;
        if (inTasks) {
            Parallel.forRange(chunks, 1, body);
        } else {
            body.run(0, chunks);
        }
    }

    /**
     * Gradients of x (from the weight's values), of the weight (from x's values) and of the bias,
     * each only if asked for, else null, from dOut [N, O, Ho, Wo].
     */
    static View[] backward(View dOut, View x, View weight, Window w, boolean needX, boolean needW, boolean needB) {
        Geometry g = geometry(x, weight, w);
        return backward(Views.contiguous(dOut), needW ? Views.contiguous(x) : x, needX ? matrix(weight, g) : null, g,
                needX, needW, needB, weight.shape());
    }

    /**
     * Gradients of x, w and bias (each only if asked for, else null) from dOut [n, o, oh, ow]
     * (contiguous); x contiguous and wm the weight as [o, taps] as in {@link #forward}. Chunks that
     * go to the threads whole keep their shares of dW and of the bias gradient apart, and the shares
     * are added in chunk order afterwards (as the chunks taken in order add them), so the sums do not
     * depend on which thread took which chunk.
     */
    private static View[] backward(View dOut, View x, View wm, Geometry g, boolean needX, boolean needW,
                                   boolean needB, int[] weightShape) {
        ScalarType dt = dOut.type();
        int plane = g.plane();
        int taps = g.taps();
        int o = g.o();
        int perTask = taskChunks ? g.imagesPerTaskChunk(dt.byteSize()) : 0;
        boolean inTasks = perTask > 0;
        int per = inTasks ? perTask : g.imagesPerChunk(dt.byteSize());
        int chunks = (g.n() + per - 1) / per;
        View gx = needX ? Views.empty(dt, new int[] {g.n(), g.ch(), g.h(), g.wd()}) : null;
        double[] gw = needW ? new double[o * taps] : null;
        double[] gb = needB ? new double[o] : null;
        double[][] gwShares = needW && inTasks ? new double[chunks][] : null;
        double[][] gbShares = needB && inTasks ? new double[chunks][] : null;
        runChunks(g, per, inTasks, (c0, c1) -> {
            ArrayStorage dy = ArrayStorage.uninitialized(dt, Math.multiplyExact(o, per * plane));
            ArrayStorage cols = needW || needX ? ArrayStorage.uninitialized(dt, Math.multiplyExact(taps, per * plane))
                    : null;
            ArrayStorage part = needW ? ArrayStorage.uninitialized(dt, o * taps) : null;
            for (int c = c0; c < c1; c++) {
                int n0 = c * per;
                int n1 = Math.min(g.n(), n0 + per);
                double[] gwc = gwShares == null ? gw : (gwShares[c] = new double[o * taps]);
                double[] gbc = gbShares == null ? gb : (gbShares[c] = new double[o]);
                View dyv = gather(dOut, g, n0, n1, dy, gbc);
                if (needW) {
                    View cv = fillColumns(x, g, n0, n1, cols);
                    Blas.gemm(dyv, Views.t(cv), part, 0); // this chunk's share of dW
                    for (int i = 0; i < gwc.length; i++) {
                        gwc[i] += part.get(i);
                    }
                }
                if (needX) {
                    Blas.gemm(Views.t(wm), dyv, cols, 0); // the columns' gradient, into the columns buffer
                    cols.bumpVersion();
                    addImages(cols, (n1 - n0) * plane, g, n0, n1, gx);
                }
            }
            for (ArrayStorage scratch : new ArrayStorage[] {dy, cols, part}) {
                if (scratch != null) {
                    scratch.recycle(); // the next convolution's backward reuses them
                }
            }
        });
        addInOrder(gwShares, gw);
        addInOrder(gbShares, gb);
        return new View[] {gx, gw == null ? null : Views.of(gw, dt, weightShape),
            gb == null ? null : Views.of(gb, dt, new int[] {o})};
    }

    /** sum[i] += each share's element i, the shares in their order (nothing when shares is null). */
    private static void addInOrder(double[][] shares, double[] sum) {
        if (shares == null) {
            return;
        }
        for (double[] share : shares) {
            for (int i = 0; i < sum.length; i++) {
                sum[i] += share[i];
            }
        }
    }

    /** Writes the columns of images [n0, n1) to buf as [taps, (n1-n0)·plane] (zeros outside the image) and returns that view. */
    private static View fillColumns(View x, Geometry g, int n0, int n1, ArrayStorage buf) {
        int taps = g.taps();
        int sw = g.w().strideW();
        int oh = g.oh();
        int ow = g.ow();
        int m = (n1 - n0) * oh * ow;
        boolean f32 = buf.type() == ScalarType.FLOAT32;
        Parallel.forRange(taps, 1, (from, to) -> {
            for (int row = from; row < to; row++) {
                Geometry.Tap t = g.tap(row);
                int lo = t.lo();
                int hi = t.hi();
                int at = row * m;
                for (int b = n0; b < n1; b++) {
                    for (int oy = 0; oy < oh; oy++, at += ow) {
                        int iy = g.inputRow(oy, t.ki());
                        boolean rowInside = iy >= 0 && iy < g.h();
                        int src = x.offset() + g.rowStart(b, t.channel(), iy) + t.dx();
                        if (f32) {
                            float[] s = st(x).f();
                            float[] d = buf.f();
                            if (!rowInside) {
                                java.util.Arrays.fill(d, at, at + ow, 0f);
                                continue;
                            }
                            for (int i = 0; i < lo; i++) {
                                d[at + i] = 0;
                            }
                            if (sw == 1) {
                                System.arraycopy(s, src + lo, d, at + lo, hi - lo);
                            } else {
                                for (int i = lo; i < hi; i++) {
                                    d[at + i] = s[src + i * sw];
                                }
                            }
                            for (int i = hi; i < ow; i++) {
                                d[at + i] = 0;
                            }
                        } else {
                            double[] s = st(x).d;
                            double[] d = buf.d;
                            for (int i = 0; i < ow; i++) {
                                d[at + i] = rowInside && i >= lo && i < hi ? s[src + i * sw] : 0;
                            }
                        }
                    }
                }
            }
        });
        buf.bumpVersion(); // the buffer is reused: the BLAS copy cache must not take it for what it held before
        return new View(buf, 0, new int[] {taps, m}, new int[] {m, 1});
    }

    /**
     * The adjoint of {@link #fillColumns}: adds the columns [taps, (n1-n0)·plane] in buf into images
     * [n0, n1) of gx. A task takes a few whole images (every write of a task lands in its own images)
     * and reads the columns row by row, each row's stretch for those images in order, so the reads
     * stream through memory while the images' gradients stay in cache; reading all rows for one image
     * at a time (hundreds of short stretches far apart) ran several times slower. Each element of gx
     * still receives its terms in the order of the rows, so the bits are the same.
     */
    private static void addImages(ArrayStorage buf, int m, Geometry g, int n0, int n1, View gx) {
        int sw = g.w().strideW();
        int oh = g.oh();
        int ow = g.ow();
        int plane = oh * ow;
        boolean f32 = buf.type() == ScalarType.FLOAT32;
        int grain = Math.max(1, Math.min(IMAGES_PER_TASK, (n1 - n0 + 1) / 2));
        Parallel.forRange(n1 - n0, grain, (from, to) -> {
            for (int row = 0; row < g.taps(); row++) {
                Geometry.Tap t = g.tap(row);
                int lo = t.lo();
                int hi = t.hi();
                for (int b = n0 + from; b < n0 + to; b++) {
                    int at = row * m + (b - n0) * plane;
                    for (int oy = 0; oy < oh; oy++, at += ow) {
                        int iy = g.inputRow(oy, t.ki());
                        if (iy < 0 || iy >= g.h()) {
                            continue;
                        }
                        int dst = g.rowStart(b, t.channel(), iy) + t.dx();
                        if (f32) {
                            float[] s = buf.f();
                            float[] d = st(gx).f();
                            if (sw == 1) {
                                for (int i = lo; i < hi; i++) {
                                    d[dst + i] += s[at + i];
                                }
                            } else {
                                for (int i = lo; i < hi; i++) {
                                    d[dst + i * sw] += s[at + i];
                                }
                            }
                        } else {
                            double[] s = buf.d;
                            double[] d = st(gx).d;
                            for (int i = lo; i < hi; i++) {
                                d[dst + i * sw] += s[at + i];
                            }
                        }
                    }
                }
            }
        });
    }

    /** Images per task of {@link #addImages}: enough that a row's stretch is long, few enough to share the work. */
    private static final int IMAGES_PER_TASK = 4;

    /** out[b, k, :] = prod[k, (b-n0)·plane : ...] + bias[k] for images [n0, n1); prod is [o, m]. */
    private static void scatter(ArrayStorage prod, int m, View bias, View out, Geometry g, int n0, int n1) {
        int o = g.o();
        int plane = g.plane();
        boolean f32 = prod.type() == ScalarType.FLOAT32;
        Parallel.forRange(n1 - n0, Math.max(1, Elementwise.GRAIN / Math.max(1, o * plane)), (from, to) -> {
            for (int b = n0 + from; b < n0 + to; b++) {
                for (int k = 0; k < o; k++) {
                    int src = k * m + (b - n0) * plane;
                    int dst = (b * o + k) * plane;
                    double add = bias == null ? 0 : st(bias).get(bias.offset() + k * bias.strides()[0]);
                    if (f32) {
                        float[] s = prod.f();
                        float[] d = st(out).f();
                        float bf = (float) add;
                        for (int i = 0; i < plane; i++) {
                            d[dst + i] = s[src + i] + bf;
                        }
                    } else {
                        double[] s = prod.d;
                        double[] d = st(out).d;
                        for (int i = 0; i < plane; i++) {
                            d[dst + i] = s[src + i] + add;
                        }
                    }
                }
            }
        });
    }

    /**
     * The reverse of {@link #scatter} for gradients: dOut [n, o, plane] images [n0, n1) into buf
     * as [o, (n1-n0)·plane], returning that view; with {@code biasGrad} non-null also adds each
     * channel's sum over the chunk to it ({@link Reduce#sumRange}'s order over the chunk's row, which
     * does not depend on the thread count).
     */
    private static View gather(View dOut, Geometry g, int n0, int n1, ArrayStorage buf, double[] biasGrad) {
        int o = g.o();
        int plane = g.plane();
        int m = (n1 - n0) * plane;
        // a deferred dOut (relu's backward of a pooled gradient) is evaluated straight into buf: never
        // written whole and read back
        Fused pending = buf.type() == ScalarType.FLOAT32 ? st(dOut).pending() : null;
        Fused.RangeReader deferred = pending == null ? null : pending.ranges(st(dOut).length());
        Parallel.forRange(n1 - n0, Math.max(1, Elementwise.GRAIN / Math.max(1, o * plane)), (from, to) -> {
            for (int b = n0 + from; b < n0 + to; b++) {
                for (int k = 0; k < o; k++) {
                    int src = dOut.offset() + (b * o + k) * plane;
                    int dst = k * m + (b - n0) * plane;
                    if (buf.type() == ScalarType.FLOAT32) {
                        if (deferred != null) {
                            deferred.copy(src, plane, buf.f(), dst);
                        } else {
                            System.arraycopy(st(dOut).f(), src, buf.f(), dst, plane);
                        }
                    } else {
                        System.arraycopy(st(dOut).d, src, buf.d, dst, plane);
                    }
                }
            }
        });
        if (biasGrad != null) { // each channel's row of the chunk summed whole (one call, not one per image)
            for (int k = 0; k < o; k++) {
                biasGrad[k] += Reduce.sumRange(buf, k * m, m);
            }
        }
        buf.bumpVersion();
        return new View(buf, 0, new int[] {o, m}, new int[] {m, 1});
    }
}
