package io.jgrad.layers;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.Block;
import io.jgrad.core.Parameter;
import io.jgrad.core.ShapeException;
import io.jgrad.core.Tensor;
import io.jgrad.core.Trace;
import java.util.Arrays;
import java.util.List;

/**
 * (x − mean) / √(var + eps) · weight + bias, with mean and (biased) variance over the last dims
 * given by {@code normalizedShape}; weight starts at 1, bias at 0.
 */
public final class LayerNorm extends Block {
    private final int[] normalizedShape;
    private final double eps;
    private final boolean affine;

    /** Normalises over the trailing dims of the given shape, eps 1e-5, with weight and bias. */
    public LayerNorm(int... normalizedShape) {
        this(normalizedShape, 1e-5, true);
    }

    /** Normalises over the trailing dims of {@code normalizedShape}; {@code affine} adds weight and bias. */
    public LayerNorm(int[] normalizedShape, double eps, boolean affine) {
        checkArgument(normalizedShape.length > 0 && Arrays.stream(normalizedShape).allMatch(s -> s > 0),
                "LayerNorm: normalized shape must be non-empty and positive, got %s", Arrays.toString(normalizedShape));
        checkArgument(eps > 0, "LayerNorm: eps must be positive, got %s", eps);
        this.normalizedShape = normalizedShape.clone();
        this.eps = eps;
        this.affine = affine;
        if (affine) {
            registerParameter("weight", new Parameter(Tensor.ones(normalizedShape)));
            registerParameter("bias", new Parameter(Tensor.zeros(normalizedShape)));
        }
    }

    @Override
    public Tensor forward(Tensor x) {
        int k = normalizedShape.length;
        int[] s = x.shape().toArray();
        if (s.length < k || !Arrays.equals(s, s.length - k, s.length, normalizedShape, 0, k)) {
            throw new ShapeException("LayerNorm" + Arrays.toString(normalizedShape) + ": input " + x.shape()
                    + " must end in " + Arrays.toString(normalizedShape));
        }
        int[] dims = new int[k];
        for (int i = 0; i < k; i++) {
            dims[i] = s.length - k + i;
        }
        // one op for an exporter: ONNX's LayerNormalization (see io.jgrad.core.Trace)
        return Trace.function("layerNorm", affine ? List.of(x, param("weight"), param("bias")) : List.of(x),
                () -> normalize(x, dims), "axis", -k, "eps", eps);
    }

    private Tensor normalize(Tensor x, int[] dims) {
        Tensor mean = x.mean(dims, true);
        Tensor centered = x.sub(mean);
        Tensor var = centered.square().mean(dims, true);
        Tensor y = centered.div(var.add(eps).sqrt());
        return affine ? y.mul(param("weight")).add(param("bias")) : y;
    }

    @Override
    protected String extraRepr() {
        return Arrays.toString(normalizedShape) + ", eps=" + eps + ", affine=" + affine;
    }
}
