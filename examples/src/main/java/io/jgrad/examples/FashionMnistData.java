package io.jgrad.examples;

import io.jgrad.data.FashionMnist;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Where the training programs get Fashion-MNIST: with {@code --data DIR}, from DIR alone (a
 * missing folder or file is a bad option, status 2); otherwise from the first folder of the
 * search path that has it, else downloaded (SHA-256 checked, progress shown), else, when the
 * download fails or {@code --no-download} is given, from the class-balanced subset embedded in
 * the examples (resources {@code fashion-mnist-subset/}), saying that its accuracy is lower
 * and how to get the full set.
 */
final class FashionMnistData {
    /** Where the full set is looked for and downloaded from and to: the standard places, or a test's. */
    record Sources(List<Path> folders, URI base, Map<String, String> digests, Path downloadTo) {
        /** FashionMnist's search path, its canonical address and digests, and its download folder. */
        static Sources standard() {
            return new Sources(FashionMnist.searchPath(null), URI.create(FashionMnist.CANONICAL_URL), FashionMnist.SHA256,
                    FashionMnist.downloadFolder());
        }
    }

    /** The data and where it came from (a folder, or the embedded subset), for the program's log. */
    record Loaded(FashionMnist.Splits splits, String from) {}

    static final String SUBSET = "fashion-mnist-subset/";

    private FashionMnistData() {}

    /** Finds, downloads or falls back as the class comment says; {@code data} is --data (may be null). */
    static Loaded load(Path data, boolean download, Sources sources) throws IOException {
        if (data != null) {
            return new Loaded(FashionMnist.read(checkFolder(data)), data.toString());
        }
        Optional<Path> found = FashionMnist.locate(sources.folders());
        if (found.isPresent()) {
            return new Loaded(FashionMnist.read(found.get()), found.get().toString());
        }
        String folders = sources.folders().stream().map(Path::toString).reduce((a, b) -> a + ", " + b).orElse("");
        if (download) {
            System.out.println("Fashion-MNIST is not in " + folders + "; downloading it from " + sources.base() + " into "
                    + sources.downloadTo() + " (--no-download skips this)");
            try (DownloadProgress progress = new DownloadProgress()) {
                FashionMnist.download(sources.base(), sources.downloadTo(), sources.digests(), progress);
                return new Loaded(FashionMnist.read(sources.downloadTo()), sources.downloadTo().toString());
            } catch (IOException e) {
                System.err.println("download failed: " + Cli.describe(e));
            }
        } else {
            System.out.println("Fashion-MNIST is not in " + folders + ", and --no-download is given");
        }
        FashionMnist.Splits subset = subset();
        System.out.printf(Locale.ROOT, "using the subset of Fashion-MNIST embedded in jgrad: %d training and %d test "
                + "images, a tenth of the full set, so accuracy is lower than with it. For the full set: apt-get install "
                + "dataset-fashion-mnist, put its four .gz files in %s, or let the program download them (--download, "
                + "the default; it needs network access)%n", subset.train().size(), subset.test().size(),
                FashionMnist.downloadFolder());
        return new Loaded(subset, "the embedded subset");
    }

    /** {@code --data}'s folder, if it holds the four files; else a bad option naming the folder and what it lacks. */
    private static Path checkFolder(Path data) {
        if (!Files.isDirectory(data)) {
            throw new Cli.Failure(Cli.BAD_OPTIONS, "--data " + data + ": " + (Files.exists(data) ? "not a folder"
                    : "no such folder") + "; Fashion-MNIST is read from a folder holding its four .gz files", false);
        }
        List<String> missing = FashionMnist.missing(data);
        if (!missing.isEmpty()) {
            throw new Cli.Failure(Cli.BAD_OPTIONS, "--data " + data + ": no " + String.join(", ", missing)
                    + " (gzipped or not) in this folder", false);
        }
        return data;
    }

    /** The embedded subset: 600 training and 100 test images per class, with the checks of FashionMnist.read. */
    static FashionMnist.Splits subset() throws IOException {
        return FashionMnist.read("jgrad-examples!/" + SUBSET, file -> FashionMnistData.class.getResourceAsStream(SUBSET + file));
    }

    /**
     * Shows a download's progress: a bar per file on a terminal, else a line per quarter of each
     * file (logs get no carriage returns).
     */
    static final class DownloadProgress implements FashionMnist.Progress, AutoCloseable {
        private final boolean terminal = System.console() != null;
        private ProgressBar bar;
        private int quarter;

        @Override
        public void update(String file, long done, long total) {
            if (done == 0) {
                close();
                quarter = 0;
                if (terminal) {
                    bar = new ProgressBarBuilder().setTaskName(file).setInitialMax(total).setUnit(" MB", 1 << 20)
                            .setStyle(ProgressBarStyle.ASCII).showSpeed().setMaxRenderedLength(100).build();
                } else {
                    System.out.printf(Locale.ROOT, "  %s: %s%n", file, total < 0 ? "size not given"
                            : String.format(Locale.ROOT, "%.1f MB", total / 1048576.0));
                }
            }
            if (bar != null) {
                bar.stepTo(done);
            } else if (total > 0 && done * 4 / total > quarter) {
                quarter = (int) (done * 4 / total);
                System.out.printf(Locale.ROOT, "  %s: %d%%%n", file, quarter * 25);
            }
        }

        @Override
        public void close() {
            if (bar != null) {
                bar.close();
                bar = null;
            }
        }
    }
}
