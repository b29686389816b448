package io.jgrad.core.cpu;

import static io.jgrad.core.cpu.Views.st;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import io.jgrad.core.backend.ScalarType;
import io.jgrad.core.backend.View;
import java.nio.file.Path;

/**
 * Products through the machine's OpenBLAS ({@code cblas_sgemm}/{@code cblas_dgemm}, row-major),
 * bound with JNA's direct mapping. Where it can, a product runs on the Java arrays in place
 * ({@link InPlaceGemm}: {@link ForeignGemm} on JDK 22+, {@link PinnedGemm} before when asked for); otherwise, and
 * for very large pieces, operands are copied into native buffers that grow as needed
 * and are kept (each instance is used by one thread at a time: callers hold {@link Blas}'s lock, or
 * are the helper thread with an instance of its own); a view that is a small window of a large array
 * is copied row by row, so only the elements it covers cross over, and an operand whose storage
 * has not changed since it was last copied (same version counter) is not copied again.
 *
 * <p>OpenBLAS runs one thread per call: its own threading gives different bits with one thread
 * than with two (measured at 128×784×512 and other shapes). Instead jgrad cuts a large product
 * into a fixed number of row or column blocks that depend only on the shape and runs them on
 * {@link Parallel}'s workers, so results are the same for every thread count. The pthread
 * build of OpenBLAS is safe for such concurrent calls (unlike the one jblas bundles).
 */
final class SystemOpenBlas implements Blas.Backend {
    static final int ROW_MAJOR = 101;
    static final int NO_TRANS = 111;
    static final int TRANS = 112;

    /** Products below this many floating-point operations run as one call. */
    private static final double SPLIT_FLOPS = 8e6;
    /** A product is cut into one piece per this many operations, at least two and at most {@link #MAX_PIECES}. */
    private static final double FLOPS_PER_PIECE = 64e6;
    /**
     * The most pieces with 256-bit kernels. With AVX-512 kernels ({@link #wideKernels}) the most is
     * the number of cores, at least two: on two cores two pieces ran 512³ at 340-346 GFLOPS against
     * 316-317 with four, 1024³ at 370-387 against 370-378 (Java arrays in place, 2026-12-07), while
     * with the Haswell kernels four ran 1024³ at 215 against 205-211.
     */
    private static final int MAX_PIECES = 4;
    /** The most pieces with AVX-512 kernels, however many cores: each piece packs all of the operand it shares. */
    private static final int MAX_WIDE_PIECES = 8;
    /**
     * The most floating-point operations of one piece called on the Java arrays in place: a critical
     * downcall ({@link ForeignGemm}) holds off the JVM's safepoints, and so garbage collection and
     * other threads' pauses, until it returns; a pinned array ({@link PinnedGemm}) holds off garbage
     * collection. So a longer piece (about 10 ms at 200 GFLOPS a core, 20 with 256-bit kernels at about
     * 100) goes through copies, whose share of the time falls as products grow (1024³, in pieces of
     * 0.5-1.1 GFLOP, runs in place).
     */
    static final double MAX_IN_PLACE_FLOPS = 2e9;
    /** OpenBLAS's names of its kernel sets with 512-bit vectors ({@code openblas_get_corename}). */
    private static final java.util.Set<String> WIDE_CORES = java.util.Set.of("skylakex", "cooperlake", "sapphirerapids");

    private final String description;
    /** The library file JNA loaded (null if JNA could not say). */
    private final Path file;
    /**
     * The in-place path ({@link ForeignGemm} on JDK 22+, else {@link PinnedGemm} if asked for), or null: operands
     * are copied into native memory.
     */
    private final InPlaceGemm inPlace;
    /** Whether the library runs kernels with 512-bit vectors ({@link #WIDE_CORES}). */
    private final boolean wideKernels;
    /** The most pieces a product is cut into ({@link #MAX_PIECES}; with {@link #wideKernels}, the cores, 2 to 8). */
    private final int maxPieces;
    private Memory bufC = new Memory(1 << 16);

