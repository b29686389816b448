package io.jgrad.core.cpu;

import static io.jgrad.core.cpu.Views.st;

import com.google.common.util.concurrent.Uninterruptibles;
import io.jgrad.core.backend.ScalarType;
import io.jgrad.core.backend.View;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Matrix products: every matrix product, linear layer and convolution ends in one call here.
 *
 * <p>Three libraries can do the work, tried in this order when the first product runs:
 * <ol>
 *   <li>{@code openblas}: the machine's own OpenBLAS ({@code libopenblas.so.0}, Debian's
 *       {@code libopenblas0-pthread}), called through JNA. It has kernels for current CPUs
 *       (AVX-512), splits large products across {@link Parallel#threads()} threads and gives the
 *       same bits whatever that number is;
 *   <li>{@code jblas}: the OpenBLAS bundled inside jblas 1.2.5, one thread, about half as fast per
 *       thread (a third on two cores). Its native library needs the system's
 *       {@code libgfortran.so.5} on Linux and does not exist for macOS on arm64;
 *   <li>{@code java}: jgrad's own product in Java ({@link JavaGemm}), which always runs: with the
 *       Vector API module ({@code --add-modules jdk.incubator.vector}) register-blocked vector
 *       kernels, without it plain loops that HotSpot vectorizes.
 * </ol>
 * Each candidate is <em>tried</em>: a tiny product runs on it and must give the right numbers, so
 * a library that loads but cannot run is skipped. {@link #backend()} says which one is in use
 * and why the ones before it were skipped; when one was, a {@link System.Logger} INFO line says
 * the same with the fix. The system property {@code jgrad.blas} ({@code auto}, {@code openblas},
 * {@code jblas} or {@code java}) forces a choice, and {@code jgrad.blas.library} names the
 * OpenBLAS file to load. Unless {@code OPENBLAS_CORETYPE} is set, jgrad sets it for each OpenBLAS
 * from the CPU's features just before that library loads ({@link OpenBlasCoreType}): OpenBLAS
 * falls back to slow generic kernels on CPU models it does not know. The libraries round
 * differently (their kernels sum in different orders), so a seed reproduces a run bit for bit
 * only on the same library.
 *
 * <p>Row-major data is handed over without transposing copies: a transposed view (strides swapped)
 * is passed with the 'T' flag.
 *
 * <p>Concurrency: the OpenBLAS that jblas bundles is not safe for concurrent calls (two threads
 * multiplying their own, unshared arrays got wrong products in 8 of 207,000 calls at 64×784×512
 * on this project's machine), and the system and Java paths keep shared buffers. So every product
 * goes through one lock: several user threads sharing a model stay correct, and a large product
 * still uses all cores through jgrad's own threads. The exceptions: {@link Parallel#helper()}'s
 * thread, which multiplies on an instance of its own with its own buffers, without the lock,
 * where the library takes concurrent calls (the system OpenBLAS and the Java products do); and
 * products with few rows, which run in {@link SmallGemm} (whatever the library) on the calling
 * thread with buffers of that thread's own.
 */
public final class Blas {
    private static final System.Logger LOG = System.getLogger(Blas.class.getName());
    private static final ReentrantLock LOCK = new ReentrantLock();
    /** The values {@code jgrad.blas} takes. */
    static final List<String> CHOICES = List.of("auto", "openblas", "jblas", "java");
    /** Tests run every product through each backend in turn; null means the chosen one. */
    private static volatile Backend forced;
    private static final Object FORCING = new Object();
    /** Set once the first product (or {@link #backend()}) has chosen; a bad setting leaves it null. */
    private static volatile Choice chosen;

    private Blas() {}

    /** A BLAS library jgrad can call. */
    interface Backend {
        /** out[m, n] (contiguous, at outOffset) = op(a) · op(b); called under {@link #LOCK}. */
        void gemm(ScalarType dtype, Operand a, Operand b, int m, int n, int k, ArrayStorage out, int outOffset);

        String description();

        /**
         * A second instance, with buffers of its own, whose products may run on another thread at
         * the same time as this one's and give the same bits; null when the library is not safe
         * for concurrent calls.
         */
        default Backend concurrentInstance() {
            return null;
        }

        /** Whether {@link #concurrentInstance()} gives one (without making it). */
        default boolean takesConcurrentCalls() {
            return false;
        }
    }

    /** The helper thread's own backend instance ({@link #runsOwnProducts}); null on every other thread. */
    private static final ThreadLocal<Backend> OWN = new ThreadLocal<>();

    /**
     * Gives this thread a backend instance of its own, used without {@link #LOCK}, so that its
     * products run beside those of other threads; nothing changes when the chosen library cannot
     * run concurrent calls. For {@link CpuBackend#offload}'s helper thread.
     */
    static void runsOwnProducts() {
        if (forced == null) {
            OWN.set(chosen().backend().concurrentInstance());
        }
    }

    /** Whether a helper thread could run products beside the caller's ({@link #runsOwnProducts}). */
    static boolean concurrent() {
        return forced == null && chosen().backend().takesConcurrentCalls();
    }

    /**
     * How a 2-D view is handed to gemm: the row-major matrix at {@code offset} of {@code storage}
     * with leading dimension {@code ld}, {@code outer} rows of {@code inner} elements, used as is
     * ('N') or transposed ('T').
     */
    record Operand(ArrayStorage storage, int offset, int ld, int outer, int inner, char trans) {
        /** Elements from the first to the last one the view covers. */
        long span() {
            return outer == 0 || inner == 0 ? 0 : (long) (outer - 1) * ld + inner;
        }

        /** Whether both cover the same elements of the same storage (their 'N'/'T' flags may differ). */
        boolean sameWindow(Operand o) {
            return storage == o.storage() && offset == o.offset() && ld == o.ld && outer == o.outer && inner == o.inner;
        }
    }

    /** The backend in use, its {@code jgrad.blas} name, and why each candidate before it was skipped. */
    record Choice(Backend backend, String name, List<String> skipped) {}

    /** Whether {@link #chooseEarly} starts the choice on a thread of its own ({@code jgrad.blas.early}, default true). */
    static final boolean EARLY = !"false".equalsIgnoreCase(System.getProperty("jgrad.blas.early"));
    /** The thread {@link #chooseEarly} started; set once, without taking {@code Blas.class}'s monitor. */
    private static final java.util.concurrent.atomic.AtomicReference<Thread> EARLY_THREAD =
            new java.util.concurrent.atomic.AtomicReference<>();

    /**
     * Starts choosing the library on a daemon thread, once, so that loading it (about 0.2 s for
     * the system OpenBLAS through JNA, most of it JNA's own start: extracting its native part,
     * asking {@code ldconfig} for the library path) overlaps whatever the program does before
     * its first product, such as reading a dataset. The CPU backend calls this when it is first
     * used. The first product waits for the choice if it is still running; a choice that fails
     * (a bad {@code jgrad.blas} setting) is made again on the thread of that product, which gets
     * the exception (the background failure is logged at DEBUG). Nothing starts with
     * {@code -Djgrad.blas.early=false}, or once a choice has been made. Before the choice this
     * thread starts another that warms the vector kernels ({@link #SMALL_WARM}, {@link SmallGemm#warm}),
     * and it ends when that one has.
     *
     * <p>Returns at once: it takes no lock the choice holds (the choice itself holds
     * {@code Blas.class}'s monitor while it loads, and its test product initialises the CPU
     * backend, whose static initializer calls this). Setting {@code OPENBLAS_CORETYPE} through
     * libc's {@code setenv} ({@link OpenBlasCoreType}) now happens on that thread, while the
     * program runs; before, it happened on the thread of the first product, which was no more
     * alone.
     *
     * @return the thread making the choice, or null when none was started
     */
    static Thread chooseEarly() {
        if (!EARLY || chosen != null || EARLY_THREAD.get() != null) {
            if (EARLY && chosen != null && EARLY_THREAD.get() == null) {
                SmallGemm.tilesWithoutWarmUp(); // chosen on the caller's thread first: no thread will warm them
            }
            return null;
        }
        Thread t = new Thread(() -> {
            // the warm-up on a thread of its own, from now: it waits on C2's queue, not on the library
            Thread warm = null;
            if (SMALL && SMALL_WARM) {
                warm = new Thread(SmallGemm::warm, "jgrad-vector-warmup");
                warm.setDaemon(true);
                warm.start();
            } else {
                Simd.markReadyWithoutWarmUp(); // nothing warms the vector loops: they run at once, as before
            }
            try {
                chosen();
            } catch (RuntimeException | LinkageError e) {
                // left unchosen: the first product chooses again and reports the failure on its own thread
                LOG.log(System.Logger.Level.DEBUG, "choosing the product library early failed; the first product "
                        + "will choose again", e);
            } finally {
                if (warm != null) {
                    Uninterruptibles.joinUninterruptibly(warm); // awaitWarmUp waits for this thread, so for the warm-up too
                }
            }
        }, "jgrad-blas-init");
        if (!EARLY_THREAD.compareAndSet(null, t)) {
            return null;
        }
        t.setDaemon(true);
        t.start();
        return t;
    }

    /**
     * Waits, at most {@code timeout}, until the background warm-up of jgrad's vector kernels has
     * finished, for programs that time steady-state speed (a benchmark's samples). Until then
     * products take slower loops with the same results, and while they do the warm-up competes with
     * the program for the cores: on two busy cores W1's came in at 0.8-2.0 s of uptime.
     * Results never depend on whether or how long this waits. Training needs no call: it runs from
     * the first step, faster once the kernels are in.
     *
     * @return true when the warm-up has finished (or none runs), false when the time ran out
     * @throws InterruptedException if interrupted while waiting
     */
    public static boolean awaitWarmUp(java.time.Duration timeout) throws InterruptedException {
        CpuBackend.INSTANCE.hashCode(); // its initialisation starts the warm-up when nothing has yet
        Thread t = EARLY_THREAD.get();
        if (t == null) {
            return true;
        }
        long millis;
        try {
            millis = Math.max(1, timeout.toMillis());
        } catch (ArithmeticException e) {
            millis = Long.MAX_VALUE; // longer than a long of milliseconds: as good as forever
        }
        t.join(millis);
        return !t.isAlive();
    }

    /** The thread {@link #chooseEarly} started, or null (tests). */
    static Thread earlyThread() {
        return EARLY_THREAD.get();
    }

    /** Whether the library has been chosen (tests). */
    static boolean isChosen() {
        return chosen != null;
    }

    /**
     * Set when the choice was made on {@link #chooseEarly}'s thread: the first use on another thread
     * (a product, {@link #backend()}) logs it, so that the message comes where the program first
     * multiplies, as before the early choice, and never in a program that does not.
     */
    private static final java.util.concurrent.atomic.AtomicBoolean UNREPORTED =
            new java.util.concurrent.atomic.AtomicBoolean();

    private static Choice chosen() {
        Choice c = chosen;
        if (c == null) {
            synchronized (Blas.class) {
                c = chosen;
                if (c == null) {
                    c = choose(System.getProperty("jgrad.blas", "auto"), System.getProperty("jgrad.blas.library"));
                    if (Thread.currentThread() == EARLY_THREAD.get()) {
                        UNREPORTED.set(true);
                    } else {
                        report(c);
                    }
                    chosen = c;
                }
            }
        }
        if (UNREPORTED.get() && Thread.currentThread() != EARLY_THREAD.get() && UNREPORTED.compareAndSet(true, false)) {
            report(c);
        }
        return c;
    }

    /**
     * Tries the candidates {@code wanted} allows, in order, and returns the first that multiplies
     * correctly.
     *
     * @throws IllegalArgumentException when {@code wanted} is not one of {@link #CHOICES}, when
     *     {@code library} names a file that does not exist, or when the forced backend cannot run
     */
    static Choice choose(String wanted, String library) {
        String w = wanted.trim().toLowerCase(java.util.Locale.ROOT);
        if (!CHOICES.contains(w)) {
            throw new IllegalArgumentException("jgrad.blas must be one of " + String.join(", ", CHOICES)
                    + "; got '" + wanted + "'");
        }
        if (library != null && (library.contains("/") || library.contains(java.io.File.separator))
                && !java.nio.file.Files.exists(java.nio.file.Path.of(library))) {
            throw new IllegalArgumentException("jgrad.blas.library: " + library + " does not exist");
        }
        java.util.Map<String, java.util.function.Supplier<Backend>> loaders = new java.util.LinkedHashMap<>();
        for (String name : w.equals("auto") ? List.of("openblas", "jblas", "java") : List.of(w)) {
            loaders.put(name, switch (name) {
                case "openblas" -> () -> SystemOpenBlas.load(library);
                case "jblas" -> JblasBackend::load;
                default -> JavaGemm::best;
            });
        }
        return firstThatRuns(loaders, !w.equals("auto"));
    }

    /**
     * The first of {@code loaders} (by name, in order) whose backend loads and multiplies
     * correctly; the others before it are listed as skipped, with why.
     *
     * @throws IllegalArgumentException with {@code forced}, when the (single) candidate cannot run
     */
    static Choice firstThatRuns(java.util.Map<String, java.util.function.Supplier<Backend>> loaders, boolean forced) {
        List<String> skipped = new java.util.ArrayList<>();
        for (var candidate : loaders.entrySet()) {
            String name = candidate.getKey();
            try {
                Backend b = candidate.getValue().get();
                probe(b);
                return new Choice(b, name, List.copyOf(skipped));
            } catch (RuntimeException | LinkageError e) {
                String why = describeFailure(name, e);
                if (forced) {
                    throw new IllegalArgumentException("jgrad.blas=" + name + " cannot run here: " + why, e);
                }
                skipped.add(why);
            }
        }
        throw new IllegalStateException("no matrix-product backend runs: " + skipped); // java always runs
    }

    private static String describeFailure(String name, Throwable e) {
        String label = switch (name) {
            case "openblas" -> "system OpenBLAS";
            case "jblas" -> "jblas";
            case "java" -> "pure Java";
            default -> name;
        };
        String message = e.getMessage() == null ? e.toString() : e.getMessage();
        return label + ": " + message;
    }

    /**
     * Runs two tiny products (float32 plain, float64 with a transposed operand) on {@code b} and
     * checks their exact values, so a library that loads but computes nothing (or garbage) is
     * not chosen.
     */
    private static void probe(Backend b) {
        // [[1, 2, 3], [4, 5, 6]] · [[7, 8], [9, 10], [11, 12]] = [[58, 64], [139, 154]]
        ArrayStorage a32 = ArrayStorage.wrap(CpuBackend.INSTANCE, new float[] {1, 2, 3, 4, 5, 6});
        ArrayStorage b32 = ArrayStorage.wrap(CpuBackend.INSTANCE, new float[] {7, 8, 9, 10, 11, 12});
        ArrayStorage c32 = ArrayStorage.allocate(ScalarType.FLOAT32, 4);
        b.gemm(ScalarType.FLOAT32, new Operand(a32, 0, 3, 2, 3, 'N'), new Operand(b32, 0, 2, 3, 2, 'N'), 2, 2, 3, c32, 0);
        ArrayStorage a64 = ArrayStorage.wrap(CpuBackend.INSTANCE, new double[] {1, 2, 3, 4, 5, 6});
        ArrayStorage bt64 = ArrayStorage.wrap(CpuBackend.INSTANCE, new double[] {7, 9, 11, 8, 10, 12}); // the same B, stored transposed
        ArrayStorage c64 = ArrayStorage.allocate(ScalarType.FLOAT64, 4);
        b.gemm(ScalarType.FLOAT64, new Operand(a64, 0, 3, 2, 3, 'N'), new Operand(bt64, 0, 3, 2, 3, 'T'), 2, 2, 3, c64, 0);
        double[] want = {58, 64, 139, 154};
        for (int i = 0; i < 4; i++) {
            if (c32.get(i) != want[i] || c64.get(i) != want[i]) {
                throw new IllegalStateException("a test product gave wrong values (" + c32.get(i) + " and "
                        + c64.get(i) + " for " + want[i] + ")");
            }
        }
    }

    /** Logs the choice: at INFO with the fix when a faster library was skipped, else at DEBUG. */
    private static void report(Choice c) {
        if (c.skipped().isEmpty()) {
            LOG.log(System.Logger.Level.DEBUG, "matrix products: {0}", c.backend().description());
            return;
        }
        LOG.log(System.Logger.Level.INFO, "matrix products: {0} ({1}); {2}", c.backend().description(),
                String.join("; ", c.skipped()), advice(c));
    }

    /**
     * What would make products faster than the chosen backend, with the speed-ups measured on
     * W5's shapes on two cores (BENCHMARKS.md, "pure-Java matrix product").
     */
    private static String advice(Choice c) {
        String install = "installing the system OpenBLAS (Debian/Ubuntu: apt-get install libopenblas0-pthread; "
                + "or -Djgrad.blas.library=/path/to/libopenblas.so) makes them ";
        if (c.backend() instanceof JavaGemm j && !j.vectorized()) {
            return install + "5-6x faster; starting java with --add-modules jdk.incubator.vector, about 3x";
        }
        return install + (c.name().equals("java") ? "1.1-2x" : "about 3x") + " faster";
    }

    /**
     * Which library does jgrad's matrix products and why the ones tried before it were skipped,
     * for logs and benchmark reports, e.g. {@code "OpenBLAS 0.3.21 ... (system library
     * libopenblas.so.0), 2 threads"} or {@code "pure Java (Vector API, 512-bit vectors), 2
     * threads; skipped: system OpenBLAS: ... not found; jblas: libgfortran.so.5 missing"}. Chooses
     * the library if no product has run yet.
     *
     * @throws IllegalArgumentException when {@code jgrad.blas} or {@code jgrad.blas.library} is bad
     *     (an unknown value, a missing file, a forced library that cannot run), naming the setting
     */
    public static String backend() {
        Choice c = chosen();
        return c.backend().description()
                + (SMALL ? "; products of up to " + SMALL_ROWS + " rows" + (SmallGemm.VECTOR ? " and linear layers' larger ones" : "")
                        + " in Java (" + SmallGemm.describe() + ")" : "")
                + (c.skipped().isEmpty() ? "" : "; skipped: " + String.join("; ", c.skipped()));
    }

    /**
     * The short name of the library in use, as {@code jgrad.blas} spells it: {@code "openblas"},
     * {@code "jblas"} or {@code "java"}.
     *
     * @throws IllegalArgumentException as {@link #backend()}
     */
    public static String backendName() {
        return chosen().name();
    }

    /**
     * Runs {@code body} with every product, on any thread, going through {@code backend} (for
     * tests; one such body at a time).
     */
    static <T> T with(Backend backend, java.util.function.Supplier<T> body) {
        synchronized (FORCING) {
            Backend before = forced;
            forced = backend;
            try {
                return body.get();
            } finally {
                forced = before;
            }
        }
    }

    /** out[m, n] (contiguous, at outOffset of out's storage) = a[m, k] · b[k, n] for 2-D views a and b. */
    static void gemm(View a, View b, ArrayStorage out, int outOffset) {
        int m = a.shape()[0];
        int k = a.shape()[1];
        int n = b.shape()[1];
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            out.fill(outOffset, outOffset + m * n, 0);
            return;
        }
        Operand pa = operand(a);
        Operand pb = operand(b);
        if (SMALL && forced == null && out.type() == ScalarType.FLOAT32) {
            if (SmallGemm.VECTOR && DotGemm.takes(pa, pb, m, n, k)) {
                DotGemm.gemm(pa, pb, m, n, k, out.f(), outOffset);
                return;
            }
            if (small(pa, pb, m, n, k) || (SmallGemm.VECTOR && wide(pa, pb, m, n, k) && !libraryFaster(m, n, k))) {
                SmallGemm.gemm(pa, pb, m, n, k, out.f(), outOffset);
                return;
            }
        }
        Backend own = OWN.get();
        if (own != null && forced == null) {
            own.gemm(out.type(), pa, pb, m, n, k, out, outOffset); // this thread's own buffers: no lock
            return;
        }
        Backend backend = forced != null ? forced : chosen().backend();
        LOCK.lock();
        try {
            backend.gemm(out.type(), pa, pb, m, n, k, out, outOffset);
        } finally {
            LOCK.unlock();
        }
    }

    /**
     * Whether products with few rows ({@link #small}) run in Java ({@link SmallGemm}) instead of the
     * chosen library: where the CPU has 512-bit vectors, unless {@code -Djgrad.blas.small=false}.
     * They run on the Vector API where it is on and in plain loops otherwise, with the same bits, so
     * that whether the JVM has the module never changes their results. The larger products of
     * {@link #wide} (also off with {@code -Djgrad.blas.small=false}) are the exception.
     */
    static final boolean SMALL = !"false".equalsIgnoreCase(System.getProperty("jgrad.blas.small")) && SmallGemm.WIDE_CPU;
    /**
     * Whether {@link #chooseEarly} also starts a thread that runs the vector kernels on dummy operands
     * until the JIT has compiled them ({@link SmallGemm#warm}; {@code -Djgrad.blas.small.warm=false}
     * turns it off).
     * Which products they take does not depend on it, so results are the same either way.
     */
    static final boolean SMALL_WARM = !"false".equalsIgnoreCase(System.getProperty("jgrad.blas.small.warm"));

    static {
        if (!(EARLY && SMALL_WARM)) {
            SmallGemm.tilesWithoutWarmUp(); // no thread will warm them
        }
    }
    /** The most rows of a {@link #small} product. */
    static final int SMALL_ROWS = 64;
    /** The most floating-point operations of a {@link #small} product. */
    static final double SMALL_FLOPS = 16e6;

    /**
     * Whether {@link SmallGemm} takes this product whether or not the Vector API runs: few rows, n a
     * multiple of 16, small, A as stored or transposed of at most {@link SmallGemm#MAX_TRANSPOSED_A}
     * elements (read in place), and B as stored or small enough to keep a transposed copy of
     * ({@link SmallGemm#MAX_PACKED}).
     */
    static boolean small(Operand a, Operand b, int m, int n, int k) {
        return m <= SMALL_ROWS && n % 16 == 0 && 2.0 * m * n * k <= SMALL_FLOPS
                && (a.trans() == 'N' || (long) m * k <= SmallGemm.MAX_TRANSPOSED_A)
                && (b.trans() == 'N' || (long) k * n <= SmallGemm.MAX_PACKED);
    }

    /** The most elements of an A as stored that a {@link #wide} product reads (1 MB: it stays in a core's cache). */
    static final int WIDE_A = 1 << 18;
    /** The deepest {@link #wide} product (a strip of 32 columns of B, k·128 bytes, stays in cache). */
    static final int WIDE_K = 2048;

    /**
     * Whether {@link SmallGemm}'s vector tiles take a product larger than {@link #small} allows: n
     * a multiple of 16, k at most {@link #WIDE_K}, A as stored and at most {@link #WIDE_A} elements
     * or transposed and at most {@link SmallGemm#MAX_TRANSPOSED_A}, and B as stored or, from 32 rows
     * (enough to pay for copying its columns into panels), transposed. Only where the 512-bit tiles
     * run ({@link SmallGemm#VECTOR}): there they run at about twice the speed of OpenBLAS's 256-bit
     * (Haswell) kernels, cut into column blocks on jgrad's threads, with no copies into native
     * memory. Without the Vector API these products stay with the library (the plain loops would be
     * several times slower), so their last bits depend on whether the JVM has the module, as they
     * depend on which library runs. A linear layer's products (Y = X·Wᵀ, dX = dY·W, dW = dYᵀ·X) are
     * of this kind when its widths are multiples of 16. The choice depends on the module only, never
     * on timing: products made before the tiles are compiled ({@link SmallGemm#warm}), or in a JVM
     * that never compiles them (-Xint, C1 only), run on the plain loops with the tiles' bits.
     */
    static boolean wide(Operand a, Operand b, int m, int n, int k) {
        return n % 16 == 0 && k <= WIDE_K && (b.trans() == 'N' || m >= 32)
                && (long) m * k <= (a.trans() == 'N' ? WIDE_A : SmallGemm.MAX_TRANSPOSED_A);
    }

    /** The fewest floating-point operations of a {@link #wide} product that {@link #libraryFaster} gives the library. */
    static final double LIBRARY_FLOPS = 16e6;

    /**
     * Whether a {@link #wide} product runs faster in the system OpenBLAS than in the vector tiles:
     * where OpenBLAS has AVX-512 kernels and is called on the Java arrays in place
     * ({@link InPlaceGemm}), for products of at least {@link #LIBRARY_FLOPS} with k of at least 256.
     * There, on two cores (2026-12-07, fresh outputs): 128×784×512 at 314-316 GFLOPS against the
     * tiles' 290-292, 128×512×512 288-292 against 276-282, 128×256×256 209-212 against 189-193; with
     * k = 128 (512×128×784) the tiles stayed ahead (194-206 against 174-185). With the Haswell
     * kernels the tiles run at about twice OpenBLAS's speed, and with operands copied the copies
     * eat the difference. Decided by the machine and the JVM alone, never by timing: where it can
     * hold, the product waits for the library to be chosen. So on such a machine a seed's bits
     * differ where neither in-place path binds (before JDK 22 without {@code -Djgrad.blas.pinned=true},
     * on JDK 22+ with {@code -Djgrad.blas.foreign=false} and without it, or where jffi's stub does not
     * load or its check at binding fails), as they differ between libraries; the two in-place paths
     * make the same calls, so they give the same bits. These products take {@link #LOCK}, as the
     * library's always do (the tiles run without it).
     */
    static boolean libraryFaster(int m, int n, int k) {
        if (k < 256 || 2.0 * m * n * k < LIBRARY_FLOPS || !(ForeignGemm.available() || PinnedGemm.ENABLED)) {
            return false;
        }
        return chosen().backend() instanceof SystemOpenBlas s && s.inPlace() && s.wideKernels();
    }

    private static Operand operand(View t) {
        Operand op = operandLayout(t);
        if (op == null) {
            View c = Views.copy(t);
            return new Operand(st(c), 0, Math.max(1, c.shape()[1]), c.shape()[0], c.shape()[1], 'N');
        }
        return op;
    }

    /** The gemm description of a 2-D view, or null if it is neither row- nor column-major. */
    private static Operand operandLayout(View t) {
        int rows = t.shape()[0];
        int cols = t.shape()[1];
        int s0 = t.strides()[0];
        int s1 = t.strides()[1];
        if ((cols == 1 || s1 == 1) && (rows == 1 || s0 >= cols)) {
            return new Operand(st(t), t.offset(), rows == 1 ? Math.max(1, cols) : s0, rows, cols, 'N');
        }
        if ((rows == 1 || s0 == 1) && (cols == 1 || s1 >= rows)) {
            return new Operand(st(t), t.offset(), cols == 1 ? Math.max(1, rows) : s1, cols, rows, 'T');
        }
        return null;
    }
}
