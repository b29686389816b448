package io.jgrad.layers;

import io.jgrad.core.Tensor;
import io.jgrad.core.Trace;
import io.jgrad.core.Window2d;
import java.util.List;

/** The mean of each window, per channel; zero padding is counted in the mean (PyTorch's count_include_pad). */
public final class AvgPool2d extends Pool2d {
    /** Square kernel, stride equal to the kernel, no padding. */
    public AvgPool2d(int kernel) {
        this(Window2d.square(kernel, kernel, 0, 1));
    }

    /** Any window. */
    public AvgPool2d(Window2d window) {
        super(window);
    }

    @Override
    Tensor pool(Tensor x, Window2d window) {
        // one op for an exporter: ONNX's AveragePool (see io.jgrad.core.Trace)
        return Trace.function("avgPool2d", List.of(x), () -> {
            int n = x.size(0);
            int c = x.size(1);
            // every channel as its own one-channel image, so each patch row is one channel's window
            Tensor windows = x.reshape(n * c, 1, x.size(2), x.size(3)).im2col(window, 0);
            return windows.mean(-1).reshape(n, c, window.outH(x.size(2)), window.outW(x.size(3)));
        }, "window", window);
    }
}
