package io.jgrad.core.cpu;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Splits large loops across cores with <em>fixed chunking</em>: where chunk boundaries are cut
 * depends only on the problem size, never on the thread count, so results (including the
 * order of floating-point sums) are identical whatever {@link #setThreads} says.
 *
 * <p>Kernels here last tens of microseconds to a few milliseconds, so workers spin briefly
 * after each job before parking: a hand-off then costs well under a microsecond instead of a
 * thread wake-up. A loop started from inside another parallel loop, or while another thread
 * holds the workers, runs on its caller.
 *
 * <p>The thread count defaults to the number of processors and can be set with the system
 * property {@code jgrad.threads} or {@link #setThreads}.
 */
public final class Parallel {
    /** A half-open index range [from, to) processed by one task. */
    interface RangeBody {
        void run(int from, int to);
    }

    /** How long an idle worker spins before parking. */
    private static final long SPIN_NANOS = 50_000;

    private static volatile int threads = Math.max(1,
            Integer.getInteger("jgrad.threads", Runtime.getRuntime().availableProcessors()));
    private static final ReentrantLock BUSY = new ReentrantLock();
    private static final ThreadLocal<boolean[]> INSIDE = ThreadLocal.withInitial(() -> new boolean[1]);
    private static Worker[] workers = new Worker[0];

    private Parallel() {}

    /** Number of threads jgrad's kernels use (1 = everything on the calling thread). */
    public static int threads() {
        return threads;
    }

    /**
     * Whether jgrad's explicitly vectorized float kernels run, and with what, or why not: for
     * example {@code "on (Vector API, 256-bit vectors)"} or {@code "off (run java with
     * --add-modules jdk.incubator.vector to enable)"}. They need that JVM option (the incubating
     * Vector API); without it the plain Java loops run, with the same results, slower in sums,
     * relu's backward and fused elementwise expressions. {@code -Djgrad.simd=false} turns them off.
     */
    public static String vectorization() {
        return Simd.describe();
    }

    /** Sets the number of threads for jgrad's kernels; results do not depend on it. */
    public static void setThreads(int n) {
        checkArgument(n >= 1, "Parallel.setThreads: need at least 1 thread, got %s", n);
        threads = n;
    }

    /** One parallel loop: chunks are claimed in order from a shared counter. */
    private static final class Job {
        final RangeBody body;
        final int n;
        final int grain;
        final int chunks;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Job(RangeBody body, int n, int grain, int chunks) {
            this.body = body;
            this.n = n;
            this.grain = grain;
            this.chunks = chunks;
        }

        void work() {
            boolean[] inside = INSIDE.get();
            inside[0] = true;
            try {
                for (int c; (c = next.getAndIncrement()) < chunks; ) {
                    try {
                        if (failure.get() == null) {
                            body.run(c * grain, (int) Math.min(n, (long) (c + 1) * grain));
                        }
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    } finally {
                        done.incrementAndGet();
                    }
                }
            } finally {
                inside[0] = false;
            }
        }
    }

    private static final class Worker extends Thread {
        final AtomicReference<Job> mailbox = new AtomicReference<>();

        Worker(int id) {
            super("jgrad-worker-" + id);
            setDaemon(true);
        }

        @Override
        public void run() {
            long idleSince = System.nanoTime();
            while (true) {
                Job job = mailbox.getAndSet(null);
                if (job != null) {
                    job.work();
                    idleSince = System.nanoTime();
                } else if (System.nanoTime() - idleSince < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                    idleSince = System.nanoTime();
                }
            }
        }
    }

    private static Worker[] workers(int count) {
        if (workers.length < count) {
            Worker[] grown = java.util.Arrays.copyOf(workers, count);
            for (int i = workers.length; i < count; i++) {
                grown[i] = new Worker(i + 1);
                grown[i].start();
            }
            workers = grown;
        }
        return workers;
    }

    /** The thread of {@link #helper()}, created on first use. */
    private static volatile java.util.concurrent.ExecutorService helper;

    /**
     * One daemon thread that runs work beside the caller ({@link CpuBackend#offload}): its
     * parallel loops run on itself (the workers stay with the caller) and its products on a
     * BLAS instance of its own, so they do not wait for the lock the caller's products take
     * (unless it could not get one when it started, see {@link Blas#runsOwnProducts}). Tasks
     * run one at a time in the order submitted.
     */
    static java.util.concurrent.ExecutorService helper() {
        java.util.concurrent.ExecutorService h = helper;
        if (h == null) {
            synchronized (Parallel.class) {
                h = helper;
                if (h == null) {
                    h = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
                        Thread t = new Thread(() -> {
                            INSIDE.get()[0] = true;
                            try {
                                Blas.runsOwnProducts();
                            } catch (Throwable e) {
                                // no instance of its own (a bad jgrad.blas setting, no native memory left):
                                // its products take Blas's lock, like any other thread's, and still run
                            }
                            r.run();
                        }, "jgrad-helper");
                        t.setDaemon(true);
                        return t;
                    });
                    helper = h;
                }
            }
        }
        return h;
    }

    /**
     * Wakes idle workers ahead of a parallel loop that is about to start (after some work on the
     * caller, such as copying operands), so that their wake-up (tens of microseconds from a park)
     * overlaps that work.
     */
    static void wake() {
        if (INSIDE.get()[0]) {
            return; // the loop will run on this thread (a worker's, or the helper's)
        }
        Worker[] pool = workers;
        for (int i = 0; i < Math.min(pool.length, threads - 1); i++) {
            LockSupport.unpark(pool[i]);
        }
    }

    /**
     * Runs {@code body} over [0, n) in chunks of {@code grain} (the last may be shorter). With one
     * chunk, one thread, or when nested inside another parallel loop, everything runs on the caller.
     */
    static void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int g = Math.max(1, grain);
        int chunks = (int) Math.min(Integer.MAX_VALUE, (n + (long) g - 1) / g);
        int t = Math.min(threads, chunks);
        if (t <= 1 || INSIDE.get()[0] || !BUSY.tryLock()) {
            for (int c = 0; c < chunks; c++) {
                body.run(c * g, (int) Math.min(n, (long) (c + 1) * g));
            }
            return;
        }
        try {
            Job job = new Job(body, n, g, chunks);
            Worker[] pool = workers(t - 1);
            for (int i = 0; i < t - 1; i++) {
                pool[i].mailbox.set(job);
                LockSupport.unpark(pool[i]);
            }
            job.work();
            while (job.done.get() < chunks) {
                Thread.onSpinWait();
            }
            for (int i = 0; i < t - 1; i++) {
                pool[i].mailbox.compareAndSet(job, null); // a worker that never woke must not pick it up later
            }
            Throwable failure = job.failure.get();
            if (failure instanceof RuntimeException re) {
                throw re;
            }
            if (failure instanceof Error e) {
                throw e;
            }
            if (failure != null) {
                throw new IllegalStateException(failure);
            }
        } finally {
            BUSY.unlock();
        }
    }
}
