package io.jgrad.losses;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.Tensor;

/**
 * Negative log-likelihood of log-probabilities [N, K] (for example from {@code logSoftmax}):
 * {@code L_i = −w[y_i] · logp[i, y_i]}; the mean divides by Σ w[y_i] over rows not ignored.
 */
public final class NllLoss extends Loss {
    private final Tensor classWeights;
    private final long ignoreIndex;

    /** Mean, no weights, ignored index -100. */
    public NllLoss() {
        this(null, -100, Reduction.MEAN);
    }

    /** With optional class weights (null for none), an ignored target value, and a reduction. */
    public NllLoss(Tensor classWeights, long ignoreIndex, Reduction reduction) {
        super(reduction);
        this.classWeights = classWeights;
        this.ignoreIndex = ignoreIndex;
    }

    @Override
    public Tensor forward(Tensor logProbs, Tensor target) {
        NonFinite nf = NonFinite.rows(logProbs, () -> reads(target, logProbs.size(1), ignoreIndex));
        return nf.poison(compute(nf.guard(logProbs), target));
    }

    /** 1 at each row's target class, a row of zeros where the target is ignored. */
    static Tensor reads(Tensor target, int k, long ignoreIndex) {
        long[] y = target.toLongArray();
        double[] keep = new double[y.length];
        long[] safe = new long[y.length];
        for (int i = 0; i < y.length; i++) {
            keep[i] = y[i] == ignoreIndex ? 0 : 1;
            safe[i] = y[i] == ignoreIndex || y[i] < 0 || y[i] >= k ? 0 : y[i];
        }
        return Tensor.of(safe).oneHot(k, io.jgrad.core.DType.FLOAT64).mul(Tensor.of(keep).unsqueeze(1));
    }

    private Tensor compute(Tensor logProbs, Tensor target) {
        long[] y = checkClassTargets("NllLoss", logProbs, target, ignoreIndex);
        int k = logProbs.size(1);
        checkArgument(classWeights == null || classWeights.dim() == 1 && classWeights.size(0) == k,
                "NllLoss: class weights must be [%s]", k);
        long[] safe = new long[y.length];
        double[] w = new double[y.length];
        double[] cw = classWeights == null ? null : classWeights.toDoubleArray();
        for (int i = 0; i < y.length; i++) {
            safe[i] = y[i] == ignoreIndex ? 0 : y[i];
            w[i] = y[i] == ignoreIndex ? 0 : cw == null ? 1 : cw[(int) y[i]];
        }
        Tensor weights = Tensor.of(w).to(logProbs.dtype());
        Tensor perExample = logProbs.gather(1, Tensor.of(safe).unsqueeze(1)).squeeze(1).mul(weights).neg();
        return reduction == Reduction.MEAN ? perExample.sum().div(weights.sum()) : reduce(perExample);
    }
}
