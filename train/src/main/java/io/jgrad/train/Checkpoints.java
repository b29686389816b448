package io.jgrad.train;

import io.jgrad.core.NonFiniteException;
import io.jgrad.core.Tensor;
import io.jgrad.io.CheckpointStore;
import io.jgrad.io.Safetensors;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Checkpoints through a {@link CheckpointStore}: the model's and the optimizer's state (as
 * {@code model.<name>} and {@code optim.<name>}) with the run's history and the caller's
 * metadata, after every epoch, every {@code every} steps if asked, and where the run stops.
 *
 * <p>Three ways to start, as {@link Start}: a new run refuses a store that already holds
 * checkpoints (naming the folder and what it holds), so another run's files are never
 * overwritten by accident; {@code RESUME} restores the newest checkpoint that loads and the
 * run continues bit-exactly from it (the trainer takes its step, its history and, through the
 * optimizer's state, its learning rates; resuming a finished run, or one that stopped early,
 * trains nothing and says so);
 * {@code OVERWRITE} replaces the earlier run's files as the new ones are written. A resume
 * refuses a checkpoint written with another {@code config}, and warns when its {@code data}
 * differs.
 */
public final class Checkpoints implements Callback {
    /** How a run treats checkpoints already in the store. */
    public enum Start {
        /** Refuse to start when the store holds checkpoints. */
        NEW,
        /** Continue from the newest checkpoint that loads (or start afresh if there is none). */
        RESUME,
        /** Start afresh, replacing the store's checkpoints as new ones are written. */
        OVERWRITE
    }

    private static final System.Logger LOG = System.getLogger(Checkpoints.class.getName());

    private CheckpointStore store;
    private final Start start;
    private int every;
    private String config = "";
    private String data = "";
    private Consumer<String> warnings = w -> LOG.log(System.Logger.Level.WARNING, w);
    private long savedStep = -1;
    private boolean stopSaved;
    private Path lastFile;

    /** Checkpoints into {@code store}, starting as {@code start} says. */
    public Checkpoints(CheckpointStore store, Start start) {
        this.store = Objects.requireNonNull(store, "store");
        this.start = Objects.requireNonNull(start, "start");
    }

    /** Also checkpoints every {@code steps} optimizer steps (0, the default: at the end of each epoch only). */
    public Checkpoints every(int steps) {
        if (steps < 0) {
            throw new IllegalArgumentException("Checkpoints: every must be >= 0 steps, got " + steps);
        }
        this.every = steps;
        return this;
    }

    /** The options that shape training; a resume refuses a checkpoint written with others. */
    public Checkpoints config(String c) {
        this.config = Objects.requireNonNull(c, "config");
        return this;
    }

    /** A fingerprint of the training data; a resume on other data warns. */
    public Checkpoints data(String fingerprint) {
        this.data = Objects.requireNonNull(fingerprint, "data");
        return this;
    }

    /** Where warnings go (a damaged checkpoint skipped, other data, a replaced run); the log by default. */
    public Checkpoints warnings(Consumer<String> sink) {
        this.warnings = Objects.requireNonNull(sink, "warnings");
        return this;
    }

    /** The newest checkpoint written or restored, or null. */
    public Path lastFile() {
        return lastFile;
    }

    /** The file of checkpoint {@code step}. */
    public Path file(long step) {
        return store.file(step);
    }

    @Override
    public void onTrainStart(TrainState s) throws IOException {
        var steps = store.steps();
        if (start == Start.RESUME) {
            resume(s);
            return;
        }
        if (!steps.isEmpty()) {
            String held = "checkpoints of '" + stemOf(steps.lastEntry().getValue()) + "' (" + steps.size() + " file"
                    + (steps.size() == 1 ? "" : "s") + ", newest " + steps.lastEntry().getValue().getFileName()
                    + " after " + steps.lastKey() + " steps)";
            if (start == Start.NEW) {
                throw new FileAlreadyExistsException(store.dir().toString(), null, "holds " + held
                        + "; resume that run, overwrite it on purpose, or write to another folder");
            }
            warnings.accept("overwriting: " + store.dir() + " holds " + held + "; they are replaced as this run "
                    + "saves its own checkpoints");
            store = store.overwriting();
        }
        s.setLastCheckpoint("none");
    }

    private String stemOf(Path file) {
        String n = file.getFileName().toString();
        return n.replaceAll("[0-9]+\\.safetensors$", "");
    }

