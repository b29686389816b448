package io.jgrad.layers;

/** {@link BatchNorm} for [N, C, H, W] inputs: statistics per channel over N, H and W. */
public final class BatchNorm2d extends BatchNorm {
    /** eps 1e-5, momentum 0.1, as in PyTorch. */
    public BatchNorm2d(int features) {
        this(features, 1e-5, 0.1);
    }

    /** With the given eps (positive) and momentum (in [0, 1]). */
    public BatchNorm2d(int features, double eps, double momentum) {
        super(features, eps, momentum, 4);
    }
}
