package io.jgrad.core;

/**
 * Element type of a {@link Tensor}.
 *
 * <p>{@code FLOAT32} is the default and the type for training; {@code FLOAT64} is for gradient
 * checks and exact tests; {@code INT64} holds class labels and indices.
 */
public enum DType {
    /** 32-bit IEEE float, stored in a {@code float[]}. */
    FLOAT32(4, true),
    /** 64-bit IEEE float, stored in a {@code double[]}. */
    FLOAT64(8, true),
    /** 64-bit signed integer, stored in a {@code long[]}. */
    INT64(8, false);

    private final int byteSize;
    private final boolean floatingPoint;

    DType(int byteSize, boolean floatingPoint) {
        this.byteSize = byteSize;
        this.floatingPoint = floatingPoint;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** True for {@code FLOAT32} and {@code FLOAT64}: the types that can carry gradients. */
    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /** The type both operands of a binary op are converted to: FLOAT64 over FLOAT32 over INT64. */
    static DType promote(DType a, DType b) {
        if (a == FLOAT64 || b == FLOAT64) {
            return FLOAT64;
        }
        if (a == FLOAT32 || b == FLOAT32) {
            return FLOAT32;
        }
        return INT64;
    }

    /** Lower-case name as PyTorch prints it ({@code float32}). */
    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
