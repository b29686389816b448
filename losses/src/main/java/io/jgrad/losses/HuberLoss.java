package io.jgrad.losses;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.Tensor;

/** Huber loss with threshold δ, elementwise on d = x − t: d²/2 where {@code |d| < δ}, else δ·(|d| − δ/2). */
public final class HuberLoss extends Loss {
    private final double delta;

    /** δ = 1, mean. */
    public HuberLoss() {
        this(1.0, Reduction.MEAN);
    }

    /** δ positive and finite. */
    public HuberLoss(double delta, Reduction reduction) {
        super(reduction);
        checkArgument(delta > 0 && Double.isFinite(delta), "HuberLoss: delta must be positive, got %s", delta);
        this.delta = delta;
    }

    @Override
    public Tensor forward(Tensor input, Tensor target) {
        checkSameShape("HuberLoss", input, target);
        NonFinite nf = NonFinite.elements(input);
        Tensor d = nf.guard(input).sub(target);
        Tensor a = d.abs();
        return nf.poison(reduce(Tensor.where(a.lt(delta), d.square().mul(0.5),
                a.sub(delta / 2).mul(delta))));
    }
}
