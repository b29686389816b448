package io.jgrad.core.cpu;

import io.jgrad.core.backend.Backend;
import io.jgrad.core.backend.ScalarType;
import io.jgrad.core.backend.Storage;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Arrays;

/**
 * The memory of the CPU backends: a Java array ({@code float[]}, {@code double[]} or
 * {@code long[]}, by type), exactly one of {@code f}, {@code d}, {@code l} non-null.
 *
 * <p>A FLOAT32 storage may be <em>deferred</em>: it holds a {@link Fused} expression instead of
 * its values, and {@link #f()} computes them on first use. Every read goes through {@code f()};
 * every kernel that writes into an existing storage first calls {@link #beforeWrite()}, which
 * computes the deferred storages that read this one (its dependents) while they can still see
 * the values they were defined on. Only {@link CpuBackend}'s in-place kernels write into
 * existing storages, so that is where the calls are.
 */
public final class ArrayStorage extends Storage {
    private final Backend backend;
    private float[] f;
    double[] d;
    long[] l;
    /** The expression still to evaluate, or null once the values are in {@code f}. */
    private volatile Fused pending;
    /** Deferred storages whose expressions read this storage (weakly held; guarded by this). */
    private ArrayList<WeakReference<ArrayStorage>> dependents;
    private int pruneAt = 16;

    private ArrayStorage(Backend backend, ScalarType type, float[] f, double[] d, long[] l) {
        super(type, f != null ? f.length : d != null ? d.length : l.length);
        this.backend = backend;
        this.f = f;
        this.d = d;
        this.l = l;
    }

