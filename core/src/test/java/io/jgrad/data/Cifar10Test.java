package io.jgrad.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CIFAR-10 reader on generated files in the exact format: every case of RELIABILITY.md §2.D. */
class Cifar10Test {
    static final int N = 4; // records per generated batch
    static final String[] BATCHES = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
        "data_batch_5.bin", "test_batch.bin"};

    @TempDir
    Path dir;

    /** A batch whose record r has label (r + seed) % 10 and pixel bytes (r + c + i) & 0xFF for channel c. */
    static byte[] batch(int seed) {
        byte[] b = new byte[N * Cifar10.RECORD];
        for (int r = 0; r < N; r++) {
            b[r * Cifar10.RECORD] = (byte) ((r + seed) % 10);
            for (int i = 0; i < 3072; i++) {
                b[r * Cifar10.RECORD + 1 + i] = (byte) (r + seed + i / 1024 * 50 + i % 7);
            }
        }
        return b;
    }

    record Member(String name, byte[] data, char type) {}

    static byte[] header(String name, long size, char type) {
        byte[] h = new byte[512];
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(n, 0, h, 0, Math.min(100, n.length));
        put(h, 100, String.format("%07o", 0644));
        put(h, 108, "0000000");
        put(h, 116, "0000000");
        put(h, 124, String.format("%011o", size));
        put(h, 136, "00000000000");
        h[156] = (byte) type;
        put(h, 257, "ustar");
        put(h, 263, "00");
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        int sum = 0;
        for (byte x : h) {
            sum += x & 0xFF;
        }
        put(h, 148, String.format("%06o", sum));
        h[154] = 0;
        return h;
    }

    static void put(byte[] h, int at, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, at, b.length);
    }

    static byte[] tar(List<Member> members, boolean endBlocks) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Member m : members) {
            out.write(header(m.name(), m.data().length, m.type()));
            out.write(m.data());
            out.write(new byte[(512 - m.data().length % 512) % 512]);
        }
        if (endBlocks) {
            out.write(new byte[1024]);
        }
        return out.toByteArray();
    }

    static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(out)) {
            g.write(raw);
        }
        return out.toByteArray();
    }

    static List<Member> standard() {
        List<Member> m = new ArrayList<>();
        m.add(new Member("cifar-10-batches-bin/", new byte[0], '5'));
        m.add(new Member("cifar-10-batches-bin/batches.meta.txt", "airplane\nautomobile\n".getBytes(StandardCharsets.US_ASCII), '0'));
        for (int i = 0; i < BATCHES.length; i++) {
            m.add(new Member("cifar-10-batches-bin/" + BATCHES[i], batch(i), '0'));
        }
        return m;
    }

    private Path archive(List<Member> members, boolean endBlocks) throws IOException {
        Path p = dir.resolve("cifar-" + System.nanoTime() + ".tar.gz");
        Files.write(p, gzip(tar(members, endBlocks)));
        return p;
    }

    private void rejects(Path p, String message) {
        assertThatThrownBy(() -> Cifar10.load(p, N)).isInstanceOf(CifarFormatException.class)
                .hasMessageContaining(message);
    }

    @Test
    void readsTheFolderAndTheArchiveAlike() throws IOException {
        Path folder = Files.createDirectories(dir.resolve("cifar-10-batches-bin"));
        for (int i = 0; i < BATCHES.length; i++) {
            Files.write(folder.resolve(BATCHES[i]), batch(i));
        }
        for (Path source : new Path[] {dir, archive(standard(), true), archive(standard(), false)}) {
            Cifar10.Splits s = Cifar10.load(source, N);
            assertThat(s.train().size()).isEqualTo(5 * N);
            assertThat(s.test().size()).isEqualTo(N);
            assertThat(s.train().label(N + 1)).isEqualTo((1 + 1) % 10); // batch 2, record 1
            byte[] img = s.test().image(2);
            assertThat(img[0] & 0xFF).isEqualTo((2 + 5) & 0xFF);              // red plane, first row
            assertThat(img[1024] & 0xFF).isEqualTo((2 + 5 + 50 + 1024 % 7) & 0xFF); // green plane starts at 1024
            assertThat(s.test().batch(new int[] {0}).inputs().shape().toArray()).containsExactly(1, 3, 32, 32);
        }
    }

    @Test
    void everyMalformedArchiveIsRejected() throws IOException {
        byte[] raw = tar(standard(), true);
        byte[] badSum = raw.clone();
        badSum[512 + 10] ^= 1;                                                                   // 28
        Path p = dir.resolve("badsum.tar.gz");
        Files.write(p, gzip(badSum));
        rejects(p, "tar header at offset 512 has bad checksum");
        byte[] notOctal = raw.clone();
        System.arraycopy(header("cifar-10-batches-bin/x", 1, '0'), 0, notOctal, 512, 512);
        notOctal[512 + 124 + 3] = '9';                                                           // 29
        Files.write(p, gzip(notOctal));
        rejects(p, "bad checksum"); // a changed header fails its checksum first
        List<Member> m = standard();
        m.set(2, new Member("cifar-10-batches-bin/data_batch_1.bin", new byte[Cifar10.RECORD * N + 1], '0')); // 32
        rejects(archive(m, true), "data_batch_1.bin: " + (Cifar10.RECORD * N + 1) + " bytes is not 4 records of 3073");
        m = standard();
        m.set(3, new Member("cifar-10-batches-bin/data_batch_2.bin", new byte[0], '2'));        // 30
        rejects(archive(m, true), "is a link, not a file");
        m = standard();
        m.add(new Member("../evil", new byte[3], '0'));
        rejects(archive(m, true), "member name '../evil' escapes the archive");
        m = standard();
        m.add(new Member("/etc/passwd", new byte[3], '0'));
        rejects(archive(m, true), "escapes the archive");
        m = standard();
        m.remove(4);                                                                             // 31
        rejects(archive(m, true), "archive lacks cifar-10-batches-bin/data_batch_3.bin");
        m = standard();
        m.add(new Member("cifar-10-batches-bin/test_batch.bin", batch(0), '0'));
        rejects(archive(m, true), "appears twice");
        m = standard();
        byte[] badLabel = batch(1);
        badLabel[Cifar10.RECORD * 3] = (byte) 200;                                              // 33
        m.set(3, new Member("cifar-10-batches-bin/data_batch_2.bin", badLabel, '0'));
        rejects(archive(m, true), "record 3: label 200 out of range");
        byte[] cut = java.util.Arrays.copyOf(raw, raw.length / 2);                              // 34
        Files.write(p, gzip(cut));
        rejects(p, "truncated");
        Files.write(p, java.util.Arrays.copyOf(gzip(raw), 500));
        rejects(p, "gzip stream truncated");
    }

    @Test
    void aMissingPathIsNamedWithWhatWasExpected() {
        Path nowhere = dir.resolve("nowhere");
        assertThatThrownBy(() -> Cifar10.load(nowhere))
                .isInstanceOf(java.nio.file.NoSuchFileException.class)
                .hasMessage(nowhere + ": no such file or folder; CIFAR-10 is read from the extracted "
                        + "cifar-10-batches-bin/ folder, the folder holding it, or cifar-10-binary.tar.gz");
    }

    @Test
    void aSingleBatchFileOfAnyWholeNumberOfRecordsReads() throws IOException {
        Path f = dir.resolve("one.bin");
        Files.write(f, batch(3));
        assertThat(Cifar10.readBatch(f).size()).isEqualTo(N);
        Files.write(f, new byte[Cifar10.RECORD + 5]);
        assertThatThrownBy(() -> Cifar10.readBatch(f)).hasMessageContaining("not a whole number of 3073-byte records");
    }
}
