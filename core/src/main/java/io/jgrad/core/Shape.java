package io.jgrad.core;

import java.util.Arrays;

/**
 * A tensor's sizes per dimension, as an immutable value (PyTorch's {@code torch.Size}):
 * {@code x.shape()} prints as {@code [2, 3]}, equals any other shape with the same sizes, and is
 * accepted wherever a shape is ({@code Tensor.zeros(x.shape())}, {@code y.reshape(x.shape())});
 * {@link #toArray()} gives the sizes as a fresh {@code int[]}.
 */
public final class Shape {
    private static final Shape SCALAR = new Shape(new int[0]);
    private final int[] dims;

    private Shape(int[] dims) {
        this.dims = dims;
    }

    /**
     * The shape with these sizes ({@code Shape.of()} is a scalar's).
     *
     * @throws IllegalArgumentException if a size is negative
     */
    public static Shape of(int... sizes) {
        for (int s : sizes) {
            if (s < 0) {
                throw new IllegalArgumentException("Shape: sizes must be >= 0, got " + Arrays.toString(sizes));
            }
        }
        return sizes.length == 0 ? SCALAR : new Shape(sizes.clone());
    }

    /** A shape over {@code dims} itself, which the caller never changes afterwards. */
    static Shape own(int[] dims) {
        return dims.length == 0 ? SCALAR : new Shape(dims);
    }

    /** The number of dimensions (0 for a scalar). */
    public int rank() {
        return dims.length;
    }

    /**
     * The size of dimension {@code dim}; negative dims count from the end.
     *
     * @throws IndexOutOfBoundsException if there is no such dimension
     */
    public int get(int dim) {
        int d = dim < 0 ? dim + dims.length : dim;
        if (d < 0 || d >= dims.length) {
            throw new IndexOutOfBoundsException("Shape: dim " + dim + " is out of range for shape " + this);
        }
        return dims[d];
    }

    /** The number of elements: the product of the sizes (1 for a scalar). */
    public long numel() {
        long n = 1;
        for (int s : dims) {
            n *= s;
        }
        return n;
    }

    /** The sizes as a new array. */
    public int[] toArray() {
        return dims.clone();
    }

    /** The sizes without copying (the caller must not change them). */
    int[] dims() {
        return dims;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    /** The sizes in brackets, {@code [2, 3]}; {@code []} for a scalar. */
    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
