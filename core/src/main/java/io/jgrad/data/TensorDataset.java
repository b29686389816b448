package io.jgrad.data;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.DType;
import io.jgrad.core.Tensor;

/** Examples held as tensors: inputs [N, ...] and INT64 targets [N]; a batch gathers rows with indexSelect. */
public final class TensorDataset implements Dataset {
    private final Tensor inputs;
    private final Tensor targets;

    /** Inputs [N, ...] and class-index targets [N] (INT64). */
    public TensorDataset(Tensor inputs, Tensor targets) {
        checkArgument(inputs.dim() >= 1 && targets.dim() == 1 && inputs.size(0) == targets.size(0),
                "TensorDataset: inputs %s and targets %s must agree on N", inputs.shape(), targets.shape());
        checkArgument(targets.dtype() == DType.INT64, "TensorDataset: targets must be int64, got %s", targets.dtype());
        this.inputs = inputs.detach();
        this.targets = targets.detach();
    }

    @Override
    public int size() {
        return targets.size(0);
    }

    @Override
    public Batch batch(int[] indices) {
        Tensor idx = Tensor.of(indices);
        return new Batch(inputs.indexSelect(0, idx), targets.indexSelect(0, idx));
    }
}
