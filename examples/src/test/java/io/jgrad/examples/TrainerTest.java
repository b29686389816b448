package io.jgrad.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jgrad.core.Generator;
import io.jgrad.core.NonFiniteException;
import io.jgrad.core.Tensor;
import io.jgrad.data.DataLoader;
import io.jgrad.data.TensorDataset;
import io.jgrad.layers.Linear;
import io.jgrad.optim.Sgd;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training loop's guards on small in-memory data. */
class TrainerTest {
    @TempDir
    Path dir;

    @Test
    void aNonFiniteGradientStopsTrainingNamingTheParameterAndNothingIsSaved() {
        Linear model = new Linear(3, 2, true, Generator.seeded(0));
        Sgd sgd = new Sgd(model.parameters(), Sgd.Options.lr(0.1));
        // finite loss (0) whose gradient is infinite: d sqrt(u)/du at u = 0
        Trainer t = new Trainer("guard", model, sgd, (s, y) -> s.sub(s.detach()).sqrt().sum(), dir, "{}", "{}");
        TensorDataset data = new TensorDataset(Tensor.randn(Generator.seeded(1), 8, 3), Tensor.of(new long[8]));
        assertThatThrownBy(() -> t.fit(new DataLoader(data, 4, false, 0, false), data, 0, 1))
                .isInstanceOf(NonFiniteException.class)
                .hasMessage("gradient of weight is not finite at epoch 1 step 1; last good checkpoint: none");
        assertThat(dir.resolve("guard-step1.safetensors")).doesNotExist();
    }
}
