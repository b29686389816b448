package io.jgrad.core.backend;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The flat memory behind one or more tensors (views share it): {@link #length()} elements of one
 * {@link ScalarType}, owned by the {@link Backend} that made it. The CPU backends keep a Java
 * array; another backend may keep native or device memory, so the engine reads and writes
 * elements only through the backend's kernels or, one element at a time, through
 * {@link #get}/{@link #set}.
 *
 * <p>A storage also carries what autograd needs of it: a version counter that every in-place
 * update bumps (a tensor saved for backward and changed afterwards is detected), and a serial
 * number in creation order (backward tells a buffer it allocated itself from one it was handed).
 */
public abstract class Storage {
    private static final AtomicLong SERIALS = new AtomicLong();

    private final ScalarType type;
    private final int length;
    private final long serial = SERIALS.incrementAndGet();
    private int version;

    /** A storage of {@code length} elements of {@code type}. */
    protected Storage(ScalarType type, int length) {
        this.type = type;
        this.length = length;
    }

    /** The serial number the next storage will exceed: storages created after this call have a larger one. */
    public static long lastSerial() {
        return SERIALS.get();
    }

    /** The element type. */
    public final ScalarType type() {
        return type;
    }

    /** The number of elements. */
    public final int length() {
        return length;
    }

    /** This storage's place in creation order (increasing). */
    public final long serial() {
        return serial;
    }

    /**
     * Whether this storage and {@code other} may share memory, so that writing one can change the
     * other: true for the same storage, and for two storages over one array (two
     * {@code Tensor.wrapArray} calls on it). A backend whose storages can alias otherwise overrides this.
     */
    public boolean sharesMemoryWith(Storage other) {
        return this == other;
    }

    /** The in-place update counter. */
    public final int version() {
        return version;
    }

    /** Records an in-place update (not synchronized: in-place updates are single-threaded by contract). */
    public final void bumpVersion() {
        version++;
    }

    /** The backend that made this storage and runs the kernels on it. */
    public abstract Backend backend();

    /** Element {@code i} as a double (an INT64 beyond 2^53 is rounded). */
    public abstract double get(int i);

    /** Element {@code i} as a long (floats truncated toward zero). */
    public abstract long getLong(int i);

    /**
     * Sets element {@code i} to {@code v}, converted to this type, without any of the bookkeeping
     * of an in-place update: for filling a storage nothing else sees yet. Writes to a storage that
     * may be read go through {@link Backend#fill} or {@link Backend#copy}.
     */
    public abstract void set(int i, double v);

    /**
     * Takes back the FLOAT32 array this storage was made over ({@link Backend#wrap(float[])}), so that
     * its owner may fill it again: deferred values that read this storage are computed first, and
     * every later read or write of this storage fails with {@link IllegalStateException} instead of
     * seeing the array's new contents. A backend that cannot give its memory back throws
     * {@link UnsupportedOperationException} (the default).
     *
     * @return the array, whole
     * @throws IllegalStateException if this storage was not made over a FLOAT32 array, or was released already
     */
    public float[] release() {
        throw new UnsupportedOperationException(backend().name() + " storage cannot give its memory back");
    }

    /** Whether {@link #release()} gave this storage's memory back: it can no longer be read or written. */
    public boolean isReleased() {
        return false;
    }

    /**
     * Whether the values are not computed yet (a backend may return a result whose values it
     * computes when first read, to fuse loops); reading any element computes them.
     */
    public boolean isDeferred() {
        return false;
    }

    /** Computes the values of a deferred storage now (nothing otherwise). */
    public void materialize() {
    }
}
