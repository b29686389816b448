package io.jgrad.metrics;

import io.jgrad.core.DType;
import io.jgrad.core.Tensor;

/** The argument checks the metrics share. */
final class Checks {
    private Checks() {}

    /** Checks scores [N, K] against class indices [N] in [0, K); returns the indices. */
    static long[] targets(String who, Tensor scores, Tensor targets) {
        if (scores.dim() != 2) {
            throw new IllegalArgumentException(who + ": scores must be [N, K], got " + scores.shape());
        }
        return classes(who, targets, scores.size(0), scores.size(1));
    }

    /** Checks class indices: INT64, [n], each in [0, k). */
    static long[] classes(String who, Tensor t, int n, int k) {
        if (t.dtype() != DType.INT64 || t.dim() != 1 || t.size(0) != n) {
            throw new IllegalArgumentException(who + ": need " + n + " class indices (INT64 [" + n + "]), got "
                    + t.dtype() + " " + t.shape());
        }
        long[] y = t.toLongArray();
        for (int i = 0; i < y.length; i++) {
            if (y[i] < 0 || y[i] >= k) {
                throw new IllegalArgumentException(who + ": class " + y[i] + " at index " + i + " out of range [0, "
                        + k + ")");
            }
        }
        return y;
    }
}
