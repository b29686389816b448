package io.jgrad.losses;

import io.jgrad.core.Tensor;

/** Squared error (x − t)², elementwise; the mean by default. */
public final class MseLoss extends Loss {
    /** Mean over all elements. */
    public MseLoss() {
        this(Reduction.MEAN);
    }

    /** With the given reduction (over all elements). */
    public MseLoss(Reduction reduction) {
        super(reduction);
    }

    @Override
    public Tensor forward(Tensor input, Tensor target) {
        checkSameShape("MseLoss", input, target);
        NonFinite nf = NonFinite.elements(input);
        Tensor x = nf.guard(input);
        return nf.poison(reduce(x.sub(target).square()));
    }
}
