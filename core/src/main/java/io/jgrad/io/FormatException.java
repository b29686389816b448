package io.jgrad.io;

import java.io.IOException;

/**
 * A malformed file: the message names the file, what is wrong and, where it applies, the byte
 * offset with the expected and the found value. Subclasses name the format.
 */
public class FormatException extends IOException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a complete message. */
    public FormatException(String message) {
        super(message);
    }

    /** Creates the exception with a complete message and the low-level cause. */
    public FormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
