package io.jgrad.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jgrad.core.Block;
import io.jgrad.core.DType;
import io.jgrad.core.Generator;
import io.jgrad.core.NonFiniteException;
import io.jgrad.core.Tensor;
import io.jgrad.data.DataLoader;
import io.jgrad.data.TensorDataset;
import io.jgrad.io.CheckpointStore;
import io.jgrad.io.Safetensors;
import io.jgrad.layers.Linear;
import io.jgrad.layers.Relu;
import io.jgrad.layers.Sequential;
import io.jgrad.losses.CrossEntropyLoss;
import io.jgrad.metrics.ConfusionMatrix;
import io.jgrad.optim.Sgd;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {
    @TempDir
    Path dir;

    /** Three Gaussian blobs in 2-D, n points each: an easy problem with a known answer. */
    static TensorDataset blobs(int n, long seed, boolean flipLabels) {
        Generator g = Generator.seeded(seed);
        Tensor x = Tensor.randn(g, DType.FLOAT64, 3 * n, 2).mul(0.5);
        double[][] centres = {{2, 0}, {-1, 1.7}, {-1, -1.7}};
        long[] y = new long[3 * n];
        double[] shift = new double[6 * n];
        for (int i = 0; i < 3 * n; i++) {
            int c = i % 3;
            y[i] = flipLabels ? (c + 1) % 3 : c;
            shift[2 * i] = centres[c][0];
            shift[2 * i + 1] = centres[c][1];
        }
        return new TensorDataset(x.add(Tensor.of(shift, 3 * n, 2)), Tensor.of(y));
    }

    static Block net(long seed) {
        Generator g = Generator.seeded(seed);
        return new Sequential(new Linear(2, 16, true, g), new Relu(), new Linear(16, 3, true, g)).to(DType.FLOAT64);
    }

    /** The "user's own program" of the issue: a model, early stopping and metrics in well under 30 lines. */
    @Test
    void aUsersProgramTrainsWithEarlyStoppingAndMetrics() throws IOException {
        Block model = net(1);
        CrossEntropyLoss loss = new CrossEntropyLoss();
        Trainer trainer = Trainer.builder(model, loss::forward, new Sgd(model.parameters(), Sgd.Options.lr(0.1)))
                .epochs(30)
                .validation(blobs(100, 2, false))
                .metrics(() -> new ConfusionMatrix(3))
                .callbacks(new EarlyStopping("val_loss", 2, 1e-4, true))
                .build();
        History h = trainer.fit(new DataLoader(blobs(200, 3, false), 32, DataLoader.Options.shuffled(0)));

        assertThat(h.last().get("val_accuracy")).isGreaterThan(0.95);
        assertThat(h.last().get("val_macro_f1")).isGreaterThan(0.95);
        assertThat(h.epochs()).allSatisfy(e -> assertThat(e.values()).containsKeys("loss", "accuracy", "val_loss",
                "val_accuracy", "val_macro_f1", "lr", "seconds", "samples_per_second"));
        assertThat(h.values("loss")[h.epochs().size() - 1]).isLessThan(h.values("loss")[0]);
        assertThat(trainer.evaluate(blobs(100, 2, false)).get("accuracy")).isEqualTo(h.last().get("val_accuracy"));
    }

    @Test
    void earlyStoppingStopsWhenValidationGetsWorseAndRestoresTheBestWeights() throws IOException {
        Block model = net(4);
        List<Map<String, Tensor>> weights = new ArrayList<>();
        Callback record = new Callback() {
            @Override
            public void onEpochEnd(TrainState s) {
                Map<String, Tensor> w = new LinkedHashMap<>();
                s.model().stateDict().forEach((k, v) -> w.put(k, v.clone()));
                weights.add(w);
            }
        };
        EarlyStopping stop = new EarlyStopping("val_loss", 2, 0, true);
        // validation labels are the training labels shifted: the better the fit, the worse the validation loss
        Trainer t = Trainer.builder(model, new CrossEntropyLoss()::forward,
                        new Sgd(model.parameters(), Sgd.Options.lr(0.1)))
                .epochs(50).validation(blobs(50, 5, true)).callbacks(record, stop).build();
        History h = t.fit(new DataLoader(blobs(100, 6, false), 25, DataLoader.Options.shuffled(0)));
        assertThat(h.stopReason()).startsWith("early stopping after epoch " + h.epochs().size()
                + ": val_loss has not improved by more than 0.0 for 2 epochs; best ");
        assertThat(h.epochs().size()).isLessThan(50);
        int best = stop.bestEpoch();
        assertThat(h.epochs().size()).isEqualTo(best + 2);
        Map<String, Tensor> now = model.stateDict();
        weights.get(best - 1).forEach((k, v) -> assertThat(now.get(k).toDoubleArray()).as(k)
                .containsExactly(v.toDoubleArray()));
        assertThatThrownBy(() -> new EarlyStopping("val_loss", 0, 0, true)).hasMessageContaining("patience");
    }

    /** Accumulating 4 micro-batches gives the whole batch's update (float64, to rounding). */
    @Test
    void gradientAccumulationGivesTheUpdateOfTheWholeBatch() throws IOException {
        double[][] w = new double[2][];
        for (int parts : new int[] {1, 4}) {
            Block model = net(7);
            Trainer t = Trainer.builder(model, (s, y) -> new CrossEntropyLoss().forward(s, y)
                                    .add(io.jgrad.losses.Regularization.l2(1e-3, model)),
                            new Sgd(model.parameters(), Sgd.Options.lr(0.5).withMomentum(0.9)))
                    .accumulate(parts).epochs(2).build();
            t.fit(new DataLoader(blobs(30, 8, false), 30, DataLoader.Options.shuffled(1))); // batches of 30: parts of 7 and 8
            w[parts == 1 ? 0 : 1] = model.parameters().get(0).toDoubleArray();
        }
        for (int i = 0; i < w[0].length; i++) {
            assertThat(w[1][i]).isCloseTo(w[0][i], org.assertj.core.api.Assertions.within(1e-12));
        }
        assertThat(w[1]).isNotEqualTo(net(7).parameters().get(0).toDoubleArray());
    }

    private Trainer checkpointed(Block model, Checkpoints.Start start, long stopAfter, ByteArrayOutputStream out) {
        Sgd sgd = new Sgd(model.parameters(), Sgd.Options.lr(0.05).withMomentum(0.9));
        return Trainer.builder(model, new CrossEntropyLoss()::forward, sgd)
                .epochs(3).validation(blobs(20, 9, false)).stopAfter(stopAfter)
                .schedule(new io.jgrad.optim.LrSchedule(sgd, io.jgrad.optim.LrSchedule.cosine(3, 0)))
                .callbacks(new Checkpoints(new CheckpointStore(dir.resolve("ck"), "run-step", 3), start)
                                .config("{\"lr\":0.05}").every(5),
                        new MetricsLog(dir.resolve("ck/metrics.jsonl")), new Curves(dir.resolve("ck/curves.png"), "run"),
                        new ProgressPrinter(new PrintStream(out, true, StandardCharsets.UTF_8), false))
                .build();
    }

    private static DataLoader loader() {
        return new DataLoader(blobs(40, 10, false), 16, DataLoader.Options.shuffled(3)); // 120 examples: 8 steps per epoch
    }

    /** Interrupted inside epoch 2 and resumed: the same bytes as a straight run, and a history of the whole run. */
    @Test
    void aResumedRunEndsWithTheBytesOfAStraightRunAndItsWholeHistory() throws IOException {
        System.setProperty("java.awt.headless", "true");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Block straight = net(11);
        History full = checkpointed(straight, Checkpoints.Start.NEW, 0, out).fit(loader());
        byte[] straightBytes = Files.readAllBytes(dir.resolve("ck/run-step24.safetensors"));
        List<String> straightLog = Files.readAllLines(dir.resolve("ck/metrics.jsonl"));
        assertThat(straightLog).hasSize(3);

        // a new run into the same folder is refused, naming it and what it holds
        assertThatThrownBy(() -> checkpointed(net(11), Checkpoints.Start.NEW, 0, out).fit(loader()))
                .isInstanceOf(java.nio.file.FileAlreadyExistsException.class)
                .hasMessageContaining(dir.resolve("ck").toString())
                .hasMessageContaining("holds checkpoints of 'run-step' (3 files, newest run-step24.safetensors after "
                        + "24 steps)");

        History first = checkpointed(net(11), Checkpoints.Start.OVERWRITE, 11, out).fit(loader());
        assertThat(first.steps()).isEqualTo(11);
        assertThat(first.stopReason()).isEqualTo("stopped after 11 steps as asked");
        assertThat(first.epochs()).hasSize(1);
        assertThat(dir.resolve("ck/run-step24.safetensors")).doesNotExist(); // the replaced run's files are gone

        Block resumed = net(99); // other initial weights: everything comes from the checkpoint
        ByteArrayOutputStream second = new ByteArrayOutputStream();
        History rest = checkpointed(resumed, Checkpoints.Start.RESUME, 0, second).fit(loader());
        assertThat(rest.resumedStep()).isEqualTo(11);
        assertThat(second.toString(StandardCharsets.UTF_8)).startsWith("resumed from " + dir.resolve("ck/run-step11"
                + ".safetensors") + " after 11 steps (epoch 2 of 3)");
        assertThat(Files.readAllBytes(dir.resolve("ck/run-step24.safetensors"))).isEqualTo(straightBytes);
        assertThat(rest.epochs()).hasSize(3);
        for (int e = 0; e < 3; e++) { // the whole run's figures, epoch 2 whole although it was resumed in its middle
            Map<String, Double> want = new LinkedHashMap<>(full.epochs().get(e).values());
            Map<String, Double> got = new LinkedHashMap<>(rest.epochs().get(e).values());
            for (String timing : List.of("seconds", "samples_per_second")) {
                want.remove(timing);
                got.remove(timing);
            }
            assertThat(got).as("epoch %s", e + 1).isEqualTo(want);
        }
        List<String> log = Files.readAllLines(dir.resolve("ck/metrics.jsonl"));
        assertThat(log).hasSize(3);
        String restored = log.get(0); // as the straight run logged it, without its timing (not kept in checkpoints)
        assertThat(straightLog.get(0)).startsWith(restored.substring(0, restored.length() - 1) + ",\"seconds\":");
        assertThat(straight.stateDict().get("0.weight").toDoubleArray())
                .containsExactly(resumed.stateDict().get("0.weight").toDoubleArray());

        // resuming a finished run trains nothing and says so
        ByteArrayOutputStream third = new ByteArrayOutputStream();
        History none = checkpointed(net(5), Checkpoints.Start.RESUME, 0, third).fit(loader());
        assertThat(none.steps()).isEqualTo(24);
        assertThat(none.epochs()).hasSize(3);
        assertThat(third.toString(StandardCharsets.UTF_8)).contains("the run is already finished (3 epochs); nothing "
                + "to train");
        assertThat(Safetensors.load(dir.resolve("ck/run-step24.safetensors")).metadata().get("history"))
                .startsWith("[{\"epoch\":1,\"step\":8,");
    }

    @Test
    void aResumeWithOtherOptionsIsRefused() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        checkpointed(net(1), Checkpoints.Start.NEW, 3, out).fit(loader());
        Block m = net(1);
        Trainer other = Trainer.builder(m, new CrossEntropyLoss()::forward, new Sgd(m.parameters(), Sgd.Options.lr(1)))
                .callbacks(new Checkpoints(new CheckpointStore(dir.resolve("ck"), "run-step", 3),
                        Checkpoints.Start.RESUME).config("{\"lr\":1}")).build();
        assertThatThrownBy(() -> other.fit(loader())).isInstanceOf(IOException.class)
                .hasMessageContaining("run-step3.safetensors was written with other options: {\"lr\":0.05} (this run: "
                        + "{\"lr\":1})");
    }

    @Test
    void aNonFiniteLossStopsBeforeAnythingIsApplied() {
        Block model = net(2);
        Tensor before = model.parameters().get(0).clone();
        Trainer t = Trainer.builder(model, new CrossEntropyLoss()::forward, new Sgd(model.parameters(),
                Sgd.Options.lr(1e200))).epochs(2).build();
        assertThatThrownBy(() -> t.fit(loader())).isInstanceOf(NonFiniteException.class)
                .hasMessageMatching("(loss is (NaN|Infinity)|gradient of \\S+ is not finite) at epoch 1 step \\d+; "
                        + "nothing was applied; a lower learning rate than 1.0E200 \\(or gradient clipping\\) may help");
        assertThat(before).isNotNull();
        assertThatThrownBy(() -> Trainer.builder(model, new CrossEntropyLoss()::forward,
                new Sgd(model.parameters(), Sgd.Options.lr(1))).epochs(0)).hasMessage("Trainer: epochs must be at least "
                + "1, got 0");
    }

    @Test
    void aNonFiniteGradientStopsTrainingNamingTheParameterAndNothingIsSaved() {
        Linear model = new Linear(3, 2, true, Generator.seeded(0));
        // a finite loss (0) whose gradient is infinite: d sqrt(u)/du at u = 0
        Trainer t = Trainer.builder(model, (s, y) -> s.sub(s.detach()).sqrt().sum(),
                        new Sgd(model.parameters(), Sgd.Options.lr(0.1)))
                .callbacks(new Checkpoints(new CheckpointStore(dir, "guard-step", 3), Checkpoints.Start.NEW)).build();
        TensorDataset data = new TensorDataset(Tensor.randn(Generator.seeded(1), 8, 3), Tensor.of(new long[8]));
        assertThatThrownBy(() -> t.fit(new DataLoader(data, 4)))
                .isInstanceOf(NonFiniteException.class)
                .hasMessage("gradient of weight is not finite at epoch 1 step 1; last good checkpoint: none; nothing was "
                        + "applied; a lower learning rate than 0.1 (or gradient clipping) may help");
        assertThat(dir.resolve("guard-step1.safetensors")).doesNotExist();
    }

    private Trainer earlyStopped(Block model, Path folder, Checkpoints.Start start, long stopAfter, Callback... more) {
        Trainer.Builder b = Trainer.builder(model, new CrossEntropyLoss()::forward,
                        new Sgd(model.parameters(), Sgd.Options.lr(0.1).withMomentum(0.9)))
                .epochs(40).validation(blobs(50, 5, true)).stopAfter(stopAfter);
        List<Callback> cs = new ArrayList<>(List.of(more));
        cs.add(new EarlyStopping("val_loss", 3, 0, false));
        cs.add(new Checkpoints(new CheckpointStore(folder, "es-step", 3), start));
        return b.callbacks(cs.toArray(Callback[]::new)).build();
    }

    /** A review finding: early stopping forgot its counts on a resume, and a stopped run trained on when resumed. */
    @Test
    void earlyStoppingResumesWhereAStraightRunStopsAndAStoppedRunStaysStopped() throws IOException {
        DataLoader data = new DataLoader(blobs(100, 6, false), 25, DataLoader.Options.shuffled(0)); // 12 steps per epoch
        History straight = earlyStopped(net(4), dir.resolve("a"), Checkpoints.Start.NEW, 0).fit(data);
        assertThat(straight.stopReason()).startsWith("early stopping after epoch");
        long steps = straight.steps();
        byte[] last = Files.readAllBytes(dir.resolve("a/es-step" + steps + ".safetensors"));

        History first = earlyStopped(net(4), dir.resolve("b"), Checkpoints.Start.NEW, 29).fit(data);
        assertThat(first.steps()).isEqualTo(29);
        History rest = earlyStopped(net(99), dir.resolve("b"), Checkpoints.Start.RESUME, 0).fit(data);
        assertThat(rest.steps()).isEqualTo(steps);
        assertThat(rest.stopReason()).isEqualTo(straight.stopReason());
        assertThat(Files.readAllBytes(dir.resolve("b/es-step" + steps + ".safetensors"))).isEqualTo(last);

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        History again = earlyStopped(net(5), dir.resolve("b"), Checkpoints.Start.RESUME, 0,
                new ProgressPrinter(new PrintStream(out, true, StandardCharsets.UTF_8), false)).fit(data);
        assertThat(again.steps()).isEqualTo(steps); // nothing more trained
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("the run had stopped (early stopping after epoch");
    }

    @Test
    void earlyStoppingMinimisesErrorLikeFiguresAndMaximisesAccuracyLikeOnes() {
        Block model = net(1);
        for (String name : List.of("val_error_rate", "val_accuracy")) {
            TrainState s = new TrainState(model, new Sgd(model.parameters(), Sgd.Options.lr(0.1)), 10, 1);
            EarlyStopping e = new EarlyStopping(name, 2, 0, false);
            double[] v = name.contains("error") ? new double[] {0.3, 0.2, 0.1} : new double[] {0.7, 0.8, 0.9};
            for (int i = 0; i < v.length; i++) {
                s.epochDone(new EpochMetrics(i + 1, i + 1, Map.of(name, v[i])));
                e.onEpochEnd(s);
            }
            assertThat(s.stopReason()).as(name).isNull(); // improved every epoch
            assertThat(e.bestEpoch()).isEqualTo(3);
        }
        EarlyStopping max = new EarlyStopping("val_error_rate", EarlyStopping.Mode.MAX, 1, 0, false);
        TrainState s = new TrainState(model, new Sgd(model.parameters(), Sgd.Options.lr(0.1)), 10, 1);
        s.epochDone(new EpochMetrics(1, 1, Map.of("val_error_rate", 0.3)));
        max.onEpochEnd(s);
        s.epochDone(new EpochMetrics(2, 2, Map.of("val_error_rate", 0.2)));
        max.onEpochEnd(s);
        assertThat(s.stopReason()).contains("best 0.300000 at epoch 1");
    }

    /** A review finding: a metrics log placed before the checkpoints was wiped by a run that was then refused. */
    @Test
    void aRefusedRunLeavesTheEarlierLogAsItWas() throws IOException {
        for (int run = 0; run < 2; run++) {
            Block m = net(2);
            Trainer t = Trainer.builder(m, new CrossEntropyLoss()::forward, new Sgd(m.parameters(), Sgd.Options.lr(0.1)))
                    .epochs(2).callbacks(new MetricsLog(dir.resolve("log.jsonl")),
                            new Checkpoints(new CheckpointStore(dir.resolve("ck"), "r-step", 3), Checkpoints.Start.NEW))
                    .build();
            if (run == 0) {
                t.fit(loader());
            } else {
                assertThatThrownBy(() -> t.fit(loader())).isInstanceOf(java.nio.file.FileAlreadyExistsException.class);
            }
            assertThat(Files.readAllLines(dir.resolve("log.jsonl"))).hasSize(2);
        }
        Block m = net(2);
        Trainer t = Trainer.builder(m, new CrossEntropyLoss()::forward, new Sgd(m.parameters(), Sgd.Options.lr(0.1)))
                .build();
        assertThatThrownBy(() -> t.fit(new DataLoader(blobs(3, 3, false), 32, DataLoader.Options.shuffled(0).withDropLast(true))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no batch per epoch");
    }

    @Test
    void theProgressPrinterWritesPlainLinesIntoALog() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Block model = net(3);
        Trainer.builder(model, new CrossEntropyLoss()::forward, new Sgd(model.parameters(), Sgd.Options.lr(0.1)))
                .epochs(2).callbacks(new ProgressPrinter(new PrintStream(out, true, StandardCharsets.UTF_8)))
                .build().fit(loader());
        List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).matches("epoch 1/2  loss \\d\\.\\d{4}  accuracy \\d\\.\\d{4}  lr 0\\.10000  seconds "
                + "\\d+\\.\\d  samples_per_second \\d+");
        assertThat(out.toString(StandardCharsets.UTF_8)).doesNotContain("\r");
    }

    /** Every batch the trainer took, training and validation, is closed after use (its memory reusable). */
    @Test
    void everyBatchIsClosedOnceItsStepOrEvaluationIsDone() throws IOException {
        List<io.jgrad.data.Batch> seen = new ArrayList<>();
        io.jgrad.data.Dataset recorded = recording(blobs(200, 3, false), seen);
        io.jgrad.data.Dataset validation = recording(blobs(100, 2, false), seen);
        Block model = net(1);
        CrossEntropyLoss loss = new CrossEntropyLoss();
        Trainer trainer = Trainer.builder(model, loss::forward, new Sgd(model.parameters(), Sgd.Options.lr(0.1)))
                .epochs(2).validation(validation).build();
        trainer.fit(new DataLoader(recorded, 32, DataLoader.Options.shuffled(0)));
        assertThat(seen).hasSizeGreaterThan(2 * 7);
        assertThat(seen).allSatisfy(b -> assertThat(b.isClosed()).isTrue());
    }

    private static io.jgrad.data.Dataset recording(io.jgrad.data.Dataset d, List<io.jgrad.data.Batch> seen) {
        return new io.jgrad.data.Dataset() {
            @Override
            public int size() {
                return d.size();
            }

            @Override
            public io.jgrad.data.Batch batch(int[] indices) {
                io.jgrad.data.Batch b = d.batch(indices);
                seen.add(b);
                return b;
            }
        };
    }
}
