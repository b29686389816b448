package io.jgrad.io;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Numbered checkpoints in one folder: {@code <stem><step>.safetensors}, each written atomically,
 * then a small pointer file {@code <stem>-latest.txt} (also atomic) naming the newest, for people
 * and tools, then all but the newest {@code keep} removed. Every file under its final name is
 * complete, so loading takes the highest step that loads (a crash between a checkpoint and its
 * pointer loses nothing); a damaged file is skipped with a warning naming it and its replacement.
 *
 * <p>A store never deletes the file it has just written. Saving a step lower than one already
 * present (another run's checkpoints, or a newer one that did not load) is refused with a
 * {@link FileAlreadyExistsException} naming the folder and the newest file, before anything is
 * written, unless the store was made {@link #overwriting()}: then the higher steps are removed
 * once the new file and its pointer are in place.
 *
 * <p>Not safe for concurrent use by several threads or processes on one folder and stem.
 */
public final class CheckpointStore {
    private static final System.Logger LOG = System.getLogger(CheckpointStore.class.getName());
    private final Path dir;
    private final String stem;
    private final int keep;
    private final boolean overwriting;

    /** A store in {@code dir} for files named {@code <stem><step>.safetensors}, keeping the newest {@code keep}. */
    public CheckpointStore(Path dir, String stem, int keep) {
        this(dir, stem, keep, false);
    }

    private CheckpointStore(Path dir, String stem, int keep, boolean overwriting) {
        checkArgument(keep >= 1, "CheckpointStore: keep must be at least 1, got %s", keep);
        checkArgument(!stem.isEmpty() && !stem.contains("/") && !stem.contains(java.io.File.separator),
                "CheckpointStore: bad stem '%s'", stem);
        // the step follows the stem directly, so "run1" step 1 and "run" step 11 would both be run11
        checkArgument(!Character.isDigit(stem.charAt(stem.length() - 1)), "CheckpointStore: stem '%s' ends with a "
                + "digit, so its files could not be told from those of stem '%s' (end it with a letter, '-' or '_')",
                stem, stem.substring(0, stem.length() - 1));
        this.dir = dir;
        this.stem = stem;
        this.keep = keep;
        this.overwriting = overwriting;
    }

    /**
     * This store, but one whose saves supersede checkpoints of higher steps (an earlier run's,
     * being replaced on purpose, or newer ones that did not load): they are deleted after each
     * save has written its file and pointer.
     */
    public CheckpointStore overwriting() {
        return new CheckpointStore(dir, stem, keep, true);
    }

    /** The folder this store writes to. */
    public Path dir() {
        return dir;
    }

    /** The file of checkpoint {@code step}. */
    public Path file(long step) {
        return dir.resolve(stem + step + ".safetensors");
    }

    private Path pointer() {
        return dir.resolve(stem + "-latest.txt");
    }

    /**
     * Writes checkpoint {@code step}, points {@code latest} at it, and prunes older ones (never
     * this one); returns its file.
     *
     * @throws FileAlreadyExistsException when a higher step is present and this store is not
     *         {@linkplain #overwriting() overwriting}; nothing is written then
     */
    public Path save(long step, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        checkArgument(step >= 0, "CheckpointStore: step must be >= 0, got %s", step);
        TreeMap<Long, Path> before = steps();
        if (!overwriting && !before.isEmpty() && before.lastKey() > step) {
            throw new FileAlreadyExistsException(dir.toString(), null, "holds checkpoints of '" + stem + "' up to step "
                    + before.lastKey() + " (" + before.lastEntry().getValue().getFileName() + "), newer than step " + step
                    + " being saved: another run's? Resume it, move them away, or overwrite them on purpose");
        }
        Files.createDirectories(dir);
        Path f = file(step);
        Safetensors.save(f, tensors, metadata);
        AtomicFiles.write(pointer(), out -> out.write(f.getFileName().toString().getBytes(StandardCharsets.UTF_8)));
        TreeMap<Long, Path> all = steps();
        for (Path newer : all.tailMap(step, false).values()) { // only when overwriting: superseded now
            deleteCheckpoint(newer);
        }
        TreeMap<Long, Path> older = new TreeMap<>(all.headMap(step, false));
        while (older.size() > keep - 1) {
            deleteCheckpoint(older.pollFirstEntry().getValue());
        }
        return f;
    }

    /** Deletes a checkpoint file; a folder in its place (never written by a store) is left alone. */
    private static void deleteCheckpoint(Path p) throws IOException {
        if (!Files.isDirectory(p)) {
            Files.deleteIfExists(p);
        }
    }

    /** Every checkpoint file present, by step. */
    public TreeMap<Long, Path> steps() throws IOException {
        TreeMap<Long, Path> out = new TreeMap<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        // matched as text, not as a glob: a stem with '{' or '[' is a valid file name
        DirectoryStream.Filter<Path> ours = p -> {
            String n = p.getFileName().toString();
            return n.startsWith(stem) && n.endsWith(".safetensors") && n.length() > stem.length() + ".safetensors".length();
        };
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, ours)) {
            for (Path p : files) {
                String n = p.getFileName().toString();
                String digits = n.substring(stem.length(), n.length() - ".safetensors".length());
                if (!digits.isEmpty() && digits.chars().allMatch(Character::isDigit) && digits.length() < 18) {
                    out.put(Long.parseLong(digits), p);
                }
            }
        }
        return out;
    }

    /** A loaded checkpoint, with the warnings met on the way (a damaged newest file, a stale pointer). */
    public record Loaded(long step, Path file, Safetensors.Contents contents, List<String> warnings) {}

    /**
     * The newest checkpoint that loads; empty when there is none. A candidate that does not load
     * (damaged, unreadable, a folder in its place) is skipped with a warning, also logged.
     *
     * @throws IOException naming every candidate and why, when there are some and none loads
     */
    public Optional<Loaded> loadLatest() throws IOException {
        List<String> warnings = new ArrayList<>();
        TreeMap<Long, Path> all = steps();
        for (Long s : all.descendingKeySet()) {
            Path p = all.get(s);
            try {
                Safetensors.Contents c = Safetensors.load(p);
                if (!warnings.isEmpty()) {
                    warnings.add("using " + p + " instead");
                }
                return Optional.of(new Loaded(s, p, c, warnings));
            } catch (IOException e) {
                String why = p + (e instanceof FormatException ? " is damaged (" : " cannot be read (") + e.getMessage() + ")";
                LOG.log(System.Logger.Level.WARNING, why);
                warnings.add(why);
            }
        }
        if (!all.isEmpty()) {
            throw new IOException(dir + ": no checkpoint of '" + stem + "' loads: " + String.join("; ", warnings));
        }
        return Optional.empty();
    }
}
