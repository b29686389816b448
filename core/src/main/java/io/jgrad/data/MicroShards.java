package io.jgrad.data;

import io.jgrad.core.Generator;
import java.util.Arrays;

/**
 * The example order of data-parallel training, fixed by (seed, epoch, shard) and independent of
 * how many workers share the shards. The examples 0..n-1 are dealt into {@code shards} fixed
 * micro-shards (example {@code i} belongs to shard {@code i % shards}, at position
 * {@code i / shards}); each epoch every shard is shuffled with its own generator, and step
 * {@code t} of the epoch takes the next {@code globalBatch / shards} examples of every shard. A
 * global batch is the concatenation of its micro-shards in shard order. The last incomplete
 * batch of an epoch is dropped, so every step has the same micro-shard size.
 *
 * <p>A worker that holds shards {@code a..b} needs no other data to build its part of every
 * step; {@link DataLoader#microSharded} gives the same batches on one machine (with the
 * trainer's gradient accumulation over {@code shards} micro-batches this is the single-process
 * run a cluster run must equal). Immutable and thread-safe.
 */
public final class MicroShards implements java.io.Serializable {
    private static final long serialVersionUID = 1L;

    private final int examples;
    private final int shards;
    private final int globalBatch;
    private final long seed;

    /**
     * @param examples    examples in the data set (positive)
     * @param shards      micro-shards per global batch (positive, dividing {@code globalBatch})
     * @param globalBatch examples per optimizer step
     * @param seed        seed of the per-epoch shuffles
     * @throws IllegalArgumentException when the numbers do not fit, naming them
     */
    public MicroShards(int examples, int shards, int globalBatch, long seed) {
        if (examples <= 0 || shards <= 0 || globalBatch <= 0) {
            throw new IllegalArgumentException("MicroShards: examples, shards and globalBatch must be positive, got "
                    + examples + ", " + shards + ", " + globalBatch);
        }
        if (globalBatch % shards != 0) {
            throw new IllegalArgumentException("MicroShards: the global batch " + globalBatch + " is not a multiple of "
                    + "the " + shards + " micro-shards");
        }
        this.examples = examples;
        this.shards = shards;
        this.globalBatch = globalBatch;
        this.seed = seed;
        if (stepsPerEpoch() == 0) {
            throw new IllegalArgumentException("MicroShards: " + examples + " examples in " + shards + " shards give "
                    + "no full step of " + globalBatch + " examples (each shard needs " + shardBatch() + ")");
        }
    }

    /** Examples in the data set. */
    public int examples() {
        return examples;
    }

    /** Number of micro-shards. */
    public int shards() {
        return shards;
    }

    /** Examples per step. */
    public int globalBatch() {
        return globalBatch;
    }

    /** Examples per micro-shard and step: {@code globalBatch / shards}. */
    public int shardBatch() {
        return globalBatch / shards;
    }

    /** The shuffles' seed. */
    public long seed() {
        return seed;
    }

    /** Examples in shard {@code k}: those {@code i < examples} with {@code i % shards == k}. */
    public int shardSize(int k) {
        checkShard(k);
        return (examples - k + shards - 1) / shards;
    }

    /** Full steps per epoch (the smallest shard's size over the micro-shard batch, rounded down). */
    public int stepsPerEpoch() {
        return (examples / shards) / shardBatch();
    }

    /** The shard of example {@code i}. */
    public int shardOf(long i) {
        return (int) (i % shards);
    }

    /** The position of example {@code i} inside its shard. */
    public int positionOf(long i) {
        return (int) (i / shards);
    }

    /** Shard {@code k}'s order in {@code epoch}: a permutation of its positions 0..shardSize(k)-1. */
    public int[] shardOrder(int epoch, int k) {
        checkShard(k);
        long mixed = seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L + k * 0x94D049BB133111EBL;
        return DataLoader.permutation(shardSize(k), Generator.seeded(mixed));
    }

    /** The positions (inside shard {@code k}) of micro-shard {@code k} of step {@code step} of {@code epoch}. */
    public int[] positions(int epoch, int step, int k) {
        return positions(shardOrder(epoch, k), step);
    }

    /** The positions of step {@code step}'s micro-shard in a shard whose epoch order is {@code order}. */
    public int[] positions(int[] order, int step) {
        if (step < 0 || step >= stepsPerEpoch()) {
            throw new IndexOutOfBoundsException("MicroShards: step " + step + " out of range [0, " + stepsPerEpoch()
                    + ")");
        }
        int b = shardBatch();
        return Arrays.copyOfRange(order, step * b, step * b + b);
    }

    /**
     * The example indices of all of {@code epoch}'s steps, step after step, each step's global
     * batch its micro-shards in shard order: {@code stepsPerEpoch() * globalBatch} indices.
     */
    public int[] epochOrder(int epoch) {
        int steps = stepsPerEpoch();
        int b = shardBatch();
        int[] out = new int[steps * globalBatch];
        for (int k = 0; k < shards; k++) {
            int[] order = shardOrder(epoch, k);
            for (int t = 0; t < steps; t++) {
                for (int j = 0; j < b; j++) {
                    out[t * globalBatch + k * b + j] = order[t * b + j] * shards + k;
                }
            }
        }
        return out;
    }

    private void checkShard(int k) {
        if (k < 0 || k >= shards) {
            throw new IndexOutOfBoundsException("MicroShards: shard " + k + " out of range [0, " + shards + ")");
        }
    }

    @Override
    public String toString() {
        return "MicroShards[examples=" + examples + ", shards=" + shards + ", globalBatch=" + globalBatch + ", seed="
                + seed + "]";
    }
}
