package io.jgrad.io;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Keep-last-K with a latest pointer, the fallback past a damaged file, and 50 kills of a saving JVM. */
class CheckpointStoreTest {
    /** What the saving JVM prints, with the step, after each save has returned. */
    private static final String SAVED = "saved ";

    @TempDir
    Path dir;

    private static Map<String, Tensor> state(long step) {
        return Map.of("w", Tensor.full(step, 128, 128), "step", Tensor.scalar(io.jgrad.core.DType.INT64, step));
    }

    @Test
    void keepsTheNewestKAndPointsAtTheLast() throws IOException {
        CheckpointStore store = new CheckpointStore(dir, "ckpt-", 3);
        for (int s = 1; s <= 5; s++) {
            store.save(s, state(s), Map.of());
        }
        assertThat(store.steps().keySet()).containsExactly(3L, 4L, 5L);
        assertThat(Files.readString(dir.resolve("ckpt--latest.txt"))).isEqualTo("ckpt-5.safetensors");
        CheckpointStore.Loaded l = store.loadLatest().orElseThrow();
        assertThat(l.step()).isEqualTo(5);
        assertThat(l.warnings()).isEmpty();
    }

    @Test
    void aDamagedNewestCheckpointFallsBackToThePreviousWithAWarningNamingBoth() throws IOException {
        CheckpointStore store = new CheckpointStore(dir, "ckpt-", 3);
        store.save(1, state(1), Map.of());
        store.save(2, state(2), Map.of());
        Files.write(store.file(2), new byte[] {1, 2, 3});
        CheckpointStore.Loaded l = store.loadLatest().orElseThrow();
        assertThat(l.step()).isEqualTo(1);
        assertThat(String.join("\n", l.warnings())).contains("ckpt-2.safetensors is damaged").contains("using")
                .contains("ckpt-1.safetensors");
        assertThat(new CheckpointStore(dir.resolve("none"), "x", 1).loadLatest()).isEmpty();
    }

    /**
     * Issue 17 item 5: saving a step lower than those present deleted the file just written while
     * the pointer named it, and loadLatest returned the old run's newest file. Now it is refused
     * before anything is written, unless the store overwrites on purpose; and a store never
     * deletes what it just wrote.
     */
    @Test
    void aLowerStepIsRefusedUnlessOverwritingAndTheFileJustWrittenIsNeverDeleted() throws IOException {
        CheckpointStore old = new CheckpointStore(dir, "ckpt-", 2);
        old.save(468, state(468), Map.of());
        old.save(469, state(469), Map.of());
        byte[] before = Files.readAllBytes(old.file(469));
        CheckpointStore fresh = new CheckpointStore(dir, "ckpt-", 2);
        assertThatThrownBy(() -> fresh.save(5, state(5), Map.of()))
                .isInstanceOf(java.nio.file.FileAlreadyExistsException.class)
                .hasMessageContaining(dir.toString())
                .hasMessageContaining("holds checkpoints of 'ckpt-' up to step 469 (ckpt-469.safetensors), newer than "
                        + "step 5");
        assertThat(fresh.file(5)).doesNotExist();
        assertThat(Files.readAllBytes(old.file(469))).isEqualTo(before);
        assertThat(Files.readString(dir.resolve("ckpt--latest.txt"))).isEqualTo("ckpt-469.safetensors");

        CheckpointStore replacing = fresh.overwriting();
        Path f = replacing.save(5, state(5), Map.of());
        assertThat(f).exists();
        assertThat(replacing.steps().keySet()).containsExactly(5L); // the superseded run is gone, this file kept
        assertThat(Files.readString(dir.resolve("ckpt--latest.txt"))).isEqualTo("ckpt-5.safetensors");
        replacing.save(6, state(6), Map.of());
        replacing.save(7, state(7), Map.of());
        assertThat(replacing.steps().keySet()).containsExactly(6L, 7L);
        assertThat(replacing.loadLatest().orElseThrow().step()).isEqualTo(7);

        CheckpointStore one = new CheckpointStore(dir.resolve("one"), "k-", 1).overwriting();
        one.save(9, state(9), Map.of());
        assertThat(one.save(3, state(3), Map.of())).exists(); // keep = 1: the new file is the one kept
        assertThat(one.steps().keySet()).containsExactly(3L);
    }

