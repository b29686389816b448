package io.jgrad.train;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One epoch's figures: its number (from 1), the optimizer steps done in total at its end, and
 * named values in a stable order: {@code loss} and {@code accuracy} (on the training batches, as
 * trained), {@code val_loss}, {@code val_accuracy} and {@code val_<metric>} when there is
 * validation data, {@code lr} (the first group's learning rate during the epoch), {@code seconds}
 * and {@code samples_per_second}.
 */
public record EpochMetrics(int epoch, long step, Map<String, Double> values) {
    /** Copies {@code values}, keeping their order. */
    public EpochMetrics {
        values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /** The value named {@code name}, or NaN when the epoch has none. */
    public double get(String name) {
        Double v = values.get(name);
        return v == null ? Double.NaN : v;
    }
}
