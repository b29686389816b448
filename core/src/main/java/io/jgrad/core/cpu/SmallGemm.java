package io.jgrad.core.cpu;

import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * FLOAT32 products with few rows (a recurrent layer's h·Wₕₕᵀ and its backward at batch 32, a
 * linear layer's weight gradient with few outputs) in Java with 512-bit vectors, on CPUs that
 * have them ({@link #WIDE_CPU}); without the Vector API module, or with a JVM whose vectors are
 * narrower, plain loops compute the same chains. At W6c's 32×128×512 and 32×512×128 these
 * ran in 39 and 27 µs (about 105 and 155 GFLOPS on one core, a microbenchmark on this project's
 * machine), where the system OpenBLAS with the machine's Haswell kernels took 58 µs (71 GFLOPS)
 * for the first through {@link SystemOpenBlas}, copies included: its 256-bit kernels use half of
 * the vector width, and a product this small is mostly the packing and the copies around it.
 * Where the Vector API runs, larger products come here too ({@link Blas#wide}: a linear layer's
 * products at W2's widths), cut into column blocks of {@link #SPLIT_COLUMNS} on jgrad's threads:
 * at 128×784×512 the tiles ran at about 155 GFLOPS on one core of this project's machine, where
 * OpenBLAS's Haswell kernels reach 140-200 on both (W5's shapes, several sessions' runs).
 *
 * <p>A tile of 8 rows by 32 columns of C (16 vectors) stays in registers while p runs over the
 * inner dimension: one broadcast element of A times two vectors of B per row and step. Each element
 * of C is the fused multiply-add chain {@code acc = fma(a[i][p], b[p][j], acc)} over p from 0, in
 * every tile shape used here (8 rows or 1, 32 columns or 16), so its bits depend only on its
 * operands, never on where it falls in the tiling or on the thread count. They differ from the BLAS
 * libraries' (which sum in other orders), as those differ from each other.
 *
 * <p>The tiles read A packed: before a product, its rows are copied 8 at a time into k×8 tiles
 * ({@link #packA}, on both threads for a large A), so that the 8 broadcasts of a step read adjacent
 * elements at constant offsets. Read in place, through two strides, each broadcast cost a bounds
 * check and an address computation, and the JIT's code was bound by them: the packed tiles ran
 * 1.3-1.4x faster in a microbenchmark, and W2's training steps 15% shorter.
 *
 * <p>B is read as a row-major k×n matrix, in place (a strip of it copied first only when it is large
 * and many tiles read it, {@link Tiles#gemm}). A transposed B (a weight used as Wᵀ) of at most
 * {@link #MAX_PACKED} elements in a product of at most 64 rows is first copied strip by strip
 * (k×32 each, the layout the tiles read), and the copy is kept while the weight is unchanged (its
 * storage's version), so a recurrent weight is transposed once per forward pass, not once per time
 * step. Each thread keeps the copies of its last four such weights, and holds their storages
 * weakly. In a product with more than 64 rows (or whose B is too large to keep) each column block
 * copies its own columns into a panel of its thread instead, so the copying is shared between the
 * threads. The plain loops read the same copies row-major.
 */
final class SmallGemm {
    /** Floats per 512-bit vector: the tiles' column step. */
    private static final int L = 16;
    /** Rows of the register tile. */
    static final int MR = 8;

    /** The most elements of a transposed B kept packed (1 MB): a recurrent weight of 128×512 is 64K. */
    static final int MAX_PACKED = 1 << 18;
    /**
     * The most elements of a transposed A (its 8 adjacent elements per step of the inner dimension
     * packed as they are, or read so by the plain loops): 256 KB, a linear layer's dYᵀ of 512 outputs
     * at batch 128.
     */
    static final int MAX_TRANSPOSED_A = 1 << 16;
    /** Packed copies kept per thread (the least recently used goes): a few layers' weights. */
    private static final int SLOTS = 4;

    /** This thread's packed copies of transposed Bs (products run on the caller's and the helper's threads). */
    private static final ThreadLocal<Packs> PACKS = ThreadLocal.withInitial(Packs::new);

    private static final class Packs {
        final Packed[] slots = new Packed[SLOTS];
        /** The plain loops' rows of C and row of B ({@link #plain}). */
        private float[][] plainRows = new float[0][];
        final float[] plainB = new float[PLAIN_COLUMNS];
        /** A block's columns of a transposed B ({@link #panel}). */
        float[] panel = new float[0];
        /** A product's A in 8-row tiles ({@link #packA}). */
        float[] packedA = new float[0];
        /** A tile of the last rows of C, 8×32 ({@link #PAD_ROWS}). */
        final float[] pad = new float[MR * 32];
        /** A strip of B's columns, k×32 ({@link Tiles#gemm}). */
        float[] strip = new float[0];
        long clock;

        float[][] plainRows(int m) {
            if (plainRows.length < m) {
                float[][] grown = java.util.Arrays.copyOf(plainRows, m);
                for (int i = plainRows.length; i < m; i++) {
                    grown[i] = new float[PLAIN_COLUMNS];
                }
                plainRows = grown;
            }
            return plainRows;
        }

        Packs() {
            for (int i = 0; i < SLOTS; i++) {
                slots[i] = new Packed();
            }
        }
    }

    /** A packed copy and the window it holds: a storage (weakly, so a dropped weight can go), its version, the window. */
    private static final class Packed {
        float[] data = new float[0];
        java.lang.ref.WeakReference<ArrayStorage> storage;
        int version;
        /** Laid out strip by strip for the tiles ({@link #stripsInto}), or row-major for the plain loops. */
        boolean stripped;
        int offset;
        int ld;
        int outer;
        int inner;
        long lastUse;

        /** Whether this holds op's window of op's storage, in whatever version. */
        boolean window(Blas.Operand op) {
            return storage != null && storage.get() == op.storage() && offset == op.offset() && ld == op.ld()
                    && outer == op.outer() && inner == op.inner();
        }
    }

    private SmallGemm() {}

    /**
     * How long {@link #warm} runs batches back to back; after that it pauses nine times a batch's
     * length between batches ({@link #POLL_MILLIS} to {@link #MAX_POLL_MILLIS}), up to {@link #WARM_GIVE_UP_NANOS}.
     */
    private static final long WARM_BUSY_NANOS = 3_000_000_000L;
    /**
     * When {@link #warm} gives up (a JVM that never compiles the kernels: -Xint, C1 only): the plain
     * loops stay. 30 s, or {@code -Djgrad.blas.small.warmSeconds}.
     */
    private static final long WARM_GIVE_UP_NANOS = Math.max(1, Long.getLong("jgrad.blas.small.warmSeconds", 30))
            * 1_000_000_000L;
    /**
     * The shortest pause between two of {@link #warm}'s batches once it has run {@link #WARM_BUSY_NANOS}.
     * Pauses stay under HotSpot's 50 ms (TieredCompileTaskTimeout): a method waiting for C2 whose
     * counters have not moved for that long may be dropped from the queue.
     */
    private static final long POLL_MILLIS = 10;
    /**
     * The longest pause between two such batches: with the batch itself and a late wake-up, still
     * under the 50 ms after which a waiting method may be dropped.
     */
    private static final long MAX_POLL_MILLIS = 25;
    /** Calls on small operands {@link #warm} makes in a batch, for each kind, before its one timed full-size call. */
    private static final int SMALL_CALLS = 20;
    private static final System.Logger LOG = System.getLogger(SmallGemm.class.getName());
    /**
     * Whether products take the vector tiles: at once where nothing warms them ({@code
     * -Djgrad.blas.early=false} or {@code -Djgrad.blas.small.warm=false}), else once {@link #warm}
     * has seen them run at compiled speed. Until then they take the plain loops, which give the
     * same bits and are not slow before the JIT compiles them, as the tiles are. Nothing about a
     * result depends on when this turns true.
     */
    private static volatile boolean tilesReady;

    /**
     * Runs the vector kernels on dummy operands until C2 has compiled them, and lets each kind in
     * once three batches in a row ran it at compiled speed: {@link DotGemm} (17×128 by 128×10), the
     * tiles (17×128 by 128×48: two 8-row tiles and a single row, a strip of 32 columns and one of
     * 16), {@link SimdKernels#scaleBytesLoop} (an image's bytes; a batch of them every step) and
     * {@link SimdKernels#floatMath} (exp, sigmoid, tanh). Every vector kernel must run here: one left
     * cold runs interpreted for thousands of products (the 16-column tile once made W1's steps 1.5x
     * slower). Before C2 compiles them the vector operations are objects on the heap, a product
     * some hundred times slower than compiled.
     *
     * <p>It runs on a daemon thread of its own from the moment the CPU backend is first used, while
     * the program loads its data and trains; products made meanwhile take the plain loops (the same
     * bits). How soon a kernel comes in depends on how soon HotSpot's counters ask C2 for it (at
     * start-up, when C2's queue is long, HotSpot raises the thresholds in proportion) and on that
     * queue. So each batch makes {@link #SMALL_CALLS} calls on small operands (k = 4 for the tiles,
     * 32 for DotGemm, 32 bytes, 8 exponentials) for one timed call on full-size ones: invocations are
     * what the counters count, and a full-size call costs some twenty small ones while boxed; a loop
     * of a few iterations also never asks for a second, on-stack compile of the same method. On two
     * busy cores W1's kernels now come in 0.6-1.8 s after the warm-up begins, at 0.2 s of uptime
     * (before, after the library had loaded and with full-size calls only: the tiles at 1.8-2.2 s of
     * uptime, the exponentials at 1.9-2.3), and its time to 84% fell (BENCHMARKS.md, 2026-12-07). A
     * JVM that never compiles them keeps the plain loops (given up after {@link #WARM_GIVE_UP_NANOS}).
     */
    static void warm() {
        if (VECTOR && !tilesReady) {
            try {
                warmKernels();
            } catch (RuntimeException | LinkageError e) {
                // a kernel that fails on dummy operands would fail on real ones too: those not yet let in
                // keep the plain loops
                LOG.log(System.Logger.Level.DEBUG, "the vector kernels' warm-up failed; the plain loops stay", e);
            }
        } else if (!VECTOR) {
            Simd.markReadyWithoutWarmUp(); // no tiles to warm: the other vector loops run at once, as before
        }
    }

    /** Whether products take the vector tiles yet ({@link #tilesReady}). */
    static boolean tilesReady() {
        return tilesReady;
    }

    /**
     * Lets products take the vector tiles and {@link DotGemm}, and {@link SimdKernels#floatMath} and
     * {@link SimdKernels#scaleBytesLoop} their vector loops, without a warm-up (no warm-up thread will run).
     */
    static void tilesWithoutWarmUp() {
        tilesReady = VECTOR;
        if (VECTOR) {
            DotGemm.markReady();
        }
        Simd.markReadyWithoutWarmUp();
    }

    /** One kind of kernel {@link #warm} lets in: its calls, how quick a compiled one is, and what lets it in. */
    private static final class Kind {
        final String name;
        final IntConsumer full;
        final IntConsumer small;
        final long limitNanos;
        final Runnable ready;
        int streak;
        /** The last timed call's nanoseconds (for the log when the warm-up gives up). */
        long last;

        Kind(String name, IntConsumer full, IntConsumer small, long limitNanos, Runnable ready) {
            this.name = name;
            this.full = full;
            this.small = small;
            this.limitNanos = limitNanos;
            this.ready = ready;
        }

        boolean done() {
            return streak >= 3;
        }
    }

    private static void warmKernels() {
        int m = 2 * MR + 1;
        int k = 128;
        int n = 3 * L;
        int smallK = 4;
        int dotK = 2 * L; // two of DotGemm's 16-lane steps
        float[] a = new float[m * k];
        float[] b = new float[k * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (i % 7) * 0.25f;
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (i % 5) * 0.5f;
        }
        int tall = Blas.SMALL_ROWS + MR; // over SMALL_ROWS: a transposed B goes in panels
        float[] c = new float[tall * n];
        ArrayStorage sa = ArrayStorage.wrap(CpuBackend.INSTANCE, a);
        ArrayStorage sb = ArrayStorage.wrap(CpuBackend.INSTANCE, b);
        Blas.Operand pa = new Blas.Operand(sa, 0, k, m, k, 'N');
        Blas.Operand pat = new Blas.Operand(sa, 0, m, k, m, 'T'); // the same values read as a transposed A
        Blas.Operand pb = new Blas.Operand(sb, 0, n, k, n, 'N');
        Blas.Operand pbt = new Blas.Operand(sb, 0, k, n, k, 'T'); // B's values read as a transposed B
        Blas.Operand pw = new Blas.Operand(sa, 0, k, 10, k, 'T'); // A's first 10 rows as a classifier's weight
        Blas.Operand sma = new Blas.Operand(sa, 0, smallK, m, smallK, 'N');
        Blas.Operand smat = new Blas.Operand(sa, 0, m, smallK, m, 'T');
        Blas.Operand smb = new Blas.Operand(sb, 0, n, smallK, n, 'N');
        Blas.Operand smbt = new Blas.Operand(sb, 0, smallK, n, smallK, 'T');
        Blas.Operand sm10 = new Blas.Operand(sa, 0, smallK, 10, smallK, 'N'); // a zero-padded last tile (10 rows)
        Blas.Operand smTall = new Blas.Operand(sa, 0, smallK, tall, smallK, 'N');
        Blas.Operand dota = new Blas.Operand(sa, 0, dotK, m, dotK, 'N');
        Blas.Operand dotw = new Blas.Operand(sa, 0, dotK, 10, dotK, 'T');
        // compiled: a few µs a call (209 KFLOP of tiles; 44 KFLOP of DotGemm; 128 exponentials; 784
        // bytes); with boxed vectors, hundreds. The small calls also take each way through the tiles that
        // real products take (a transposed A; B as stored, transposed and kept packed, or transposed in
        // per-block panels; a last tile of 8, of 2-7 rows zero-padded, or single rows), so that C2 compiles
        // none of them as a trap that would send a product back to boxed vectors
        Kind tiles = new Kind("tiles", i -> {
            gemm(i % 5 == 0 ? pat : pa, pb, m, n, k, c, 0, true);
            panel(pbt, k, 0, n, true); // the copy a linear layer's X·Wᵀ makes, compiled early too
        }, i -> {
            switch (i % 5) {
                case 0 -> gemm(smat, smb, m, n, smallK, c, 0, true);
                case 1 -> gemm(sma, smbt, m, n, smallK, c, 0, true);
                case 2 -> gemm(sm10, smb, 10, n, smallK, c, 0, true);
                case 3 -> gemm(smTall, smbt, tall, n, smallK, c, 0, true);
                default -> gemm(sma, smb, m, n, smallK, c, 0, true);
            }
            panel(smbt, smallK, 0, n, true);
        }, 15_000, () -> tilesReady = true);
        Kind dot = new Kind("DotGemm", i -> DotGemm.gemm(pa, pw, m, 10, k, c, 0, true), // X·Wᵀ with 10 outputs
                i -> DotGemm.gemm(dota, dotw, m, 10, dotK, c, 0, true), 5_000, DotGemm::markReady);
        Kind bytes = new Kind("image bytes", i -> SimdKernels.scaleBytesLoop(PIXELS, 0, c, 0, PIXELS.length, 0.5f, 0.25f),
                i -> SimdKernels.scaleBytesLoop(PIXELS, 0, c, 0, 2 * L, 0.5f, 0.25f), 3_000, Simd::markBytesReady);
        Kind math = new Kind("exp, sigmoid, tanh", i -> SimdKernels.floatMath(MATH[i % 3], b, 0, c, 0, 8 * L, true),
                i -> SimdKernels.floatMath(MATH[i % 3], b, 0, c, 0, L / 2, true), 2_000, Simd::markMathReady);
        Kind[] kinds = {dot, tiles, bytes, math};
        long start = System.nanoTime();
        // the plain loops, which real products take until their kernel is in: enough calls on tiny operands
        // (256 of each, ~16 ms in a fresh JVM) for C1 to compile them while the program loads its data. Left
        // to the products, the JIT came to them only once training had begun: in a profile of W1's first
        // epoch, 380 samples (of 1,669 in its steps, 0.5 ms each) were those loops interpreted; now 11
        Blas.Operand tinyA = new Blas.Operand(sa, 0, 2, MR, 2, 'N');
        Blas.Operand tinyB = new Blas.Operand(sb, 0, L, 2, L, 'N');
        Blas.Operand tinyW = new Blas.Operand(sa, 0, L, 2, L, 'T');
        for (int i = 0; i < PLAIN_PRIMER; i++) {
            gemm(tinyA, tinyB, MR, L, 2, c, 0, false);
            DotGemm.gemm(dota, tinyW, 2, 2, L, c, 0, false);
        }
        long lastBatch = 0;
        for (int batch = 0; !(tiles.done() && dot.done() && bytes.done() && math.done()); batch++) {
            long now = System.nanoTime();
            if (now - start > WARM_GIVE_UP_NANOS) {
                StringBuilder out = new StringBuilder();
                for (Kind kind : kinds) {
                    if (!kind.done()) {
                        out.append(out.length() == 0 ? "" : "; ").append(kind.name).append(" (its last call ")
                                .append(kind.last / 1000).append(" µs, compiled under ").append(kind.limitNanos / 1000).append(')');
                    }
                }
                LOG.log(System.Logger.Level.DEBUG, "vector kernels not compiled after {0} s, their plain loops stay: {1}",
                        WARM_GIVE_UP_NANOS / 1_000_000_000L, out);
                return;
            }
            if (now - start > WARM_BUSY_NANOS) {
                // the compilers are slow to get to it (a program compiling much of its own keeps C2's
                // queue long, and HotSpot's thresholds with it): go on, but at a tenth of a core
                long pause = Math.max(POLL_MILLIS, Math.min(MAX_POLL_MILLIS, 9 * lastBatch / 1_000_000));
                try {
                    Thread.sleep(pause);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                now = System.nanoTime();
            }
            for (Kind kind : kinds) {
                if (kind.done()) {
                    continue;
                }
                for (int i = 0; i < SMALL_CALLS; i++) {
                    kind.small.accept(i);
                }
                long t0 = System.nanoTime();
                kind.full.accept(batch);
                long took = System.nanoTime() - t0;
                kind.last = took;
                // three quick batches in a row: on a busy machine (training already running on both
                // cores) this thread is often descheduled, and one slow call only restarts the count
                kind.streak = took < kind.limitNanos ? kind.streak + 1 : 0;
                if (kind.done()) {
                    kind.ready.run();
                    LOG.log(System.Logger.Level.DEBUG, "vector kernels in: {0}, {1} ms after the warm-up began",
                            kind.name, (System.nanoTime() - start) / 1_000_000);
                }
            }
            lastBatch = System.nanoTime() - now;
        }
    }

    /** Calls of each plain loop {@link #warm} makes first (HotSpot's C1 threshold is 200 invocations). */
    private static final int PLAIN_PRIMER = 256;

    /** An image's bytes for the warm-up of {@link CpuBackend#scaleBytes}. */
    private static final byte[] PIXELS = new byte[784];

    /** The functions {@link SimdKernels#floatMath} computes, which the warm-up runs in turn. */
    private static final io.jgrad.core.backend.ElementwiseOp[] MATH = {io.jgrad.core.backend.ElementwiseOp.EXP,
        io.jgrad.core.backend.ElementwiseOp.SIGMOID, io.jgrad.core.backend.ElementwiseOp.TANH};

    /**
     * Whether the CPU has 512-bit vectors (AVX-512F in {@code /proc/cpuinfo}; Linux on x86-64 only).
     * This alone, with the shape rule ({@link Blas#small}), decides which small products run here,
     * so that choice does not depend on how the JVM was started: with or without the Vector API
     * module a seed gives the same bits ({@link Simd}'s rule for every kernel). The larger products
     * of {@link Blas#wide} come here only where {@link #VECTOR} holds.
     */
    static final boolean WIDE_CPU = OpenBlasCoreType.cpuFlags().contains("avx512f");
    /**
     * Whether the products run with the Vector API's 512-bit vectors ({@link Tiles}): the module is
     * there and the JVM uses vectors that wide. Otherwise plain loops compute the same chains.
     */
    static final boolean VECTOR = Simd.ENABLED && Tiles.wide();

    /** How the products run, for {@link Blas#backend()}: on 512-bit vectors, or in plain loops and why. */
    static String describe() {
        return VECTOR ? "512-bit vectors" : Simd.ENABLED ? "plain loops: the JVM's vectors are narrower than 512 bits"
                : "plain loops: run java with --add-modules jdk.incubator.vector for the vectorized ones";
    }

    /**
     * out[m, n] (contiguous at outOffset) = op(a)[m, k] · op(b)[k, n] for n a multiple of 16; a
     * transposed A is read in place (the bits are the same either way).
     */
    static void gemm(Blas.Operand a, Blas.Operand b, int m, int n, int k, float[] out, int outOffset) {
        gemm(a, b, m, n, k, out, outOffset, tilesReady);
    }

    /** {@link #gemm} on the Vector API's tiles or on the plain loops (tests compare the two). */
    static void gemm(Blas.Operand a, Blas.Operand b, int m, int n, int k, float[] out, int outOffset, boolean vector) {
        assert a.trans() == 'N' || (long) m * k <= MAX_TRANSPOSED_A : "Blas decides";
        // A(i, p) is av[ao + i·si + p·sp]: rows apart by its leading dimension as stored, or columns if transposed
        float[] av = a.storage().f();
        int ao = a.offset();
        int si = a.trans() == 'N' ? a.ld() : 1;
        int sp = a.trans() == 'N' ? 1 : a.ld();
        // column blocks of C on jgrad's threads: each element's chain is the same whichever block or
        // thread computes it, so the split changes no bits (blocks are claimed in any order)
        boolean cut = 2.0 * m * n * k >= SPLIT_FLOPS;
        int per = cut ? (vector ? SPLIT_COLUMNS : PLAIN_SPLIT_COLUMNS) : n;
        // a transposed B in a product with many rows (X·Wᵀ, whose W changes at every step), or too
        // large to keep: each block copies its own columns of B into a k×width panel of its thread, so
        // the copying is shared by the threads. A small product's transposed B (a recurrent weight used
        // at every time step) is kept packed instead, and the blocks read that copy.
        // For the tiles, a transposed B's copies (kept or panels) are laid out strip by strip (k×32 each,
        // the last k×16 where n mod 32 is 16), the layout the tiles read; for the plain loops, row-major.
        boolean panels = b.trans() == 'T' && (m > Blas.SMALL_ROWS || (long) k * n > MAX_PACKED);
        boolean stripped = b.trans() == 'T' && vector;
        float[] bv = b.trans() == 'N' ? b.storage().f() : panels ? null : packTransposed(b, k, n, stripped);
        int bo = b.trans() == 'N' ? b.offset() : 0;
        int ldb = b.trans() == 'N' ? b.ld() : n;
        if (cut) {
            Parallel.wake(); // the helper wakes while A is packed
        }
        // A's 8-row tiles side by side, read by every block: each thread's tiles then index A and B
        // with constant strides, which the JIT compiles without per-step bounds checks and address
        // arithmetic (about 1.4x the speed of reading them in place, a microbenchmark on this machine)
        float[] packedA = vector && m >= PAD_ROWS ? packA(av, ao, si, sp, m, k) : null;
        Parallel.forRange(n, per, (j0, j1) -> {
            // a panel holds columns j0..j1 only: column j is at j − j0 of its rows, j1 − j0 long (or of its strip's)
            float[] blockB = panels ? panel(b, k, j0, j1, stripped) : bv;
            int blockBo = panels ? (stripped ? 0 : -j0) : stripped ? j0 * k : bo;
            int blockLdb = panels ? j1 - j0 : ldb;
            if (vector) {
                Tiles.gemm(av, ao, si, sp, packedA, blockB, blockBo, blockLdb, stripped, m, n, k, out, outOffset,
                        j0, j1);
            } else {
                plain(av, ao, si, sp, blockB, blockBo, blockLdb, m, n, k, out, outOffset, j0, j1);
            }
        });
    }

    /**
     * Columns [from, to) of a transposed B (stored n×k: B(p, j) at offset + j·ld + p) in this thread's
     * buffer: as a row-major k×(to − from) panel, or with {@code stripped} strip by strip ({@link
     * #stripsInto}).
     */
    private static float[] panel(Blas.Operand b, int k, int from, int to, boolean stripped) {
        Packs packs = PACKS.get();
        int w = to - from;
        if (packs.panel.length < k * w) {
            packs.panel = new float[k * w];
        }
        if (stripped) {
            stripsInto(b, k, from, to, packs.panel, 0);
        } else {
            panelInto(b, k, from, to, packs.panel, 0);
        }
        return packs.panel;
    }

    /**
     * Columns [from, to) of a transposed B as strips of 32 columns (the last one 16 wide where the
     * width is not a multiple of 32), strip s a row-major k×width panel at dstOffset + s·k·32.
     */
    private static void stripsInto(Blas.Operand b, int k, int from, int to, float[] dst, int dstOffset) {
        for (int j = from; j < to; j += 2 * L_STRIP) {
            panelInto(b, k, j, Math.min(to, j + 2 * L_STRIP), dst, dstOffset + (j - from) * k);
        }
    }

    /** Floats per vector of the tiles ({@link Tiles}' L), for the layouts made outside that class. */
    private static final int L_STRIP = 16;

    /**
     * Columns [from, to) of a transposed B (stored n×k: B(p, j) at offset + j·ld + p) as a row-major
     * k×(to − from) panel at dstOffset, the width a multiple of 8. Eight of B's stored rows are read
     * side by side, each in order, and each step writes eight adjacent elements of the panel (about
     * 0.34 ns an element on this project's machine, against 0.56 writing one element per panel row).
     */
    private static void panelInto(Blas.Operand b, int k, int from, int to, float[] dst, int dstOffset) {
        int w = to - from;
        float[] src = b.storage().f();
        int ld = b.ld();
        for (int j0 = 0; j0 < w; j0 += 8) {
            int s = b.offset() + (from + j0) * ld;
            for (int p = 0; p < k; p++) {
                gather8(src, s + p, ld, dst, dstOffset + p * w + j0);
            }
        }
    }

    /**
     * A's first m − m mod 8 rows (A(i, p) at ao + i·si + p·sp) as tiles of 8 rows, each k×8 row-major
     * (tile t's element (r, p) at (t·k + p)·8 + r), in this thread's buffer, which the product's
     * blocks read on every thread until it returns.
     */
    private static float[] packA(float[] a, int ao, int si, int sp, int m, int k) {
        Packs packs = PACKS.get();
        int tiles = m / MR;
        int rest = m % MR >= PAD_ROWS ? m % MR : 0;
        int size = (tiles + (rest > 0 ? 1 : 0)) * k * MR;
        if (packs.packedA.length < size) {
            packs.packedA = new float[size];
        }
        float[] dst = packs.packedA;
        if (si != 1 && (long) tiles * k * MR >= PARALLEL_PACK) { // rows gathered 8 at a time: on both threads
            Parallel.forRange(tiles, (tiles + 1) / 2, (t0, t1) -> packTiles(a, ao, si, sp, k, dst, t0, t1));
        } else {
            packTiles(a, ao, si, sp, k, dst, 0, tiles);
        }
        if (rest > 0) { // the last rows in a tile of their own, the rows past m zero
            int row = ao + tiles * MR * si;
            for (int p = 0, d = tiles * k * MR, q = row; p < k; p++, d += MR, q += sp) {
                for (int r = 0; r < MR; r++) {
                    dst[d + r] = r < rest ? a[q + r * si] : 0f;
                }
            }
        }
        return dst;
    }

    /**
     * From this many rows past the last whole tile, the tiles compute them as one more tile, its
     * missing rows zero, instead of row by row ({@link Tiles#row16} reads B once per row): a linear
     * layer's weight gradient with 10 outputs (dYᵀ·X) took 14% of W1's step on its last 2 rows, against
     * 9% for the first 8 (a profile of this project's machine). Each element's chain is the same.
     */
    static final int PAD_ROWS = 2;

    /** Elements of an A as stored from which {@link #packA} runs on both threads. */
    private static final int PARALLEL_PACK = 1 << 14;

    private static void packTiles(float[] a, int ao, int si, int sp, int k, float[] dst, int from, int to) {
        for (int t = from; t < to; t++) {
            int base = t * k * MR;
            int row = ao + t * MR * si;
            for (int p = 0, d = base, q = row; p < k; p++, d += MR, q += sp) { // si 1: a transposed A
                gather8(a, q, si, dst, d);
            }
        }
    }

    /** dst[d + r] = src[q + r·stride] for r below 8: eight rows read side by side, written adjacent. */
    private static void gather8(float[] src, int q, int stride, float[] dst, int d) {
        dst[d] = src[q];
        dst[d + 1] = src[q + stride];
        dst[d + 2] = src[q + 2 * stride];
        dst[d + 3] = src[q + 3 * stride];
        dst[d + 4] = src[q + 4 * stride];
        dst[d + 5] = src[q + 5 * stride];
        dst[d + 6] = src[q + 6 * stride];
        dst[d + 7] = src[q + 7 * stride];
    }

    /** Products from this many floating-point operations are cut into column blocks for jgrad's threads. */
    static final double SPLIT_FLOPS = 8e6;
    /**
     * Columns of C per block of a cut product: one strip of the tiles. Blocks are claimed as threads
     * get free, so the last one is what a thread may wait for; W2 steps ran 3-4% faster than with 64
     * (3 in-JVM alternating runs of 30 rounds, medians of the per-round ratios 0.96-0.97).
     */
    static final int SPLIT_COLUMNS = 32;
    /**
     * Columns per block of a cut product on the plain loops (before the tiles are compiled, or without
     * the Vector API): their inner loop runs along a block's row, and with 32 columns the calls around
     * it cost more than it does. At W2's shapes 36-45 GFLOPS against 13 with 32 (a harness, best of 10
     * calls). Each element's chain does not depend on the blocks.
     */
    static final int PLAIN_SPLIT_COLUMNS = 256;

    /** Columns the plain loops take at a time (their scratch rows are this long). */
    private static final int PLAIN_COLUMNS = 1024;

    /**
     * The same chains without the Vector API: each row of C accumulates A(i, p)·B(p, ·) for p from
     * 0, one fused multiply-add per element and step. The rows accumulate in scratch arrays and B's
     * row is copied to one, so that the inner loop indexes every array alike: C2 vectorizes such a
     * loop (about 31 GFLOPS on this project's machine against 5 with offsets that differ).
     */
    private static void plain(float[] a, int ao, int si, int sp, float[] b, int bo, int ldb, int m, int n, int k,
                              float[] c, int co, int from, int to) {
        Packs packs = PACKS.get();
        float[] brow = packs.plainB;
        for (int i0 = 0; i0 < m; i0 += PLAIN_ROWS) {
            int mb = Math.min(PLAIN_ROWS, m - i0);
            float[][] rows = packs.plainRows(mb);
            for (int j0 = from; j0 < to; j0 += PLAIN_COLUMNS) {
                int nb = Math.min(PLAIN_COLUMNS, to - j0);
                for (int i = 0; i < mb; i++) {
                    java.util.Arrays.fill(rows[i], 0, nb, 0f);
                }
                for (int p = 0; p < k; p++) {
                    System.arraycopy(b, bo + p * ldb + j0, brow, 0, nb);
                    for (int i = 0; i < mb; i++) {
                        fmaRow(rows[i], brow, a[ao + (i0 + i) * si + p * sp], nb);
                    }
                }
                for (int i = 0; i < mb; i++) {
                    System.arraycopy(rows[i], 0, c, co + (i0 + i) * n + j0, nb);
                }
            }
        }
    }

    /** Rows of C the plain loops keep in scratch at a time. */
    private static final int PLAIN_ROWS = 64;

    /** r[j] = fma(x, b[j], r[j]) for j below n. */
    private static void fmaRow(float[] r, float[] b, float x, int n) {
        for (int j = 0; j < n; j++) {
            r[j] = Math.fma(x, b[j], r[j]);
        }
    }

    /**
     * B's window as a k×n array kept for this weight's version: b is stored n×k ('T'), element (p, j)
     * at offset + j·ld + p; strip by strip ({@link #stripsInto}) with {@code stripped}, else row-major.
     */
    private static float[] packTransposed(Blas.Operand b, int k, int n, boolean stripped) {
        Packs packs = PACKS.get();
        Packed p = null;
        for (Packed s : packs.slots) {
            if (s.window(b)) { // this weight: its copy if still current, else its slot for the new version
                if (s.version == b.storage().version() && s.stripped == stripped) {
                    s.lastUse = ++packs.clock;
                    return s.data;
                }
                p = s;
                break;
            }
            if (p == null || s.lastUse < p.lastUse) {
                p = s;
            }
        }
        p.lastUse = ++packs.clock;
        if (p.data.length < k * n) {
            p.data = new float[k * n];
        }
        p.stripped = stripped;
        float[] dst = p.data;
        if (stripped) {
            stripsInto(b, k, 0, n, dst, 0);
        } else {
            panelInto(b, k, 0, n, dst, 0);
        }
        p.storage = new java.lang.ref.WeakReference<>(b.storage());
        p.version = b.storage().version();
        p.offset = b.offset();
        p.ld = b.ld();
        p.outer = b.outer();
        p.inner = b.inner();
        return dst;
    }

    /**
     * The Vector API kernels, in a class of their own so that {@link SmallGemm} loads without the
     * module (this class is only touched when {@link Simd#ENABLED}).
     */
    static final class Tiles {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
        /** The class of F's vectors (the Vector API's 512-bit float vector, not public). */
        private static final Class<?> F_CLASS = F.vectorType();

        private Tiles() {}

        /**
         * v, one of F's vectors, with a test of its class that tells C2 its exact class. The kernels pass
         * the vectors they call methods on through it, and their accumulators' first value (the methods
         * then return the exact class). Without it, C2 chooses the method a vector's call runs from
         * HotSpot's profile of the Vector API's own shared code (FloatVector.fma, intoArray), which every
         * vector kernel writes to while it runs interpreted or in C1; once the 256-bit kernels ({@link
         * JavaGemmVector}, {@link SimdKernels}) had run there, C2 compiled a call for both widths, the
         * merged vector's class was no longer known, and the store's intrinsic failed ("missing constant:
         * vclass=DecodeN", -XX:+PrintIntrinsics): the tiles then ran on boxed vectors, 120 µs a warm-up
         * call against a few, and never came in (the pure-Java product of a machine with only a JDK, where
         * JavaGemmVector runs; BENCHMARKS.md). With the test C2 calls the 512-bit method directly and the
         * profile does not matter.
         */
        static FloatVector exact(FloatVector v) {
            if (v.getClass() != F_CLASS) {
                throw new IllegalArgumentException("not a 512-bit float vector: " + v.species());
            }
            return v;
        }

        /** Whether the JVM's preferred float vectors are 512 bits wide. */
        static boolean wide() {
            return FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512;
        }

        /**
         * Columns [from, to) of out[m, n] at outOffset = A (A(i, p) at ao + i·si + p·sp; its 8-row tiles
         * packed by {@link #packA} in packedA) · B, strip by strip of 32 columns, so that B's strip
         * stays in cache while every row tile passes over it. B is row-major (rows ldb apart from
         * bo + from), or with {@code stripped} columns [from, to) are laid out strip by strip from bo
         * ({@link #stripsInto}). A row-major strip is read in place, or copied into a k×32 buffer first
         * when it is large and many tiles read it ({@link #COPY_TILES}); the rows past the last whole
         * tile go as one more tile, zero-padded in packedA, when there are {@link #PAD_ROWS} or more
         * of them, else one by one.
         */
        static void gemm(float[] av, int ao, int si, int sp, float[] packedA, float[] bv, int bo, int ldb,
                         boolean stripped, int m, int n, int k, float[] out, int outOffset, int from, int to) {
            int tiles = packedA == null ? 0 : m / MR;
            for (int j = from; j < to; j += 2 * L) {
                int w = Math.min(2 * L, to - j);
                float[] sb = bv;
                int sbo = stripped ? bo + (j - from) * k : bo + j;
                int sld = stripped ? w : ldb;
                if (!stripped && ldb != w && tiles >= COPY_TILES && k * w > COPY_FLOATS) {
                    sb = strip(k);
                    sbo = 0;
                    sld = w;
                    copyStrip(k, w, bv, bo + j, ldb, sb);
                }
                for (int t = 0; t < tiles; t++) {
                    int ci = outOffset + t * MR * n + j;
                    if (w == 2 * L) {
                        tile8x32(k, packedA, t * k * MR, sb, sbo, sld, out, ci, n);
                    } else {
                        tile8x16(k, packedA, t * k * MR, sb, sbo, sld, out, ci, n);
                    }
                }
                int rest = packedA != null && m % MR >= PAD_ROWS ? m % MR : 0;
                if (rest > 0) {
                    float[] pad = padTile();
                    if (w == 2 * L) {
                        tile8x32(k, packedA, tiles * k * MR, sb, sbo, sld, pad, 0, w);
                    } else {
                        tile8x16(k, packedA, tiles * k * MR, sb, sbo, sld, pad, 0, w);
                    }
                    for (int r = 0; r < rest; r++) {
                        System.arraycopy(pad, r * w, out, outOffset + (tiles * MR + r) * n + j, w);
                    }
                }
                for (int i = tiles * MR + rest; i < m; i++) {
                    for (int c = 0; c < w; c += L) {
                        row16(k, av, ao + i * si, sp, sb, sbo + c, sld, out, outOffset + i * n + j + c);
                    }
                }
            }
        }

        /**
         * dst[k, w] = w columns of a row-major B from bi (rows ldb apart). Plain loops, which the JIT
         * vectorizes: vector loads and stores here failed to compile as intrinsics once this was
         * inlined into {@link #gemm} (JDK 17), and arraycopy's call costs more than a 32-float copy.
         */
        private static void copyStrip(int k, int w, float[] b, int bi, int ldb, float[] dst) {
            if (w == 2 * L) {
                for (int p = 0, q = bi, d = 0; p < k; p++, q += ldb, d += 2 * L) {
                    for (int c = 0; c < 2 * L; c++) { // a constant count: unrolled and vectorized whole
                        dst[d + c] = b[q + c];
                    }
                }
                return;
            }
            for (int p = 0, q = bi, d = 0; p < k; p++, q += ldb, d += w) {
                for (int c = 0; c < w; c++) {
                    dst[d + c] = b[q + c];
                }
            }
        }

        /**
         * A row-major B's strip is copied before the tiles read it only when it is larger than L1 (32 KB)
         * and read by many tiles: 512×512×512 ran 5-7% faster so, while the products of W2's and W3's
         * shapes (up to 36 tiles, strips up to 100 KB) ran 5-25% faster reading B in place (a harness
         * alternating both on this project's machine, operands in cache).
         */
        private static final int COPY_TILES = 48;
        private static final int COPY_FLOATS = 8192;

        /** This thread's 8×32 buffer for a tile of the last rows ({@link #PAD_ROWS}). */
        private static float[] padTile() {
            return PACKS.get().pad;
        }

        /** This thread's k×32 strip buffer. */
        private static float[] strip(int k) {
            Packs packs = PACKS.get();
            if (packs.strip.length < k * 2 * L) {
                packs.strip = new float[k * 2 * L];
            }
            return packs.strip;
        }

        /**
         * C[8, 32] at ci (row stride ldc) = A[8, k] (a packed tile: A(r, p) at ai + 8·p + r) · B[k, 32]
         * (rows at bi + ldb·p).
         */
        private static void tile8x32(int k, float[] a, int ai, float[] b, int bi, int ldb, float[] c, int ci, int ldc) {
            FloatVector c00 = exact(FloatVector.zero(F));
            FloatVector c01 = c00;
            FloatVector c10 = c00;
            FloatVector c11 = c00;
            FloatVector c20 = c00;
            FloatVector c21 = c00;
            FloatVector c30 = c00;
            FloatVector c31 = c00;
            FloatVector c40 = c00;
            FloatVector c41 = c00;
            FloatVector c50 = c00;
            FloatVector c51 = c00;
            FloatVector c60 = c00;
            FloatVector c61 = c00;
            FloatVector c70 = c00;
            FloatVector c71 = c00;
            for (int p = 0; p < k; p++) {
                int bp = bi + p * ldb;
                FloatVector b0 = FloatVector.fromArray(F, b, bp);
                FloatVector b1 = FloatVector.fromArray(F, b, bp + L);
                int ap = ai + p * MR;
                FloatVector x = exact(FloatVector.broadcast(F, a[ap]));
                c00 = x.fma(b0, c00);
                c01 = x.fma(b1, c01);
                x = exact(FloatVector.broadcast(F, a[ap + 1]));
                c10 = x.fma(b0, c10);
                c11 = x.fma(b1, c11);
                x = exact(FloatVector.broadcast(F, a[ap + 2]));
                c20 = x.fma(b0, c20);
                c21 = x.fma(b1, c21);
                x = exact(FloatVector.broadcast(F, a[ap + 3]));
                c30 = x.fma(b0, c30);
                c31 = x.fma(b1, c31);
                x = exact(FloatVector.broadcast(F, a[ap + 4]));
                c40 = x.fma(b0, c40);
                c41 = x.fma(b1, c41);
                x = exact(FloatVector.broadcast(F, a[ap + 5]));
                c50 = x.fma(b0, c50);
                c51 = x.fma(b1, c51);
                x = exact(FloatVector.broadcast(F, a[ap + 6]));
                c60 = x.fma(b0, c60);
                c61 = x.fma(b1, c61);
                x = exact(FloatVector.broadcast(F, a[ap + 7]));
                c70 = x.fma(b0, c70);
                c71 = x.fma(b1, c71);
            }
            c00.intoArray(c, ci);
            c01.intoArray(c, ci + L);
            c10.intoArray(c, ci + ldc);
            c11.intoArray(c, ci + ldc + L);
            c20.intoArray(c, ci + 2 * ldc);
            c21.intoArray(c, ci + 2 * ldc + L);
            c30.intoArray(c, ci + 3 * ldc);
            c31.intoArray(c, ci + 3 * ldc + L);
            c40.intoArray(c, ci + 4 * ldc);
            c41.intoArray(c, ci + 4 * ldc + L);
            c50.intoArray(c, ci + 5 * ldc);
            c51.intoArray(c, ci + 5 * ldc + L);
            c60.intoArray(c, ci + 6 * ldc);
            c61.intoArray(c, ci + 6 * ldc + L);
            c70.intoArray(c, ci + 7 * ldc);
            c71.intoArray(c, ci + 7 * ldc + L);
        }

        /** C[8, 16] at ci (row stride ldc) = A[8, k] (a packed tile) · B[k, 16] (rows at bi + ldb·p). */
        private static void tile8x16(int k, float[] a, int ai, float[] b, int bi, int ldb, float[] c, int ci, int ldc) {
            FloatVector c0 = exact(FloatVector.zero(F));
            FloatVector c1 = c0;
            FloatVector c2 = c0;
            FloatVector c3 = c0;
            FloatVector c4 = c0;
            FloatVector c5 = c0;
            FloatVector c6 = c0;
            FloatVector c7 = c0;
            for (int p = 0; p < k; p++) {
                FloatVector b0 = FloatVector.fromArray(F, b, bi + p * ldb);
                int ap = ai + p * MR;
                c0 = exact(FloatVector.broadcast(F, a[ap])).fma(b0, c0);
                c1 = exact(FloatVector.broadcast(F, a[ap + 1])).fma(b0, c1);
                c2 = exact(FloatVector.broadcast(F, a[ap + 2])).fma(b0, c2);
                c3 = exact(FloatVector.broadcast(F, a[ap + 3])).fma(b0, c3);
                c4 = exact(FloatVector.broadcast(F, a[ap + 4])).fma(b0, c4);
                c5 = exact(FloatVector.broadcast(F, a[ap + 5])).fma(b0, c5);
                c6 = exact(FloatVector.broadcast(F, a[ap + 6])).fma(b0, c6);
                c7 = exact(FloatVector.broadcast(F, a[ap + 7])).fma(b0, c7);
            }
            c0.intoArray(c, ci);
            c1.intoArray(c, ci + ldc);
            c2.intoArray(c, ci + 2 * ldc);
            c3.intoArray(c, ci + 3 * ldc);
            c4.intoArray(c, ci + 4 * ldc);
            c5.intoArray(c, ci + 5 * ldc);
            c6.intoArray(c, ci + 6 * ldc);
            c7.intoArray(c, ci + 7 * ldc);
        }

        /** C[1, 16] at ci = A[1, k] (A(0, p) at ai + p·sp) · B[k, 16] (rows at bi + p·ldb): the same chain per element as the tile. */
        private static void row16(int k, float[] a, int ai, int sp, float[] b, int bi, int ldb, float[] c, int ci) {
            FloatVector acc = exact(FloatVector.zero(F));
            for (int p = 0; p < k; p++) {
                acc = exact(FloatVector.broadcast(F, a[ai + p * sp])).fma(FloatVector.fromArray(F, b, bi + p * ldb), acc);
            }
            acc.intoArray(c, ci);
        }
    }
}
