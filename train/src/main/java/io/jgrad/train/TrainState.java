package io.jgrad.train;

import io.jgrad.core.Block;
import io.jgrad.optim.Optimizer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What a run's callbacks see: the model, the optimizer, where the run is (epoch, step) and the
 * figures of every epoch done so far (also those of a resumed run's earlier part). A callback
 * stops the run with {@link #stop(String)}; the trainer finishes the current step and ends.
 */
public final class TrainState {
    private final Block model;
    private final Optimizer<?> optimizer;
    private final int epochs;
    private final int stepsPerEpoch;
    private final List<EpochMetrics> history = new ArrayList<>();
    private int epoch;
    private long step;
    private double stepLoss = Double.NaN;
    private String stopReason;
    private boolean paused;
    private long resumedStep = -1;
    private String lastCheckpoint;
    private double epochLossSum;
    private long epochCorrect;
    private long epochSeen;

    TrainState(Block model, Optimizer<?> optimizer, int epochs, int stepsPerEpoch) {
        this.model = model;
        this.optimizer = optimizer;
        this.epochs = epochs;
        this.stepsPerEpoch = stepsPerEpoch;
    }

    /** The model being trained. */
    public Block model() {
        return model;
    }

    /** Its optimizer. */
    public Optimizer<?> optimizer() {
        return optimizer;
    }

    /** The epochs the run trains for in total. */
    public int epochs() {
        return epochs;
    }

    /** Optimizer steps per epoch. */
    public int stepsPerEpoch() {
        return stepsPerEpoch;
    }

    /** The epoch under way (from 1), or the last one done after the run. */
    public int epoch() {
        return epoch;
    }

    /** Optimizer steps done in total, a resumed run's earlier ones included. */
    public long step() {
        return step;
    }

    /** Whether the step just done ends its epoch. */
    public boolean atEpochEnd() {
        return step > 0 && step % stepsPerEpoch == 0;
    }

    /** The loss of the step just done (NaN before the first). */
    public double stepLoss() {
        return stepLoss;
    }

    /** The figures of every epoch done, oldest first (read-only). */
    public List<EpochMetrics> history() {
        return Collections.unmodifiableList(history);
    }

    /** Asks the trainer to stop after the current step; {@code reason} says why (kept, first one wins). */
    public void stop(String reason) {
        if (stopReason == null) {
            stopReason = reason;
        }
    }

    /** For the trainer's {@code stopAfter}: a stop meant to be resumed (a checkpoint does not keep it). */
    void pause(String reason) {
        if (stopReason == null) {
            stopReason = reason;
            paused = true;
        }
    }

    /** Whether the run was stopped for good (by a callback), not paused to be resumed. */
    public boolean stoppedForGood() {
        return stopReason != null && !paused;
    }

    /** Why the run was asked to stop, or null. */
    public String stopReason() {
        return stopReason;
    }

    /**
     * Sets where a resumed run starts: after {@code step} optimizer steps, with the figures of the
     * epochs done before. For a callback that restores a checkpoint in {@link Callback#onTrainStart}
     * (the model's and optimizer's state are its to restore).
     */
    public void resumeAt(long step, List<EpochMetrics> earlier) {
        if (step < 0 || step > (long) epochs * stepsPerEpoch) {
            throw new IllegalArgumentException("resumeAt: step " + step + " is outside this run's 0 to "
                    + (long) epochs * stepsPerEpoch + " steps (" + epochs + " epochs of " + stepsPerEpoch + ")");
        }
        this.step = step;
        this.resumedStep = step;
        this.epoch = (int) (step / stepsPerEpoch);
        history.clear();
        history.addAll(earlier);
    }

    /** The step a resume started at, or -1 for a run that started afresh. */
    public long resumedStep() {
        return resumedStep;
    }

    /** The newest checkpoint written or restored, as a checkpointing callback reports it; null if none. */
    public String lastCheckpoint() {
        return lastCheckpoint;
    }

    /** For a checkpointing callback: records the newest checkpoint ("none" before the first). */
    public void setLastCheckpoint(String file) {
        this.lastCheckpoint = file;
    }

    /**
     * The running sums of the epoch under way: loss × examples, examples classified right (-1
     * when the targets are not classes) and examples seen. A checkpoint written inside an epoch
     * keeps them, so that a resumed epoch's figures are those of the whole epoch.
     */
    public double[] epochProgress() {
        return new double[] {epochLossSum, epochCorrect, epochSeen};
    }

    /** For a callback restoring a checkpoint written inside an epoch: the sums {@link #epochProgress()} gave. */
    public void restoreEpochProgress(double lossSum, long correct, long seen) {
        this.epochLossSum = lossSum;
        this.epochCorrect = correct;
        this.epochSeen = seen;
    }

    // ------------------------------------------------------------------ the trainer's side

    void resetEpochProgress() {
        epochLossSum = 0;
        epochCorrect = 0;
        epochSeen = 0;
    }

    void addToEpoch(double loss, long right, int examples) {
        epochLossSum += loss * examples;
        epochCorrect = epochCorrect < 0 || right < 0 ? -1 : epochCorrect + right;
        epochSeen += examples;
    }

    void startEpoch(int e) {
        epoch = e;
    }

    void stepDone(double loss) {
        step++;
        stepLoss = loss;
    }

    void epochDone(EpochMetrics m) {
        history.add(m);
    }
}
