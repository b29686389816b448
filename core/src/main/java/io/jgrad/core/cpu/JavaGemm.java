package io.jgrad.core.cpu;

import static io.jgrad.core.cpu.Views.st;

import io.jgrad.core.backend.ScalarType;
import io.jgrad.core.backend.View;
import java.util.Arrays;

/**
 * Matrix products in Java alone: the backend that always works, used when neither the system
 * OpenBLAS nor jblas runs on this machine (see {@link Blas}).
 *
 * <p>The product is cut into blocks the way GotoBLAS and BLIS cut it: depth blocks of at most
 * {@link #KC} steps of k, a block of B ({@code kc × nc}) packed once into panels of the kernel's
 * width and shared by all tasks, A packed into panels of {@link JavaGemmVector#MR} rows, and
 * register tiles of C computed by a micro-kernel ({@link JavaGemmVector}, the Vector API) or, without
 * the Vector API, by loops over whole rows of the packed B block that HotSpot vectorizes itself.
 * Tasks (rectangles of tiles) run on {@link Parallel}'s threads.
 *
 * <p>Results do not depend on the thread count, on the task cut or on the kernel set: every
 * element of C is {@code Σ_blocks (fma chain over the block's p, from 0)}, added block after
 * block in order, and the depth blocks depend only on k. A product with fewer columns than a
 * tile is computed as {@code Cᵀ = Bᵀ·Aᵀ} (the same sums, multiplied in the other order, which
 * IEEE multiplication does not notice) so that the tile's width is not wasted on padding.
 */
final class JavaGemm implements Blas.Backend {
    /** The most steps of k in one block: a packed B panel of the float kernel (kc × 16 floats) then takes 16 KB of L1. */
    static final int KC = 256;
    /** Rows of A a task covers at most (a multiple of {@link JavaGemmVector#MR}): its packed panels stay in L2. */
    private static final int MC = 192;
    /** Columns of the shared packed B block (its kc × nc floats stay in L3). */
    private static final int NC = 3072;
    /** Columns of the packed B block of the plain kernels, whose accumulator row stays in L1. */
    private static final int NC_PLAIN = 512;
    /** Floating-point operations a task should have at least, so that handing it to a thread pays. */
    private static final double TASK_FLOPS = 1e6;

    private final boolean vector;
    private final Typed f32 = new Floats();
    private final Typed f64 = new Doubles();
    /** Packing buffers, reused across calls (one thread at a time: Blas's lock, or the helper's own instance). */
    private Object packA32;
    private Object packB32;
    private Object packA64;
    private Object packB64;
    private Object[] rows32;
    private Object[] rows64;

    /** @param vector whether to use the Vector API kernels ({@link JavaGemmVector}); false: plain loops */
    JavaGemm(boolean vector) {
        this.vector = vector;
    }

    /** The kernel set that runs here: the Vector API's when its module is present and usable, else plain loops. */
    static JavaGemm best() {
        return new JavaGemm(Simd.ENABLED && JavaGemmVector.unsupportedReason() == null);
    }

    /** Whether the Vector API kernels run (else the plain loops). */
    boolean vectorized() {
        return vector;
    }

    @Override
    public boolean takesConcurrentCalls() {
        return true;
    }

    /** Another instance with its own packing buffers. */
    @Override
    public Blas.Backend concurrentInstance() {
        return new JavaGemm(vector);
    }

    @Override
    public String description() {
        return "pure Java (" + (vector ? JavaGemmVector.describe() : "plain loops") + "), "
                + Parallel.threads() + (Parallel.threads() == 1 ? " thread" : " threads");
    }

    @Override
    public void gemm(ScalarType dtype, Blas.Operand a, Blas.Operand b, int m, int n, int k, ArrayStorage out, int outOffset) {
        Typed t = dtype == ScalarType.FLOAT32 ? f32 : f64;
        Object c = t.array(out);
        int width = vector ? t.nr() : 16;
        if (n < width && m > n) {
            // few columns: Cᵀ[n, m] = op(B)ᵀ · op(A)ᵀ fills the tiles, then one transposing copy
            Object ct = t.alloc(m * n);
            product(t, flip(b), flip(a), n, m, k, ct, 0);
            t.transpose(ct, n, m, c, outOffset);
            return;
        }
        product(t, a, b, m, n, k, c, outOffset);
    }

