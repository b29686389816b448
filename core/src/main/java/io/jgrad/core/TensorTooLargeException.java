package io.jgrad.core;

/** A shape whose element count exceeds what one Java array can hold; thrown before anything is allocated. */
public class TensorTooLargeException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception; the message gives the element count and the limit. */
    public TensorTooLargeException(String message) {
        super(message);
    }
}
