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
    private io.jgrad.optim.LrSchedule schedule;

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
    }

    List<Epoch> history() {
        return history;
    }

    Path checkpoint(int epoch) {
        return out.resolve(name + "-epoch" + epoch + ".safetensors");
    }

    /** Loads the newest checkpoint in the output folder (trying older ones if it is damaged); returns its epoch or 0. */
    int resume() throws IOException {
        for (int e = 1000; e >= 1; e--) {
            Path p = checkpoint(e);
            if (!Files.exists(p)) {
                continue;
            }
            try {
                Safetensors.Contents c = Safetensors.load(p);
                if (!config.equals(c.metadata().get("config"))) {
                    throw new IOException(p + " was written with other options: " + c.metadata().get("config"));
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
                if (schedule != null) {
                    schedule.setEpoch(e);
                }
                return e;
            } catch (io.jgrad.io.FormatException bad) {
                System.err.println("warning: skipping damaged checkpoint " + p + ": " + bad.getMessage());
            }
        }
        return 0;
    }

    private void save(int epoch) throws IOException {
        Map<String, Tensor> all = new LinkedHashMap<>();
        model.stateDict().forEach((k, v) -> all.put("model." + k, v));
        optimizer.stateDict().forEach((k, v) -> all.put("optim." + k, v));
        for (var e : all.entrySet()) {
            if (!e.getValue().allFinite()) {
                throw new NonFiniteException("refusing to save a non-finite model: " + e.getKey() + " has NaN or Inf");
            }
        }
        Safetensors.save(checkpoint(epoch), all, Map.of("config", config, "epoch", Integer.toString(epoch)));
    }

    /** Trains from {@code firstEpoch} (1-based) to {@code epochs}, evaluating on {@code test} after each. */
    void fit(DataLoader train, Dataset test, int firstEpoch, int epochs) throws IOException {
        Files.createDirectories(out);
        for (int epoch = firstEpoch; epoch <= epochs; epoch++) {
            model.train();
            double lossSum = 0;
            long correct = 0;
            long seen = 0;
            long start = System.nanoTime();
            int step = 0;
            try (ProgressBar bar = new ProgressBarBuilder().setTaskName(String.format("epoch %d/%d", epoch, epochs))
                    .setInitialMax(train.batchesPerEpoch()).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500)
                    .continuousUpdate().setMaxRenderedLength(100).build()) {
                for (Batch b : train.epoch(epoch - 1)) {
                    step++;
                    Tensor scores = model.forward(b.inputs());
                    Tensor l = loss.apply(scores, b.targets());
                    double lv = l.item();
                    if (!Double.isFinite(lv)) {
                        throw new NonFiniteException(String.format(Locale.ROOT,
                                "loss is %s at epoch %d step %d; last good checkpoint: %s", lv, epoch, step,
                                epoch > 1 ? checkpoint(epoch - 1) : "none"));
                    }
                    optimizer.zeroGrad();
                    l.backward();
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
                }
            }
            double secs = (System.nanoTime() - start) / 1e9;
            double testAcc = accuracy(test);
            Epoch e = new Epoch(epoch, lossSum / seen, (double) correct / seen, testAcc, secs, seen / secs);
            history.add(e);
            System.out.printf(Locale.ROOT, "epoch %2d  train loss %.4f  train acc %.4f  test acc %.4f  %.1f s  "
                    + "%.0f samples/s  lr %.5f%n", epoch, e.trainLoss(), e.trainAccuracy(), testAcc, secs,
                    e.samplesPerSecond(), optimizer.learningRate(0));
            if (schedule != null) {
                schedule.step();
            }
            save(epoch);
        }
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
