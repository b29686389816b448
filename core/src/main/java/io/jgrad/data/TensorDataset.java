package io.jgrad.data;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.Tensor;

/**
 * Examples held as tensors, like PyTorch's {@code TensorDataset}: inputs [N, ...] and targets
 * [N, ...] (class indices [N] for classification, a sequence's next tokens [N, T], regression
 * values of any float dtype); a batch gathers rows with indexSelect.
 */
public final class TensorDataset implements Dataset {
    private final Tensor inputs;
    private final Tensor targets;

    /** Inputs [N, ...] and targets [N, ...] with the same N. */
    public TensorDataset(Tensor inputs, Tensor targets) {
        checkArgument(inputs.dim() >= 1 && targets.dim() >= 1 && inputs.size(0) == targets.size(0),
                "TensorDataset: inputs %s and targets %s must agree on N (dim 0)", inputs.shape(), targets.shape());
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
