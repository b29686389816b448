package io.jgrad.io;

/** A malformed safetensors file (see {@link Safetensors}). */
public class SafetensorsFormatException extends FormatException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a complete message. */
    public SafetensorsFormatException(String message) {
        super(message);
    }

    /** Creates the exception with a complete message and the low-level cause. */
    public SafetensorsFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
