package io.jgrad.core;

import static com.google.common.base.Preconditions.checkArgument;

/**
 * A tensor that a {@link Block} owns and trains: a floating-point leaf that requires grad.
 * It shares the storage of the tensor it was made from. Optimizers update it in place.
 */
public final class Parameter extends Tensor {
    /** Makes {@code data} (floating point) a trainable parameter sharing its storage. */
    public Parameter(Tensor data) {
        super(data.storage, data.offset, data.shape, data.strides);
        checkArgument(data.dtype().isFloatingPoint(), "Parameter: needs a floating-point tensor, got %s", data.dtype());
        requiresGrad = true;
    }
}
