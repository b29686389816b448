package io.jgrad.core;

import io.jgrad.core.backend.ScalarType;

/**
 * Element type of a {@link Tensor}.
 *
 * <p>{@code FLOAT32} is the default and the type for training; {@code FLOAT64} is for gradient
 * checks and exact tests; {@code INT64} holds class labels and indices.
 */
public enum DType {
    /** 32-bit IEEE float (a {@code float[]} on the CPU). */
    FLOAT32(4, true),
    /** 64-bit IEEE float (a {@code double[]} on the CPU). */
    FLOAT64(8, true),
    /** 64-bit signed integer (a {@code long[]} on the CPU). */
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

    /** The backends' name for this type. */
    public ScalarType scalarType() {
        return switch (this) {
            case FLOAT32 -> ScalarType.FLOAT32;
            case FLOAT64 -> ScalarType.FLOAT64;
            case INT64 -> ScalarType.INT64;
        };
    }

    /** The dtype of a backend's {@code type}. */
    public static DType of(ScalarType type) {
        return switch (type) {
            case FLOAT32 -> FLOAT32;
            case FLOAT64 -> FLOAT64;
            case INT64 -> INT64;
        };
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
