package io.jgrad.core;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Splits large loops across cores with <em>fixed chunking</em>: where chunk boundaries are cut
 * depends only on the problem size, never on the thread count, so results (including the
 * order of floating-point sums) are identical whatever {@link #setThreads} says.
 *
 * <p>The thread count defaults to the number of processors and can be set with the system
 * property {@code jgrad.threads} or {@link #setThreads}.
 */
public final class Parallel {
    /** A half-open index range [from, to) processed by one task. */
    interface RangeBody {
        void run(int from, int to);
    }

    private static volatile int threads = Math.max(1,
            Integer.getInteger("jgrad.threads", Runtime.getRuntime().availableProcessors()));
    private static ExecutorService pool;

    private Parallel() {}

    /** Number of threads jgrad's kernels use (1 = everything on the calling thread). */
    public static int threads() {
        return threads;
    }

    /** Sets the number of threads for jgrad's kernels; results do not depend on it. */
    public static synchronized void setThreads(int n) {
        checkArgument(n >= 1, "Parallel.setThreads: need at least 1 thread, got %s", n);
        threads = n;
    }

    private static synchronized ExecutorService pool() {
        if (pool == null) {
            AtomicInteger count = new AtomicInteger();
            ThreadFactory factory = r -> {
                Thread t = new Thread(r, "jgrad-worker-" + count.incrementAndGet());
                t.setDaemon(true);
                return t;
            };
            pool = Executors.newCachedThreadPool(factory);
        }
        return pool;
    }

    /**
     * Runs {@code body} over [0, n) in chunks of {@code grain} (the last may be shorter). With one
     * chunk or one thread everything runs on the caller.
     */
    static void forRange(int n, int grain, RangeBody body) {
        int chunks = grain <= 0 ? 1 : (int) Math.min(Integer.MAX_VALUE, (n + (long) grain - 1) / grain);
        int t = Math.min(threads, chunks);
        if (t <= 1) {
            for (int c = 0; c < chunks; c++) {
                body.run(c * grain, (int) Math.min(n, (long) (c + 1) * grain));
            }
            if (chunks == 0 && n > 0) {
                body.run(0, n);
            }
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable worker = () -> {
            for (int c; (c = next.getAndIncrement()) < chunks; ) {
                body.run(c * grain, (int) Math.min(n, (long) (c + 1) * grain));
            }
        };
        Future<?>[] futures = new Future<?>[t - 1];
        for (int i = 0; i < t - 1; i++) {
            futures[i] = pool().submit(worker);
        }
        RuntimeException failure = null;
        try {
            worker.run();
        } catch (RuntimeException e) {
            failure = e;
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for a parallel kernel", e);
            } catch (java.util.concurrent.ExecutionException e) {
                if (failure == null) {
                    failure = e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Runs independent tasks, on the pool and the caller; used to split a matrix product in two. */
    static void invokeAll(Runnable... tasks) {
        forRange(tasks.length, 1, (from, to) -> {
            for (int i = from; i < to; i++) {
                tasks[i].run();
            }
        });
    }
}
