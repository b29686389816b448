package io.jgrad.core.cpu;

import io.jgrad.core.backend.ScalarType;
import java.util.ArrayDeque;
import java.util.HashMap;

/**
 * Arrays nobody uses any more, kept per thread for the next allocation of the same type and
 * length: backward's gradient temporaries once they are consumed ({@link CpuBackend#release})
 * and the kernels' scratch buffers. A training step allocates the same sizes step after step,
 * so most allocations of a step find the array the previous step gave back, still in the cache,
 * where a fresh Java array is zeroed in memory the cache does not hold.
 *
 * <p>Bounded: at most {@link #LIMIT_BYTES} (an eighth of the maximum heap, at most 256 MB) and
 * {@link #PER_LENGTH} arrays of one length per thread; past that an array is left to the garbage
 * collector. Arrays below {@link #MIN_LENGTH} elements are not kept (a fresh one is as cheap).
 */
final class ArrayPool {
    /** Arrays shorter than this are never pooled. */
    static final int MIN_LENGTH = 1024;
    static final int PER_LENGTH = 8;
    static final long LIMIT_BYTES = Math.min(256L << 20, Runtime.getRuntime().maxMemory() / 8);
    /** Tests turn pooling off to compare against fresh arrays. */
    static volatile boolean enabled = !"false".equalsIgnoreCase(System.getProperty("jgrad.pool"));

    private static final ThreadLocal<ArrayPool> POOLS = ThreadLocal.withInitial(ArrayPool::new);

    private final HashMap<Integer, ArrayDeque<float[]>> floats = new HashMap<>();
    private final HashMap<Integer, ArrayDeque<double[]>> doubles = new HashMap<>();
    private long bytes;

    private ArrayPool() {}

    /** A pooled float array of exactly {@code n} elements with undefined contents, or null. */
    static float[] takeFloats(int n) {
        if (!enabled || n < MIN_LENGTH) {
            return null;
        }
        ArrayPool p = POOLS.get();
        ArrayDeque<float[]> q = p.floats.get(n);
        float[] a = q == null ? null : q.pollLast(); // the one given back last: likeliest in the cache
        if (a != null) {
            p.bytes -= 4L * n;
        }
        return a;
    }

    /** A pooled double array of exactly {@code n} elements with undefined contents, or null. */
    static double[] takeDoubles(int n) {
        if (!enabled || n < MIN_LENGTH) {
            return null;
        }
        ArrayPool p = POOLS.get();
        ArrayDeque<double[]> q = p.doubles.get(n);
        double[] a = q == null ? null : q.pollLast();
        if (a != null) {
            p.bytes -= 8L * n;
        }
        return a;
    }

    /** Keeps {@code a}, which nothing reads or writes any more, for a later allocation (if there is room). */
    static void give(float[] a) {
        if (!enabled || a == null || a.length < MIN_LENGTH) {
            return;
        }
        ArrayPool p = POOLS.get();
        ArrayDeque<float[]> q = p.floats.computeIfAbsent(a.length, k -> new ArrayDeque<>(PER_LENGTH));
        if (q.size() < PER_LENGTH && p.bytes + 4L * a.length <= LIMIT_BYTES) {
            q.addLast(a);
            p.bytes += 4L * a.length;
        }
    }

    /** Keeps {@code a}, which nothing reads or writes any more, for a later allocation (if there is room). */
    static void give(double[] a) {
        if (!enabled || a == null || a.length < MIN_LENGTH) {
            return;
        }
        ArrayPool p = POOLS.get();
        ArrayDeque<double[]> q = p.doubles.computeIfAbsent(a.length, k -> new ArrayDeque<>(PER_LENGTH));
        if (q.size() < PER_LENGTH && p.bytes + 8L * a.length <= LIMIT_BYTES) {
            q.addLast(a);
            p.bytes += 8L * a.length;
        }
    }

    /** The bytes this thread's pool holds now (tests). */
    static long heldBytes() {
        return POOLS.get().bytes;
    }

    /** A storage's array, for the pool: FLOAT32 and FLOAT64 only. */
    static boolean pools(ScalarType type) {
        return type != ScalarType.INT64;
    }
}
