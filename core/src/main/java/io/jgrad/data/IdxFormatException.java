package io.jgrad.data;

import io.jgrad.io.FormatException;

/** An IDX file (MNIST, Fashion-MNIST) that is malformed or not what the loader expects. */
public class IdxFormatException extends FormatException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a complete message. */
    public IdxFormatException(String message) {
        super(message);
    }

    /** Creates the exception with a complete message and the low-level cause. */
    public IdxFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
