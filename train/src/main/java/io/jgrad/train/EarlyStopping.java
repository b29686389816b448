package io.jgrad.train;

import io.jgrad.core.Tensor;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Stops the run when a monitored figure has not improved for {@code patience} epochs, as
 * Keras's {@code EarlyStopping}: "improved" means lower by more than {@code minDelta} for a
 * figure whose name ends in {@code loss}, higher by more than {@code minDelta} otherwise. With
 * {@code restoreBest} the model gets the weights of its best epoch back when the run ends
 * (stopped or not). Place it before a checkpointing callback so that the checkpoint written at
 * the end holds the restored weights.
 */
public final class EarlyStopping implements Callback {
    private final String monitor;
    private final int patience;
    private final double minDelta;
    private final boolean restoreBest;
    private final boolean lower;
    private double best = Double.NaN;
    private int bestEpoch;
    private int waited;
    private Map<String, Tensor> bestState;

    /**
     * @param monitor     the figure to watch ({@code val_loss}, {@code val_accuracy}, ...)
     * @param patience    epochs without improvement before stopping (at least 1)
     * @param minDelta    the least change that counts as an improvement (>= 0)
     * @param restoreBest give the model its best epoch's weights at the end
     */
    public EarlyStopping(String monitor, int patience, double minDelta, boolean restoreBest) {
        if (patience < 1) {
            throw new IllegalArgumentException("EarlyStopping: patience must be at least 1, got " + patience);
        }
        if (!(minDelta >= 0) || Double.isInfinite(minDelta)) {
            throw new IllegalArgumentException("EarlyStopping: minDelta must be finite and >= 0, got " + minDelta);
        }
        this.monitor = java.util.Objects.requireNonNull(monitor, "monitor");
        this.patience = patience;
        this.minDelta = minDelta;
        this.restoreBest = restoreBest;
        this.lower = monitor.endsWith("loss");
    }

    @Override
    public void onEpochEnd(TrainState s) {
        EpochMetrics m = s.history().get(s.history().size() - 1);
        double v = m.get(monitor);
        if (!m.values().containsKey(monitor)) {
            throw new IllegalStateException("EarlyStopping: the epoch has no '" + monitor + "' (it has "
                    + m.values().keySet() + "; val_ figures need validation data)");
        }
        boolean improved = Double.isNaN(best) || (lower ? v < best - minDelta : v > best + minDelta);
        if (improved) {
            best = v;
            bestEpoch = m.epoch();
            waited = 0;
            if (restoreBest) {
                bestState = new LinkedHashMap<>();
                s.model().stateDict().forEach((k, t) -> bestState.put(k, t.detach().clone()));
            }
        } else if (++waited >= patience) {
            s.stop(String.format(Locale.ROOT, "early stopping after epoch %d: %s has not improved by more than %s "
                    + "for %d epoch%s; best %.6g at epoch %d%s", m.epoch(), monitor, minDelta, patience,
                    patience == 1 ? "" : "s", best, bestEpoch, restoreBest ? " (its weights restored)" : ""));
        }
    }

    @Override
    public void onTrainEnd(TrainState s) {
        if (restoreBest && bestState != null) {
            s.model().loadStateDict(bestState, true);
        }
    }

    /** The best value seen (NaN before the first epoch). */
    public double best() {
        return best;
    }

    /** The epoch of the best value (0 before the first epoch). */
    public int bestEpoch() {
        return bestEpoch;
    }
}
