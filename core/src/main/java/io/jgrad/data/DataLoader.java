package io.jgrad.data;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.Generator;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Batches of a dataset, epoch by epoch, like PyTorch's {@code DataLoader}: iterating the loader
 * runs one epoch, and each new iteration the next one ({@code for (Batch b : loader)} in a loop
 * over epochs). Each epoch's order is a permutation drawn from a generator seeded with
 * (seed, epoch), so any epoch (and any batch within it) can be reproduced exactly with
 * {@link #epoch(int, int)}, which is what resuming needs. Each batch is gathered when it is asked
 * for, or with {@link Options#withPrefetch} ahead on a background thread, a few at a time.
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
    /**
     * Batches the prefetch thread gathers per task. Waking that thread is a system call on the caller's
     * thread (about 50 µs of each W1 step on this project's machine when it was woken for every batch,
     * more than the gather itself); a chunk of batches needs one wake-up. At most {@link #LOW} − 1 +
     * CHUNK batches are held ahead.
     */
    private static final int CHUNK = 4;
    /** A new chunk is asked for when fewer than this many batches are pending. */
    private static final int LOW = 4;
    /** Whether batches are gathered ahead on {@link #prefetch} ({@link Options#prefetch()}). */
    private final boolean prefetchOn;
    /** The prefetch thread, started with the first epoch that uses it. */
    private ExecutorService prefetch;

    private synchronized ExecutorService prefetcher() {
        if (prefetch == null) {
            prefetch = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "jgrad-prefetch");
                t.setDaemon(true);
                return t;
            });
        }
        return prefetch;
    }

    /**
     * How a loader orders and cuts its batches: {@link #IN_ORDER} (the dataset's order, a smaller
     * last batch kept, PyTorch's defaults) or {@link #shuffled(long)}, each with
     * {@link #withDropLast(boolean)} and {@link #withPrefetch(boolean)}.
     *
     * @param shuffle  a fresh seeded permutation each epoch (else dataset order)
     * @param seed     seed of the permutations
     * @param dropLast skip a last batch smaller than the batch size
     * @param prefetch gather the next batches on a background thread while the current one is used
     *                 (else on the caller's thread when it asks, like PyTorch's {@code num_workers=0})
     */
    public record Options(boolean shuffle, long seed, boolean dropLast, boolean prefetch) {
        /** The dataset's order, every example (a smaller last batch kept), gathered when asked for. */
        public static final Options IN_ORDER = new Options(false, 0, false, false);

        /** Options without a prefetch thread. */
        public Options(boolean shuffle, long seed, boolean dropLast) {
            this(shuffle, seed, dropLast, false);
        }

        /** A new permutation each epoch, drawn from {@code seed} and the epoch number. */
        public static Options shuffled(long seed) {
            return new Options(true, seed, false, false);
        }

        /** These options, skipping (or keeping) a last batch smaller than the batch size. */
        public Options withDropLast(boolean drop) {
            return new Options(shuffle, seed, drop, prefetch);
        }

        /**
         * These options, with the batches gathered ahead on a background thread (or not). Worth it
         * where a batch costs more than handing it between threads: the in-memory datasets here gather
         * a batch of 128 images in about 60 µs, while waking another thread cost a W1 step 50 µs or
         * more on this project's two-core machine (the woken thread took the waker's core), so they
         * gather on the caller's thread by default.
         */
        public Options withPrefetch(boolean on) {
            return new Options(shuffle, seed, dropLast, on);
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
        this.prefetchOn = options.prefetch();
        this.shards = null;
    }

    private DataLoader(Dataset dataset, MicroShards shards) {
        this.dataset = dataset;
        this.batchSize = shards.globalBatch();
        this.shuffle = true;
        this.seed = shards.seed();
        this.dropLast = true;
        this.prefetchOn = false;
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

    /** The dataset indices of batch {@code b} of an epoch in {@code order} (null: the dataset's order). */
    private int[] indices(int[] order, int b) {
        int from = b * batchSize;
        int to = Math.min(dataset.size(), from + batchSize);
        int[] idx = new int[to - from];
        for (int k = 0; k < idx.length; k++) {
            idx[k] = order == null ? from + k : order[from + k];
        }
        return idx;
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
        if (!prefetchOn) {
            return () -> new Iterator<>() {
                private int next = start;

                @Override
                public boolean hasNext() {
                    return next < batchesPerEpoch();
                }

                @Override
                public Batch next() {
                    if (!hasNext()) {
                        throw new NoSuchElementException();
                    }
                    Batch b = dataset.batch(indices(order, next)); // a batch that fails fails again if asked again
                    next++;
                    return b;
                }
            };
        }
        return () -> new Iterator<>() {
            /** The batches asked of the prefetch thread and not handed out yet, in order. */
            private final ArrayDeque<CompletableFuture<Batch>> ahead = new ArrayDeque<>();
            /** The first batch not asked for yet. */
            private int asked = start;

            {
                refill();
            }

            /**
             * Asks the prefetch thread for the next {@link #CHUNK} batches in one task when fewer than
             * {@link #LOW} are pending: one wake-up of that thread per chunk, not per batch.
             */
            private void refill() {
                if (ahead.size() >= LOW || asked >= batchesPerEpoch()) {
                    return;
                }
                int first = asked;
                int last = Math.min(batchesPerEpoch(), first + CHUNK);
                List<CompletableFuture<Batch>> chunk = new ArrayList<>(last - first);
                List<int[]> indices = new ArrayList<>(last - first);
                for (int b = first; b < last; b++) {
                    indices.add(indices(order, b));
                    CompletableFuture<Batch> f = new CompletableFuture<>();
                    chunk.add(f);
                    ahead.add(f);
                }
                asked = last;
                prefetcher().execute(() -> {
                    for (int i = 0; i < chunk.size(); i++) {
                        try {
                            chunk.get(i).complete(dataset.batch(indices.get(i)));
                        } catch (RuntimeException | Error e) {
                            chunk.get(i).completeExceptionally(e);
                        }
                    }
                });
            }

            @Override
            public boolean hasNext() {
                return !ahead.isEmpty();
            }

            @Override
            public Batch next() {
                if (ahead.isEmpty()) {
                    throw new NoSuchElementException();
                }
                Batch b;
                try {
                    b = ahead.peek().get(); // taken off only once it is there: a failed batch fails again if asked again
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while loading a batch", e);
                } catch (ExecutionException e) {
                    throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
                }
                ahead.poll();
                refill();
                return b;
            }
        };
    }
}
