package io.jgrad.onnx;

/**
 * A model that cannot be written as ONNX: an op with no ONNX mapping, a shape that depends on the
 * batch size in a way the graph cannot express, a tensor made outside the op table that depends
 * on the input. The message names the op and where the model ran it.
 */
public class OnnxExportException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** An export failure described by {@code message}. */
    public OnnxExportException(String message) {
        super(message);
    }
}
