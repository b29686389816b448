package io.jgrad.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.jgrad.io.ChecksumMismatchException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The download path against a loopback HTTP server (the JDK's), and the real data where installed. */
class FashionMnistTest {
    @TempDir
    Path dir;

    private static HttpServer serve(Map<String, byte[]> files) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            byte[] body = files.get(ex.getRequestURI().getPath().substring(1));
            if (body == null) {
                ex.sendResponseHeaders(404, -1);
            } else {
                ex.sendResponseHeaders(200, body.length);
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(body);
                }
            }
            ex.close();
        });
        server.start();
        return server;
    }

    @Test
    void aDownloadWhoseDigestDiffersLeavesNothingBehind() throws IOException {
        Map<String, byte[]> files = new HashMap<>();
        for (String f : FashionMnist.SHA256.keySet()) {
            files.put(f, IdxTest.gzip(IdxTest.idx(8, new int[] {1}, new byte[] {1}))); // not the published bytes
        }
        HttpServer server = serve(files);
        try {
            URI base = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
            assertThatThrownBy(() -> FashionMnist.download(base, dir, FashionMnist.SHA256))
                    .isInstanceOf(ChecksumMismatchException.class)
                    .hasMessageContaining("sha256 expected ");
            try (var list = Files.list(dir)) {
                assertThat(list.toList()).isEmpty();
            }
            files.clear(); // now every file is missing
            assertThatThrownBy(() -> FashionMnist.download(base, dir, FashionMnist.SHA256))
                    .hasMessageStartingWith("127.0.0.1: cannot download t10k-images-idx3-ubyte.gz: HTTP status 404");
        } finally {
            server.stop(0);
        }
    }

    /** The JDK's HTTP client reports these as ConnectExceptions without a message ("error: null"). */
    @Test
    void aFailedDownloadNamesTheHostAndTheCauseInOneLine() throws Exception {
        assertThatThrownBy(() -> FashionMnist.download(URI.create("http://fashion-mnist.invalid/"), dir,
                FashionMnist.SHA256)) // .invalid never resolves (RFC 6761)
                .hasMessage("fashion-mnist.invalid: cannot download t10k-images-idx3-ubyte.gz: host fashion-mnist.invalid "
                        + "not found (no network, or the name does not resolve)");
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            closedPort = s.getLocalPort();
        }
        assertThatThrownBy(() -> FashionMnist.download(URI.create("http://127.0.0.1:" + closedPort + "/"), dir,
                FashionMnist.SHA256))
                .hasMessageStartingWith("127.0.0.1: cannot download t10k-images-idx3-ubyte.gz: cannot connect to 127.0.0.1:"
                        + closedPort + " (")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("null").doesNotContain("\n"));
        java.util.concurrent.CountDownLatch never = new java.util.concurrent.CountDownLatch(1);
        HttpServer silent = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        silent.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        silent.createContext("/", ex -> {
            try {
                never.await(); // answers nothing until the test ends
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ex.close();
        });
        silent.start();
        try {
            int port = silent.getAddress().getPort();
            assertThatThrownBy(() -> FashionMnist.download(URI.create("http://127.0.0.1:" + port + "/"), dir,
                    FashionMnist.SHA256, FashionMnist.Progress.NONE, java.time.Duration.ofSeconds(1)))
                    .hasMessage("127.0.0.1: cannot download t10k-images-idx3-ubyte.gz: no answer from 127.0.0.1:" + port
                            + " within 1 s");
        } finally {
            never.countDown();
            silent.stop(0);
        }
        // a body that starts and then stops arriving: the read is given up after the same wait
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        HttpServer stalling = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        stalling.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        stalling.createContext("/", ex -> {
            ex.sendResponseHeaders(200, 100_000);
            ex.getResponseBody().write(new byte[1000]);
            ex.getResponseBody().flush();
            try {
                release.await(); // the rest never comes while the test waits
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ex.close();
        });
        stalling.start();
        try {
            int port = stalling.getAddress().getPort();
            assertThatThrownBy(() -> FashionMnist.download(URI.create("http://127.0.0.1:" + port + "/"), dir,
                    FashionMnist.SHA256, FashionMnist.Progress.NONE, java.time.Duration.ofSeconds(1)))
                    .hasMessage("127.0.0.1: cannot download t10k-images-idx3-ubyte.gz: no data from 127.0.0.1:" + port
                            + " for 1 s (the download stalled)");
            assertThat(Thread.currentThread().isInterrupted()).isFalse();
        } finally {
            release.countDown();
            stalling.stop(0);
        }
        try (var list = Files.list(dir)) {
            assertThat(list.toList()).isEmpty();
        }
    }

    @Test
    void progressIsToldEachFilesSizeAndEveryByte() throws IOException {
        Map<String, byte[]> files = new HashMap<>();
        Map<String, String> digests = new HashMap<>();
        Path src = Files.createDirectories(dir.resolve("src"));
        for (int i = 0; i < FashionMnist.FILES.size(); i++) {
            byte[] body = new byte[100_000 + i]; // over one 64 KiB chunk
            java.util.Arrays.fill(body, (byte) i);
            String f = FashionMnist.FILES.get(i);
            files.put(f, body);
            digests.put(f, FashionMnist.sha256(Files.write(src.resolve(f), body)));
        }
        Map<String, long[]> last = new HashMap<>();
        java.util.List<String> calls = new java.util.ArrayList<>();
        HttpServer server = serve(files);
        try {
            Path into = dir.resolve("into");
            FashionMnist.download(URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/"), into, digests,
                    (file, done, total) -> {
                        calls.add(file + " " + done);
                        last.put(file, new long[] {done, total});
                    });
            for (var f : files.entrySet()) {
                assertThat(last.get(f.getKey())).as(f.getKey()).containsExactly(f.getValue().length, f.getValue().length);
                assertThat(calls).as(f.getKey()).contains(f.getKey() + " 0");
                assertThat(Files.readAllBytes(into.resolve(f.getKey()))).isEqualTo(f.getValue());
            }
        } finally {
            server.stop(0);
        }
    }

    @Test
    void aGivenFolderIsTheOnlyOneLookedIn() throws IOException {
        Path nowhere = dir.resolve("nowhere");
        assertThat(FashionMnist.searchPath(nowhere)).containsExactly(nowhere);
        assertThatThrownBy(() -> FashionMnist.load(nowhere, true))
                .isInstanceOf(java.nio.file.NoSuchFileException.class)
                .hasMessage(nowhere + ": no such folder");
        Files.write(dir.resolve("train-images-idx3-ubyte.gz"), new byte[] {1});
        Files.write(dir.resolve("t10k-labels-idx1-ubyte"), new byte[] {1}); // raw files count too
        assertThat(FashionMnist.missing(dir)).containsExactly("train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz");
        assertThatThrownBy(() -> FashionMnist.load(dir, true))
                .isInstanceOf(java.nio.file.NoSuchFileException.class)
                .hasMessage(dir + ": no train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz (gzipped or not) in this folder");
    }

    @Test
    void theRealFilesLoadWithTheKnownCountsAndStatistics() throws IOException {
        Path debian = Path.of("/usr/share/datasets/fashion-mnist");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(debian),
                "Debian's dataset-fashion-mnist is not installed (.ci/run installs it)");
        FashionMnist.Splits s = FashionMnist.read(debian);
        assertThat(s.train().size()).isEqualTo(60_000);
        assertThat(s.test().size()).isEqualTo(10_000);
        double[] ms = s.train().pixelMeanStd();
        assertThat(ms[0]).isCloseTo(0.2860, org.assertj.core.api.Assertions.within(1e-4));
        assertThat(ms[1]).isCloseTo(0.3530, org.assertj.core.api.Assertions.within(1e-4));
        int[] perClass = new int[10];
        for (int i = 0; i < s.test().size(); i++) {
            perClass[(int) s.test().label(i)]++;
        }
        assertThat(perClass).containsOnly(1000);
    }

    @Test
    void servedPublishedBytesDownloadAndVerify() throws IOException {
        Path debian = Path.of("/usr/share/datasets/fashion-mnist");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(debian), "needs the real files to serve");
        Map<String, byte[]> files = new HashMap<>();
        Map<String, String> digests = new HashMap<>();
        for (String f : FashionMnist.SHA256.keySet()) {
            files.put(f, Files.readAllBytes(debian.resolve(f)));
            digests.put(f, FashionMnist.sha256(debian.resolve(f)));
        }
        byte[] truncated = java.util.Arrays.copyOf(files.get("train-labels-idx1-ubyte.gz"), 1000);
        HttpServer server = serve(files);
        try {
            URI base = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
            FashionMnist.download(base, dir, digests);
            assertThat(FashionMnist.read(dir).train().size()).isEqualTo(60_000);
            Path second = Files.createDirectories(dir.resolve("again"));
            files.put("train-labels-idx1-ubyte.gz", truncated);
            assertThatThrownBy(() -> FashionMnist.download(base, second, digests))
                    .isInstanceOf(ChecksumMismatchException.class);
            assertThat(Files.exists(second.resolve("train-labels-idx1-ubyte.gz"))).isFalse();
        } finally {
            server.stop(0);
        }
    }
}
