package io.jgrad.train;

import java.io.IOException;

/**
 * Code the {@link Trainer} calls at the points of a run, with the run's {@link TrainState}
 * (which it may read, and through which it may stop the run). Every method does nothing by
 * default. Callbacks run in the order they were given, on the training thread.
 */
public interface Callback {
    /** Before the first step (after a resume has restored its state, for the callbacks after it). */
    default void onTrainStart(TrainState state) throws IOException {}

    /** Before the first step of each epoch (also a resumed, partly done one). */
    default void onEpochStart(TrainState state) throws IOException {}

    /** After each optimizer step; {@link TrainState#stepLoss()} is its loss. */
    default void onStep(TrainState state) throws IOException {}

    /** After each epoch; its figures are the last entry of {@link TrainState#history()}. */
    default void onEpochEnd(TrainState state) throws IOException {}

    /** After the last step, whether the run finished, was stopped, or had nothing left to do. */
    default void onTrainEnd(TrainState state) throws IOException {}
}
