package io.jgrad.data;

import io.jgrad.core.Backends;
import io.jgrad.io.AtomicFiles;
import io.jgrad.io.ChecksumMismatchException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.Flow;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Fashion-MNIST (60,000 training and 10,000 test images of 28×28 clothing items, 10 classes) from
 * its IDX files, raw or gzipped.
 *
 * <p>Where the files are looked for: only the folder the caller gives, if it gives one;
 * otherwise, in order, {@code $JGRAD_DATA}, {@code ~/.jgrad/data} and
 * {@code /usr/share/datasets/fashion-mnist} (Debian's {@code dataset-fashion-mnist}). If none has
 * them and downloading is allowed, they are fetched from the canonical address into
 * {@code $JGRAD_DATA} if it is set, else {@code ~/.jgrad/data}, each checked against its published
 * SHA-256 and moved into place atomically.
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
    /** The four file names, training images first. */
    public static final List<String> FILES = List.of("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz");

    /** Training and test sets (flattened, not normalised: see {@link ImageDataset#withNormalization}). */
    public record Splits(ImageDataset train, ImageDataset test, Path folder) {}

    /** Opens one of the four files by name, for {@link #read(String, Opener)}. */
    @FunctionalInterface
    public interface Opener {
        /** The bytes of {@code file} (gzipped or raw IDX), or null if there is no such file. */
        InputStream open(String file) throws IOException;
    }

    /** Told how a download advances, on the downloading thread. */
    @FunctionalInterface
    public interface Progress {
        /** Reports nothing. */
        Progress NONE = (file, done, total) -> { };

        /**
         * {@code done} bytes of {@code file} have arrived out of {@code total} (-1 when the server
         * does not say); called with 0 when the file starts, after each chunk, and at its end.
         */
        void update(String file, long done, long total);
    }

    private static final System.Logger LOG = System.getLogger(FashionMnist.class.getName());
    /** How long to wait for a connection, and for a server's answer to a request. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);
    static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(60);

    private FashionMnist() {}

    /**
     * The folders searched, in order: only {@code given} when it is not null; otherwise
     * {@code $JGRAD_DATA} (and its {@code fashion-mnist} subfolder), {@code ~/.jgrad/data} (and
     * its {@code fashion-mnist} subfolder) and {@code /usr/share/datasets/fashion-mnist}.
     */
    public static List<Path> searchPath(Path given) {
        if (given != null) {
            return List.of(given);
        }
        List<Path> out = new ArrayList<>();
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

    /** The first of {@code folders} that holds all four files, if any. */
    public static Optional<Path> locate(List<Path> folders) {
        return folders.stream().filter(dir -> missing(dir).isEmpty()).findFirst();
    }

    /**
     * Finds and reads the data set. With {@code given}, only that folder is read (an exception
     * names it, or the files it lacks); without, the {@link #searchPath} folders are searched and,
     * if none has the files and {@code allowDownload} is set, they are downloaded from
     * {@link #CANONICAL_URL} into {@link #downloadFolder()}.
     */
    public static Splits load(Path given, boolean allowDownload) throws IOException {
        Backends.current().prepare(); // training follows: the product library loads while the files are read
        if (given != null) {
            return read(given);
        }
        Optional<Path> found = locate(searchPath(null));
        if (found.isPresent()) {
            return read(found.get());
        }
        if (!allowDownload) {
            throw new NoSuchFileException(String.valueOf(searchPath(null)), null, "Fashion-MNIST not found in any of "
                    + "these folders; install Debian's dataset-fashion-mnist, put the four .gz files in one of them, "
                    + "or allow the download (allowDownload here; the example programs download unless given "
                    + "--no-download)");
        }
        Path target = downloadFolder();
        download(URI.create(CANONICAL_URL), target, SHA256);
        return read(target);
    }

    /** Where downloads go: {@code $JGRAD_DATA} if set, else {@code ~/.jgrad/data}. */
    public static Path downloadFolder() {
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

    /** Which of the four files {@code dir} lacks (each may be gzipped or raw), in a fixed order; all four if it is not a folder. */
    public static List<String> missing(Path dir) {
        List<String> out = new ArrayList<>();
        for (String f : FILES) {
            if (find(dir, f) == null) {
                out.add(f);
            }
        }
        return out;
    }

    /**
     * Reads the four files from {@code dir}, checking dims (28×28), counts and labels (0-9); a
     * missing folder or file is named in a {@link NoSuchFileException}.
     */
    public static Splits read(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null, Files.exists(dir) ? "not a folder" : "no such folder");
        }
        List<String> missing = missing(dir);
        if (!missing.isEmpty()) {
            throw new NoSuchFileException(dir.toString(), null, "no " + String.join(", ", missing)
                    + " (gzipped or not) in this folder");
        }
        Opener files = f -> Files.newInputStream(find(dir, f));
        return new Splits(split(dir + "/", files, "train"), split(dir + "/", files, "t10k"), dir);
    }

    /**
     * Reads the four files from {@code files} (for example a program's resources), with the
     * checks of {@link #read(Path)}; {@code source} names them in messages. The result's folder is null.
     */
    public static Splits read(String source, Opener files) throws IOException {
        return new Splits(split(source, files, "train"), split(source, files, "t10k"), null);
    }

    /** The most items a split may declare: Fashion-MNIST's (and MNIST's) 60,000 and 10,000. */
    private static int maxItems(String prefix) {
        return prefix.equals("train") ? 60_000 : 10_000;
    }

    private static ImageDataset split(String source, Opener files, String prefix) throws IOException {
        String imagesName = prefix + "-images-idx3-ubyte.gz";
        String labelsName = prefix + "-labels-idx1-ubyte.gz";
        int most = maxItems(prefix);
        // every declared dim is checked before its payload is read: a small file declaring huge dims costs its header
        Idx.Bytes labels = readIdx(source, files, labelsName, 1, dims -> {
            if (dims[0] > most) {
                throw new IdxFormatException(source + labelsName + ": declares " + dims[0] + " labels; a Fashion-MNIST "
                        + prefix + " split has at most " + most);
            }
        });
        int n = labels.dims()[0];
        Idx.Bytes images = readIdx(source, files, imagesName, 3, dims -> {
            if (dims[1] != 28 || dims[2] != 28) {
                throw new IdxFormatException(source + imagesName + ": expected 28x28 images, found " + dims[1] + "x"
                        + dims[2]);
            }
            if (dims[0] != n) {
                throw new IdxFormatException(source + imagesName + ": images have " + dims[0] + " items, labels " + n);
            }
        });
        long[] y = new long[labels.data().length];
        for (int i = 0; i < y.length; i++) {
            y[i] = labels.data()[i] & 0xFF;
            if (y[i] > 9) {
                throw new IdxFormatException(source + labelsName + ": label " + y[i] + " at index " + i
                        + " out of range [0,9]");
            }
        }
        return new ImageDataset(images.data(), y, 1, 28, 28);
    }

    private static Idx.Bytes readIdx(String source, Opener files, String name, int rank, Idx.DimsCheck check)
            throws IOException {
        InputStream in = files.open(name);
        if (in == null) {
            throw new NoSuchFileException(source + name);
        }
        try (in) {
            return Idx.read(source + name, in, rank, check);
        }
    }

    /**
     * Downloads the files named in {@code digests} from {@code base} into {@code dir}: each is
     * streamed through SHA-256 into a temporary file and moved into place only if its digest
     * matches ({@link #SHA256} for the canonical address; others for a mirror). A file already
     * there with the right digest is kept. A failure names the host and its cause in one line
     * (host not found, connection refused, no answer, an HTTP status); a digest that differs
     * is a {@link ChecksumMismatchException}.
     */
    public static void download(URI base, Path dir, Map<String, String> digests) throws IOException {
        download(base, dir, digests, Progress.NONE);
    }

    /** As {@link #download(URI, Path, Map)}, telling {@code progress} how each file advances. */
    public static void download(URI base, Path dir, Map<String, String> digests, Progress progress) throws IOException {
        download(base, dir, digests, progress, ANSWER_TIMEOUT);
    }

    /** As {@link #download(URI, Path, Map, Progress)}, waiting at most {@code answer} for each answer (tests shorten it). */
    static void download(URI base, Path dir, Map<String, String> digests, Progress progress, Duration answer)
            throws IOException {
        Files.createDirectories(dir);
        HttpClient client = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NORMAL).build();
        for (String file : new java.util.TreeSet<>(digests.keySet())) {
            Path target = dir.resolve(file);
            String expected = digests.get(file);
            if (Files.isRegularFile(target) && sha256(target).equals(expected)) {
                continue;
            }
            URI uri = base.resolve(file);
            LOG.log(System.Logger.Level.DEBUG, "downloading {0} into {1}", uri, target);
            try {
                fetch(client, uri, target, expected, progress, answer);
            } catch (ChecksumMismatchException e) {
                throw e;
            } catch (IOException e) {
                throw new IOException(uri.getHost() + ": cannot download " + file + ": " + cause(e, uri, answer), e);
            }
        }
    }

    private static void fetch(HttpClient client, URI uri, Path target, String expected, Progress progress,
                              Duration answer) throws IOException {
        HttpResponse<Flow.Publisher<List<ByteBuffer>>> r;
        try {
            r = client.send(HttpRequest.newBuilder(uri).timeout(answer).build(), HttpResponse.BodyHandlers.ofPublisher());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        Body body = new Body();
        r.body().subscribe(body);
        if (r.statusCode() != 200) {
            body.cancel();
            throw new IOException("HTTP status " + r.statusCode() + " for " + uri.getPath());
        }
        String file = target.getFileName().toString();
        long total = r.headers().firstValueAsLong("content-length").orElse(-1);
        String from = uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort());
        AtomicFiles.write(target, out -> {
            MessageDigest md = digest();
            long done = 0;
            progress.update(file, 0, total);
            try {
                for (List<ByteBuffer> chunk; (chunk = body.next(answer, from)) != null; ) {
                    for (ByteBuffer bb : chunk) {
                        byte[] bytes = new byte[bb.remaining()];
                        bb.get(bytes);
                        md.update(bytes);
                        out.write(bytes);
                        done += bytes.length;
                    }
                    progress.update(file, done, total);
                }
            } finally {
                body.cancel(); // no-op once the body is complete
            }
            String found = HexFormat.of().formatHex(md.digest());
            if (!found.equals(expected)) {
                throw new ChecksumMismatchException(uri + ": sha256 expected " + expected + ", found " + found);
            }
        });
    }

    /**
     * A response body read one chunk at a time, each wait bounded: the client bounds the wait for
     * an answer, not for the body, so a server that stops sending mid-file would otherwise hang
     * the download.
     */
    private static final class Body implements Flow.Subscriber<List<ByteBuffer>> {
        private static final Object END = new Object();
        private final java.util.concurrent.BlockingQueue<Object> items = new java.util.concurrent.LinkedBlockingQueue<>();
        private volatile Flow.Subscription subscription;

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> chunk) {
            items.add(chunk);
        }

        @Override
        public void onError(Throwable t) {
            items.add(t);
        }

        @Override
        public void onComplete() {
            items.add(END);
        }

        /** The next chunk, or null at the end; waits at most {@code limit} for it. */
        @SuppressWarnings("unchecked")
        List<ByteBuffer> next(Duration limit, String from) throws IOException {
            Object item;
            try {
                item = items.poll(limit.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            if (item == null) {
                throw new IOException("no data from " + from + " for " + limit.toSeconds() + " s (the download stalled)");
            }
            if (item == END) {
                return null;
            }
            if (item instanceof Throwable t) {
                throw t instanceof IOException io ? io : new IOException(t);
            }
            subscription.request(1);
            return (List<ByteBuffer>) item;
        }

        void cancel() {
            Flow.Subscription s = subscription;
            if (s != null) {
                s.cancel();
            }
        }
    }

    /** What went wrong, in words: the JDK's HTTP client throws ConnectExceptions without a message. */
    private static String cause(IOException e, URI uri, Duration answer) {
        String at = uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort());
        if (has(e, UnresolvedAddressException.class) || has(e, UnknownHostException.class)) {
            return "host " + uri.getHost() + " not found (no network, or the name does not resolve)";
        }
        if (has(e, HttpConnectTimeoutException.class)) {
            return "no connection to " + at + " within " + CONNECT_TIMEOUT.toSeconds() + " s";
        }
        if (has(e, HttpTimeoutException.class)) {
            return "no answer from " + at + " within " + answer.toSeconds() + " s";
        }
        String detail = innermostMessage(e);
        if (has(e, ConnectException.class)) {
            return "cannot connect to " + at + " (" + (detail == null ? "connection refused or blocked" : detail) + ")";
        }
        return e.getClass() == IOException.class && e.getMessage() != null ? e.getMessage()
                : e.getClass().getSimpleName() + (detail == null ? "" : ": " + detail);
    }

    private static boolean has(Throwable t, Class<? extends Throwable> type) {
        for (; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    private static String innermostMessage(Throwable t) {
        String m = null;
        for (; t != null; t = t.getCause()) {
            m = t.getMessage() != null ? t.getMessage() : m;
        }
        return m;
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
