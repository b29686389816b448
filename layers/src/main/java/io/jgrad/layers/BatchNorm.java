package io.jgrad.layers;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.Autograd;
import io.jgrad.core.Block;
import io.jgrad.core.DType;
import io.jgrad.core.Parameter;
import io.jgrad.core.ShapeException;
import io.jgrad.core.Tensor;
import io.jgrad.core.Trace;
import java.util.List;

/**
 * Batch normalisation over every dim but the channel dim 1: in training, (x − batch mean) /
 * √(batch var + eps) · weight + bias, and the running statistics move by {@code momentum}
 * toward the batch's (mean, and unbiased variance, as in PyTorch); in eval mode the running
 * statistics are used instead. Buffers (PyTorch's names): running_mean, running_var, num_batches_tracked.
 */
abstract class BatchNorm extends Block {
    private final int features;
    private final double eps;
    private final double momentum;
    private final int[] ranks;

    BatchNorm(int features, double eps, double momentum, int... ranks) {
        checkArgument(features > 0, "%s: feature count must be positive, got %s", getClass().getSimpleName(), features);
        checkArgument(eps > 0, "%s: eps must be positive, got %s", getClass().getSimpleName(), eps);
        checkArgument(momentum >= 0 && momentum <= 1, "%s: momentum must be in [0, 1], got %s",
                getClass().getSimpleName(), momentum);
        this.features = features;
        this.eps = eps;
        this.momentum = momentum;
        this.ranks = ranks;
        registerParameter("weight", new Parameter(Tensor.ones(features)));
        registerParameter("bias", new Parameter(Tensor.zeros(features)));
        registerBuffer("running_mean", Tensor.zeros(features));
        registerBuffer("running_var", Tensor.ones(features));
        registerBuffer("num_batches_tracked", Tensor.zeros(DType.INT64));
    }

    @Override
    public Tensor forward(Tensor x) {
        boolean rankOk = false;
        for (int r : ranks) {
            rankOk |= x.dim() == r;
        }
        if (!rankOk || x.size(1) != features) {
            throw new ShapeException(getClass().getSimpleName() + "(" + features + "): input " + x.shape()
                    + " must have rank " + java.util.Arrays.toString(ranks) + " and " + features + " channels in dim 1");
        }
        int[] dims = new int[x.dim() - 1];
        int[] stat = new int[x.dim()];
        java.util.Arrays.fill(stat, 1);
        stat[1] = features;
        for (int i = 0, d = 0; i < x.dim(); i++) {
            if (i != 1) {
                dims[d++] = i;
            }
        }
        if (!isTraining()) { // one op for an exporter: ONNX's BatchNormalization (see io.jgrad.core.Trace)
            return Trace.function("batchNorm", List.of(x, param("weight"), param("bias"), buffer("running_mean"),
                    buffer("running_var")), () -> normalize(x, buffer("running_mean").reshape(stat).to(x.dtype()),
                    buffer("running_var").reshape(stat).to(x.dtype()), stat), "eps", eps);
        }
        int n = x.numel() / features;
        checkArgument(n > 1, "%s: training needs more than one value per channel, got input %s",
                getClass().getSimpleName(), x.shape());
        Tensor mean = x.mean(dims, true);
        Tensor var = x.sub(mean).square().mean(dims, true);
        try (var s = Autograd.noGrad()) {
            Tensor rm = buffer("running_mean");
            Tensor rv = buffer("running_var");
            rm.mulInPlace(1 - momentum).addInPlace(mean.detach().reshape(features).to(rm.dtype()), momentum);
            rv.mulInPlace(1 - momentum).addInPlace(var.detach().reshape(features).mul((double) n / (n - 1))
                    .to(rv.dtype()), momentum);
            buffer("num_batches_tracked").addInPlace(Tensor.scalar(DType.INT64, 1));
        }
        return normalize(x, mean, var, stat);
    }

    private Tensor normalize(Tensor x, Tensor mean, Tensor var, int[] stat) {
        Tensor y = x.sub(mean).div(var.add(eps).sqrt());
        return y.mul(param("weight").reshape(stat)).add(param("bias").reshape(stat));
    }

    @Override
    protected String extraRepr() {
        return features + ", eps=" + eps + ", momentum=" + momentum;
    }
}
