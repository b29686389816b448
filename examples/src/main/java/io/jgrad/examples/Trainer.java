package io.jgrad.examples;

import io.jgrad.core.Autograd;
import io.jgrad.core.Module;
import io.jgrad.core.NonFiniteException;
import io.jgrad.core.Tensor;
import io.jgrad.data.Batch;
import io.jgrad.data.DataLoader;
import io.jgrad.data.Dataset;
import io.jgrad.io.Safetensors;
import io.jgrad.optim.Optimizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

/**
 * The training loop every example shares: epochs of minibatch steps with a progress bar, a log
 * line per epoch, loss and accuracy curves as PNG, an atomic checkpoint per epoch from which
 * {@code --resume} continues bit-exactly, and a stop with a clear message if the loss or a
 * gradient turns NaN or infinite (a non-finite model never overwrites a good checkpoint).
 */
final class Trainer {
    /** Per-epoch figures. */
    record Epoch(int epoch, double trainLoss, double trainAccuracy, double testAccuracy, double seconds,
                 double samplesPerSecond) {}

    private final Module model;
    private final Optimizer<?> optimizer;
    private final BiFunction<Tensor, Tensor, Tensor> loss;
    private final Path out;
    private final String name;
    private final String config;
    private final String options;
    private final List<Epoch> history = new ArrayList<>();
    private io.jgrad.io.CheckpointStore store;
    private io.jgrad.optim.LrSchedule schedule;
    private String dataFingerprint = "";
    private int checkpointEvery;
    private long stopAfter;

    /** Records which data the run trains on; resuming on other data warns. */
    Trainer withData(String fingerprint) {
        this.dataFingerprint = fingerprint;
        return this;
    }

    /** Also checkpoints every {@code steps} optimizer steps (0: only at the end of each epoch). */
    Trainer withCheckpointEvery(int steps) {
        this.checkpointEvery = steps;
        return this;
    }

    /** Stops after {@code steps} optimizer steps in total, checkpointing there (0: no limit); for interrupting on purpose. */
    Trainer withStopAfter(long steps) {
        this.stopAfter = steps;
        return this;
    }

    /** Steps {@code s} after every epoch (and sets it to the resumed epoch on resume). */
    Trainer withSchedule(io.jgrad.optim.LrSchedule s) {
        this.schedule = s;
        return this;
    }

    /**
     * @param config  the options that shape training (a checkpoint from other ones is refused on resume)
     * @param options all options, for the RESULT line
     */
    Trainer(String name, Module model, Optimizer<?> optimizer, BiFunction<Tensor, Tensor, Tensor> loss, Path out,
            String config, String options) {
        this.options = options;
        this.name = name;
        this.model = model;
        this.optimizer = optimizer;
        this.loss = loss;
        this.out = out;
        this.config = config;
        this.store = new io.jgrad.io.CheckpointStore(out, name + "-step", 3);
    }

    List<Epoch> history() {
        return history;
    }

    /** The checkpoint file after {@code step} optimizer steps in total. */
    Path checkpoint(long step) {
        return store.file(step);
    }

    /**
     * Starts a new run (not a resume): refuses when the output folder already holds checkpoints
     * of this run's name, naming the folder and what it holds, unless {@code overwrite}; then the
     * earlier run's checkpoints are replaced as this run saves its own. Returns 0 steps done.
     */
    long startFresh(boolean overwrite) throws IOException {
        var steps = store.steps();
        if (steps.isEmpty()) {
            return 0;
        }
        String held = "checkpoints of run '" + name + "' (" + steps.size() + " file" + (steps.size() == 1 ? "" : "s")
                + ", newest " + steps.lastEntry().getValue().getFileName() + " after " + steps.lastKey() + " steps)";
        if (!overwrite) {
            throw new java.nio.file.FileAlreadyExistsException(out.toString(), null, "holds " + held
                    + "; pass --resume to continue that run, --overwrite to replace it, or another --out");
        }
        System.err.println("warning: --overwrite: " + out + " holds " + held + "; they are replaced as this run "
                + "saves its own checkpoints");
        store = store.overwriting();
        return 0;
    }

