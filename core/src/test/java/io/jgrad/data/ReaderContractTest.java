package io.jgrad.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract of every reader (safetensors, checkpoints, IDX, Fashion-MNIST, CIFAR-10 folder,
 * archive and batch): a file of n bytes is accepted or rejected with the reader's documented
 * {@link io.jgrad.io.FormatException}, never another exception and never an
 * {@link OutOfMemoryError}, with allocation bounded by a small multiple of n (plus the tensors
 * really present). Each case is a generated hostile file (high rank, overflowing products,
 * amplifying headers, lying sizes, gzip bombs, sparse giants) read in a child JVM with a 256 MB
 * heap; the child reports what each read allocated, which is asserted here (allocation, unlike
 * time, does not depend on the machine's load). The child prints the figures, for the record.
 */
class ReaderContractTest {
    @TempDir
    Path dir;

    private static final long MB = 1 << 20;

    /** One generated file, its reader, the outcome it must have and the allocation it may cost. */
    private record Case(String name, String reader, Path path, String outcome, long maxAllocated, long present) {}

    private final List<Case> cases = new ArrayList<>();

    /**
     * A case whose read may allocate {@code perByte} times the file's size plus {@code plus} bytes
     * (garbage included); an accepted one may keep {@code present} bytes of decompressed data.
     */
    private void expect(String name, String reader, Path path, Class<?> outcome, double perByte, long plus,
                        long present) throws IOException {
        long n = sizeOf(path);
        cases.add(new Case(name, reader, path, outcome == null ? "ACCEPTED" : outcome.getName(),
                (long) (perByte * n) + plus, present));
    }

    private void expect(String name, String reader, Path path, Class<?> outcome, double perByte, long plus)
            throws IOException {
        expect(name, reader, path, outcome, perByte, plus, 0);
    }

    private static long sizeOf(Path p) throws IOException {
        if (!Files.isDirectory(p)) {
            return Files.size(p);
        }
        try (var files = Files.list(p)) {
            long sum = 0;
            for (Path f : (Iterable<Path>) files::iterator) {
                sum += Files.isRegularFile(f) ? Files.size(f) : 0;
            }
            return sum;
        }
    }

    // ------------------------------------------------------------------ generated files

    /** A safetensors file whose header is written by {@code header} and whose data section has {@code data} zero bytes. */
    private Path safetensors(String name, HeaderWriter header, long data) throws IOException {
        Path body = dir.resolve(name + ".header");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(body), 1 << 16)) {
            header.write(out);
        }
        long n = Files.size(body);
        Path p = dir.resolve(name + ".safetensors");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(p), 1 << 16)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(n).array());
            Files.copy(body, out);
            zeros(out, data);
        }
        Files.delete(body);
        return p;
    }

    @FunctionalInterface
    private interface HeaderWriter {
        void write(OutputStream out) throws IOException;
    }

    private static void ascii(OutputStream out, String s) throws IOException {
        out.write(s.getBytes(StandardCharsets.UTF_8));
    }

    private static void zeros(OutputStream out, long n) throws IOException {
        byte[] z = new byte[1 << 16];
        for (long left = n; left > 0; left -= z.length) {
            out.write(z, 0, (int) Math.min(z.length, left));
        }
    }

    private static HeaderWriter shape(String dtype, int dims, int d, String offsets) {
        return out -> {
            ascii(out, "{\"w\":{\"dtype\":\"" + dtype + "\",\"shape\":[");
            for (int i = 0; i < dims; i++) {
                ascii(out, (i == 0 ? "" : ",") + d);
            }
            ascii(out, "],\"data_offsets\":" + offsets + "}}");
        };
    }

    private static byte[] idxHeader(int... dims) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length);
        b.put((byte) 0).put((byte) 0).put((byte) 8).put((byte) dims.length);
        for (int d : dims) {
            b.putInt(d);
        }
        return b.array();
    }

    /** An IDX file (gzipped or not) of the given dims whose payload is {@code present} zero bytes. */
    private Path idx(Path p, boolean gzip, long present, int... dims) throws IOException {
        Files.createDirectories(p.getParent());
        try (OutputStream file = new BufferedOutputStream(Files.newOutputStream(p), 1 << 16);
             OutputStream out = gzip ? new GZIPOutputStream(file, 1 << 16) : file) {
            out.write(idxHeader(dims));
            zeros(out, present);
        }
        return p;
    }

    /** A tar.gz of the given members (name → size declared, bytes present). */
    private Path tarGz(String name, Map<String, long[]> members) throws IOException {
        Path p = dir.resolve(name);
        try (OutputStream out = new GZIPOutputStream(new BufferedOutputStream(Files.newOutputStream(p), 1 << 16),
                1 << 16)) {
            for (var m : members.entrySet()) {
                out.write(Cifar10Test.header(m.getKey(), m.getValue()[0], '0'));
                zeros(out, m.getValue()[1]);
                zeros(out, (512 - m.getValue()[1] % 512) % 512);
            }
            zeros(out, 1024);
        }
        return p;
    }

    private Path sparse(Path p, long length) throws IOException {
        Files.createDirectories(p.getParent());
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(length);
        }
        return p;
    }

    private static final List<String> BATCHES = List.of("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
            "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin");

    // ------------------------------------------------------------------ the cases

    private void safetensorsCases() throws IOException {
        Class<?> bad = io.jgrad.io.SafetensorsFormatException.class;
        expect("safetensors-100k-dims-of-1", "safetensors", safetensors("rank", shape("F32", 100_000, 1, "[0,4]"), 4),
                bad, 4, 16 * MB);
        expect("safetensors-800k-dims-of-2", "safetensors", safetensors("overflow", shape("U8", 800_000, 2, "[0,4]"), 4),
                bad, 4, 16 * MB);
        expect("safetensors-100MB-header-of-spaces", "safetensors", safetensors("spaces", out -> {
            ascii(out, "{}");
            byte[] spaces = new byte[1 << 16];
            java.util.Arrays.fill(spaces, (byte) ' ');
            long left = io.jgrad.io.Safetensors.MAX_HEADER - 2;
            for (; left > 0; left -= spaces.length) {
                out.write(spaces, 0, (int) Math.min(spaces.length, left));
            }
        }, 0), null, 1.2, 16 * MB);
        for (int count : new int[] {io.jgrad.io.Safetensors.MAX_ENTRIES, 1_000_000}) {
            Class<?> outcome = count > io.jgrad.io.Safetensors.MAX_ENTRIES ? bad : null;
            expect("safetensors-" + count + "-zero-size-tensors", "safetensors", safetensors("empties" + count, out -> {
                ascii(out, "{");
                for (int i = 0; i < count; i++) {
                    ascii(out, (i == 0 ? "" : ",") + "\"t" + i + "\":{\"dtype\":\"F32\",\"shape\":[0],"
                            + "\"data_offsets\":[0,0]}");
                }
                ascii(out, "}");
            }, 0), outcome, 24, 16 * MB);
            expect("safetensors-" + count + "-metadata-keys", "safetensors", safetensors("metadata" + count, out -> {
                ascii(out, "{\"__metadata__\":{");
                for (int i = 0; i < count; i++) {
                    ascii(out, (i == 0 ? "" : ",") + "\"k" + i + "\":\"\"");
                }
                ascii(out, "}}");
            }, 0), outcome, 16, 16 * MB);
        }
        expect("safetensors-nesting-10M-deep", "safetensors", safetensors("nested", out -> {
            ascii(out, "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0],\"x\":");
            byte[] open = new byte[10_000_000];
            java.util.Arrays.fill(open, (byte) '[');
            out.write(open);
            ascii(out, "}}");
        }, 0), bad, 2, 16 * MB);
        expect("safetensors-60MB-metadata-string", "safetensors", safetensors("string", out -> {
            ascii(out, "{\"__metadata__\":{\"k\":\"");
            byte[] a = new byte[60_000_000];
            java.util.Arrays.fill(a, (byte) 'a');
            out.write(a);
            ascii(out, "\"}}");
        }, 0), bad, 4, 16 * MB);
        expect("safetensors-60MB-tensor-name", "safetensors", safetensors("name", out -> {
            ascii(out, "{\"");
            byte[] a = new byte[60_000_000];
            java.util.Arrays.fill(a, (byte) 'a');
            out.write(a);
            ascii(out, "\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}");
        }, 0), bad, 4, 16 * MB);
        expect("safetensors-declares-2GB-holds-4-bytes", "safetensors",
                safetensors("lying", shape("F32", 1, 500_000_000, "[0,2000000000]"), 4), bad, 4, 16 * MB);
        expect("safetensors-80MB-tensor-really-present", "safetensors",
                safetensors("real", shape("F32", 1, 20_000_000, "[0,80000000]"), 80_000_000), null, 3.5, 16 * MB);
    }

    private void checkpointCases() throws IOException {
        Path store = Files.createDirectories(dir.resolve("store"));
        io.jgrad.io.Safetensors.save(store.resolve("ckpt-1.safetensors"),
                Map.of("w", io.jgrad.core.Tensor.ones(3)));
        Files.move(safetensors("ck2", shape("F32", 100_000, 1, "[0,4]"), 4), store.resolve("ckpt-2.safetensors"));
        Files.move(safetensors("ck3", shape("U8", 800_000, 2, "[0,4]"), 4), store.resolve("ckpt-3.safetensors"));
        Files.createDirectories(store.resolve("ckpt-4.safetensors")); // a folder where the newest file should be
        expect("checkpoints-newest-three-hostile", "checkpoints", store, null, 4, 16 * MB);
    }

    private void idxCases() throws IOException {
        Class<?> bad = IdxFormatException.class;
        // Fashion-MNIST folders: good labels and t10k files, one hostile train-images file each
        for (String bomb : List.of("16000", "46340", "many-items")) {
            Path f = dir.resolve("fashion-" + bomb);
            if (bomb.equals("many-items")) {
                idx(f.resolve("train-labels-idx1-ubyte.gz"), true, 8 * MB, 2_000_000);
            } else {
                idx(f.resolve("train-labels-idx1-ubyte.gz"), true, 1, 1);
                int side = Integer.parseInt(bomb);
                idx(f.resolve("train-images-idx3-ubyte.gz"), true, bomb.equals("16000") ? 256_000_000L : 64 * MB,
                        1, side, side);
            }
            if (!Files.exists(f.resolve("train-images-idx3-ubyte.gz"))) {
                idx(f.resolve("train-images-idx3-ubyte.gz"), true, 784, 1, 28, 28);
            }
            idx(f.resolve("t10k-labels-idx1-ubyte.gz"), true, 1, 1);
            idx(f.resolve("t10k-images-idx3-ubyte.gz"), true, 784, 1, 28, 28);
            expect("fashion-" + bomb, "fashion", f, bad, 4, 16 * MB);
        }
        expect("idx-raw-declares-1.6GB-holds-1MB", "idx3", idx(dir.resolve("idx/short"), false, MB, 1, 40_000, 40_000),
                bad, 4, 16 * MB);
        expect("idx-gz-declares-1.6GB-holds-8MB", "idx3",
                idx(dir.resolve("idx/short.gz"), true, 8 * MB, 1, 40_000, 40_000), bad, 4, 32 * MB);
        // a real payload of 64 MB in a 64 KB gzip: present, so it may cost its size (and half again while read)
        expect("idx-gz-64MB-really-present", "idx3", idx(dir.resolve("idx/real.gz"), true, 64 * MB, 1, 8192, 8192),
                null, 0, 160 * MB, 64 * MB);
    }

    private void cifarCases() throws IOException {
        Class<?> bad = CifarFormatException.class;
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("cifar-10-batches-bin/data_batch_1.bin", new long[] {2_000_000_000L, 0});
        expect("cifar-archive-member-declares-2GB", "cifar:10000", tarGz("huge.tar.gz", m), bad, 4, 16 * MB);
        m.clear();
        m.put("cifar-10-batches-bin/unwanted.bin", new long[] {100 * MB, 100 * MB});
        expect("cifar-archive-100MB-unwanted-member", "cifar:10000", tarGz("unwanted.tar.gz", m), bad, 4, 16 * MB);
        m.clear();
        m.put("cifar-10-batches-bin/data_batch_1.bin", new long[] {10_000L * Cifar10.RECORD, MB});
        expect("cifar-archive-batch-truncated", "cifar:10000", tarGz("short.tar.gz", m), bad, 4, 16 * MB);
        m.clear();
        for (String b : BATCHES) {
            m.put("cifar-10-batches-bin/" + b, new long[] {1000L * Cifar10.RECORD, 1000L * Cifar10.RECORD});
        }
        // 18 MB of records really present: the data set is held once (plus a batch while it is read)
        expect("cifar-archive-6x1000-records", "cifar:1000", tarGz("ok.tar.gz", m), null, 0, 72 * MB,
                6000L * Cifar10.RECORD);
        Path folder = dir.resolve("cifar-sparse");
        sparse(folder.resolve("data_batch_1.bin"), 4L << 30);
        for (String b : BATCHES.subList(1, 6)) {
            sparse(folder.resolve(b), 10_000L * Cifar10.RECORD);
        }
        cases.add(new Case("cifar-folder-4GB-sparse-batch", "cifar:10000", folder, bad.getName(), 16 * MB, 0));
        cases.add(new Case("cifar-batch-3GB-sparse", "cifar-batch",
                sparse(dir.resolve("giant/data_batch_1.bin"), 1_000_000L * Cifar10.RECORD), bad.getName(), 16 * MB, 0));
    }

    private static final Pattern LINE = Pattern.compile(
            "CASE (\\S+) (\\S+) allocated=(\\d+) retained=(\\d+) peak=(\\d+) ms=(\\d+) (.*)");

    @Test
    void everyReaderRejectsHostileFilesWithItsFormatExceptionInBoundedMemory() throws Exception {
        safetensorsCases();
        checkpointCases();
        idxCases();
        cifarCases();
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                ReaderContractProbe.class.getName()));
        for (Case c : cases) {
            command.addAll(List.of(c.name(), c.reader(), c.path().toString()));
        }
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>();
        try (var out = new java.io.BufferedReader(new java.io.InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                lines.add(line);
            }
        }
        assertThat(child.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(child.exitValue()).as(String.join("\n", lines)).isZero();
        Map<String, Matcher> seen = new LinkedHashMap<>();
        for (String line : lines) {
            Matcher m = LINE.matcher(line);
            if (m.matches()) {
                seen.put(m.group(1), m);
                System.out.println(line);
            }
        }
        for (Case c : cases) {
            Matcher m = seen.get(c.name());
            assertThat(m).as(c.name() + " in\n" + String.join("\n", lines)).isNotNull();
            assertThat(m.group(2)).as(c.name() + ": " + m.group(7)).isEqualTo(c.outcome());
            assertThat(Long.parseLong(m.group(3))).as(c.name() + ": bytes allocated").isLessThanOrEqualTo(c.maxAllocated());
            // what a result keeps: the data really present and at most 5 times the file for names and objects;
            // a rejection keeps nothing (a few MB of classes loaded on the way)
            assertThat(Long.parseLong(m.group(4))).as(c.name() + ": bytes retained").isLessThanOrEqualTo(
                    c.outcome().equals("ACCEPTED") ? c.present() + 5 * sizeOf(c.path()) + 4 * MB : 4 * MB);
            if (!c.outcome().equals("ACCEPTED")) {
                assertThat(m.group(7)).as(c.name()).contains(c.path().toString());
            }
        }
    }
}
