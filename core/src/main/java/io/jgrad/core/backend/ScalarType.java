package io.jgrad.core.backend;

/**
 * The element type of a {@link Storage}, as a backend sees it (PyTorch's C++ {@code ScalarType};
 * users see it as {@code io.jgrad.core.DType}, which maps one to one onto these).
 */
public enum ScalarType {
    /** 32-bit IEEE float. */
    FLOAT32(4, true),
    /** 64-bit IEEE float. */
    FLOAT64(8, true),
    /** 64-bit signed integer. */
    INT64(8, false);

    private final int byteSize;
    private final boolean floatingPoint;

    ScalarType(int byteSize, boolean floatingPoint) {
        this.byteSize = byteSize;
        this.floatingPoint = floatingPoint;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** True for the two float types. */
    public boolean isFloatingPoint() {
        return floatingPoint;
    }
}
