package io.jgrad.spark;

import java.io.Serializable;
import java.util.Arrays;

/**
 * One training example: its features (flattened, in the model's input order) and its class
 * index. Equality compares the features' values.
 */
public record Example(float[] features, long label) implements Serializable {
    /** Checks the features are there (their values are checked when a fit starts). */
    public Example {
        if (features == null) {
            throw new IllegalArgumentException("Example: features must not be null");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Example e && e.label == label && Arrays.equals(e.features, features);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(features) + Long.hashCode(label);
    }

    @Override
    public String toString() {
        return "Example[" + features.length + " features, label=" + label + "]";
    }
}