    /**
     * Loads the newest loadable checkpoint in the output folder (a damaged newest one is skipped
     * with a warning); returns the number of optimizer steps it had done, or 0.
     */
    long resume() throws IOException {
        var found = store.loadLatest();
        if (found.isEmpty()) {
            return 0;
        }
        var l = found.get();
        l.warnings().forEach(w -> System.err.println("warning: " + w));
        if (store.steps().lastKey() > l.step()) { // newer files did not load: the next checkpoint replaces them
            store = store.overwriting();
        }
        Safetensors.Contents c = l.contents();
        if (!config.equals(c.metadata().get("config"))) {
            throw new IOException(l.file() + " was written with other options: " + c.metadata().get("config"));
        }
        if (!dataFingerprint.equals(c.metadata().getOrDefault("data", ""))) {
            System.err.println("warning: resuming on different data: " + l.file() + " was trained on data "
                    + c.metadata().get("data") + ", this run has " + dataFingerprint);
        }
        Map<String, Tensor> modelState = new LinkedHashMap<>();
        Map<String, Tensor> optimState = new LinkedHashMap<>();
        c.tensors().forEach((k, v) -> {
            if (k.startsWith("model.")) {
                modelState.put(k.substring(6), v);
            } else if (k.startsWith("optim.")) {
                optimState.put(k.substring(6), v);
            }
        });
        model.loadStateDict(modelState, true);
        optimizer.loadStateDict(optimState);
        System.out.println("resumed from " + l.file());
        return l.step();
    }

    private Path save(long step) throws IOException {
        Map<String, Tensor> all = new LinkedHashMap<>();
        model.stateDict().forEach((k, v) -> all.put("model." + k, v));
        optimizer.stateDict().forEach((k, v) -> all.put("optim." + k, v));
        for (var e : all.entrySet()) {
            if (!e.getValue().allFinite()) {
                throw new NonFiniteException("refusing to save a non-finite model: " + e.getKey() + " has NaN or Inf");
            }
        }
        return store.save(step, all, Map.of("config", config, "data", dataFingerprint, "step", Long.toString(step)));
    }

    private String lastGood(long step) throws IOException {
        var steps = store.steps();
        return steps.isEmpty() ? "none" : steps.lastEntry().getValue().toString();
    }

