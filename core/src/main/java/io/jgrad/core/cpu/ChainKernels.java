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
 * compiled it, 100-600 ms of a core while HotSpot is busy compiling the program's own start-up
 * (a long queue raises C2's thresholds, so more boxed rounds). On two cores that core is the one
 * the program's worker and the compilers need: W2's first epoch (chains over 128 x 512 elements)
 * ran 14% faster (median of 6 alternating pairs) when the warm-up waited. So a kernel is warmed
 * once the compilers have been idle for a moment, or once its chain has been asked for
 * {@link #warmDemand} elements in all, or {@link #LARGE} in one call (where the kernel saves the
 * most, and where E1 measured it missing), or after {@link #settleLimitNanos} at the latest.
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
        volatile Kernel kernel;
        /** Elements its chain has been asked for while the kernel was not ready (saturating). */
        final AtomicLong demand = new AtomicLong();

        /** Counts one request over {@code elements}; one of {@link #LARGE} elements or more counts as unbounded. */
        void demand(long elements) {
            long n = elements >= LARGE ? Long.MAX_VALUE : Math.max(0, elements);
            demand.accumulateAndGet(n, (a, b) -> a + b < 0 ? Long.MAX_VALUE : a + b);
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
    /** Longest a warm-up waits for the compilers to settle (tests raise it). */
    static volatile long settleLimitNanos = 5_000_000_000L;
    /** Set once the compilers were seen idle: later kernels are warmed at once (tests reset it). */
    static volatile boolean compilersSettled;
    /**
     * Milliseconds the JIT compilers have spent so far; looked up (java.lang.management) by the
     * first warm-up that waits, not when this class loads. Tests replace it.
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
        if (e != null) {
            Kernel k = e.kernel;
            if (k == null) {
                e.demand(elements);
            }
            return k;
        }
        Entry fresh = new Entry();
        fresh.demand(elements);
        int[] sig = signature.clone();
        if (KERNELS.putIfAbsent(new Key(sig), fresh) == null) {
            WARMER.execute(() -> {
                try {
                    awaitTurn(fresh);
                    Kernel k = define(sig);
                    if (warm(k)) {
                        fresh.kernel = k;
                    }
                } catch (Throwable t) { // LinkageError, no class bytes, ...: stay on the step-by-step path
                    fresh.kernel = null;
                }
            });
        }
        return null;
    }

    private static LongSupplier compileMillisOfThisJvm() {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        return jit == null || !jit.isCompilationTimeMonitoringSupported() ? null : jit::getTotalCompilationTime;
    }

    /**
     * Returns once the compilers have been (nearly) idle for three polls in a row, the entry's
     * demand has reached {@link #warmDemand}, or {@link #settleLimitNanos} has passed.
     */
    static void awaitTurn(Entry e) throws InterruptedException {
        if (compilersSettled || e.demand.get() >= warmDemand) {
            return;
        }
        LongSupplier jit = compileMillis;
        if (jit == null) {
            jit = compileMillisOfThisJvm();
            if (jit == null) {
                return; // the JVM does not say: warm at once, as before
            }
            compileMillis = jit;
        }
        long start = System.nanoTime();
        long compiled = jit.getAsLong();
        int idlePolls = 0;
        while (!compilersSettled && e.demand.get() < warmDemand && System.nanoTime() - start < settleLimitNanos) {
            Thread.sleep(POLL_MILLIS);
            long now = jit.getAsLong();
            idlePolls = now - compiled <= POLL_MILLIS / 5 ? idlePolls + 1 : 0; // compiling a fifth of the time at most
            compiled = now;
            if (idlePolls >= 3) {
                compilersSettled = true;
            }
        }
    }

    private static final long POLL_MILLIS = 50;

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