    /** op(x)ᵀ as an operand: the same window with the other flag. */
    private static Blas.Operand flip(Blas.Operand x) {
        return new Blas.Operand(x.storage(), x.offset(), x.ld(), x.outer(), x.inner(), x.trans() == 'T' ? 'N' : 'T');
    }

    /** Depth-block boundaries: {@code blocks} blocks of (almost) equal size, at most {@link #KC}; a function of k alone. */
    static int depthBlock(int k) {
        int blocks = (k + KC - 1) / KC;
        return (k + blocks - 1) / blocks;
    }

    /** c[m, n] (row stride n, from c0) = op(a) · op(b). */
    private void product(Typed t, Blas.Operand a, Blas.Operand b, int m, int n, int k, Object c, int c0) {
        int kcMax = depthBlock(k);
        if (!vector) {
            plain(t, a, b, m, n, k, kcMax, c, c0);
            return;
        }
        int mr = JavaGemmVector.MR;
        int nr = t.nr();
        int mPanels = (m + mr - 1) / mr;
        int ncMax = Math.min(NC, (n + nr - 1) / nr * nr);
        Object pa = t == f32 ? (packA32 = t.ensure(packA32, mPanels * mr * kcMax))
                : (packA64 = t.ensure(packA64, mPanels * mr * kcMax));
        Object pb = t == f32 ? (packB32 = t.ensure(packB32, ncMax * kcMax)) : (packB64 = t.ensure(packB64, ncMax * kcMax));
        for (int j0 = 0; j0 < n; j0 += ncMax) {
            int nc = Math.min(ncMax, n - j0);
            int nPanels = (nc + nr - 1) / nr;
            for (int p0 = 0; p0 < k; p0 += kcMax) {
                int kc = Math.min(kcMax, k - p0);
                boolean add = p0 > 0;
                int jc = j0;
                int pc = p0;
                // tiles of C: tasks of at most MC rows and enough panels of columns to be worth a thread
                int tasks = (int) Math.min(64, Math.max(1, 2.0 * m * nc * kc / TASK_FLOPS));
                int rowGroups = (mPanels + MC / mr - 1) / (MC / mr);
                int rowPanels = (mPanels + rowGroups - 1) / rowGroups;
                int colGroups = Math.min(nPanels, rowGroups == 1 ? Math.min(tasks, Parallel.threads())
                        : Math.max(1, (tasks + rowGroups - 1) / rowGroups));
                int colPanels = (nPanels + colGroups - 1) / colGroups;
                colGroups = (nPanels + colPanels - 1) / colPanels;
                int rg = rowGroups;
                // pack every panel of A, and of this block of B unless each task owns its columns
                // (one row group): then a task packs its own B panels, which stay in its core's cache
                boolean ownB = rowGroups == 1;
                int panels = mPanels + (ownB ? 0 : nPanels);
                Parallel.forRange(panels, Math.max(4, (panels + tasks - 1) / tasks), (from, to) -> {
                    for (int q = from; q < to; q++) {
                        if (q < mPanels) {
                            t.packA(a, q * mr, Math.min(mr, m - q * mr), pc, kc, mr, pa, q * mr * kc);
                        } else {
                            int jp = q - mPanels;
                            t.packB(b, pc, kc, jc + jp * nr, Math.min(nr, nc - jp * nr), nr, pb, jp * nr * kc);
                        }
                    }
                });
                Parallel.forRange(rowGroups * colGroups, 1, (from, to) -> {
                    Object tile = null;
                    for (int task = from; task < to; task++) {
                        // consecutive tasks (which two threads take at once) lie in different row
                        // groups, so they never write the same cache lines of C
                        int ir0 = task % rg * rowPanels;
                        int ir1 = Math.min(mPanels, ir0 + rowPanels);
                        int jr0 = task / rg * colPanels;
                        int jr1 = Math.min(nPanels, jr0 + colPanels);
                        for (int jr = jr0; jr < jr1; jr++) {
                            int j = jc + jr * nr;
                            int cols = Math.min(nr, n - j);
                            if (ownB) {
                                t.packB(b, pc, kc, j, cols, nr, pb, jr * nr * kc);
                            }
                            for (int ir = ir0; ir < ir1; ir++) {
                                int i = ir * mr;
                                int rows = Math.min(mr, m - i);
                                if (rows == mr && cols == nr) {
                                    t.kernel(kc, pa, ir * mr * kc, pb, jr * nr * kc, c, c0 + i * n + j, n, add);
                                } else { // an edge tile: computed whole into a scratch tile, its valid part copied
                                    tile = tile != null ? tile : t.alloc(mr * nr);
                                    t.kernel(kc, pa, ir * mr * kc, pb, jr * nr * kc, tile, 0, nr, false);
                                    t.addTile(tile, nr, rows, cols, c, c0 + i * n + j, n, add);
                                }
                            }
                        }
                    }
                });
            }
        }
    }

