package io.jgrad.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.UnaryOperator;

/**
 * Writes a file so that a crash at any moment leaves either the old file or the new one, never
 * a partial one under the final name: temporary file in the same folder, flushed to disk,
 * atomically renamed over the target, then the folder flushed (Lucene's fsync discipline).
 * Leftover temporary files of an earlier crash ({@code <name>.tmp-*}) are removed on the next write.
 */
public final class AtomicFiles {
    /** Produces the file's bytes into a stream. */
    @FunctionalInterface
    public interface Writer {
        /** Writes everything to {@code out} (do not close it). */
        void write(OutputStream out) throws IOException;
    }

    private AtomicFiles() {}

    /** Writes {@code target} atomically with the bytes {@code writer} produces. */
    public static void write(Path target, Writer writer) throws IOException {
        write(target, writer, UnaryOperator.identity());
    }

    /** As {@link #write(Path, Writer)}, with the temporary file's stream wrapped (tests inject failures here). */
    static void write(Path target, Writer writer, UnaryOperator<OutputStream> wrap) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        String name = abs.getFileName().toString();
        removeStaleTemporaries(dir, name);
        Path tmp = dir.resolve(name + ".tmp-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        boolean done = false;
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            OutputStream raw = Channels.newOutputStream(ch);
            OutputStream out = wrap.apply(new java.io.BufferedOutputStream(raw, 1 << 16));
            writer.write(out);
            out.flush();
            ch.force(true);
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
        try {
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.deleteIfExists(tmp);
            throw new IOException(target + ": the file system cannot rename atomically; refusing to write non-atomically", e);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        fsyncDirectory(dir);
    }

    private static void removeStaleTemporaries(Path dir, String name) throws IOException {
        String prefix = name + ".tmp-"; // matched as text: a glob of the name breaks on names with '{' or '['
        try (DirectoryStream<Path> stale = Files.newDirectoryStream(dir, p -> p.getFileName().toString().startsWith(prefix))) {
            for (Path p : stale) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static void fsyncDirectory(Path dir) throws IOException {
        if (System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).startsWith("windows")) {
            return; // directories cannot be opened for sync there; NTFS journals the rename
        }
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
