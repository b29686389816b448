package io.jgrad.data;

import io.jgrad.io.FormatException;

/** A CIFAR-10 binary batch or archive that is malformed. */
public class CifarFormatException extends FormatException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a complete message. */
    public CifarFormatException(String message) {
        super(message);
    }

    /** Creates the exception with a complete message and the low-level cause. */
    public CifarFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
