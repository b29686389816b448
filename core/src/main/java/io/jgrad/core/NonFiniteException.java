package io.jgrad.core;

/**
 * A NaN or infinite value where none is allowed: raised by anomaly mode (naming the op and,
 * as the cause, where that op was created) and by training guards.
 */
public class NonFiniteException extends ArithmeticException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with the given message. */
    public NonFiniteException(String message) {
        super(message);
    }

    /** Creates the exception with the given message and cause (for example the op's creation site). */
    public NonFiniteException(String message, Throwable cause) {
        super(message);
        initCause(cause);
    }
}
