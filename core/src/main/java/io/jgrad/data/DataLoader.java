package io.jgrad.data;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.Generator;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Batches of a dataset, epoch by epoch, like PyTorch's {@code DataLoader}: iterating the loader
 * runs one epoch, and each new iteration the next one ({@code for (Batch b : loader)} in a loop
 * over epochs). Each epoch's order is a permutation drawn from a generator seeded with
 * (seed, epoch), so any epoch (and any batch within it) can be reproduced exactly with
 * {@link #epoch(int, int)}, which is what resuming needs. The next batch is prepared on a
 * background thread while the current one is used.
 *
 * <pre>{@code
 * DataLoader test = new DataLoader(testSet, 1000);                                  // in order, every example
 * DataLoader train = new DataLoader(trainSet, 128, DataLoader.Options.shuffled(seed)); // a new order each epoch
 * for (int e = 0; e < epochs; e++) {
 *     for (Batch b : train) { ... }
 * }
 * }</pre>
 *
 * <p>Thread safety: a loader may be shared, but each epoch's iterator belongs to one thread;
 * the dataset must allow {@code batch} to be called from the prefetch thread (the datasets here
 * only read their data).
 */
public final class DataLoader implements Iterable<Batch> {
    private final Dataset dataset;
    private final int batchSize;
    private final boolean shuffle;
    private final long seed;
    private final boolean dropLast;
    private final MicroShards shards;
    private final AtomicInteger nextEpoch = new AtomicInteger();
    private final ExecutorService prefetch = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "jgrad-prefetch");
        t.setDaemon(true);
        return t;
    });

    /**
     * How a loader orders and cuts its batches: {@link #IN_ORDER} (the dataset's order, a smaller
     * last batch kept, PyTorch's defaults) or {@link #shuffled(long)}, each with
     * {@link #withDropLast(boolean)}.
     *
     * @param shuffle  a fresh seeded permutation each epoch (else dataset order)
     * @param seed     seed of the permutations
     * @param dropLast skip a last batch smaller than the batch size
     */
    public record Options(boolean shuffle, long seed, boolean dropLast) {
        /** The dataset's order, every example (a smaller last batch kept). */
        public static final Options IN_ORDER = new Options(false, 0, false);

        /** A new permutation each epoch, drawn from {@code seed} and the epoch number. */
        public static Options shuffled(long seed) {
            return new Options(true, seed, false);
        }

        /** These options, skipping (or keeping) a last batch smaller than the batch size. */
        public Options withDropLast(boolean drop) {
            return new Options(shuffle, seed, drop);
        }
    }

    /** Batches of {@code batchSize} in the dataset's order ({@link Options#IN_ORDER}). */
    public DataLoader(Dataset dataset, int batchSize) {
        this(dataset, batchSize, Options.IN_ORDER);
    }

    /**
     * Batches of {@code batchSize} (positive) ordered and cut as {@code options} say.
     *
     * @throws IllegalArgumentException if the batch size is not positive or an argument is null
     */
    public DataLoader(Dataset dataset, int batchSize, Options options) {
        checkArgument(dataset != null && options != null, "DataLoader: dataset and options are required");
        checkArgument(batchSize > 0, "DataLoader: batch size must be positive, got %s", batchSize);
        this.dataset = dataset;
        this.batchSize = batchSize;
        this.shuffle = options.shuffle();
        this.seed = options.seed();
        this.dropLast = options.dropLast();
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

    /**
     * The batches of the next epoch: the first call gives epoch 0, the next epoch 1, and so on
     * (as each pass over a PyTorch loader draws a new order).
     */
    @Override
    public Iterator<Batch> iterator() {
        return epoch(nextEpoch.getAndIncrement()).iterator();
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
