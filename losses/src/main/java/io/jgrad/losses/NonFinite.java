package io.jgrad.losses;

import io.jgrad.core.CustomOp;
import io.jgrad.core.Tensor;

/**
 * The loss family's rule for non-finite inputs (see {@link Loss}). A row of class scores is
 * poisoned when it holds NaN or +Inf, or −Inf in a class the loss reads (the target; every class
 * under label smoothing); −Inf in a class it does not read is a mask (an impossible class), which
 * costs nothing and gets a zero gradient, as in PyTorch. A pointwise loss's element is poisoned
 * when it is NaN or ±Inf. Where poisoned, the loss is non-finite (NaN where the formula gave a
 * finite number) and the gradient NaN. Inputs that are all finite are untouched: no op is added.
 */
final class NonFinite {
    /** 1 where poisoned: per row ([N]) or per element (the input's shape). */
    private final Tensor bad;
    private final boolean rows;

    private NonFinite(Tensor bad, boolean rows) {
        this.bad = bad;
        this.rows = rows;
    }

    /** The rule for pointwise losses: every NaN or ±Inf element is poisoned. */
    static NonFinite elements(Tensor input) {
        return new NonFinite(input.allFinite() ? null : input.isFinite().neg().add(1), false);
    }

    /**
     * The rule for scores [N, K] with {@code reads} [N, K] (positive where the loss reads that
     * class of that row; null for "compute it only if needed", given by {@code readsIfNeeded}).
     */
    static NonFinite rows(Tensor scores, java.util.function.Supplier<Tensor> reads) {
        if (scores.allFinite() || scores.dim() != 2) {
            return new NonFinite(null, true);
        }
        Tensor r = reads.get().to(scores.dtype()).gt(0);
        Tensor negInf = scores.eq(Double.NEGATIVE_INFINITY);
        Tensor nanOrPosInf = scores.isFinite().neg().add(1).sub(negInf);
        Tensor bad = nanOrPosInf.add(negInf.mul(r)).sum(1).gt(0).mul(r.sum(1).gt(0));
        return new NonFinite(bad, true);
    }

    /** {@code input}, or an identity op whose gradient is NaN where poisoned. */
    Tensor guard(Tensor input) {
        if (bad == null) {
            return input;
        }
        Tensor mask = rows ? bad.unsqueeze(1) : bad;
        return new CustomOp() {
            @Override
            protected Tensor forward(Context ctx, Tensor... in) {
                return in[0].clone();
            }

            @Override
            protected Tensor[] backward(Context ctx, Tensor dOut) {
                return new Tensor[] {Tensor.where(mask, Tensor.scalar(dOut.dtype(), Double.NaN), dOut)};
            }

            @Override
            public String name() {
                return "nonFiniteGuard";
            }
        }.apply(input);
    }

    /**
     * {@code loss}, made NaN where poisoned but finite (per row or element for an unreduced loss,
     * the whole value for a reduced one), by adding NaN: the gradient still flows as the formula's,
     * so rows that are not poisoned keep theirs.
     */
    Tensor poison(Tensor loss) {
        if (bad == null || bad.sum().item() == 0) {
            return loss;
        }
        Tensor nan = loss.add(Tensor.scalar(loss.dtype(), Double.NaN));
        if (loss.dim() == 0) {
            return Double.isFinite(loss.item()) ? nan : loss;
        }
        return Tensor.where(bad.mul(loss.isFinite()), nan, loss);
    }
}
