package io.jgrad.core;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The flat, row-major element array behind one or more tensors (views share it), plus the
 * version counter that in-place updates bump so that autograd can detect stale saved tensors.
 * Exactly one of {@code f}, {@code d}, {@code l} is non-null, matching {@code dtype}.
 *
 * <p>A FLOAT32 storage may be <em>deferred</em>: it holds a {@link Fused} expression instead of
 * its values, and {@link #f()} computes them on first use. Every read goes through {@code f()};
 * every write to an existing storage first calls {@link #beforeWrite()}, which computes the
 * deferred storages that read this one (its dependents) while they can still see the values
 * they were defined on.
 */
final class Storage {
    final DType dtype;
    private float[] f;
    final double[] d;
    final long[] l;
    private final int length;
    int version;
    /** The expression still to evaluate, or null once the values are in {@code f}. */
    private volatile Fused pending;
    /** Deferred storages whose expressions read this storage (weakly held; guarded by this). */
    private ArrayList<WeakReference<Storage>> dependents;
    private int pruneAt = 16;
    /**
     * Creation order (increasing): lets backward tell a gradient it computed itself, which
     * nothing outside the engine can hold, from one it was handed (see {@link Autograd}).
     */
    final long serial = SERIALS.incrementAndGet();

    private static final AtomicLong SERIALS = new AtomicLong();

    /** The serial the next storage will exceed: storages created after this call have a larger one. */
    static long lastSerial() {
        return SERIALS.get();
    }

    private Storage(DType dtype, float[] f, double[] d, long[] l) {
        this.dtype = dtype;
        this.f = f;
        this.d = d;
        this.l = l;
        this.length = f != null ? f.length : d != null ? d.length : l.length;
    }

    private Storage(Fused expr, int n) {
        this.dtype = DType.FLOAT32;
        this.d = null;
        this.l = null;
        this.length = n;
        this.pending = expr;
    }

    /** A FLOAT32 storage of n elements whose values are {@code expr}, computed when first read. */
    static Storage deferred(Fused expr, int n) {
        return new Storage(expr, n);
    }

    /** The FLOAT32 values, computing them first if this storage is deferred. */
    float[] f() {
        if (pending != null) {
            materialize();
        }
        return f;
    }

    /** The expression of a deferred storage, or null when its values exist. */
    Fused pending() {
        return pending;
    }

    /** Computes a deferred storage's values (no-op otherwise). */
    void materialize() {
        if (pending == null) {
            return;
        }
        synchronized (this) {
            Fused p = pending;
            if (p == null) {
                return;
            }
            float[] a = new float[length];
            p.evaluateInto(a);
            f = a;
            pending = null; // volatile write: publishes f to readers that then see pending == null
        }
    }

    /** Records that the deferred storage {@code s} reads this one. */
    synchronized void addDependent(Storage s) {
        if (dependents == null) {
            dependents = new ArrayList<>(4);
        }
        if (dependents.size() >= pruneAt) {
            dependents.removeIf(r -> {
                Storage t = r.get();
                return t == null || t.pending == null;
            });
            pruneAt = Math.max(16, 2 * dependents.size());
        }
        dependents.add(new WeakReference<>(s));
    }

    /**
     * Call before writing to this storage in place: computes its own values if deferred, and
     * those of every deferred storage that reads it, so none of them sees the new values.
     */
    void beforeWrite() {
        materialize();
        ArrayList<WeakReference<Storage>> list;
        synchronized (this) {
            list = dependents;
            dependents = null;
        }
        if (list != null) {
            for (WeakReference<Storage> r : list) {
                Storage s = r.get();
                if (s != null) {
                    s.materialize();
                }
            }
        }
    }

    static Storage allocate(DType dtype, int n) {
        return switch (dtype) {
            case FLOAT32 -> new Storage(dtype, new float[n], null, null);
            case FLOAT64 -> new Storage(dtype, null, new double[n], null);
            case INT64 -> new Storage(dtype, null, null, new long[n]);
        };
    }

    static Storage wrap(float[] a) {
        return new Storage(DType.FLOAT32, a, null, null);
    }

    static Storage wrap(double[] a) {
        return new Storage(DType.FLOAT64, null, a, null);
    }

    static Storage wrap(long[] a) {
        return new Storage(DType.INT64, null, null, a);
    }

    int length() {
        return length;
    }

    double get(int i) {
        return switch (dtype) {
            case FLOAT32 -> f()[i];
            case FLOAT64 -> d[i];
            case INT64 -> l[i];
        };
    }

    long getLong(int i) {
        return switch (dtype) {
            case FLOAT32 -> (long) f()[i];
            case FLOAT64 -> (long) d[i];
            case INT64 -> l[i];
        };
    }

    void set(int i, double v) {
        switch (dtype) {
            case FLOAT32 -> f()[i] = (float) v;
            case FLOAT64 -> d[i] = v;
            case INT64 -> l[i] = (long) v;
        }
    }

    void fill(int from, int to, double v) {
        // in parallel when large (one range runs on the caller): zeroing a 4 MB gradient took 0.05 ms on one thread
        switch (dtype) {
            case FLOAT32 -> {
                float[] a = f();
                Parallel.forRange(to - from, Elementwise.GRAIN, (i, j) -> Arrays.fill(a, from + i, from + j, (float) v));
            }
            case FLOAT64 -> Parallel.forRange(to - from, Elementwise.GRAIN, (i, j) -> Arrays.fill(d, from + i, from + j, v));
            case INT64 -> Parallel.forRange(to - from, Elementwise.GRAIN, (i, j) -> Arrays.fill(l, from + i, from + j, (long) v));
        }
    }
}
