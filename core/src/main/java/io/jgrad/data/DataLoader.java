package io.jgrad.data;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.Generator;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Batches of a dataset, epoch by epoch. Each epoch's order is a permutation drawn from a
 * generator seeded with (seed, epoch), so any epoch (and any batch within it) can be
 * reproduced exactly, which is what resuming needs. The next batch is prepared on a
 * background thread while the current one is used.
 *
 * <p>Thread safety: a loader may be shared, but each epoch's iterator belongs to one thread;
 * the dataset must allow {@code batch} to be called from the prefetch thread (the datasets here
 * only read their data).
 */
public final class DataLoader {
    private final Dataset dataset;
    private final int batchSize;
    private final boolean shuffle;
    private final long seed;
    private final boolean dropLast;
    private final MicroShards shards;
    private final ExecutorService prefetch = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "jgrad-prefetch");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param batchSize examples per batch (positive)
     * @param shuffle   a fresh seeded permutation each epoch (else dataset order)
     * @param seed      seed of the permutations
     * @param dropLast  skip a last batch smaller than batchSize
     */
    public DataLoader(Dataset dataset, int batchSize, boolean shuffle, long seed, boolean dropLast) {
        checkArgument(batchSize > 0, "DataLoader: batch size must be positive, got %s", batchSize);
        this.dataset = dataset;
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.seed = seed;
        this.dropLast = dropLast;
        this.shards = null;
    }

    private DataLoader(Dataset dataset, MicroShards shards) {
        this.dataset = dataset;
        this.batchSize = shards.globalBatch();
        this.shuffle = true;
        this.seed = shards.seed();
        this.dropLast = true;
        this.shards = shards;
    }

    /**
     * Batches in the order of data-parallel training over {@code shards} (see {@link MicroShards}):
     * each batch is a global batch, its micro-shards in shard order, so that a trainer that
     * accumulates gradients over {@code shards.shards()} micro-batches takes the steps a cluster
     * run takes.
     *
     * @throws IllegalArgumentException when {@code shards} was made for another number of examples
     */
    public static DataLoader microSharded(Dataset dataset, MicroShards shards) {
        checkArgument(shards.examples() == dataset.size(), "DataLoader: the micro-shards are for %s examples, the "
                + "dataset has %s", shards.examples(), dataset.size());
        return new DataLoader(dataset, shards);
    }

    /** Number of batches per epoch. */
    public int batchesPerEpoch() {
        if (shards != null) {
            return shards.stepsPerEpoch();
        }
        int n = dataset.size();
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    /** A Fisher-Yates permutation of [0, n) from {@code rng}. */
    static int[] permutation(int n, Generator rng) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /**
     * The example order of {@code epoch} (the identity when not shuffling; for a
     * {@linkplain #microSharded micro-sharded} loader, only the examples its full steps use).
     */
    public int[] order(int epoch) {
        if (shards != null) {
            return shards.epochOrder(epoch);
        }
        if (!shuffle) {
            int[] p = new int[dataset.size()];
            for (int i = 0; i < p.length; i++) {
                p[i] = i;
            }
            return p;
        }
        return permutation(dataset.size(), Generator.seeded(seed * 0x9E3779B97F4A7C15L + epoch));
    }

    /** The batches of {@code epoch}. */
    public Iterable<Batch> epoch(int epoch) {
        return epoch(epoch, 0);
    }

    /** The batches of {@code epoch} from batch {@code start} on (to resume in the middle of an epoch). */
    public Iterable<Batch> epoch(int epoch, int start) {
        checkArgument(start >= 0 && start <= batchesPerEpoch(), "DataLoader: start batch %s out of range [0, %s]", start,
                batchesPerEpoch());
        int[] order = shuffle ? order(epoch) : null;
        return () -> new Iterator<>() {
            private int next = start;
            private Future<Batch> ahead = submit(start);

            private Future<Batch> submit(int b) {
                if (b >= batchesPerEpoch()) {
                    return null;
                }
                int from = b * batchSize;
                int to = Math.min(dataset.size(), from + batchSize);
                int[] idx = new int[to - from];
                for (int k = 0; k < idx.length; k++) {
                    idx[k] = order == null ? from + k : order[from + k];
                }
                return prefetch.submit(() -> dataset.batch(idx));
            }

            @Override
            public boolean hasNext() {
                return ahead != null;
            }

            @Override
            public Batch next() {
                if (ahead == null) {
                    throw new NoSuchElementException();
                }
                Batch b;
                try {
                    b = ahead.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while loading a batch", e);
                } catch (ExecutionException e) {
                    throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
                }
                next++;
                ahead = submit(next);
                return b;
            }
        };
    }
}
