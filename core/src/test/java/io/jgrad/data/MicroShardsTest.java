package io.jgrad.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jgrad.core.Tensor;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MicroShardsTest {
    @Test
    void eachStepTakesTheSameShareOfEveryShardAndAnEpochNoExampleTwice() {
        MicroShards m = new MicroShards(103, 4, 20, 7); // shards of 26, 26, 26, 25; 5 per shard and step
        assertThat(m.shardSize(0)).isEqualTo(26);
        assertThat(m.shardSize(3)).isEqualTo(25);
        assertThat(m.stepsPerEpoch()).isEqualTo(5);
        int[] order = m.epochOrder(2);
        assertThat(order).hasSize(100);
        assertThat(new HashSet<>(Arrays.stream(order).boxed().toList())).hasSize(100);
        for (int step = 0; step < 5; step++) {
            for (int k = 0; k < 4; k++) {
                for (int j = 0; j < 5; j++) {
                    int example = order[step * 20 + k * 5 + j];
                    assertThat(example % 4).isEqualTo(k); // micro-shard k of every step holds shard k's examples
                    assertThat(example / 4).isEqualTo(m.positions(2, step, k)[j]);
                }
            }
        }
        assertThat(m.epochOrder(3)).isNotEqualTo(order);
        assertThat(new MicroShards(103, 4, 20, 8).epochOrder(2)).isNotEqualTo(order);
        assertThat(m.epochOrder(2)).isEqualTo(order);
    }

    @Test
    void theLoaderGivesTheseBatchesAndBadNumbersAreNamed() {
        TensorDataset d = new TensorDataset(Tensor.arange(40).reshape(40, 1), Tensor.arange(40));
        MicroShards m = new MicroShards(40, 2, 8, 1);
        DataLoader l = DataLoader.microSharded(d, m);
        assertThat(l.batchesPerEpoch()).isEqualTo(5);
        Set<Long> seen = new HashSet<>();
        int b = 0;
        for (Batch batch : l.epoch(0)) {
            long[] y = batch.targets().toLongArray();
            assertThat(Arrays.stream(y, 0, 4).allMatch(v -> v % 2 == 0)).isTrue();
            assertThat(Arrays.stream(y, 4, 8).allMatch(v -> v % 2 == 1)).isTrue();
            for (long v : y) {
                seen.add(v);
            }
            b++;
        }
        assertThat(b).isEqualTo(5);
        assertThat(seen).hasSize(40);
        assertThatThrownBy(() -> new MicroShards(40, 3, 8, 0)).hasMessageContaining("8 is not a multiple of the 3");
        assertThatThrownBy(() -> new MicroShards(7, 2, 8, 0)).hasMessageContaining("no full step of 8");
        assertThatThrownBy(() -> DataLoader.microSharded(d, new MicroShards(41, 2, 8, 0)))
                .hasMessageContaining("for 41 examples, the dataset has 40");
    }
}
