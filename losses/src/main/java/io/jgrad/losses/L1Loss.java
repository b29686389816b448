package io.jgrad.losses;

import io.jgrad.core.Tensor;

/** Absolute error |x − t|, elementwise (subgradient 0 where x = t); the mean by default. */
public final class L1Loss extends Loss {
    /** Mean over all elements. */
    public L1Loss() {
        this(Reduction.MEAN);
    }

    /** With the given reduction (over all elements). */
    public L1Loss(Reduction reduction) {
        super(reduction);
    }

    @Override
    public Tensor forward(Tensor input, Tensor target) {
        checkSameShape("L1Loss", input, target);
        NonFinite nf = NonFinite.elements(input);
        Tensor x = nf.guard(input);
        return nf.poison(reduce(x.sub(target).abs()));
    }
}
