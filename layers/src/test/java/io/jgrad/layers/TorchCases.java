package io.jgrad.layers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.jgrad.core.Tensor;
import io.jgrad.io.Safetensors;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/** The PyTorch reference cases of the recurrent and attention tests: loading them, comparing with them. */
final class TorchCases {
    private TorchCases() {}

    /** The tensors of {@code recurrent/<file>} in the test resources. */
    static Map<String, Tensor> load(String file) throws IOException {
        try (InputStream in = TorchCases.class.getResourceAsStream("recurrent/" + file)) {
            return Safetensors.read(in.readAllBytes(), file).tensors();
        }
    }

    /** {@code got} has {@code want}'s shape and each element within 1e-10. */
    static void close(Tensor got, Tensor want, String what) {
        assertThat(got.shape()).as(what).isEqualTo(want.shape());
        double[] a = got.toDoubleArray();
        double[] b = want.toDoubleArray();
        for (int i = 0; i < b.length; i++) {
            assertThat(a[i]).as("%s element %s", what, i).isCloseTo(b[i], within(1e-10));
        }
    }
}