    private void resume(TrainState s) throws IOException {
        var found = store.loadLatest();
        if (found.isEmpty()) {
            s.setLastCheckpoint("none");
            return;
        }
        CheckpointStore.Loaded l = found.get();
        l.warnings().forEach(warnings);
        Safetensors.Contents c = l.contents();
        String theirs = c.metadata().getOrDefault("config", "");
        if (!config.equals(theirs)) {
            throw new IOException(l.file() + " was written with other options: " + theirs + " (this run: " + config + ")");
        }
        if (!data.equals(c.metadata().getOrDefault("data", ""))) {
            warnings.accept("resuming on different data: " + l.file() + " was trained on data "
                    + c.metadata().get("data") + ", this run has " + data);
        }
        Map<String, Tensor> model = new LinkedHashMap<>();
        Map<String, Tensor> optim = new LinkedHashMap<>();
        c.tensors().forEach((k, v) -> {
            if (k.startsWith("model.")) {
                model.put(k.substring(6), v);
            } else if (k.startsWith("optim.")) {
                optim.put(k.substring(6), v);
            }
        });
        String stopped = c.metadata().get("stop_reason");
        String history = c.metadata().get("history");
        var earlier = history == null ? java.util.List.<EpochMetrics>of() : HistoryJson.read(history);
        s.resumeAt(l.step(), earlier); // checks the step fits this run before anything is loaded
        String progress = c.metadata().get("epoch_progress");
        if (progress != null) {
            String[] p = progress.split(",");
            try {
                s.restoreEpochProgress(Double.parseDouble(p[0]), Long.parseLong(p[1]), Long.parseLong(p[2]));
            } catch (RuntimeException e) {
                throw new IOException(l.file() + ": epoch_progress '" + progress + "' is not loss,correct,seen", e);
            }
        }
        s.model().loadStateDict(model, true);
        s.optimizer().loadStateDict(optim);
        if (store.steps().lastKey() > l.step()) { // newer files did not load: the next checkpoint replaces them
            store = store.overwriting();
        }
        savedStep = l.step();
        lastFile = l.file();
        s.setLastCheckpoint(l.file().toString());
        if (stopped != null) {
            s.stop(stopped); // the run had ended early: resuming it trains nothing more
            stopSaved = true;
        }
    }

    @Override
    public void onStep(TrainState s) throws IOException {
        if (every > 0 && s.step() % every == 0 && !s.atEpochEnd()) {
            save(s);
        }
    }

    @Override
    public void onEpochEnd(TrainState s) throws IOException {
        save(s);
    }

    @Override
    public void onTrainEnd(TrainState s) throws IOException {
        if (s.step() > savedStep) { // stopped inside an epoch
            save(s);
        } else if (s.stoppedForGood() && !stopSaved && lastFile != null) {
            // stopped at an epoch's end: the file written then gets the reason, with the weights it holds
            // (not the model in memory, which an EarlyStopping may have given its best epoch's weights)
            Safetensors.Contents c = Safetensors.load(lastFile);
            Map<String, String> meta = new LinkedHashMap<>(c.metadata());
            meta.put("stop_reason", s.stopReason());
            lastFile = store.save(savedStep, c.tensors(), meta);
            stopSaved = true;
        }
    }

    private void save(TrainState s) throws IOException {
        Map<String, Tensor> all = new LinkedHashMap<>();
        s.model().stateDict().forEach((k, v) -> all.put("model." + k, v));
        s.optimizer().stateDict().forEach((k, v) -> all.put("optim." + k, v));
        for (var e : all.entrySet()) {
            if (!e.getValue().allFinite()) {
                throw new NonFiniteException("refusing to save a non-finite model: " + e.getKey() + " has NaN or Inf");
            }
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("config", config);
        meta.put("data", data);
        meta.put("step", Long.toString(s.step()));
        meta.put("history", HistoryJson.array(s.history()));
        if (s.stoppedForGood()) {
            meta.put("stop_reason", s.stopReason());
            stopSaved = true;
        }
        if (!s.atEpochEnd()) { // inside an epoch: its running sums, so that a resume reports the whole epoch
            double[] p = s.epochProgress();
            meta.put("epoch_progress", Double.toString(p[0]) + "," + (long) p[1] + "," + (long) p[2]);
        }
        lastFile = store.save(s.step(), all, meta);
        savedStep = s.step();
        s.setLastCheckpoint(lastFile.toString());
    }
}
