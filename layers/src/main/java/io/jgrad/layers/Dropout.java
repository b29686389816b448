package io.jgrad.layers;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.Block;
import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;

/**
 * In training, zeroes each element with probability p and scales the rest by 1/(1 − p)
 * (inverted dropout, so eval needs no rescaling); in eval mode, the identity. Masks come from
 * the layer's own seeded generator.
 */
public final class Dropout extends Block {
    private final double p;
    private final Generator rng;

    /** Dropout with probability p, masks from the default generator. */
    public Dropout(double p) {
        this(p, Generator.getDefault());
    }

    /** Dropout with probability p in [0, 1], masks from {@code rng}. */
    public Dropout(double p, Generator rng) {
        checkArgument(p >= 0 && p <= 1, "Dropout: p must be in [0, 1], got %s", p);
        this.p = p;
        this.rng = rng;
    }

    /**
     * The generator the masks come from ({@link Generator#getDefault()} unless one was given): a
     * data-parallel trainer re-seeds it before every micro-shard, so that masks depend on (seed,
     * step, shard) and not on which worker ran the shard.
     */
    public Generator generator() {
        return rng;
    }

    @Override
    public Tensor forward(Tensor x) {
        if (!isTraining() || p == 0) {
            return x;
        }
        if (p == 1) {
            return x.mul(0);
        }
        Tensor keep = Tensor.rand(rng, x.shape().toArray()).ge(p);
        return x.mul(keep.to(x.dtype()).mul(1 / (1 - p)));
    }

    @Override
    protected String extraRepr() {
        return "p=" + p;
    }
}
