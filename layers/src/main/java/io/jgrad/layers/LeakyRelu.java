package io.jgrad.layers;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.Block;
import io.jgrad.core.Tensor;
import io.jgrad.core.Trace;
import java.util.List;

/** x for x > 0, slope·x otherwise (default slope 0.01, as in PyTorch); the gradient at 0 is slope. */
public final class LeakyRelu extends Block {
    private final double slope;

    /** Slope 0.01. */
    public LeakyRelu() {
        this(0.01);
    }

    /** The given negative slope (finite). */
    public LeakyRelu(double slope) {
        checkArgument(Double.isFinite(slope), "LeakyRelu: slope must be finite, got %s", slope);
        this.slope = slope;
    }

    @Override
    public Tensor forward(Tensor x) {
        // one op for an exporter: ONNX's LeakyRelu (see io.jgrad.core.Trace)
        return Trace.function("leakyRelu", List.of(x), () -> Tensor.where(x.gt(0), x, x.mul(slope)), "slope", slope);
    }

    @Override
    protected String extraRepr() {
        return "slope=" + slope;
    }
}
