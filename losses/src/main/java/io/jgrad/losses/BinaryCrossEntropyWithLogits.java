package io.jgrad.losses;

import io.jgrad.core.Tensor;

/**
 * Binary cross-entropy of logits x against targets t in [0, 1], elementwise:
 * {@code −[t·log σ(x) + (1 − t)·log(1 − σ(x))]}, computed as
 * {@code max(x, 0) − x·t + log(1 + e^(−|x|))} so that no logit overflows.
 */
public final class BinaryCrossEntropyWithLogits extends Loss {
    /** Mean over all elements. */
    public BinaryCrossEntropyWithLogits() {
        this(Reduction.MEAN);
    }

    /** With the given reduction (over all elements). */
    public BinaryCrossEntropyWithLogits(Reduction reduction) {
        super(reduction);
    }

    @Override
    public Tensor forward(Tensor input, Tensor target) {
        checkSameShape("BinaryCrossEntropyWithLogits", input, target);
        NonFinite nf = NonFinite.elements(input);
        Tensor logits = nf.guard(input);
        Tensor t = target.to(logits.dtype());
        return nf.poison(reduce(logits.relu().sub(logits.mul(t))
                .add(logits.abs().neg().exp().log1p())));
    }
}