    /**
     * The plain-loop product: each row of C accumulates whole rows of a [kc, nc] block of B. The
     * block's rows are separate arrays, so that the inner loop reads B and writes the accumulator
     * at the same index, which HotSpot's auto-vectorizer needs (with an offset between them it
     * cannot rule out that they overlap, and stays scalar: 5 against 18 GFLOPS, measured).
     */
    private void plain(Typed t, Blas.Operand a, Blas.Operand b, int m, int n, int k, int kcMax, Object c, int c0) {
        int ncMax = Math.min(NC_PLAIN, n);
        Object[] rows = t == f32 ? (rows32 = t.ensureRows(rows32, kcMax, ncMax)) : (rows64 = t.ensureRows(rows64, kcMax, ncMax));
        for (int j0 = 0; j0 < n; j0 += ncMax) {
            int nc = Math.min(ncMax, n - j0);
            for (int p0 = 0; p0 < k; p0 += kcMax) {
                int kc = Math.min(kcMax, k - p0);
                t.packRows(b, p0, kc, j0, nc, rows);
                int jc = j0;
                int pc = p0;
                int grain = (int) Math.max(1, Math.min(m, TASK_FLOPS / (2.0 * nc * kc)));
                Parallel.forRange(m, grain, (from, to) -> t.plainRows(a, from, to, pc, kc, rows, nc, c, c0 + jc, n, pc > 0));
            }
        }
    }

    /** What the driver needs of an element type; the float and double versions differ only in their arrays. */
    private abstract static class Typed {
        abstract Object array(ArrayStorage s);

        abstract Object alloc(int n);

        abstract int length(Object buffer);

        /** Columns of the Vector API tile. */
        abstract int nr();

        Object ensure(Object buffer, int n) {
            return buffer != null && length(buffer) >= n ? buffer : alloc(n);
        }

        /** kc rows of at least nc elements (reusing {@code rows} when it is large enough). */
        abstract Object[] ensureRows(Object[] rows, int kc, int nc);

        /** rows[p][0, cols) = op(b)[p0 + p, j0 + (0..cols)] for p below kc. */
        void packRows(Blas.Operand b, int p0, int kc, int j0, int cols, Object[] rows) {
            Object src = array(b.storage());
            for (int p = 0; p < kc; p++) {
                if (b.trans() == 'N') { // element (p, j) at offset + p·ld + j
                    System.arraycopy(src, b.offset() + (p0 + p) * b.ld() + j0, rows[p], 0, cols);
                } else {
                    gather(src, b.offset() + j0 * b.ld() + p0 + p, b.ld(), cols, 1, rows[p], 0, 1);
                }
            }
        }

        /** Packs op(a)[i0, i0 + rows) × [p0, p0 + kc) as a panel [kc][mr] at dst[at], zero rows past {@code rows}. */
        void packA(Blas.Operand a, int i0, int rows, int p0, int kc, int mr, Object dst, int at) {
            Object src = array(a.storage());
            if (a.trans() == 'T') { // element (i, p) at offset + p·ld + i: each step's rows lie side by side
                for (int p = 0; p < kc; p++) {
                    System.arraycopy(src, a.offset() + (p0 + p) * a.ld() + i0, dst, at + p * mr, rows);
                }
            } else {
                gather(src, a.offset() + i0 * a.ld() + p0, a.ld(), rows, kc, dst, at, mr);
            }
            if (rows < mr) {
                zeroColumns(dst, at, kc, mr, rows);
            }
        }