    /** "run1" step 1 and "run" step 11 would share run11.safetensors: a stem may not end with a digit. */
    @Test
    void storesInOneFolderNeverTakeEachOthersFiles() throws IOException {
        assertThatThrownBy(() -> new CheckpointStore(dir, "run1", 3)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("stem 'run1' ends with a digit").hasMessageContaining("'run'");
        CheckpointStore run = new CheckpointStore(dir, "run", 3);
        CheckpointStore other = new CheckpointStore(dir, "run-b", 3);
        run.save(11, state(11), Map.of());
        other.save(5, state(5), Map.of());
        other.save(12, state(12), Map.of());
        assertThat(run.steps().keySet()).containsExactly(11L);
        assertThat(other.steps().keySet()).containsExactly(5L, 12L);
    }

    /** Stems are matched as text: '{' and '[' are valid in file names (a glob of them threw PatternSyntaxException). */
    @Test
    void stemsWithGlobCharactersWork() throws IOException {
        CheckpointStore store = new CheckpointStore(dir, "a{b[-", 2);
        for (int s = 1; s <= 3; s++) {
            store.save(s, state(s), Map.of());
        }
        assertThat(store.steps().keySet()).containsExactly(2L, 3L);
        assertThat(store.loadLatest().orElseThrow().step()).isEqualTo(3);
    }

    /** Any candidate that cannot be read is skipped with a warning naming it; none loading names them all. */
    @Test
    void anUnreadableNewestCheckpointFallsBackAndNoneLoadingNamesTheFiles() throws IOException {
        CheckpointStore store = new CheckpointStore(dir, "ckpt-", 3);
        store.save(1, state(1), Map.of());
        Files.createDirectory(store.file(2)); // a folder in place of the newest checkpoint
        CheckpointStore.Loaded l = store.loadLatest().orElseThrow();
        assertThat(l.step()).isEqualTo(1);
        assertThat(String.join("\n", l.warnings())).contains("ckpt-2.safetensors cannot be read");
        Files.write(store.file(1), new byte[] {1, 2, 3});
        assertThatThrownBy(store::loadLatest).isInstanceOf(IOException.class)
                .hasMessageContaining("no checkpoint of 'ckpt-' loads").hasMessageContaining("ckpt-2.safetensors")
                .hasMessageContaining("ckpt-1.safetensors is damaged");
    }

    /**
     * Saves checkpoints with increasing steps until killed (run by the kill test), printing
     * {@code saved <step>} after each save has returned.
     */
    public static void main(String[] args) throws IOException {
        CheckpointStore store = new CheckpointStore(Path.of(args[0]), "ckpt-", 3);
        long start = store.loadLatest().map(CheckpointStore.Loaded::step).orElse(0L);
        for (long s = start + 1; ; s++) {
            store.save(s, state(s), Map.of("step", Long.toString(s)));
            System.out.println(SAVED + s);
            System.out.flush();
        }
    }

    /**
     * Kills a saving JVM fifty times and checks what it leaves. Each kill waits for events, not
     * for a time: the child's first save, then one to three more (seeded), then a seeded fraction
     * of the time the last save took, so that it lands at a random point inside the next save
     * however fast or loaded the machine is.
     */
    @Test
    @Timeout(300)
    void fiftyKillsWhileSavingNeverLeaveAnUnloadableCheckpointAndResumeTakesTheNewest() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Generator g = Generator.seeded(11);
        long lastResumed = 0;
        for (int kill = 0; kill < 50; kill++) {
            Process p = new ProcessBuilder(java, "-Xshare:auto", "-cp", System.getProperty("java.class.path"),
                    CheckpointStoreTest.class.getName(), dir.toString()).redirectErrorStream(true).start();
            long saved;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), UTF_8))) {
                SaveEvents events = awaitSaves(out, 2 + g.nextInt(3));
                saved = events.lastStep();
                TimeUnit.NANOSECONDS.sleep((long) (g.nextDouble() * events.lastSaveNanos()));
                p.destroyForcibly();
                assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            }
            CheckpointStore store = new CheckpointStore(dir, "ckpt-", 3);
            long newest = -1;
            for (var e : store.steps().entrySet()) {
                Safetensors.Contents c = Safetensors.load(e.getValue()); // every file present loads
                assertThat(c.tensors().get("w").toFloatArray()[0]).isEqualTo((float) e.getKey());
                newest = Math.max(newest, e.getKey());
            }
            CheckpointStore.Loaded l = store.loadLatest().orElseThrow();
            assertThat(l.step()).isEqualTo(newest);                 // resume takes the newest
            assertThat(l.step()).isGreaterThanOrEqualTo(saved);     // a save that returned survives the kill
            assertThat(l.step()).isGreaterThan(lastResumed);        // progress is never lost
            lastResumed = l.step();
        }
        assertThat(lastResumed).isPositive();
        // a kill can leave a temporary file behind; the next save of that checkpoint removes it
        CheckpointStore store = new CheckpointStore(dir, "ckpt-", 3);
        Path stale = dir.resolve("ckpt-" + (lastResumed + 1) + ".safetensors.tmp-deadbeef");
        Files.write(stale, new byte[] {1, 2, 3});
        store.save(lastResumed + 1, state(lastResumed + 1), Map.of());
        assertThat(stale).doesNotExist();
        assertThat(store.loadLatest().orElseThrow().step()).isEqualTo(lastResumed + 1);
    }

    /** The step of the last save the child reported, and the time between its last two reports. */
    private record SaveEvents(long lastStep, long lastSaveNanos) {}

    /** Reads the child's output until it has reported {@code count >= 2} completed saves. */
    private static SaveEvents awaitSaves(BufferedReader out, int count) throws IOException {
        StringBuilder other = new StringBuilder();
        long step = -1;
        long previous = 0;
        long interval = 0;
        for (int seen = 0; seen < count; ) {
            String line = out.readLine();
            if (line == null) {
                throw new AssertionError("the saving JVM ended after " + seen + " saves; its output:\n" + other);
            }
            if (!line.startsWith(SAVED)) {
                other.append(line).append('\n'); // a JVM warning, or the child's stack trace
                continue;
            }
            long now = System.nanoTime();
            long s = Long.parseLong(line.substring(SAVED.length()));
            assertThat(s).as("steps in order").isGreaterThan(step);
            step = s;
            interval = now - previous;
            previous = now;
            seen++;
        }
        return new SaveEvents(step, interval);
    }
}
