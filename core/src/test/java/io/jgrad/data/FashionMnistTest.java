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
                    .hasMessageContaining("HTTP status 404");
        } finally {
            server.stop(0);
        }
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