        /** Packs op(b)[p0, p0 + kc) × [j0, j0 + cols) as a panel [kc][width] at dst[at], zero columns past {@code cols}. */
        void packB(Blas.Operand b, int p0, int kc, int j0, int cols, int width, Object dst, int at) {
            Object src = array(b.storage());
            if (b.trans() == 'N') { // element (p, j) at offset + p·ld + j
                for (int p = 0; p < kc; p++) {
                    System.arraycopy(src, b.offset() + (p0 + p) * b.ld() + j0, dst, at + p * width, cols);
                }
            } else {
                gather(src, b.offset() + j0 * b.ld() + p0, b.ld(), cols, kc, dst, at, width);
            }
            if (cols < width) {
                zeroColumns(dst, at, kc, width, cols);
            }
        }

        /** dst[at + p·width + r] = src[from + r·ld + p] for r below count and p below len. */
        abstract void gather(Object src, int from, int ld, int count, int len, Object dst, int at, int width);

        /** Zeroes columns [from, width) of the rows [0, len) of a [len][width] panel at dst[at]. */
        abstract void zeroColumns(Object dst, int at, int len, int width, int from);

        abstract void kernel(int kc, Object a, int ai, Object b, int bi, Object c, int ci, int ldc, boolean add);

        /** C[rows, cols] (row stride ldc, at ci) = (add ? C + : ) tile[rows, cols] (row stride nr). */
        abstract void addTile(Object tile, int nr, int rows, int cols, Object c, int ci, int ldc, boolean add);

        /** c[ci + j·rows + i] = t[i·cols + j]: the transpose of a [rows, cols] matrix. */
        abstract void transpose(Object t, int rows, int cols, Object c, int ci);

        /**
         * Rows [from, to) of C (row stride ldc, at ci) = (add ? C + : ) op(a)[rows, p0 + (0..kc)] · rows[kc][nc],
         * each row accumulated as fma chains over p from 0.
         */
        abstract void plainRows(Blas.Operand a, int from, int to, int p0, int kc, Object[] rows, int nc, Object c, int ci,
                                int ldc, boolean add);
    }

    private static final class Floats extends Typed {
        @Override
        Object array(ArrayStorage s) {
            return s.f();
        }

        @Override
        Object alloc(int n) {
            return new float[n];
        }

        @Override
        int length(Object buffer) {
            return ((float[]) buffer).length;
        }

        @Override
        int nr() {
            return JavaGemmVector.nrFloat();
        }

        @Override
        void gather(Object src, int from, int ld, int count, int len, Object dst, int at, int width) {
            float[] s = (float[]) src;
            float[] d = (float[]) dst;
            for (int p = 0; p < len; p++) { // writes in order; reads count rows side by side
                int o = at + p * width;
                for (int r = 0; r < count; r++) {
                    d[o + r] = s[from + r * ld + p];
                }
            }
        }

        @Override
        void zeroColumns(Object dst, int at, int len, int width, int from) {
            float[] d = (float[]) dst;
            for (int p = 0; p < len; p++) {
                Arrays.fill(d, at + p * width + from, at + (p + 1) * width, 0f);
            }
        }

        @Override
        void kernel(int kc, Object a, int ai, Object b, int bi, Object c, int ci, int ldc, boolean add) {
            JavaGemmVector.kernel(kc, (float[]) a, ai, (float[]) b, bi, (float[]) c, ci, ldc, add);
        }

