package io.jgrad.train;

import java.util.List;

/**
 * What a {@link Trainer#fit} run did: the figures of every epoch (a resumed run's earlier ones
 * included), the optimizer steps done in total, why it stopped early (null when it ran its
 * epochs) and the step it resumed at (-1 when it started afresh).
 */
public record History(List<EpochMetrics> epochs, long steps, String stopReason, long resumedStep) {
    /** Copies the list. */
    public History {
        epochs = List.copyOf(epochs);
    }

    /** The last epoch's figures, or null when no epoch was completed. */
    public EpochMetrics last() {
        return epochs.isEmpty() ? null : epochs.get(epochs.size() - 1);
    }

    /**
     * {@code epochs} as a JSON array without the timing figures ({@code seconds},
     * {@code samples_per_second}), numbers written exactly: what a checkpoint carries, so that
     * its bytes depend on the run and not on the machine's speed.
     */
    public static String toJson(List<EpochMetrics> epochs) {
        return HistoryJson.array(epochs);
    }

    /** Reads what {@link #toJson} wrote; throws {@link java.io.IOException} naming the problem otherwise. */
    public static List<EpochMetrics> fromJson(String json) throws java.io.IOException {
        return HistoryJson.read(json);
    }

    /** The values of {@code name}, one per epoch (NaN where an epoch lacks it). */
    public double[] values(String name) {
        return epochs.stream().mapToDouble(e -> e.get(name)).toArray();
    }
}
