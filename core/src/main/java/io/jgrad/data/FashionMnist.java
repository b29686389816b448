package io.jgrad.data;

import io.jgrad.io.AtomicFiles;
import io.jgrad.io.ChecksumMismatchException;
import io.jgrad.io.IdxFormatException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Fashion-MNIST (60,000 training and 10,000 test images of 28×28 clothing items, 10 classes) from
 * its IDX files, raw or gzipped.
 *
 * <p>Where the files are looked for, in order: the folder the caller gives; {@code $JGRAD_DATA};
 * {@code ~/.jgrad/data}; {@code /usr/share/datasets/fashion-mnist} (Debian's
 * {@code dataset-fashion-mnist}). If none has them and downloading is allowed, they are fetched
 * from the canonical address into the first writable of {@code $JGRAD_DATA} and
 * {@code ~/.jgrad/data}, each checked against its published SHA-256 and moved into place atomically.
 */
public final class FashionMnist {
    /** Class names, index = label. */
    public static final List<String> CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
            "Shirt", "Sneaker", "Bag", "Ankle boot");
    /** Where the files are published. */
    public static final String CANONICAL_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";
    /**
     * The four files and the SHA-256 digests of the published downloads (RELIABILITY.md §1.4).
     * Debian's dataset-fashion-mnist holds the same images recompressed (other gzip bytes), so
     * these digests apply to downloads, not to those files.
     */
    public static final Map<String, String> SHA256 = Map.of(
            "train-images-idx3-ubyte.gz", "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "train-labels-idx1-ubyte.gz", "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "t10k-images-idx3-ubyte.gz", "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "t10k-labels-idx1-ubyte.gz", "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5");

    /** Training and test sets (flattened, not normalised: see {@link ImageDataset#withNormalization}). */
    public record Splits(ImageDataset train, ImageDataset test, Path folder) {}

    private FashionMnist() {}

    /** The folders searched, in order, for a caller's folder (may be null). */
    public static List<Path> searchPath(Path given) {
        List<Path> out = new ArrayList<>();
        if (given != null) {
            out.add(given);
        }
        String env = System.getenv("JGRAD_DATA");
        if (env != null && !env.isBlank()) {
            out.add(Path.of(env));
            out.add(Path.of(env, "fashion-mnist"));
        }
        Path home = Path.of(System.getProperty("user.home"), ".jgrad", "data");
        out.add(home);
        out.add(home.resolve("fashion-mnist"));
        out.add(Path.of("/usr/share/datasets/fashion-mnist"));
        return out;
    }

    /** Finds (or, if allowed, downloads) and reads the data set. */
    public static Splits load(Path given, boolean allowDownload) throws IOException {
        for (Path dir : searchPath(given)) {
            if (hasAll(dir)) {
                return read(dir);
            }
        }
        if (!allowDownload) {
            throw new IOException("Fashion-MNIST not found in " + searchPath(given) + "; install Debian's "
                    + "dataset-fashion-mnist, put the four .gz files in one of these folders, or allow the download");
        }
        Path target = downloadFolder();
        download(URI.create(CANONICAL_URL), target, SHA256);
        return read(target);
    }

    private static Path downloadFolder() {
        String env = System.getenv("JGRAD_DATA");
        return env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".jgrad", "data");
    }

    private static Path find(Path dir, String gz) {
        Path g = dir.resolve(gz);
        if (Files.isRegularFile(g)) {
            return g;
        }
        Path raw = dir.resolve(gz.substring(0, gz.length() - 3));
        return Files.isRegularFile(raw) ? raw : null;
    }

    private static boolean hasAll(Path dir) {
        for (String f : SHA256.keySet()) {
            if (find(dir, f) == null) {
                return false;
            }
        }
        return true;
    }

    /** Reads the four files from {@code dir}, checking dims (28×28), counts and labels (0-9). */
    public static Splits read(Path dir) throws IOException {
        return new Splits(split(dir, "train"), split(dir, "t10k"), dir);
    }

    private static ImageDataset split(Path dir, String prefix) throws IOException {
        Path imagesFile = find(dir, prefix + "-images-idx3-ubyte.gz");
        Path labelsFile = find(dir, prefix + "-labels-idx1-ubyte.gz");
        if (imagesFile == null || labelsFile == null) {
            throw new IOException(dir + ": missing " + prefix + " images or labels");
        }
        Idx.Bytes images = Idx.readUnsignedBytes(imagesFile, 3);
        Idx.Bytes labels = Idx.readUnsignedBytes(labelsFile, 1);
        if (images.dims()[1] != 28 || images.dims()[2] != 28) {
            throw new IdxFormatException(imagesFile + ": expected 28x28 images, found " + images.dims()[1] + "x"
                    + images.dims()[2]);
        }
        if (images.dims()[0] != labels.dims()[0]) {
            throw new IdxFormatException(imagesFile + ": images have " + images.dims()[0] + " items, labels "
                    + labels.dims()[0]);
        }
        long[] y = new long[labels.data().length];
        for (int i = 0; i < y.length; i++) {
            y[i] = labels.data()[i] & 0xFF;
            if (y[i] > 9) {
                throw new IdxFormatException(labelsFile + ": label " + y[i] + " at index " + i + " out of range [0,9]");
            }
        }
        return new ImageDataset(images.data(), y, 1, 28, 28);
    }

    /**
     * Downloads the files named in {@code digests} from {@code base} into {@code dir}: each is
     * streamed through SHA-256 into a temporary file and moved into place only if its digest
     * matches ({@link #SHA256} for the canonical address; others for a mirror).
     */
    public static void download(URI base, Path dir, Map<String, String> digests) throws IOException {
        Files.createDirectories(dir);
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30))
                .followRedirects(HttpClient.Redirect.NORMAL).build();
        for (Map.Entry<String, String> f : digests.entrySet()) {
            Path target = dir.resolve(f.getKey());
            if (Files.isRegularFile(target) && sha256(target).equals(f.getValue())) {
                continue;
            }
            URI uri = base.resolve(f.getKey());
            HttpResponse<InputStream> r;
            try {
                r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(10)).build(),
                        HttpResponse.BodyHandlers.ofInputStream());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(uri + ": download interrupted", e);
            }
            if (r.statusCode() != 200) {
                r.body().close();
                throw new IOException(uri + ": HTTP status " + r.statusCode());
            }
            String expected = f.getValue();
            AtomicFiles.write(target, out -> {
                MessageDigest md = digest();
                try (InputStream in = new DigestInputStream(r.body(), md)) {
                    in.transferTo(out);
                }
                String found = HexFormat.of().formatHex(md.digest());
                if (!found.equals(expected)) {
                    throw new ChecksumMismatchException(uri + ": sha256 expected " + expected + ", found " + found);
                }
            });
        }
    }

    /** SHA-256 of a file, as lower-case hex. */
    public static String sha256(Path file) throws IOException {
        MessageDigest md = digest();
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), md)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }
}