        @Override
        void addTile(Object tile, int nr, int rows, int cols, Object c, int ci, int ldc, boolean add) {
            float[] t = (float[]) tile;
            float[] o = (float[]) c;
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < cols; j++) {
                    o[ci + r * ldc + j] = add ? o[ci + r * ldc + j] + t[r * nr + j] : t[r * nr + j];
                }
            }
        }

        @Override
        void transpose(Object t, int rows, int cols, Object c, int ci) {
            float[] s = (float[]) t;
            float[] o = (float[]) c;
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    o[ci + j * rows + i] = s[i * cols + j];
                }
            }
        }

        @Override
        Object[] ensureRows(Object[] rows, int kc, int nc) {
            return rows != null && rows.length >= kc && ((float[]) rows[0]).length >= nc ? rows : new float[kc][nc];
        }

        @Override
        void plainRows(Blas.Operand a, int from, int to, int p0, int kc, Object[] rows, int nc, Object c, int ci, int ldc,
                       boolean add) {
            float[] s = a.storage().f();
            float[] o = (float[]) c;
            float[] acc = new float[nc];
            boolean t = a.trans() == 'T';
            for (int i = from; i < to; i++) {
                Arrays.fill(acc, 0f);
                for (int p = 0; p < kc; p++) {
                    float x = s[t ? a.offset() + (p0 + p) * a.ld() + i : a.offset() + i * a.ld() + p0 + p];
                    float[] b = (float[]) rows[p];
                    for (int j = 0; j < nc; j++) {
                        acc[j] = Math.fma(x, b[j], acc[j]);
                    }
                }
                int row = ci + i * ldc;
                if (add) {
                    for (int j = 0; j < nc; j++) {
                        o[row + j] += acc[j];
                    }
                } else {
                    System.arraycopy(acc, 0, o, row, nc);
                }
            }
        }
    }

    private static final class Doubles extends Typed {
        @Override
        Object array(ArrayStorage s) {
            return s.d;
        }

        @Override
        Object alloc(int n) {
            return new double[n];
        }

        @Override
        int length(Object buffer) {
            return ((double[]) buffer).length;
        }

        @Override
        int nr() {
            return JavaGemmVector.nrDouble();
        }

        @Override
        void gather(Object src, int from, int ld, int count, int len, Object dst, int at, int width) {
            double[] s = (double[]) src;
            double[] d = (double[]) dst;
            for (int p = 0; p < len; p++) { // writes in order; reads count rows side by side
                int o = at + p * width;
                for (int r = 0; r < count; r++) {
                    d[o + r] = s[from + r * ld + p];
                }
            }
        }

        @Override
        void zeroColumns(Object dst, int at, int len, int width, int from) {
            double[] d = (double[]) dst;
            for (int p = 0; p < len; p++) {
                Arrays.fill(d, at + p * width + from, at + (p + 1) * width, 0.0);
            }
        }

        @Override
        void kernel(int kc, Object a, int ai, Object b, int bi, Object c, int ci, int ldc, boolean add) {
            JavaGemmVector.kernel(kc, (double[]) a, ai, (double[]) b, bi, (double[]) c, ci, ldc, add);
        }

        @Override
        void addTile(Object tile, int nr, int rows, int cols, Object c, int ci, int ldc, boolean add) {
            double[] t = (double[]) tile;
            double[] o = (double[]) c;
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < cols; j++) {
                    o[ci + r * ldc + j] = add ? o[ci + r * ldc + j] + t[r * nr + j] : t[r * nr + j];
                }
            }
        }

        @Override
        void transpose(Object t, int rows, int cols, Object c, int ci) {
            double[] s = (double[]) t;
            double[] o = (double[]) c;
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    o[ci + j * rows + i] = s[i * cols + j];
                }
            }
        }

        @Override
        Object[] ensureRows(Object[] rows, int kc, int nc) {
            return rows != null && rows.length >= kc && ((double[]) rows[0]).length >= nc ? rows : new double[kc][nc];
        }

        @Override
        void plainRows(Blas.Operand a, int from, int to, int p0, int kc, Object[] rows, int nc, Object c, int ci, int ldc,
                       boolean add) {
            double[] s = a.storage().d;
            double[] o = (double[]) c;
            double[] acc = new double[nc];
            boolean t = a.trans() == 'T';
            for (int i = from; i < to; i++) {
                Arrays.fill(acc, 0.0);
                for (int p = 0; p < kc; p++) {
                    double x = s[t ? a.offset() + (p0 + p) * a.ld() + i : a.offset() + i * a.ld() + p0 + p];
                    double[] b = (double[]) rows[p];
                    for (int j = 0; j < nc; j++) {
                        acc[j] = Math.fma(x, b[j], acc[j]);
                    }
                }
                int row = ci + i * ldc;
                if (add) {
                    for (int j = 0; j < nc; j++) {
                        o[row + j] += acc[j];
                    }
                } else {
                    System.arraycopy(acc, 0, o, row, nc);
                }
            }
        }
    }
}
