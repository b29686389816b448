package io.jgrad.core;

import java.util.Arrays;

/** Shape arithmetic shared by every op: element counts, strides, broadcasting and dim checks. */
final class Shapes {
    /** The JDK's soft limit on array length ({@code ArraysSupport.SOFT_MAX_ARRAY_LENGTH}). */
    static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;
    static final int MAX_RANK = 64;

    private Shapes() {}

    /** Element count, checked in long arithmetic against the Java array limit before anything is allocated. */
    static int numel(int[] shape) {
        if (shape.length > MAX_RANK) {
            throw new ShapeException("shape " + str(shape) + " has rank " + shape.length + "; limit is " + MAX_RANK);
        }
        long n = 1;
        boolean overflow = false;
        boolean empty = false;
        for (int s : shape) {
            if (s < 0) {
                throw new ShapeException("shape " + str(shape) + " has a negative dimension " + s);
            }
            empty |= s == 0; // a loop, not a stream: every tensor is built through here
            if (!overflow) {
                try {
                    n = Math.multiplyExact(n, s);
                } catch (ArithmeticException e) {
                    overflow = true;
                }
            }
        }
        if (empty) {
            return 0;
        }
        if (overflow || n > MAX_ELEMENTS) {
            throw new TensorTooLargeException("shape " + str(shape) + " has "
                    + (overflow ? "more than " + Long.MAX_VALUE : Long.toString(n))
                    + " elements; limit is " + MAX_ELEMENTS);
        }
        return (int) n;
    }

    /** Row-major (C order) strides for a contiguous tensor of this shape. */
    static int[] contiguousStrides(int[] shape) {
        int[] strides = new int[shape.length];
        int s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            strides[i] = s;
            s *= Math.max(shape[i], 1);
        }
        return strides;
    }

    /** "[2, 3]" for error messages. */
    static String str(int[] shape) {
        return Arrays.toString(shape);
    }

    /** The NumPy broadcast of two shapes; the message names the op, both shapes and the clashing dim. */
    static int[] broadcast(String op, int[] a, int[] b) {
        if (Arrays.equals(a, b)) {
            return a; // shape arrays are never changed, so the result may be one of them
        }
        int rank = Math.max(a.length, b.length);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
            int db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw new ShapeException(op + ": cannot broadcast " + str(a) + " with " + str(b)
                        + ": dim " + i + " is " + da + " vs " + db);
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /** A dim in [-rank, rank) turned into [0, rank); the message names the op and the value. */
    static int dim(String op, int dim, int rank) {
        int lo = -Math.max(rank, 1);
        int hi = Math.max(rank, 1) - 1;
        if (dim < lo || dim > hi) {
            throw new IllegalArgumentException(op + ": dim " + dim + " out of range [" + lo + ", " + hi
                    + "] for a tensor of rank " + rank);
        }
        return dim < 0 ? dim + Math.max(rank, 1) : dim;
    }

    static int[] copyWithout(int[] a, int index) {
        int[] out = new int[a.length - 1];
        System.arraycopy(a, 0, out, 0, index);
        System.arraycopy(a, index + 1, out, index, a.length - index - 1);
        return out;
    }

    static int[] copyWith(int[] a, int index, int value) {
        int[] out = new int[a.length + 1];
        System.arraycopy(a, 0, out, 0, index);
        out[index] = value;
        System.arraycopy(a, index, out, index + 1, a.length - index);
        return out;
    }

    /** Product of shape[from, to). */
    static int prod(int[] shape, int from, int to) {
        int p = 1;
        for (int i = from; i < to; i++) {
            p *= shape[i];
        }
        return p;
    }
}
