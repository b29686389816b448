package io.jgrad.layers;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.Block;
import io.jgrad.core.DType;
import io.jgrad.core.Generator;
import io.jgrad.core.Parameter;
import io.jgrad.core.Tensor;
import io.jgrad.core.Trace;
import java.util.Arrays;
import java.util.List;

/** A lookup table: INT64 indices [...] -> rows of weight [num, dim], giving [..., dim]. Weights start N(0, 1) like PyTorch. */
public final class Embedding extends Block {
    private final int num;
    private final int dim;

    /** A table of {@code num} vectors of size {@code dim}, initialised from {@code rng}. */
    public Embedding(int num, int dim, Generator rng) {
        checkArgument(num > 0 && dim > 0, "Embedding: sizes must be positive, got num=%s dim=%s", num, dim);
        this.num = num;
        this.dim = dim;
        registerParameter("weight", new Parameter(Tensor.randn(rng, num, dim)));
    }

    @Override
    public Tensor forward(Tensor indices) {
        checkArgument(indices.dtype() == DType.INT64, "Embedding: indices must be int64, got %s", indices.dtype());
        int[] shape = Arrays.copyOf(indices.shape().toArray(), indices.dim() + 1);
        shape[indices.dim()] = dim;
        // one op for an exporter: ONNX's Gather (see io.jgrad.core.Trace)
        return Trace.function("embedding", List.of(param("weight"), indices),
                () -> param("weight").indexSelect(0, indices.reshape(-1)).reshape(shape));
    }

    @Override
    protected String extraRepr() {
        return "num=" + num + ", dim=" + dim;
    }
}
