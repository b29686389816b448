package io.jgrad.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.jgrad.core.DType;
import io.jgrad.core.Generator;
import io.jgrad.core.GradCheck;
import io.jgrad.core.Tensor;
import org.junit.jupiter.api.Test;

/** Program 8's op: its checks pass, the wrong backward is caught, and it matches the composed softplus. */
class CustomOpExampleTest {
    @Test
    void softplusPassesBothChecksAndTheWrongBackwardFails() {
        Tensor x = Tensor.randn(Generator.seeded(0), DType.FLOAT64, 4, 5).mul(3).requiresGrad(true);
        GradCheck.check(xs -> new CustomOpExample.Softplus().apply(xs.get(0)), x).assertPassed();
        GradCheck.checkSecondOrder(xs -> new CustomOpExample.Softplus().apply(xs.get(0)), x).assertPassed();
        assertThat(GradCheck.check(xs -> new CustomOpExample.WrongSoftplus().apply(xs.get(0)), x).passed()).isFalse();
        Tensor big = Tensor.of(new double[] {-800, 0, 800});
        assertThat(new CustomOpExample.Softplus().apply(big).toDoubleArray())
                .containsExactly(0, Math.log(2), 800);
    }
}
