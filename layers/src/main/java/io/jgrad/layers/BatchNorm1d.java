package io.jgrad.layers;

/** {@link BatchNorm} for [N, C] or [N, C, L] inputs. */
public final class BatchNorm1d extends BatchNorm {
    /** eps 1e-5, momentum 0.1, as in PyTorch. */
    public BatchNorm1d(int features) {
        this(features, 1e-5, 0.1);
    }

    /** With the given eps (positive) and momentum (in [0, 1]). */
    public BatchNorm1d(int features, double eps, double momentum) {
        super(features, eps, momentum, 2, 3);
    }
}
