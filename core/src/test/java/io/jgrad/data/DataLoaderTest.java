package io.jgrad.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jgrad.core.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class DataLoaderTest {
    private static ImageDataset digits(int n) {
        byte[] px = new byte[n * 4];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            Arrays.fill(px, i * 4, i * 4 + 4, (byte) i);
            y[i] = i % 10;
        }
        return new ImageDataset(px, y, 1, 2, 2);
    }

    private static List<Long> firstPixels(Iterable<Batch> epoch) {
        List<Long> out = new ArrayList<>();
        for (Batch b : epoch) {
            for (float v : b.inputs().select(1, 0).toFloatArray()) {
                out.add((long) Math.round(v * 255));
            }
        }
        return out;
    }

    @Test
    void batchesCoverEveryExampleOncePerEpochInASeededOrder() {
        DataLoader a = new DataLoader(digits(10), 3, DataLoader.Options.shuffled(7));
        assertThat(a.batchesPerEpoch()).isEqualTo(4);
        List<Long> e0 = firstPixels(a.epoch(0));
        assertThat(e0).containsExactlyInAnyOrder(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L);
        assertThat(firstPixels(new DataLoader(digits(10), 3, DataLoader.Options.shuffled(7)).epoch(0))).isEqualTo(e0);
        assertThat(firstPixels(a.epoch(1))).isNotEqualTo(e0);
        assertThat(firstPixels(a.epoch(0, 2))).isEqualTo(e0.subList(6, 10)); // resume mid-epoch
        assertThat(firstPixels(new DataLoader(digits(10), 3, DataLoader.Options.IN_ORDER.withDropLast(true)).epoch(0)))
                .containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L);
    }

    @Test
    void iteratingTheLoaderRunsTheNextEpochEachTime() {
        DataLoader loader = new DataLoader(digits(10), 3, DataLoader.Options.shuffled(7));
        List<Long> first = firstPixels(loader);
        List<Long> second = firstPixels(loader);
        assertThat(first).isEqualTo(firstPixels(loader.epoch(0)));
        assertThat(second).isEqualTo(firstPixels(loader.epoch(1))).isNotEqualTo(first);
        assertThat(firstPixels(new DataLoader(digits(5), 2))).as("in order, the last batch kept")
                .containsExactly(0L, 1L, 2L, 3L, 4L);
        assertThatThrownBy(() -> new DataLoader(digits(5), 0)).hasMessageContaining("batch size must be positive, got 0");
        assertThatThrownBy(() -> new DataLoader(digits(5), 2, null)).hasMessageContaining("options are required");
    }

    /**
     * Gathered ahead on the prefetch thread (in chunks) or on the caller's thread, an epoch is the
     * same batches in the same order, from the start or resumed mid-epoch, for epochs of fewer and of
     * more batches than a chunk.
     */
    @Test
    void prefetchedAndInThreadBatchesAreTheSame() {
        for (int n : new int[] {10, 97}) {
            DataLoader.Options shuffled = DataLoader.Options.shuffled(5);
            assertThat(shuffled.prefetch()).as("gathered when asked for by default").isFalse();
            DataLoader inThread = new DataLoader(digits(n), 3, shuffled);
            DataLoader ahead = new DataLoader(digits(n), 3, shuffled.withPrefetch(true));
            for (int e = 0; e < 2; e++) {
                assertThat(firstPixels(ahead.epoch(e))).isEqualTo(firstPixels(inThread.epoch(e)));
            }
            assertThat(firstPixels(ahead.epoch(1, 2))).isEqualTo(firstPixels(inThread.epoch(1, 2)));
            assertThat(shuffled.withPrefetch(true).withDropLast(true).prefetch()).isTrue();
        }
    }

    /** A batch that fails to gather fails the call that asks for it, with the dataset's exception, on either path. */
    @Test
    void aFailingBatchFailsItsNextCall() {
        Dataset failing = new Dataset() {
            @Override
            public int size() {
                return 6;
            }

            @Override
            public Batch batch(int[] indices) {
                if (indices[0] >= 3) {
                    throw new IllegalStateException("cannot read example " + indices[0]);
                }
                return digits(6).batch(indices);
            }
        };
        for (boolean prefetch : new boolean[] {false, true}) {
            var it = new DataLoader(failing, 3, DataLoader.Options.IN_ORDER.withPrefetch(prefetch)).epoch(0).iterator();
            assertThat(it.next().size()).isEqualTo(3);
            assertThatThrownBy(it::next).isInstanceOf(IllegalStateException.class).hasMessage("cannot read example 3");
            assertThat(it.hasNext()).as("the failed batch is still the next one").isTrue();
            assertThatThrownBy(it::next).isInstanceOf(IllegalStateException.class).hasMessage("cannot read example 3");
        }
    }

    @Test
    void batchesConvertBytesWithNormalisation() {
        ImageDataset d = digits(4).withNormalization(0.5, 2);
        Batch b = d.batch(new int[] {3, 1});
        assertThat(b.inputs().shape().toArray()).containsExactly(2, 4);
        assertThat(b.inputs().get(0, 0)).isCloseTo((3 / 255.0 - 0.5) / 2, org.assertj.core.api.Assertions.within(1e-6));
        assertThat(b.targets().toLongArray()).containsExactly(3, 1);
        assertThat(d.withFlatten(false).batch(new int[] {0}).inputs().shape().toArray()).containsExactly(1, 1, 2, 2);
        assertThatThrownBy(() -> d.batch(new int[] {4})).hasMessageContaining("index 4");
    }

    @Test
    void splitsAreDisjointAndSeeded() {
        Dataset[] parts = digits(100).split(0.2, 1);
        assertThat(parts[0].size()).isEqualTo(80);
        assertThat(parts[1].size()).isEqualTo(20);
        Tensor all = Tensor.cat(List.of(parts[0].batch(range(80)).inputs(), parts[1].batch(range(20)).inputs()), 0);
        assertThat(Arrays.stream(all.select(1, 0).toDoubleArray()).boxed().map(v -> Math.round(v * 255)).distinct().count())
                .isEqualTo(100);
    }

    private static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = i;
        }
        return r;
    }
}
