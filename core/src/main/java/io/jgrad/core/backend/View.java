package io.jgrad.core.backend;

/**
 * What a kernel sees of a tensor: element {@code [i0, i1, ...]} is element
 * {@code offset + i0 * strides[0] + i1 * strides[1] + ...} of {@code storage}. Strides may be 0
 * (a broadcast dim) and need not be row-major (a transposed or permuted view). The arrays are
 * never changed, by the kernel or by anyone else.
 *
 * @param storage the memory
 * @param offset  where element [0, 0, ...] is
 * @param shape   the size of each dim (empty for a scalar)
 * @param strides the step in elements per dim
 */
public record View(Storage storage, int offset, int[] shape, int[] strides) {
    /** The element type. */
    public ScalarType type() {
        return storage.type();
    }

    /** The number of dims. */
    public int rank() {
        return shape.length;
    }

    /** The number of elements (the product of the sizes). */
    public int numel() {
        int n = 1;
        for (int s : shape) {
            n *= s;
        }
        return n;
    }

    /** Whether the elements are row-major without gaps (size-1 dims ignored). */
    public boolean isContiguous() {
        int expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1 && strides[d] != expected) {
                return false;
            }
            expected *= shape[d];
        }
        return true;
    }

    /** The whole of a storage as a contiguous view of {@code shape} (whose element count must be its length). */
    public static View of(Storage storage, int[] shape) {
        return new View(storage, 0, shape, contiguousStrides(shape));
    }

    /** Row-major strides for {@code shape}. */
    public static int[] contiguousStrides(int[] shape) {
        int[] strides = new int[shape.length];
        int s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            strides[i] = s;
            s *= Math.max(shape[i], 1);
        }
        return strides;
    }

    /** The strides of this view seen from {@code shape}, which it broadcasts to (0 where it has size 1 or no dim). */
    public int[] broadcastStrides(int[] shape) {
        int[] out = new int[shape.length];
        int lead = shape.length - this.shape.length;
        for (int d = 0; d < this.shape.length; d++) {
            out[lead + d] = this.shape[d] == 1 ? 0 : strides[d];
        }
        return out;
    }

    /** The product of {@code shape[from, to)}. */
    public static int prod(int[] shape, int from, int to) {
        int p = 1;
        for (int i = from; i < to; i++) {
            p *= shape[i];
        }
        return p;
    }
}
