package io.jgrad.losses;

import io.jgrad.core.Tensor;

/**
 * Kullback-Leibler divergence with PyTorch's argument order: input is log q, target is p (or
 * log p with {@code logTarget}); pointwise p·(log p − log q), 0 where p = 0. Reductions:
 * {@link Reduction#MEAN} averages over all elements like PyTorch's "mean"; use
 * {@link #batchMean} for the true KL per example ("batchmean").
 */
public final class KlDivLoss extends Loss {
    private final boolean logTarget;
    private final boolean batchMean;

    /** Mean over elements, target given as probabilities. */
    public KlDivLoss() {
        this(Reduction.MEAN, false, false);
    }

    /** With a reduction; {@code logTarget} if the target is log p; {@code batchMean} divides the sum by N instead. */
    public KlDivLoss(Reduction reduction, boolean logTarget, boolean batchMean) {
        super(reduction);
        this.logTarget = logTarget;
        this.batchMean = batchMean;
    }

    /** A loss giving Σ p·(log p − log q) / N, the KL divergence per example. */
    public static KlDivLoss batchMean() {
        return new KlDivLoss(Reduction.SUM, false, true);
    }

    @Override
    public Tensor forward(Tensor input, Tensor target) {
        checkSameShape("KlDivLoss", input, target);
        NonFinite nf = NonFinite.elements(input);
        Tensor logQ = nf.guard(input);
        Tensor pointwise;
        if (logTarget) {
            pointwise = target.exp().mul(target.sub(logQ));
        } else {
            Tensor p = target.to(logQ.dtype());
            Tensor positive = p.gt(0);
            Tensor safeLogP = Tensor.where(positive, p, Tensor.scalar(p.dtype(), 1)).log(); // log 1 = 0 where p = 0
            pointwise = Tensor.where(positive, p.mul(safeLogP.sub(logQ)), Tensor.scalar(p.dtype(), 0));
        }
        Tensor r = reduce(pointwise);
        return nf.poison(batchMean && logQ.dim() > 0 ? r.div(logQ.size(0)) : r);
    }
}
