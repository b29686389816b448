package io.jgrad.core;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The flat, row-major element array behind one or more tensors (views share it), plus the
 * version counter that in-place updates bump so that autograd can detect stale saved tensors.
 * Exactly one of {@code f}, {@code d}, {@code l} is non-null, matching {@code dtype}.
 */
final class Storage {
    final DType dtype;
    final float[] f;
    final double[] d;
    final long[] l;
    int version;
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
        return switch (dtype) {
            case FLOAT32 -> f.length;
            case FLOAT64 -> d.length;
            case INT64 -> l.length;
        };
    }

    double get(int i) {
        return switch (dtype) {
            case FLOAT32 -> f[i];
            case FLOAT64 -> d[i];
            case INT64 -> l[i];
        };
    }

    long getLong(int i) {
        return switch (dtype) {
            case FLOAT32 -> (long) f[i];
            case FLOAT64 -> (long) d[i];
            case INT64 -> l[i];
        };
    }

    void set(int i, double v) {
        switch (dtype) {
            case FLOAT32 -> f[i] = (float) v;
            case FLOAT64 -> d[i] = v;
            case INT64 -> l[i] = (long) v;
        }
    }

    void fill(int from, int to, double v) {
        switch (dtype) {
            case FLOAT32 -> Arrays.fill(f, from, to, (float) v);
            case FLOAT64 -> Arrays.fill(d, from, to, v);
            case INT64 -> Arrays.fill(l, from, to, (long) v);
        }
    }
}
