package io.jgrad.core.cpu;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * One compiled loop per fused expression: for a chain of up to {@link #MAX_STEPS} ops
 * ({@link Fused}), a copy of {@link ChainKernel} specialised to it by class data, so the
 * elements go from op to op in vector registers instead of through memory. On one thread, 1M
 * floats (KernelBenchmark): relu(x + c) summed in 116 µs against 219 step by step; relu's
 * backward of it stored in 161 against 264.
 *
 * <p>A new expression's kernel starts cold: HotSpot runs it in the interpreter until C2 has
 * compiled it, which at a million elements costs 50-300 ms in the first calls. So a kernel is
 * first warmed on small arrays on a background daemon thread, and until that ends
 * {@link #get} returns null and the caller evaluates step by step (the same bits). Each
 * expression is defined once per JVM; there are as many as a program has different chains
 * (a handful).
 *
 * <p>When to warm: the warm-up runs the kernel's vector code boxed (interpreter, C1) until C2 has
 * compiled it, 100-600 ms on the warm-up thread while HotSpot is busy compiling the program's
 * own start-up (a long queue raises C2's thresholds, so more boxed rounds). On two cores that
 * thread takes the core the program's worker and the compilers need: W2's first epoch (chains over 128 x 512 elements)
 * ran 8-9% faster (medians of 5 alternating pairs) when the warm-up waited. So a kernel is handed
 * to the warm-up thread once a watcher thread has seen the compilers idle for a moment (or
 * {@link #settleLimitNanos} after the first kernel began to wait), or as soon as its chain has
 * been asked for {@link #warmDemand} elements in all, or {@link #LARGE} in one call (where the
 * kernel saves the most, and where E1 measured it missing). A kernel that waits holds up no other.
 *
 * <p>On only with {@link Simd#ENABLED}; {@code -Djgrad.fusion.kernels=false} turns it off.
 */
final class ChainKernels {
    /** The three ways a fused chain is consumed. */
    interface Kernel {
        /** out[i] = element i for i in [from, to). */
        void store(float[][] a, float[] s, float[] out, int from, int to);

        /**
         * Adds element from + j to lanes[j mod 16] for j below (to - from) rounded down to a
         * multiple of 16, then the rest to lanes[0] in order: {@link SimdKernels#accumulate}'s order.
         */
        void sum(float[][] a, float[] s, int from, int to, double[] lanes);

        /** out[outOffset + i] += alpha * element i for i in [from, to). */
        void addScaled(float[][] a, float[] s, float alpha, float[] out, int outOffset, int from, int to);
    }

    /** Longest chain one kernel computes (ChainKernel has this many steps' constants). */
    static final int MAX_STEPS = 4;
    /** Length of a signature: steps, the first operand's kind, then op, kind and side per step. */
    static final int SIGNATURE_LENGTH = 2 + 3 * MAX_STEPS;

    static final boolean ENABLED = Simd.ENABLED
            && !"false".equalsIgnoreCase(System.getProperty("jgrad.fusion.kernels"));

    private static final Map<Key, Entry> KERNELS = new ConcurrentHashMap<>();
    private static final ExecutorService WARMER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "jgrad-kernel-warmup");
        t.setDaemon(true);
        return t;
    });
    private static volatile byte[] template;

    private ChainKernels() {}

    static final class Entry {
        final int[] signature;
        volatile Kernel kernel;
        /** Elements its chain has been asked for while the kernel was not ready (saturating). */
        final AtomicLong demand = new AtomicLong();
        /** Whether its warm-up has been handed to the warm-up thread. */
        final AtomicBoolean submitted = new AtomicBoolean();

        Entry(int[] signature) {
            this.signature = signature;
        }

        /**
         * Counts one request over {@code elements} (one of {@link #LARGE} elements or more counts as
         * unbounded) and returns the demand so far.
         */
        long demand(long elements) {
            long n = elements >= LARGE ? Long.MAX_VALUE : Math.max(0, elements);
            return demand.accumulateAndGet(n, (a, b) -> a + b < 0 ? Long.MAX_VALUE : a + b);
        }
    }

    /**
     * Elements a chain must have been asked for before its kernel is warmed while the compilers
     * are still busy: 64M, a thousand evaluations of a 128 x 512 activation (tests set 0).
     */
    static volatile long warmDemand = 1L << 26;
    /**
     * A chain evaluated over this many elements at once has its kernel warmed at once: there the
     * step-by-step evaluation costs a tenth of a millisecond or more per call (E1's 1M elements,
     * a CNN's activations), and such a program is the one the kernel is for.
     */
    static final long LARGE = 1L << 19;
    /** Longest the compilers are waited for, from the first kernel that waits (tests raise it). */
    static volatile long settleLimitNanos = 5_000_000_000L;
    /**
     * Set once the compilers were seen idle, or waited for long enough: from then on every kernel
     * is warmed as soon as it is asked for (tests reset it).
     */
    static volatile boolean compilersSettled;
    /**
     * Whether a kernel must first run at compiled speed in its warm-up ({@link #warm}) before it is
     * used. Tests that check a ready kernel's bits turn it off: the bits do not depend on how far the
     * JIT has got, and on a loaded machine a warm-up may give up.
     */
    static volatile boolean timedWarmUp = true;
    /** Whether the thread that waits for the compilers has been started (tests reset it). */
    static final AtomicBoolean WATCHING = new AtomicBoolean();
    /**
     * Milliseconds the JIT compilers have spent so far; looked up (java.lang.management) when the
     * first kernel waits, not when this class loads. Tests replace it.
     */
    static volatile LongSupplier compileMillis;

    /**
     * A signature as a map key, compared by value. (It was once packed into a long at three bits a
     * field, which op ordinals of 8 and more overran: 132 of the 684 chains of one or two steps
     * shared their key with another chain, and the second one requested got the first one's kernel.)
     */
    private record Key(int[] signature) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(signature, k.signature);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(signature);
        }

        @Override
        public String toString() {
            return Arrays.toString(signature);
        }
    }

    /**
     * The ready kernel for this signature ({@link #SIGNATURE_LENGTH} ints), or null while it is
     * being defined and warmed (the first request starts that, at once: this counts as unbounded
     * demand), or when it could not be.
     */
    static Kernel get(int[] signature) {
        return get(signature, Long.MAX_VALUE);
    }

    /**
     * {@link #get(int[])} for a chain about to be evaluated over {@code elements} elements, which
     * count towards warming its kernel while the compilers are busy (see the class comment).
     */
    static Kernel get(int[] signature, long elements) {
        Entry e = KERNELS.get(new Key(signature));
        if (e == null) {
            Entry fresh = new Entry(signature.clone());
            e = KERNELS.putIfAbsent(new Key(fresh.signature), fresh);
            e = e == null ? fresh : e;
        }
        Kernel k = e.kernel;
        if (k == null && !e.submitted.get()) {
            if (e.demand(elements) >= warmDemand || compilersSettled) {
                submit(e);
            } else if (WATCHING.compareAndSet(false, true)) {
                Thread t = new Thread(ChainKernels::watchCompilers, "jgrad-kernel-watch");
                t.setDaemon(true);
                t.start();
            }
        }
        return k;
    }

    /** Hands the entry's warm-up to the warm-up thread, once. */
    private static void submit(Entry e) {
        if (!e.submitted.compareAndSet(false, true)) {
            return;
        }
        WARMER.execute(() -> {
            try {
                Kernel k = define(e.signature);
                if (!timedWarmUp || warm(k)) {
                    e.kernel = k;
                }
            } catch (Throwable t) { // LinkageError, no class bytes, ...: stay on the step-by-step path
                e.kernel = null;
            }
        });
    }

    /** Waits for the compilers to settle ({@link #awaitCompilers}), then warms every kernel still waiting. */
    private static void watchCompilers() {
        try {
            awaitCompilers();
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        } finally {
            compilersSettled = true;
            for (Entry e : KERNELS.values()) {
                if (e.kernel == null) {
                    submit(e);
                }
            }
        }
    }

    /**
     * The JVM's compilation clock, or null where it has none: no java.management module (a
     * trimmed runtime), or no compilation-time monitoring. Under {@code -XX:-UsePerfData} HotSpot
     * reports 0 throughout, which reads as idle compilers: the kernels are then warmed after three
     * polls, much as before the wait existed.
     */
    private static LongSupplier compileMillisOfThisJvm() {
        try {
            CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
            return jit == null || !jit.isCompilationTimeMonitoringSupported() ? null : jit::getTotalCompilationTime;
        } catch (LinkageError | RuntimeException e) {
            return null;
        }
    }

    /**
     * Returns once the compilers have been (nearly) idle for three polls in a row, or
     * {@link #settleLimitNanos} after it was called, or at once where the JVM does not report
     * compilation time.
     */
    static void awaitCompilers() throws InterruptedException {
        LongSupplier jit = compileMillis;
        if (jit == null) {
            jit = compileMillisOfThisJvm();
            if (jit == null) {
                return;
            }
            compileMillis = jit;
        }
        long start = System.nanoTime();
        long compiled = jit.getAsLong();
        int idlePolls = 0;
        while (idlePolls < 3 && !compilersSettled && System.nanoTime() - start < settleLimitNanos) {
            Thread.sleep(POLL_MILLIS);
            long now = jit.getAsLong();
            idlePolls = now - compiled <= POLL_MILLIS / 5 ? idlePolls + 1 : 0; // compiling a fifth of the time at most
            compiled = now;
        }
    }

    /** Whether the kernel for this signature has been handed to the warm-up thread (tests). */
    static boolean submitted(int[] signature) {
        Entry e = KERNELS.get(new Key(signature));
        return e != null && e.submitted.get();
    }

    private static final long POLL_MILLIS = 50;

    /**
     * Lets every kernel whose warm-up gave up be asked for again (tests, after {@link #awaitWarm}):
     * the next request submits it anew.
     */
    static void retryGivenUp() {
        for (Entry e : KERNELS.values()) {
            if (e.kernel == null) {
                e.submitted.set(false);
            }
        }
    }

    /** Waits until every kernel requested so far is ready or failed (tests). */
    static void awaitWarm() throws InterruptedException, java.util.concurrent.ExecutionException {
        WARMER.submit(() -> { }).get();
    }

    /** A new kernel for the signature, defined now and not warmed (tests call it directly). */
    static Kernel define(int[] signature) {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup()
                    .defineHiddenClassWithClassData(template(), signature.clone(), true);
            return (Kernel) lookup.findConstructor(lookup.lookupClass(), MethodType.methodType(void.class)).invoke();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cannot define a kernel for " + java.util.Arrays.toString(signature), t);
        }
    }

    private static byte[] template() throws IOException {
        byte[] t = template;
        if (t == null) {
            try (InputStream in = ChainKernels.class.getResourceAsStream("ChainKernel.class")) {
                if (in == null) {
                    throw new IOException("ChainKernel.class is not on the class path as a resource");
                }
                t = in.readAllBytes();
            }
            template = t;
        }
        return t;
    }

    /** Longest a warm-up may take before the kernel is given up (the step-by-step path stays). */
    private static final long WARM_LIMIT_NANOS = 10_000_000_000L;

    /**
     * Runs the three methods on small arrays until they run at compiled speed: C2 compiles in the
     * background, so having called them often enough is not enough (the first 1M-element calls
     * after a fixed count of rounds took 3-30 ms instead of 0.4 while C2 was still at work). Fast
     * means under 2 ns per element and method, 200 rounds in a row; C2's loops take about 0.3, the
     * interpreter's and C1's (which box every vector) 10 or more. False if that never happens.
     */
    private static boolean warm(Kernel k) {
        int n = 1024;
        Random r = new Random(0);
        float[][] a = new float[MAX_STEPS + 1][n];
        for (float[] v : a) {
            for (int i = 0; i < n; i++) {
                v[i] = (float) r.nextGaussian();
            }
        }
        float[] s = {0.5f, -1.5f, 2f, 0.25f, -0.75f};
        float[] out = new float[n];
        double[] lanes = new double[Reduce.SUM_LANES];
        long start = System.nanoTime();
        long fastNanos = 3 * 2L * n;
        for (int round = 0, fast = 0; fast < 200; round++) {
            int to = n - (round & 7);
            long t0 = System.nanoTime();
            k.store(a, s, out, 0, to);
            k.sum(a, s, 0, to, lanes);
            k.addScaled(a, s, 0.5f, out, 0, 0, to);
            long t1 = System.nanoTime();
            fast = t1 - t0 < fastNanos ? fast + 1 : 0;
            if (t1 - start > WARM_LIMIT_NANOS) {
                return false;
            }
        }
        return true;
    }
}