    private SystemOpenBlas(String description, Path file, InPlaceGemm inPlace, boolean wideKernels) {
        this.description = description;
        this.file = file;
        this.inPlace = inPlace;
        this.wideKernels = wideKernels;
        this.maxPieces = wideKernels ? Math.min(MAX_WIDE_PIECES, Math.max(2, Runtime.getRuntime().availableProcessors()))
                : MAX_PIECES;
    }

    /** The bound native functions (JNA direct mapping: registered once, called like Java methods). */
    private static final class Lib {
        static native void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha,
                Pointer a, int lda, Pointer b, int ldb, float beta, Pointer c, int ldc);

        static native void cblas_dgemm(int order, int transA, int transB, int m, int n, int k, double alpha,
                Pointer a, int lda, Pointer b, int ldb, double beta, Pointer c, int ldc);

        static native void openblas_set_num_threads(int n);

        static native String openblas_get_config();

        static native String openblas_get_corename();
    }

    /**
     * Binds the system OpenBLAS: {@code library} if given (a name or a path), else the first of
     * {@code openblas} and {@code libopenblas.so.0} that loads.
     *
     * @throws IllegalStateException saying that none is installed, or why the named one does not load
     */
    static SystemOpenBlas load(String library) {
        String[] candidates = library != null ? new String[] {library} : new String[] {"openblas", "libopenblas.so.0"};
        String problem = null;
        OpenBlasCoreType.beforeLoading(false);
        for (String name : candidates) {
            try {
                NativeLibrary lib = NativeLibrary.getInstance(name);
                Native.register(Lib.class, lib);
                Lib.openblas_set_num_threads(1); // jgrad splits products itself: see the class comment
                Path file = lib.getFile() == null ? null : lib.getFile().toPath();
                InPlaceGemm inPlace = bindInPlace(file);
                String core = Lib.openblas_get_corename();
                boolean wide = core != null && WIDE_CORES.contains(core.trim().toLowerCase(java.util.Locale.ROOT));
                return new SystemOpenBlas(Lib.openblas_get_config() + " (system library " + lib.getFile()
                        + (inPlace != null ? ", " + inPlace.how() : "") + ")", file, inPlace, wide);
            } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
                problem = e.getMessage();
            }
        }
        if (library == null) {
            throw new IllegalStateException("not installed (no libopenblas.so.0 on the library path)");
        }
        // JNA's message names each place it looked, one per line; the first says what failed
        String first = problem == null ? "" : problem.lines().filter(l -> !l.isBlank()).skip(1).findFirst()
                .orElse(problem.lines().findFirst().orElse(""));
        throw new IllegalStateException("cannot load " + library + ": " + first.trim());
    }

    /**
     * The in-place path for the library file JNA loaded: {@link ForeignGemm} where it binds, else
     * {@link PinnedGemm} if {@code -Djgrad.blas.pinned=true} and it binds, else null (copies).
     */
    private static InPlaceGemm bindInPlace(Path file) {
        if (file == null) {
            return null;
        }
        InPlaceGemm foreign = ForeignGemm.bind(file);
        if (foreign != null) {
            return foreign;
        }
        if (!PinnedGemm.ENABLED) {
            return null;
        }
        try {
            return PinnedGemm.bind(file);
        } catch (LinkageError e) { // jffi left off the class path: copies, as where its stub does not load
            System.getLogger(SystemOpenBlas.class.getName()).log(System.Logger.Level.INFO,
                    "OpenBLAS cannot be called on pinned Java arrays here ({0}); its operands are copied", String.valueOf(e));
            return null;
        }
    }

    @Override
    public boolean takesConcurrentCalls() {
        return true;
    }

    /** Another instance over the same library, with its own buffers (the pthread build takes concurrent calls). */
    @Override
    public Blas.Backend concurrentInstance() {
        return new SystemOpenBlas(description, file, inPlace, wideKernels);
    }

    /** Whether products run on the Java arrays in place ({@link InPlaceGemm}) rather than on copies. */
    boolean inPlace() {
        return inPlace != null;
    }

    /** The in-place path in use, or null (tests check which one binds). */
    InPlaceGemm inPlacePath() {
        return inPlace;
    }

    /** The same library with operands copied into native memory (tests compare the two paths). */
    SystemOpenBlas copying() {
        return using(null);
    }

    /** The same library called through {@code path} (null: copies); tests compare the paths. */
    SystemOpenBlas using(InPlaceGemm path) {
        return new SystemOpenBlas(description, file, path, wideKernels);
    }

    /** The library file JNA loaded, or null. */
    Path file() {
        return file;
    }

    /** Whether the library's kernels use 512-bit vectors (OpenBLAS's SkylakeX, Cooperlake, SapphireRapids). */
    boolean wideKernels() {
        return wideKernels;
    }

    @Override
    public String description() {
        return description + ", " + Parallel.threads() + (Parallel.threads() == 1 ? " thread" : " threads");
    }

    /**
     * A native copy of an operand's window, reused while the operand is unchanged: training copies
     * each layer's input and weight in the forward pass and needs them again in the backward
     * (dW = dYᵀ·X, dX = dY·W). An entry matches by storage identity and that storage's version
     * counter, which every in-place write bumps, so a changed operand is always copied again.
     */
    private static final class Slot {
        Memory memory = new Memory(1 << 16);
        ArrayStorage storage; // null: holds nothing reusable
        int version;
        int offset;
        int ld;
        int outer;
        int inner;
        long lastUse;

        boolean holds(Blas.Operand op) {
            return storage == op.storage() && version == op.storage().version() && offset == op.offset()
                    && ld == op.ld() && outer == op.outer() && inner == op.inner(); // the window, whatever its flag
        }

        /** Records that the memory now holds op's window (after the copy has finished). */
        void hold(Blas.Operand op) {
            storage = op.storage();
            version = op.storage().version();
            offset = op.offset();
            ld = op.ld();
            outer = op.outer();
            inner = op.inner();
        }
    }

    private final Slot[] slots = {new Slot(), new Slot(), new Slot(), new Slot()};
    private long clock;

    /** The slot holding op, or null. */
    private Slot find(Blas.Operand op) {
        for (Slot s : slots) {
            if (s.holds(op)) {
                s.lastUse = ++clock;
                return s;
            }
        }
        return null;
    }

    /** The least recently used slot other than {@code keep}, emptied and sized for op. */
    private Slot evict(Slot keep, Blas.Operand op) {
        Slot oldest = null;
        for (Slot s : slots) {
            if (s != keep && (oldest == null || s.lastUse < oldest.lastUse)) {
                oldest = s;
            }
        }
        oldest.storage = null;
        oldest.memory = ensure(oldest.memory, copiedElements(op) * op.storage().type().byteSize());
        oldest.lastUse = ++clock;
        return oldest;
    }

    @Override
    public void gemm(ScalarType dtype, Blas.Operand a, Blas.Operand b, int m, int n, int k, ArrayStorage out, int outOffset) {
        if (inPlace != null && !out.sharesMemoryWith(a.storage()) && !out.sharesMemoryWith(b.storage()) // aliased: copies
                && pieceFlops(m, n, k) <= MAX_IN_PLACE_FLOPS
                && inPlace.reaches(Math.max(out.length(), Math.max(a.storage().length(), b.storage().length())),
                        dtype.byteSize())) {
            gemmInPlace(dtype, a, b, m, n, k, out, outOffset);
            return;
        }
        int bytes = dtype.byteSize();
        double flops = 2.0 * m * n * k;
        if (flops >= SPLIT_FLOPS) {
            Parallel.wake(); // the worker that takes the second block wakes while the operands are copied
        }
        boolean shared = a.sameWindow(b); // x·xᵀ: one copy serves both
        Slot sa = find(a);
        Slot sb = shared ? sa : find(b);
        boolean copyA = sa == null;
        boolean copyB = sb == null && !shared;
        if (copyA) {
            sa = evict(null, a);
        }
        if (sb == null) {
            sb = shared ? sa : evict(sa, b);
        }
        bufC = ensure(bufC, (long) m * n * bytes);
        Memory pa = sa.memory;
        Memory pb = sb.memory;
        Memory pc = bufC;
        int lda = leadingDimension(a);
        int ldb = leadingDimension(b);
        boolean split = flops >= SPLIT_FLOPS;
        if (copyA && copyB && split) {
            Parallel.forRange(2, 1, (from, to) -> copyIn(from == 0 ? b : a, from == 0 ? pb : pa, 0, 1)); // both at once
        } else if (split && (copyA || copyB)) {
            Blas.Operand one = copyA ? a : b;
            Memory into = copyA ? pa : pb;
            Parallel.forRange(2, 1, (from, to) -> copyIn(one, into, from, 2)); // one operand, half on each thread
        } else {
            if (copyA) {
                copyIn(a, pa, 0, 1);
            }
            if (copyB) {
                copyIn(b, pb, 0, 1);
            }
        }
        if (copyA) {
            sa.hold(a);
        }
        if (copyB) {
            sb.hold(b);
        }
        boolean alongRows = m >= n; // a square product packs its B once per row block: 10% faster at 1024³ than column blocks
        int per = pieceLength(m, n, flops);
        Parallel.forRange(alongRows ? m : n, per, (from, to) -> {
            // rows [from, to) of C need rows of A (columns of a transposed A); columns need those of B
            long at = alongRows ? (a.trans() == 'T' ? from : (long) from * lda) : 0;
            long bt = alongRows ? 0 : (b.trans() == 'T' ? (long) from * ldb : from);
            long ct = alongRows ? (long) from * n : from;
            int rows = alongRows ? to - from : m;
            int cols = alongRows ? n : to - from;
            if (dtype == ScalarType.FLOAT32) {
                Lib.cblas_sgemm(ROW_MAJOR, flag(a), flag(b), rows, cols, k, 1f, pa.share(at * bytes), lda,
                        pb.share(bt * bytes), ldb, 0f, pc.share(ct * bytes), n);
            } else {
                Lib.cblas_dgemm(ROW_MAJOR, flag(a), flag(b), rows, cols, k, 1.0, pa.share(at * bytes), lda,
                        pb.share(bt * bytes), ldb, 0.0, pc.share(ct * bytes), n);
            }
            if (alongRows) { // a task's rows are contiguous in C: it copies them out itself
                copyOut(dtype, pc, ct, out, outOffset + (int) ct, rows * n);
            }
        });
        if (!alongRows) { // column blocks would take a call per row each: copy halves of C's rows instead
            Parallel.forRange(m, per == n ? m : (m + 1) / 2, (from, to) ->
                    copyOut(dtype, pc, (long) from * n, out, outOffset + from * n, (to - from) * n));
        }
    }

    /**
     * The rows (m >= n) or columns of C in each piece of an m×n product of {@code flops} operations:
     * products are cut along their longer side of C ({@link #chunkLength}).
     */
    private int pieceLength(int m, int n, double flops) {
        return chunkLength(Math.max(m, n), flops, maxPieces);
    }

    /** The floating-point operations of the largest piece {@link #gemm} cuts an m×n×k product into. */
    double pieceFlops(int m, int n, int k) {
        double flops = 2.0 * m * n * k;
        return flops * pieceLength(m, n, flops) / Math.max(1, Math.max(m, n));
    }

    /**
     * The product on the arrays themselves: the same blocks on the same threads as the copying path
     * (so the same bits), each a call that reads A and B and writes its block of C in place.
     */
    private void gemmInPlace(ScalarType dtype, Blas.Operand a, Blas.Operand b, int m, int n, int k,
            ArrayStorage out, int outOffset) {
        boolean alongRows = m >= n;
        int per = pieceLength(m, n, 2.0 * m * n * k);
        int lda = a.ld();
        int ldb = b.ld();
        boolean single = dtype == ScalarType.FLOAT32;
        float[] af = single ? a.storage().f() : null;
        float[] bf = single ? b.storage().f() : null;
        float[] cf = single ? out.f() : null;
        double[] ad = single ? null : a.storage().d;
        double[] bd = single ? null : b.storage().d;
        double[] cd = single ? null : out.d;
        Parallel.forRange(alongRows ? m : n, per, (from, to) -> {
            int at = a.offset() + (alongRows ? (a.trans() == 'T' ? from : from * lda) : 0);
            int bt = b.offset() + (alongRows ? 0 : (b.trans() == 'T' ? from * ldb : from));
            int ct = outOffset + (alongRows ? from * n : from);
            int rows = alongRows ? to - from : m;
            int cols = alongRows ? n : to - from;
            if (single) {
                inPlace.sgemm(flag(a), flag(b), rows, cols, k, 1f, af, at, lda, bf, bt, ldb, 0f, cf, ct, n);
            } else {
                inPlace.dgemm(flag(a), flag(b), rows, cols, k, 1.0, ad, at, lda, bd, bt, ldb, 0.0, cd, ct, n);
            }
        });
    }

    private static void copyOut(ScalarType dtype, Memory from, long at, ArrayStorage out, int index, int count) {
        if (dtype == ScalarType.FLOAT32) {
            from.read(at * dtype.byteSize(), out.f(), index, count);
        } else {
            from.read(at * dtype.byteSize(), out.d, index, count);
        }
    }

    /**
     * Rows (or columns) of C per task: products under {@link #SPLIT_FLOPS} stay whole, larger ones
     * are cut into 2 to {@link #MAX_PIECES} pieces (more for bigger products) of a multiple of 16.
     * The cut depends only on the shape (and, with AVX-512 kernels, on the machine's number of cores),
     * never on jgrad's thread count, so every task, and so every
     * element, is computed the same way whether the pieces run side by side or one after another.
     * (Two pieces measured faster than four at 128×784×512 on two cores: 148 vs 140 GFLOPS. Each
     * piece packs the whole operand it shares with the others, so more pieces cost more: at 1024³
     * on one thread, eight row blocks ran at ~81 GFLOPS, four at ~85, eight column blocks at ~73.)
     */
    static int chunkLength(int length, double flops) {
        return chunkLength(length, flops, MAX_PIECES);
    }

    /** As {@link #chunkLength(int, double)}, with at most {@code maxPieces} pieces. */
    static int chunkLength(int length, double flops, int maxPieces) {
        if (flops < SPLIT_FLOPS || length < 2 * 16) {
            return length;
        }
        int pieces = (int) Math.min(maxPieces, Math.max(2, flops / FLOPS_PER_PIECE));
        int per = (length + pieces - 1) / pieces;
        return (per + 15) / 16 * 16;
    }

    private static int flag(Blas.Operand op) {
        return op.trans() == 'T' ? TRANS : NO_TRANS;
    }

    private static Memory ensure(Memory buffer, long bytes) {
        if (buffer.size() >= bytes) {
            return buffer;
        }
        buffer.close();
        return new Memory(Math.max(bytes, buffer.size() + buffer.size() / 2));
    }

    /** Whether the view's rows lie close enough together to copy its whole span in one piece. */
    private static boolean copiesSpan(Blas.Operand op) {
        return op.span() <= 2L * op.outer() * op.inner() + 4096;
    }

    private static long copiedElements(Blas.Operand op) {
        return copiesSpan(op) ? op.span() : (long) op.outer() * op.inner();
    }

    /** The operand's leading dimension in its native buffer (see {@link #copyIn}). */
    private static int leadingDimension(Blas.Operand op) {
        return copiesSpan(op) ? op.ld() : Math.max(1, op.inner());
    }

    /**
     * Copies part {@code part} of {@code parts} of the operand's window into {@code buffer}: of its
     * whole span when its rows are close together, else of its rows packed tight.
     */
    private static void copyIn(Blas.Operand op, Memory buffer, int part, int parts) {
        ArrayStorage s = op.storage();
        int bytes = s.type().byteSize();
        if (copiesSpan(op)) {
            int span = (int) op.span();
            int from = (int) ((long) span * part / parts);
            int to = (int) ((long) span * (part + 1) / parts);
            if (s.type() == ScalarType.FLOAT32) {
                buffer.write((long) from * bytes, s.f(), op.offset() + from, to - from);
            } else {
                buffer.write((long) from * bytes, s.d, op.offset() + from, to - from);
            }
            return;
        }
        long rowBytes = (long) op.inner() * bytes;
        int first = (int) ((long) op.outer() * part / parts);
        int last = (int) ((long) op.outer() * (part + 1) / parts);
        for (int r = first; r < last; r++) {
            int from = op.offset() + r * op.ld();
            if (s.type() == ScalarType.FLOAT32) {
                buffer.write(r * rowBytes, s.f(), from, op.inner());
            } else {
                buffer.write(r * rowBytes, s.d, from, op.inner());
            }
        }
    }
}
