package io.jgrad.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class GeneratorTest {
    @Test
    void theSameSeedGivesTheSameStreamAndDifferentSeedsDiffer() {
        Generator a = Generator.seeded(42);
        Generator b = Generator.seeded(42);
        Generator c = Generator.seeded(43);
        for (int i = 0; i < 100; i++) {
            long x = a.nextLong();
            assertThat(b.nextLong()).isEqualTo(x);
            assertThat(c.nextLong()).isNotEqualTo(x);
        }
    }

    @Test
    void savedStateReplaysTheStreamExactly() {
        Generator g = Generator.seeded(1);
        g.nextGaussian();
        long[] state = g.state();
        double[] first = {g.nextGaussian(), g.nextDouble(), g.nextInt(10), g.nextFloat()};
        Generator restored = Generator.seeded(999);
        restored.setState(state);
        double[] again = {restored.nextGaussian(), restored.nextDouble(), restored.nextInt(10), restored.nextFloat()};
        assertThat(again).containsExactly(first);
        Tensor t1 = Tensor.randn(Generator.seeded(5), 10);
        Generator.manualSeed(5);
        assertThat(Tensor.randn(10).toFloatArray()).containsExactly(t1.toFloatArray());
    }

    @Test
    void samplesHaveTheRightRangeAndMoments() {
        Generator g = Generator.seeded(11);
        int n = 200_000;
        double sum = 0;
        double sq = 0;
        int[] counts = new int[7];
        for (int i = 0; i < n; i++) {
            double z = g.nextGaussian();
            sum += z;
            sq += z * z;
            double u = g.nextDouble();
            assertThat(u).isGreaterThanOrEqualTo(0).isLessThan(1);
            counts[g.nextInt(7)]++;
        }
        assertThat(sum / n).isBetween(-0.01, 0.01);
        assertThat(sq / n).isBetween(0.99, 1.01);
        for (int c : counts) {
            assertThat(c).isBetween(n / 7 - 600, n / 7 + 600);
        }
    }

    @Test
    void badArgumentsAreNamed() {
        assertThatThrownBy(() -> Generator.seeded(1).nextInt(0)).hasMessageContaining("got 0");
        assertThatThrownBy(() -> Generator.seeded(1).setState(new long[3])).hasMessageContaining("4 longs");
        assertThatThrownBy(() -> Generator.seeded(1).setState(new long[4])).hasMessageContaining("all zero");
    }
}
