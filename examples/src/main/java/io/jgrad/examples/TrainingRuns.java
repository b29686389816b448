package io.jgrad.examples;

import io.jgrad.data.DataLoader;
import io.jgrad.train.Checkpoints;
import io.jgrad.train.History;
import io.jgrad.train.Trainer;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;

/** What the training programs share around {@link Trainer#fit}: the start options, the fit, an interruption's report. */
final class TrainingRuns {
    private TrainingRuns() {}

    /** How to start from {@code --resume} and {@code --overwrite} (both at once: a bad option). */
    static Checkpoints.Start start(Cli args) {
        if (args.flag("resume") && args.flag("overwrite")) {
            throw args.fail("--resume and --overwrite contradict each other: continue the earlier run, or replace it");
        }
        return args.flag("resume") ? Checkpoints.Start.RESUME
                : args.flag("overwrite") ? Checkpoints.Start.OVERWRITE : Checkpoints.Start.NEW;
    }

    /** Trains; a folder holding an earlier run's checkpoints is reported with the options that resolve it. */
    static History fit(Trainer trainer, DataLoader loader) throws IOException {
        try {
            return trainer.fit(loader);
        } catch (FileAlreadyExistsException e) {
            throw new FileAlreadyExistsException(e.getFile(), null, e.getReason()
                    + " (--resume, --overwrite or another --out)");
        }
    }

    /**
     * Whether the run stopped before its epochs ended (--stop-after): then prints how to resume and
     * a RESULT line with the step and checkpoint, and the program ends without evaluating.
     */
    static boolean interrupted(String program, History history, int epochs, DataLoader loader, Checkpoints checkpoints) {
        if (history.steps() >= (long) epochs * loader.batchesPerEpoch()) {
            return false;
        }
        System.out.println("resume with --resume");
        System.out.println("RESULT " + Json.object(g -> {
            g.writeStringField("program", program);
            g.writeNumberField("stopped_after_steps", history.steps());
            g.writeStringField("checkpoint", checkpoints.lastFile().toString());
        }));
        return true;
    }
}
