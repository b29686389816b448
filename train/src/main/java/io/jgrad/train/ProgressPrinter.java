package io.jgrad.train;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Prints a line per epoch (its number, every figure of {@link EpochMetrics}, the time) and, when
 * the output is an interactive terminal, a progress bar during the epoch with the running loss
 * and speed. Into a log or a pipe it writes only the epoch lines: no carriage returns.
 */
public final class ProgressPrinter implements Callback {
    private final PrintStream out;
    private final boolean bar;
    private ProgressBar progress;
    private long epochStart;
    private long firstStep;
    private double lossSum;
    private boolean announced;

    /** Prints to {@code out}; a bar only when {@code out} is {@code System.out} on a terminal. */
    public ProgressPrinter(PrintStream out) {
        this(out, out == System.out && System.console() != null);
    }

    /** Prints to {@code out}, with a progress bar or not. */
    public ProgressPrinter(PrintStream out, boolean bar) {
        this.out = out;
        this.bar = bar;
    }

    @Override
    public void onTrainStart(TrainState s) {
        announced = false;
        announce(s);
    }

    /** Says where a resumed run starts, once: at the start, or later if a checkpoint callback after this one restored it. */
    private void announce(TrainState s) {
        if (announced || s.resumedStep() < 0) {
            return;
        }
        announced = true;
        String from = s.lastCheckpoint() == null ? "" : "from " + s.lastCheckpoint() + " ";
        out.printf(Locale.ROOT, "resumed %safter %d steps (epoch %d of %d)%n", from, s.resumedStep(),
                s.resumedStep() / s.stepsPerEpoch() + (s.resumedStep() % s.stepsPerEpoch() == 0 ? 0 : 1), s.epochs());
        if (s.stopReason() != null) {
            out.println("the run had stopped (" + s.stopReason() + "); nothing to train");
        } else if (s.resumedStep() >= (long) s.epochs() * s.stepsPerEpoch()) {
            out.printf(Locale.ROOT, "the run is already finished (%d epochs); nothing to train%n", s.epochs());
        }
    }

    @Override
    public void onEpochStart(TrainState s) {
        announce(s);
        epochStart = System.nanoTime();
        firstStep = s.step();
        lossSum = 0;
        if (bar) {
            progress = new ProgressBarBuilder().setTaskName(String.format(Locale.ROOT, "epoch %d/%d", s.epoch(),
                    s.epochs())).setInitialMax(s.stepsPerEpoch()).setStyle(ProgressBarStyle.ASCII)
                    .setUpdateIntervalMillis(500).continuousUpdate().setMaxRenderedLength(100).build();
            progress.stepTo(s.step() - (long) (s.epoch() - 1) * s.stepsPerEpoch());
        }
    }

    @Override
    public void onStep(TrainState s) {
        lossSum += s.stepLoss();
        if (progress != null) {
            progress.step();
            long done = s.step() - firstStep;
            if (done % 20 == 0) {
                double secs = (System.nanoTime() - epochStart) / 1e9;
                progress.setExtraMessage(String.format(Locale.ROOT, "loss %.4f  %.1f steps/s", lossSum / done,
                        done / secs));
            }
        }
    }

    @Override
    public void onEpochEnd(TrainState s) {
        closeBar();
        EpochMetrics m = s.history().get(s.history().size() - 1);
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "epoch %" + digits(s.epochs()) + "d/%d",
                m.epoch(), s.epochs()));
        for (Map.Entry<String, Double> e : m.values().entrySet()) {
            line.append("  ").append(e.getKey()).append(' ').append(format(e.getKey(), e.getValue()));
        }
        out.println(line);
    }

    @Override
    public void onTrainEnd(TrainState s) {
        announce(s);
        closeBar();
        if (s.stopReason() != null) {
            out.println(s.stopReason());
        }
    }

    private void closeBar() {
        if (progress != null) {
            progress.close();
            progress = null;
        }
    }

    private static int digits(int n) {
        return Integer.toString(n).length();
    }

    static String format(String name, double v) {
        if (name.equals("seconds")) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        if (name.equals("samples_per_second")) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        if (name.equals("lr")) {
            return String.format(Locale.ROOT, "%.5g", v);
        }
        return String.format(Locale.ROOT, "%.4f", v);
    }
}