    private ArrayStorage(Backend backend, Fused expr, int n) {
        super(ScalarType.FLOAT32, n);
        this.backend = backend;
        this.d = null;
        this.l = null;
        this.pending = expr;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    /** The same storage, or another over the same array (read without computing deferred values). */
    @Override
    public boolean sharesMemoryWith(Storage other) {
        if (this == other) {
            return true;
        }
        if (!(other instanceof ArrayStorage o)) {
            return false;
        }
        return (f != null && f == o.f) || (d != null && d == o.d) || (l != null && l == o.l);
    }

    /** A FLOAT32 storage of n elements whose values are {@code expr}, computed when first read. */
    static ArrayStorage deferred(Backend backend, Fused expr, int n) {
        return new ArrayStorage(backend, expr, n);
    }

    /**
     * Set by {@link #zeroLater}: every value is zero, not yet written into {@code f}. Reads ({@link #f()})
     * and writes ({@link #beforeWrite()}) write the zeros first; {@link #overwriteAll()} drops them.
     */
    private volatile boolean zeroPending;
    /** Made over an array it was handed ({@link #wrap}), not one it allocated: never zeroed lazily. */
    private boolean wrapped;
    /** Set by {@link #release}: the array went back to its owner; every read and write fails. */
    private volatile boolean released;

    /** The FLOAT32 values, computing them first if this storage is deferred or its zeros are pending. */
    float[] f() {
        if (pending != null || zeroPending || released) {
            materialize();
        }
        float[] a = f;
        if (a == null) {
            materialize(); // released by another thread meanwhile: throws
        }
        return a;
    }

    @Override
    public float[] release() {
        if (!wrapped || type() != ScalarType.FLOAT32 || released) {
            throw new IllegalStateException(released ? "this memory was released already"
                    : "only a FLOAT32 storage made over an array (Tensor.wrapArray) can give it back");
        }
        materializeDependents(); // deferred values that read this storage see the values they were defined on
        synchronized (this) {
            if (released) {
                throw new IllegalStateException("this memory was released already");
            }
            float[] a = f;
            released = true;
            f = null;
            bumpVersion(); // caches keyed by (storage, version), such as packed product operands, no longer match
            return a;
        }
    }

    @Override
    public boolean isReleased() {
        return released;
    }

    /**
     * Sets a FLOAT32 storage to zero without writing it yet (a gradient zeroed between steps, which the
     * next backward overwrites whole: {@link CpuBackend#addInPlace} then writes {@code 0 + alpha·src}
     * without reading or filling this array first). Anything else that reads or writes it sees the zeros.
     */
    void zeroLater() {
        beforeWrite();
        zeroPending = true;
    }

    /**
     * Whether {@link #zeroLater} may defer zeros here: not for an array the storage was handed
     * ({@link #wrap}), which code outside it may read or write directly ({@code Tensor.wrapArray}: a
     * data-parallel trainer's gradient buffer), only for arrays the storage allocated itself.
     */
    boolean mayZeroLater() {
        return !wrapped && f != null;
    }

    /** Whether {@link #zeroLater}'s zeros are still to be written. */
    boolean zeroPending() {
        return zeroPending;
    }

    /**
     * Before a kernel writes every element without reading them: the deferred storages that read this
     * one are computed (they see the zeros), and the pending zeros are dropped. Returns the array.
     */
    float[] overwriteAll() {
        materializeDependents();
        synchronized (this) {
            zeroPending = false;
        }
        return f();
    }

    /** The expression of a deferred storage, or null when its values exist. */
    Fused pending() {
        return pending;
    }

    @Override
    public boolean isDeferred() {
        return pending != null;
    }

    /** Computes a deferred storage's values (no-op otherwise). */
    @Override
    public void materialize() {
        if (released) {
            throw new IllegalStateException("this tensor's memory was given back to its owner (a closed Batch, "
                    + "or Tensor.releaseArray()): it can no longer be read or written");
        }
        if (zeroPending) {
            synchronized (this) {
                if (zeroPending) {
                    float[] a = f;
                    Parallel.forRange(a.length, Elementwise.GRAIN, (i, j) -> Arrays.fill(a, i, j, 0f));
                    zeroPending = false;
                }
            }
        }
        if (pending == null) {
            return;
        }
        synchronized (this) {
            Fused p = pending;
            if (p == null) {
                return;
            }
            float[] a = floats(length(), false);
            p.evaluateInto(a);
            f = a;
            pending = null; // volatile write: publishes f to readers that then see pending == null
        }
    }

    /** Whether some deferred storage that reads this one has not been computed yet. */
    synchronized boolean hasPendingDependents() {
        if (dependents != null) {
            for (WeakReference<ArrayStorage> r : dependents) {
                ArrayStorage s = r.get();
                if (s != null && s.pending != null) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Gives this storage's array to the {@link ArrayPool} and drops it, so that any later use of
     * this storage fails at once instead of reading an array someone else now owns. Only for a
     * storage nothing reads or writes again (see {@link CpuBackend#release}).
     */
    void recycle() {
        if (f != null) {
            ArrayPool.give(f);
            f = null;
        } else if (d != null) {
            ArrayPool.give(d);
            d = null;
        }
    }

    /** Records that the deferred storage {@code s} reads this one. */
    synchronized void addDependent(ArrayStorage s) {
        if (dependents == null) {
            dependents = new ArrayList<>(4);
        }
        if (dependents.size() >= pruneAt) {
            dependents.removeIf(r -> {
                ArrayStorage t = r.get();
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
        materializeDependents();
    }

    /** Computes every deferred storage that reads this one. */
    private void materializeDependents() {
        ArrayList<WeakReference<ArrayStorage>> list;
        synchronized (this) {
            list = dependents;
            dependents = null;
        }
        if (list != null) {
            for (WeakReference<ArrayStorage> r : list) {
                ArrayStorage s = r.get();
                if (s != null) {
                    s.materialize();
                }
            }
        }
    }

    /** A zero-filled storage of n elements of {@code type}, belonging to {@code backend}. */
    static ArrayStorage allocate(Backend backend, ScalarType type, int n) {
        return allocate(backend, type, n, true);
    }

    /**
     * A storage of n elements of {@code type}, zero-filled when {@code zero}, else with whatever a
     * pooled array held: for a kernel that writes every element.
     */
    static ArrayStorage allocate(Backend backend, ScalarType type, int n, boolean zero) {
        return switch (type) {
            case FLOAT32 -> new ArrayStorage(backend, type, floats(n, zero), null, null);
            case FLOAT64 -> new ArrayStorage(backend, type, null, doubles(n, zero), null);
            case INT64 -> new ArrayStorage(backend, type, null, null, new long[n]);
        };
    }

    /** A float array of n elements: a pooled one (zeroed if asked), else a fresh one. */
    static float[] floats(int n, boolean zero) {
        float[] a = ArrayPool.takeFloats(n);
        if (a == null) {
            return new float[n];
        }
        if (zero) {
            Arrays.fill(a, 0f);
        }
        return a;
    }

    /** A double array of n elements: a pooled one (zeroed if asked), else a fresh one. */
    static double[] doubles(int n, boolean zero) {
        double[] a = ArrayPool.takeDoubles(n);
        if (a == null) {
            return new double[n];
        }
        if (zero) {
            Arrays.fill(a, 0.0);
        }
        return a;
    }

    static ArrayStorage wrap(Backend backend, float[] a) {
        ArrayStorage s = new ArrayStorage(backend, ScalarType.FLOAT32, a, null, null);
        s.wrapped = true;
        return s;
    }

    static ArrayStorage wrap(Backend backend, double[] a) {
        return new ArrayStorage(backend, ScalarType.FLOAT64, null, a, null);
    }

    static ArrayStorage wrap(Backend backend, long[] a) {
        return new ArrayStorage(backend, ScalarType.INT64, null, null, a);
    }

    /** A zero-filled storage of the CPU backend's, for a kernel's result or scratch. */
    static ArrayStorage allocate(ScalarType type, int n) {
        return allocate(CpuBackend.INSTANCE, type, n, true);
    }

    /** A storage of the CPU backend's with undefined contents, for a kernel that writes every element. */
    static ArrayStorage uninitialized(ScalarType type, int n) {
        return allocate(CpuBackend.INSTANCE, type, n, false);
    }

    @Override
    public double get(int i) {
        return switch (type()) {
            case FLOAT32 -> f()[i];
            case FLOAT64 -> d[i];
            case INT64 -> l[i];
        };
    }

    @Override
    public long getLong(int i) {
        return switch (type()) {
            case FLOAT32 -> (long) f()[i];
            case FLOAT64 -> (long) d[i];
            case INT64 -> l[i];
        };
    }

    @Override
    public void set(int i, double v) {
        switch (type()) {
            case FLOAT32 -> f()[i] = (float) v;
            case FLOAT64 -> d[i] = v;
            case INT64 -> l[i] = (long) v;
        }
    }

    void fill(int from, int to, double v) {
        // in parallel when large (one range runs on the caller): zeroing a 4 MB gradient took 0.05 ms on one thread
        switch (type()) {
            case FLOAT32 -> {
                float[] a = f();
                Parallel.forRange(to - from, Elementwise.GRAIN, (i, j) -> Arrays.fill(a, from + i, from + j, (float) v));
            }
            case FLOAT64 -> Parallel.forRange(to - from, Elementwise.GRAIN, (i, j) -> Arrays.fill(d, from + i, from + j, v));
            case INT64 -> Parallel.forRange(to - from, Elementwise.GRAIN, (i, j) -> Arrays.fill(l, from + i, from + j, (long) v));
        }
    }
}
