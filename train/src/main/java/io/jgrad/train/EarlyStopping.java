package io.jgrad.train;

import io.jgrad.core.Tensor;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Stops the run when a monitored figure has not improved for {@code patience} epochs, as
 * Keras's {@code EarlyStopping}: "improved" means lower by more than {@code minDelta} in
 * {@link Mode#MIN}, higher in {@link Mode#MAX}; {@link Mode#AUTO} maximises figures whose name
 * holds {@code acc}, {@code f1}, {@code precision}, {@code recall} or {@code auc} and minimises
 * the rest. With {@code restoreBest} the model in memory gets the weights of its best epoch back
 * when the run ends (stopped or not); checkpoints keep the training state of their step, so that
 * a resume continues the run. On a resume the counts are rebuilt from the run's history, so a
 * resumed run stops where a straight one would; the best weights of an epoch before the resume
 * are not in memory, which is logged, and are restored only if a later epoch beats them.
 */
public final class EarlyStopping implements Callback {
    private final String monitor;
    private final int patience;
    private final double minDelta;
    private final boolean restoreBest;
    private final boolean lower;
    private static final System.Logger LOG = System.getLogger(EarlyStopping.class.getName());

    /** Whether the monitored figure should fall or rise. */
    public enum Mode {
        /** Lower is better. */
        MIN,
        /** Higher is better. */
        MAX,
        /** MAX for accuracy-like names (acc, f1, precision, recall, auc), MIN otherwise. */
        AUTO
    }
    private double best = Double.NaN;
    private int bestEpoch;
    private int waited;
    private Map<String, Tensor> bestState;
    private boolean replayed;

    /**
     * @param monitor     the figure to watch ({@code val_loss}, {@code val_accuracy}, ...)
     * @param patience    epochs without improvement before stopping (at least 1)
     * @param minDelta    the least change that counts as an improvement (>= 0)
     * @param restoreBest give the model its best epoch's weights at the end
     */
    public EarlyStopping(String monitor, int patience, double minDelta, boolean restoreBest) {
        this(monitor, Mode.AUTO, patience, minDelta, restoreBest);
    }

    /** As {@link #EarlyStopping(String, int, double, boolean)}, with the direction given. */
    public EarlyStopping(String monitor, Mode mode, int patience, double minDelta, boolean restoreBest) {
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
        String n = monitor.toLowerCase(java.util.Locale.ROOT);
        this.lower = switch (java.util.Objects.requireNonNull(mode, "mode")) {
            case MIN -> true;
            case MAX -> false;
            case AUTO -> !(n.contains("acc") || n.contains("f1") || n.contains("precision") || n.contains("recall")
                    || n.contains("auc"));
        };
    }

    @Override
    public void onTrainStart(TrainState s) {
        best = Double.NaN;
        bestEpoch = 0;
        waited = 0;
        bestState = null;
        replayed = false; // the history is read at the first epoch's end: a checkpoint restores it at the start,
        // possibly after this callback's own start
    }

    /** Counts the epochs before this session's first (a resumed run's) as they counted. */
    private void replay(TrainState s) {
        java.util.List<EpochMetrics> h = s.history();
        for (EpochMetrics m : h.subList(0, h.size() - 1)) {
            if (m.values().containsKey(monitor)) {
                judge(m.get(monitor), m.epoch());
            }
        }
        if (restoreBest && bestEpoch > 0) {
            LOG.log(System.Logger.Level.WARNING, "EarlyStopping: the best " + monitor + " so far is epoch " + bestEpoch
                    + "'s, before the resume; its weights are not in memory and are restored only if a later epoch "
                    + "beats it");
        }
        replayed = true;
    }

    /** Updates best and patience with epoch {@code epoch}'s value; true when it improved. */
    private boolean judge(double v, int epoch) {
        boolean improved = Double.isNaN(best) || (lower ? v < best - minDelta : v > best + minDelta);
        if (improved) {
            best = v;
            bestEpoch = epoch;
            waited = 0;
        } else {
            waited++;
        }
        return improved;
    }

    @Override
    public void onEpochEnd(TrainState s) {
        if (!replayed) {
            replay(s);
        }
        EpochMetrics m = s.history().get(s.history().size() - 1);
        double v = m.get(monitor);
        if (!m.values().containsKey(monitor)) {
            throw new IllegalStateException("EarlyStopping: the epoch has no '" + monitor + "' (it has "
                    + m.values().keySet() + "; val_ figures need validation data)");
        }
        if (judge(v, m.epoch())) {
            if (restoreBest) {
                bestState = new LinkedHashMap<>();
                s.model().stateDict().forEach((k, t) -> bestState.put(k, t.detach().clone()));
            }
        } else if (waited >= patience) {
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
