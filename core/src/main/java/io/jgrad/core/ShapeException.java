package io.jgrad.core;

/** A caller's mistake with shapes: operands that cannot broadcast, inner dimensions that differ, a bad dim. */
public class ShapeException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception; the message names the op and every shape involved. */
    public ShapeException(String message) {
        super(message);
    }
}
