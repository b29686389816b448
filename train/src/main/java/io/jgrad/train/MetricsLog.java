package io.jgrad.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A JSON-lines log of the run, one line per epoch ({@code {"epoch":1,"step":469,"loss":...}}),
 * written as each epoch ends. At the first epoch's end it is rewritten from the run's history, so that a
 * resumed run's log holds exactly the epochs its checkpoint had, then the new ones: never an
 * epoch twice, never one the weights do not include. (The restored epochs lack {@code seconds}
 * and {@code samples_per_second}: checkpoints leave out what depends on the machine's speed, so
 * that their bytes depend only on the run.)
 */
public final class MetricsLog implements Callback {
    private final Path file;
    private boolean written;

    /** Logs to {@code file} (its folder is created). */
    public MetricsLog(Path file) {
        this.file = file;
    }

    @Override
    public void onTrainStart(TrainState s) {
        written = false; // the file is rewritten at the first epoch's end, not before: a run refused at its
        // start (another run's checkpoints, say) leaves the earlier log as it was
    }

    private void rewrite(TrainState s) throws IOException {
        if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
        }
        StringBuilder sb = new StringBuilder();
        for (EpochMetrics m : s.history()) {
            sb.append(HistoryJson.line(m)).append('\n');
        }
        io.jgrad.io.AtomicFiles.write(file, out -> out.write(sb.toString().getBytes(StandardCharsets.UTF_8)));
    }

    @Override
    public void onEpochEnd(TrainState s) throws IOException {
        if (!written) {
            rewrite(s);
            written = true;
            return;
        }
        EpochMetrics m = s.history().get(s.history().size() - 1);
        Files.writeString(file, HistoryJson.line(m) + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }

    /** The file this log writes. */
    public Path file() {
        return file;
    }
}
