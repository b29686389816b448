package io.jgrad.data;

import io.jgrad.core.Tensor;

/** A minibatch: inputs [B, ...] and targets [B] (class indices, INT64). */
public record Batch(Tensor inputs, Tensor targets) {
    /** Number of examples in the batch. */
    public int size() {
        return targets.size(0);
    }
}