    /**
     * Trains until {@code epochs} epochs are done, starting after {@code done} optimizer steps
     * (0, or what {@link #resume()} returned: the data order of each epoch is a function of the
     * seed, so the run continues exactly where it stopped). Returns the steps done in total.
     */
    long fit(DataLoader train, Dataset test, long done, int epochs) throws IOException {
        Files.createDirectories(out);
        int perEpoch = train.batchesPerEpoch();
        long step = done;
        if (schedule != null) {
            schedule.setEpoch((int) (done / perEpoch));
        }
        for (int epoch = (int) (done / perEpoch) + 1; epoch <= epochs; epoch++) {
            model.train();
            double lossSum = 0;
            long correct = 0;
            long seen = 0;
            long start = System.nanoTime();
            int first = (int) (step - (long) (epoch - 1) * perEpoch);
            ProgressBarBuilder builder = new ProgressBarBuilder().setTaskName(String.format("epoch %d/%d", epoch,
                    epochs)).setInitialMax(perEpoch).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500)
                    .continuousUpdate().setMaxRenderedLength(100);
            if (System.console() == null) { // a log or a pipe: no bar (the epoch lines say enough), no carriage returns
                builder.setConsumer(new DelegatingProgressBarConsumer(line -> { }));
            }
            try (ProgressBar bar = builder.build()) {
                bar.stepTo(first);
                for (Batch b : train.epoch(epoch - 1, first)) {
                    step++;
                    Tensor scores = model.forward(b.inputs());
                    Tensor l = loss.apply(scores, b.targets());
                    double lv = l.item();
                    if (!Double.isFinite(lv)) {
                        throw new NonFiniteException(String.format(Locale.ROOT,
                                "loss is %s at epoch %d step %d; last good checkpoint: %s", lv, epoch, step,
                                lastGood(step)));
                    }
                    optimizer.zeroGrad();
                    l.backward();
                    for (var p : model.namedParameters().entrySet()) {
                        if (p.getValue().grad() != null && !p.getValue().grad().allFinite()) {
                            throw new NonFiniteException(String.format(Locale.ROOT,
                                    "gradient of %s is not finite at epoch %d step %d; last good checkpoint: %s",
                                    p.getKey(), epoch, step, lastGood(step)));
                        }
                    }
                    optimizer.step();
                    lossSum += lv * b.size();
                    try (var s = Autograd.noGrad()) {
                        correct += (long) scores.argmax(1).eq(b.targets()).sum().item();
                    }
                    seen += b.size();
                    bar.step();
                    if (step % 20 == 0) {
                        double secs = (System.nanoTime() - start) / 1e9;
                        bar.setExtraMessage(String.format(Locale.ROOT, "loss %.4f  %.0f samples/s", lossSum / seen,
                                seen / secs));
                    }
                    boolean lastOfEpoch = step == (long) epoch * perEpoch;
                    if (!lastOfEpoch && checkpointEvery > 0 && step % checkpointEvery == 0) {
                        save(step);
                    }
                    if (stopAfter > 0 && step >= stopAfter && !lastOfEpoch) {
                        save(step);
                        System.out.println("stopped after " + step + " steps as asked; resume with --resume");
                        return step;
                    }
                }
            }
            double secs = (System.nanoTime() - start) / 1e9;
            double testAcc = accuracy(test);
            Epoch e = new Epoch(epoch, seen == 0 ? 0 : lossSum / seen, seen == 0 ? 0 : (double) correct / seen, testAcc,
                    secs, seen / secs);
            history.add(e);
            System.out.printf(Locale.ROOT, "epoch %2d  train loss %.4f  train acc %.4f  test acc %.4f  %.1f s  "
                    + "%.0f samples/s  lr %.5f%n", epoch, e.trainLoss(), e.trainAccuracy(), testAcc, secs,
                    e.samplesPerSecond(), optimizer.learningRate(0));
            if (schedule != null) {
                schedule.step();
            }
            save(step);
            if (stopAfter > 0 && step >= stopAfter) {
                System.out.println("stopped after " + step + " steps as asked; resume with --resume");
                return step;
            }
        }
        return step;
    }

    /** Accuracy of the model (in eval mode) on a dataset. */
    double accuracy(Dataset data) {
        model.eval();
        long correct = 0;
        try (var s = Autograd.noGrad()) {
            for (Batch b : new DataLoader(data, 1000, false, 0, false).epoch(0)) {
                correct += (long) model.forward(b.inputs()).argmax(1).eq(b.targets()).sum().item();
            }
        }
        model.train();
        return (double) correct / data.size();
    }

    /** Loss and accuracy curves over the epochs trained in this run, as one PNG. */
    Path plot() throws IOException {
        if (history.isEmpty()) {
            return null;
        }
        double[] x = history.stream().mapToDouble(Epoch::epoch).toArray();
        XYChart chart = new XYChartBuilder().width(800).height(500).title(name).xAxisTitle("epoch").build();
        chart.addSeries("train loss", x, history.stream().mapToDouble(Epoch::trainLoss).toArray());
        chart.addSeries("train accuracy", x, history.stream().mapToDouble(Epoch::trainAccuracy).toArray());
        chart.addSeries("test accuracy", x, history.stream().mapToDouble(Epoch::testAccuracy).toArray());
        Path png = out.resolve(name + "-curves.png");
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
        return png;
    }

    static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** The closing machine-readable line. */
    String resultLine(double testAccuracy, double seconds, List<Path> files) {
        StringBuilder f = new StringBuilder("[");
        for (Path p : files) {
            f.append(f.length() > 1 ? "," : "").append(quote(p.toString()));
        }
        double median = history.size() > 1 ? median(history.subList(1, history.size()))
                : history.isEmpty() ? 0 : history.get(0).samplesPerSecond();
        return String.format(Locale.ROOT, "RESULT {\"program\":%s,\"test_accuracy\":%.4f,\"seconds\":%.2f,"
                + "\"samples_per_second_median\":%.0f,\"epochs\":%d,\"files\":%s],\"options\":%s}", quote(name),
                testAccuracy, seconds, median, history.isEmpty() ? 0 : history.get(history.size() - 1).epoch(), f,
                options);
    }

    private static double median(List<Epoch> es) {
        double[] v = es.stream().mapToDouble(Epoch::samplesPerSecond).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

}
