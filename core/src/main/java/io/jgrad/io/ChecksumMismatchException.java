package io.jgrad.io;

/** A file whose SHA-256 differs from the published one (a corrupt or wrong download). */
public class ChecksumMismatchException extends FormatException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception; the message names the file and both digests. */
    public ChecksumMismatchException(String message) {
        super(message);
    }
}
