package io.jgrad.losses;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.Tensor;

/**
 * Multiclass SVM (hinge) loss, exactly as the lecture defines it (Weston-Watkins):
 * {@code L_i = Σ_{j ≠ y_i} max(0, s_j − s_{y_i} + margin)}, with L = 1/N Σ L_i by default.
 * Unlike PyTorch's {@code MultiMarginLoss} it does not divide by the number of classes.
 *
 * <p>Variants: {@link Variant#CRAMMER_SINGER} takes the largest violation instead of the sum;
 * {@link Variant#ALL_CLASSES} also sums the j = y_i term, which adds exactly the margin (the
 * lecture's question); {@code squared} squares each hinge. Optional per-class weights multiply
 * L_i by w[y_i] (the mean still divides by N, as PyTorch's {@code MultiMarginLoss} does).
 *
 * <p>Subgradient: at a kink (a margin exactly 0) the hinge's derivative is taken as 0, i.e. a
 * margin met exactly counts as satisfied. Non-finite scores follow the rule of every loss here
 * (see {@link Loss}): a row holding NaN or ±Inf has a non-finite loss (+Inf where that is the
 * limit, as for a target score of −Inf or another score of +Inf, else NaN) and a NaN gradient.
 */
public final class MulticlassSvmLoss extends Loss {
    /** Which violations make up L_i. */
    public enum Variant {
        /** Σ over j ≠ y_i (the lecture's, Weston-Watkins). */
        WESTON_WATKINS,
        /** max over j ≠ y_i (Crammer-Singer). */
        CRAMMER_SINGER,
        /** Σ over all j including y_i: the Weston-Watkins loss plus the margin. */
        ALL_CLASSES
    }

    private final double margin;
    private final Variant variant;
    private final boolean squared;
    private final Tensor classWeights;

    /** The lecture's loss: margin 1, mean over the batch. */
    public MulticlassSvmLoss() {
        this(1.0, Variant.WESTON_WATKINS, false, null, Reduction.MEAN);
    }

    /**
     * @param margin       Δ, non-negative and finite
     * @param variant      which violations are combined
     * @param squared      square each hinge (squared hinge loss)
     * @param classWeights null, or K non-negative weights w[k] multiplying L_i when y_i = k
     * @param reduction    mean, sum, or none
     */
    public MulticlassSvmLoss(double margin, Variant variant, boolean squared, Tensor classWeights, Reduction reduction) {
        super(reduction);
        checkArgument(margin >= 0 && Double.isFinite(margin), "MulticlassSvmLoss: margin must be finite and >= 0, got %s",
                margin);
        checkArgument(classWeights == null || classWeights.dim() == 1,
                "MulticlassSvmLoss: class weights must be 1-D, got %s", classWeights == null ? null : classWeights.shape());
        this.margin = margin;
        this.variant = java.util.Objects.requireNonNull(variant, "variant");
        this.squared = squared;
        this.classWeights = classWeights;
    }

    /** Loss of scores [N, K] against class indices [N] (INT64). */
    @Override
    public Tensor forward(Tensor scores, Tensor target) {
        // every row reads its target's score; a −Inf elsewhere is a masked class
        NonFinite nf = NonFinite.rows(scores, () -> target.oneHot(scores.size(1), scores.dtype()));
        return nf.poison(compute(nf.guard(scores), target));
    }

    private Tensor compute(Tensor scores, Tensor target) {
        checkClassTargets("MulticlassSvmLoss", scores, target, Long.MIN_VALUE);
        int k = scores.size(1);
        checkArgument(classWeights == null || classWeights.size(0) == k,
                "MulticlassSvmLoss: %s class weights for %s classes", classWeights == null ? 0 : classWeights.size(0), k);
        Tensor y = target.unsqueeze(1);
        Tensor correct = scores.gather(1, y);                           // s_{y_i}, [N, 1]
        Tensor isTarget = target.oneHot(k, scores.dtype());            // 1 for j = y_i
        // s_j − s_{y_i} + Δ; at j = y_i exactly Δ (as computed for finite scores), not ∞ − ∞ for an infinite s_{y_i}
        Tensor margins = Tensor.where(isTarget, Tensor.scalar(scores.dtype(), margin), scores.sub(correct).add(margin));
        Tensor hinge = margins.relu();                                  // max(0, ·); derivative 0 at the kink
        if (squared) {
            hinge = hinge.square();
        }
        Tensor perExample;
        if (variant == Variant.ALL_CLASSES) {
            perExample = hinge.sum(1);
        } else {
            hinge = Tensor.where(isTarget, Tensor.scalar(scores.dtype(), 0), hinge); // only j ≠ y_i
            perExample = variant == Variant.WESTON_WATKINS ? hinge.sum(1) : hinge.max(1, false).values();
        }
        if (classWeights == null) {
            return reduce(perExample);
        }
        return reduce(perExample.mul(classWeights.to(scores.dtype()).indexSelect(0, target)));
    }

    /** Δ, the margin. */
    public double margin() {
        return margin;
    }

    /** Whether this is the lecture's loss: Weston-Watkins, not squared, unweighted, the mean over the batch. */
    public boolean isLecturesLoss() {
        return variant == Variant.WESTON_WATKINS && !squared && classWeights == null && reduction == Reduction.MEAN;
    }

    @Override
    protected String extraRepr() {
        return "margin=" + margin + ", variant=" + variant + ", squared=" + squared + ", " + super.extraRepr();
    }

}
