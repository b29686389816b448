package io.jgrad.metrics;

import io.jgrad.core.Tensor;

/**
 * A classification metric accumulated over batches: {@link #update} with each batch's scores
 * [N, K] and integer targets [N], then read {@link #value()}; {@link #reset()} starts over.
 * Updates read values only (no graph is recorded). Not thread-safe.
 */
public interface Metric {
    /** The metric's name in logs and metric maps ({@code accuracy}, {@code top5_accuracy}, ...). */
    String name();

    /** Adds one batch: scores [N, K] (any floating dtype) and class indices [N] (INT64). */
    void update(Tensor scores, Tensor targets);

    /** The value over every batch since construction or the last {@link #reset()}; NaN before any. */
    double value();

    /** Forgets every batch. */
    void reset();
}
