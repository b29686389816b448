package io.jgrad.core;

import io.jgrad.core.backend.Storage;
import io.jgrad.core.backend.View;

/** Test-only access to what a tensor hands its backend, for the kernel tests in other packages. */
public final class TensorInternals {
    private TensorInternals() {}

    /** The view kernels see of {@code t}. */
    public static View view(Tensor t) {
        return t.asView();
    }

    /** The storage behind {@code t}. */
    public static Storage storage(Tensor t) {
        return t.storage;
    }

    /** {@code s} as a contiguous tensor of {@code shape} (a kernel's result). */
    public static Tensor tensor(Storage s, int... shape) {
        return Tensor.over(s, shape.clone());
    }
}
