package io.jgrad.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Batch#close()}: an image batch's array goes back to its dataset, and its tensors stop reading it. */
class BatchReuseTest {
    /** 300 images of 3×8×8 bytes (a batch of 128 is 24,576 floats: large enough for deferred results). */
    private static ImageDataset images() {
        int per = 3 * 8 * 8;
        byte[] px = new byte[300 * per];
        long[] y = new long[300];
        java.util.Random r = new java.util.Random(1);
        r.nextBytes(px);
        for (int i = 0; i < y.length; i++) {
            y[i] = i % 10;
        }
        return new ImageDataset(px, y, 3, 8, 8).withNormalization(0.3, 0.4);
    }

    private static int[] range(int from, int n) {
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = (from + 7 * i) % 300;
        }
        return idx;
    }

    @Test
    void aClosedBatchsInputsAndTheirViewsFailWhenRead() {
        ImageDataset data = images();
        Batch b = data.batch(range(0, 128));
        Tensor view = b.inputs().narrow(0, 0, 4);
        Tensor kept = b.inputs().clone();
        b.close();
        assertThat(b.isClosed()).isTrue();
        assertThatThrownBy(() -> b.inputs().toFloatArray()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed Batch");
        assertThatThrownBy(view::toFloatArray).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> b.inputs().sum().item()).isInstanceOf(IllegalStateException.class);
        assertThat(b.targets().toLongArray()).hasSize(128); // the targets are the batch's own, not reused
        assertThat(kept.toFloatArray()).hasSize(128 * 192); // a copy taken before is the caller's
        b.close(); // again: nothing
    }

    @Test
    void theNextBatchReusesTheArrayAndHoldsItsOwnValues() {
        ImageDataset data = images();
        ImageDataset reference = images();
        Batch first = data.batch(range(0, 128));
        float[] firstValues = first.inputs().toFloatArray();
        first.close();
        assertThat(data.spareArrays()).isEqualTo(1);
        Batch second = data.batch(range(5, 128));
        assertThat(data.spareArrays()).isZero(); // taken for the second batch
        assertThat(second.inputs().toFloatArray()).containsExactly(reference.batch(range(5, 128)).inputs().toFloatArray());
        assertThat(firstValues).containsExactly(reference.batch(range(0, 128)).inputs().toFloatArray());
        Batch odd = data.batch(range(9, 44)); // another size: a new array
        second.close();
        odd.close();
        assertThat(data.spareArrays()).isEqualTo(2);
    }

    @Test
    void aGraphThatSavedTheInputsFailsAfterCloseAndDeferredResultsKeepTheOldValues() {
        ImageDataset data = images();
        Batch b = data.batch(range(0, 128));
        Tensor w = Tensor.randn(Generator.seeded(3), 192, 4).requiresGrad(true);
        Tensor loss = b.inputs().matmul(w).sum(); // saves the inputs for w's gradient
        Tensor twice = b.inputs().mul(2); // may be deferred: computed when first read
        float[] want = b.inputs().toFloatArray();
        b.close();
        data.batch(range(17, 128)); // writes the closed batch's array
        assertThatThrownBy(loss::backward).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("close a batch after its backward");
        float[] got = twice.toFloatArray();
        for (int i = 0; i < want.length; i++) {
            assertThat(got[i]).isEqualTo(want[i] * 2);
        }
    }

    /** With prefetch the batches are gathered on another thread: a reused array never reaches a batch still in use. */
    @Test
    void everyBatchOfAPrefetchingLoaderHoldsItsImagesWhenEachIsClosed() {
        ImageDataset data = images();
        ImageDataset reference = images();
        for (boolean prefetch : new boolean[] {false, true}) {
            DataLoader loader = new DataLoader(data, 32, DataLoader.Options.shuffled(4).withPrefetch(prefetch));
            DataLoader same = new DataLoader(reference, 32, DataLoader.Options.shuffled(4));
            for (int e = 0; e < 3; e++) {
                List<float[]> want = new ArrayList<>();
                for (Batch b : same.epoch(e)) {
                    want.add(b.inputs().toFloatArray());
                }
                Iterator<Batch> it = loader.epoch(e).iterator();
                for (int i = 0; it.hasNext(); i++) {
                    try (Batch b = it.next()) {
                        assertThat(b.inputs().toFloatArray()).as("prefetch %s, epoch %d, batch %d", prefetch, e, i)
                                .containsExactly(want.get(i));
                    }
                }
            }
        }
    }

    @Test
    void aBatchMadeByHandOnlyMarksItselfClosed() {
        Tensor x = Tensor.randn(Generator.seeded(1), 4, 3);
        Batch b = new Batch(x, Tensor.of(new long[] {0, 1, 2, 3}));
        b.close();
        assertThat(b.isClosed()).isTrue();
        assertThat(x.toFloatArray()).hasSize(12);
        assertThat(b).isEqualTo(new Batch(x, b.targets()));
    }

    @Test
    void onlyAWrappedFloatArrayCanBeReleasedAndOnlyOnce() {
        float[] a = {1, 2, 3};
        Tensor t = Tensor.wrapArray(a, 3);
        assertThat(t.releaseArray()).isSameAs(a);
        assertThatThrownBy(t::releaseArray).isInstanceOf(IllegalStateException.class).hasMessageContaining("already");
        assertThatThrownBy(() -> Tensor.zeros(3).releaseArray()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Tensor.wrapArray");
    }

    /** Closing from two threads at once gives the array back once (and neither close throws). */
    @Test
    void twoThreadsClosingOneBatchGiveItsArrayBackOnce() throws Exception {
        ImageDataset data = images();
        for (int round = 0; round < 200; round++) {
            Batch b = data.batch(range(round, 16));
            java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(2);
            java.util.concurrent.atomic.AtomicReference<Throwable> failed = new java.util.concurrent.atomic.AtomicReference<>();
            Runnable close = () -> {
                try {
                    start.await();
                    b.close();
                } catch (Throwable t) {
                    failed.set(t);
                }
            };
            Thread other = new Thread(close);
            other.start();
            close.run();
            other.join();
            assertThat(failed.get()).isNull();
            assertThat(data.spareArrays()).as("round %d", round).isEqualTo(1);
        }
    }

    @Test
    void aClosedBatchPrintsItsShapeNotItsValues() {
        Batch b = images().batch(range(0, 2));
        b.close();
        assertThat(b.toString()).startsWith("Batch[closed, inputs [2, 192]");
    }
}
