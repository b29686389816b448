package io.jgrad.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The IDX reader on generated files: every malformed case of RELIABILITY.md §2.B-C. */
class IdxTest {
    @TempDir
    Path dir;

    static byte[] idx(int type, int[] dims, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + payload.length);
        b.put((byte) 0).put((byte) 0).put((byte) type).put((byte) dims.length);
        for (int d : dims) {
            b.putInt(d);
        }
        return b.put(payload).array();
    }

    static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(out)) {
            g.write(raw);
        }
        return out.toByteArray();
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    private void rejects(byte[] bytes, int rank, String message) throws IOException {
        Path p = write("f" + System.nanoTime(), bytes);
        assertThatThrownBy(() -> Idx.readUnsignedBytes(p, rank)).isInstanceOf(IdxFormatException.class)
                .hasMessageContaining(p.toString()).hasMessageContaining(message);
    }

    @Test
    void readsRawAndGzippedFiles() throws IOException {
        byte[] raw = idx(0x08, new int[] {2, 2, 3}, new byte[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, (byte) 255});
        for (byte[] bytes : new byte[][] {raw, gzip(raw)}) {
            Idx.Bytes b = Idx.readUnsignedBytes(write("ok" + bytes.length, bytes), 3);
            assertThat(b.dims()).containsExactly(2, 2, 3);
            assertThat(b.data()[11] & 0xFF).isEqualTo(255);
        }
    }

    @Test
    void everyMalformedHeaderAndPayloadIsRejected() throws IOException {
        rejects(new byte[0], 1, "file is empty");
        rejects(new byte[] {0, 0, 8}, 1, "truncated header: need 4 bytes, file has 3");                 // 16
        rejects(Arrays.copyOf(idx(0x08, new int[] {60000, 28, 28}, new byte[0]), 9), 3,
                "truncated header: need 16 bytes, file has 9");
        rejects(gzip(gzip(idx(0x08, new int[] {1}, new byte[1]))), 1, "(is it still gzipped?)");           // 17
        byte[] magic = idx(0x08, new int[] {1}, new byte[1]);
        magic[1] = 7;
        rejects(magic, 1, "bad magic 0x00070801: expected 0x0000 in bytes 0-1");
        rejects(idx(0x0A, new int[] {1}, new byte[1]), 1, "unknown IDX element type 0x0A");              // 18
        rejects(idx(0x0C, new int[] {2, 1}, new byte[8]), 3, "expected u8 rank-3 file, found i32 rank-2"); // 19
        rejects(idx(0x08, new int[] {0}, new byte[0]), 1, "dimension 0 is 0");                            // 20
        rejects(idx(0x08, new int[] {-1}, new byte[0]), 1, "dimension 0 is 4294967295");
        rejects(idx(0x08, new int[] {65536, 65536, 1}, new byte[0]), 3, "hold more than 2147483639 elements"); // 21
        rejects(idx(0x08, new int[] {3, 2, 2}, new byte[11]), 3, "payload has 11 bytes, dims [3, 2, 2] need 12"); // 22
        rejects(idx(0x08, new int[] {3}, new byte[4]), 1, "payload is longer than dims [3] need (3 bytes)");  // 23
    }

    @Test
    void damagedGzipStreamsAreNamed() throws IOException {
        byte[] gz = gzip(idx(0x08, new int[] {1000}, new byte[1000]));
        rejects(Arrays.copyOf(gz, gz.length / 2), 1, "gzip stream truncated");
        rejects(Arrays.copyOf(gz, gz.length - 3), 1, "gzip stream truncated");
        byte[] badCrc = gz.clone();
        badCrc[badCrc.length - 6] ^= 0x55;
        rejects(badCrc, 1, "gzip checksum mismatch (corrupt download)");
        byte[] doubled = new byte[gz.length * 2];
        System.arraycopy(gz, 0, doubled, 0, gz.length);
        System.arraycopy(gz, 0, doubled, gz.length, gz.length);
        rejects(doubled, 1, "payload is longer"); // two members decompress to a doubled payload
    }

    @Test
    void fashionMnistChecksCountsLabelsAndImageSize() throws IOException {
        Path d = Files.createDirectories(dir.resolve("fm"));
        Files.write(d.resolve("train-images-idx3-ubyte.gz"), gzip(idx(8, new int[] {3, 28, 28}, new byte[3 * 784])));
        Files.write(d.resolve("train-labels-idx1-ubyte.gz"), gzip(idx(8, new int[] {2}, new byte[] {1, 2})));
        Files.write(d.resolve("t10k-images-idx3-ubyte"), idx(8, new int[] {1, 28, 28}, new byte[784]));
        Files.write(d.resolve("t10k-labels-idx1-ubyte"), idx(8, new int[] {1}, new byte[] {10}));
        assertThatThrownBy(() -> FashionMnist.read(d)).hasMessageContaining("images have 3 items, labels 2"); // 24
        Files.write(d.resolve("train-labels-idx1-ubyte.gz"), gzip(idx(8, new int[] {3}, new byte[] {1, 2, 3})));
        assertThatThrownBy(() -> FashionMnist.read(d)).hasMessageContaining("label 10 at index 0 out of range [0,9]"); // 25
        Files.write(d.resolve("t10k-labels-idx1-ubyte"), idx(8, new int[] {1}, new byte[] {9}));
        Files.write(d.resolve("t10k-images-idx3-ubyte"), idx(8, new int[] {1, 27, 29}, new byte[27 * 29]));
        assertThatThrownBy(() -> FashionMnist.read(d)).hasMessageContaining("expected 28x28 images, found 27x29"); // 26
        Files.write(d.resolve("t10k-images-idx3-ubyte"), idx(8, new int[] {1, 28, 28}, new byte[784]));
        FashionMnist.Splits s = FashionMnist.read(d);
        assertThat(s.train().size()).isEqualTo(3);
        assertThat(s.test().label(0)).isEqualTo(9);
    }
}
