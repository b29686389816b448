package io.jgrad.data;

import io.jgrad.core.Backends;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * CIFAR-10's binary version: records of 1 label byte (0-9) and 3,072 pixel bytes (1,024 red,
 * then green, then blue, each 32×32 row-major), 10,000 records per batch file. Read from the
 * extracted folder ({@code cifar-10-batches-bin/}) or straight from {@code cifar-10-binary.tar.gz}
 * without extracting it: the archive is streamed through a strict ustar reader that checks each
 * header's checksum and size, never writes a member to disk, rejects links and escaping names,
 * and requires every batch exactly once.
 */
public final class Cifar10 {
    /** Class names, index = label (from the archive's batches.meta.txt). */
    public static final List<String> CLASSES = List.of("airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
            "horse", "ship", "truck");
    /** Bytes per record: label and 3×32×32 pixels. */
    public static final int RECORD = 1 + 3 * 32 * 32;
    private static final List<String> TRAIN = List.of("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
            "data_batch_4.bin", "data_batch_5.bin");
    private static final String TEST = "test_batch.bin";
    private static final String DIR = "cifar-10-batches-bin/";

    /** Training (the five batches) and test images as [N, 3, 32, 32] datasets. */
    public record Splits(ImageDataset train, ImageDataset test) {}

    private Cifar10() {}

    /** Reads the standard data set (10,000 records per batch) from an extracted folder or the .tar.gz archive. */
    public static Splits load(Path folderOrArchive) throws IOException {
        return load(folderOrArchive, 10_000);
    }

    /** As {@link #load(Path)}, with {@code recordsPerBatch} records expected in each batch file. */
    public static Splits load(Path folderOrArchive, int recordsPerBatch) throws IOException {
        Backends.current().prepare(); // training follows: the product library loads while the files are read
        if (!Files.exists(folderOrArchive)) {
            throw new NoSuchFileException(folderOrArchive.toString(), null, "no such file or folder; CIFAR-10 is read "
                    + "from the extracted " + DIR + " folder, the folder holding it, or cifar-10-binary.tar.gz");
        }
        Batches batches = new Batches(folderOrArchive.toString(), recordsPerBatch);
        if (Files.isDirectory(folderOrArchive)) {
            Path dir = Files.isDirectory(folderOrArchive.resolve(DIR)) ? folderOrArchive.resolve(DIR) : folderOrArchive;
            for (String name : allBatches()) {
                Path f = dir.resolve(name);
                if (!Files.isRegularFile(f)) {
                    throw new CifarFormatException(dir + ": missing " + name);
                }
                checkSize(f.toString(), Files.size(f), recordsPerBatch);
                try (InputStream in = Files.newInputStream(f)) {
                    batches.read(f.toString(), name, in);
                }
            }
        } else {
            try (InputStream in = Files.newInputStream(folderOrArchive)) {
                readArchive(folderOrArchive.toString(), in, batches);
            }
        }
        return batches.splits();
    }

    /**
     * The six batches' records as they are read: one pixel array per batch, kept as a segment of
     * the data set rather than copied into one array (the heap holds the data set once).
     */
    static final class Batches {
        private final int records;
        private final Map<String, byte[]> pixels = new LinkedHashMap<>();
        private final Map<String, long[]> labels = new LinkedHashMap<>();

        Batches(String name, int records) throws CifarFormatException {
            if (records < 1 || (long) records * RECORD > Integer.MAX_VALUE - 8) {
                throw new CifarFormatException(name + ": " + records + " records per batch: need 1 to "
                        + (Integer.MAX_VALUE - 8) / RECORD);
            }
            this.records = records;
        }

        boolean has(String batch) {
            return pixels.containsKey(batch);
        }

        /** Reads batch {@code batch} (exactly {@code records} records) from {@code in}; {@code file} names it in messages. */
        void read(String file, String batch, InputStream in) throws IOException {
            byte[] raw = BoundedReads.readExactly(in, records * RECORD, got -> new CifarFormatException(file
                    + ": truncated: " + got + " of its " + (long) records * RECORD + " bytes"));
            byte[] px = new byte[records * (RECORD - 1)];
            long[] y = new long[records];
            for (int r = 0; r < records; r++) {
                int l = raw[r * RECORD] & 0xFF;
                if (l > 9) {
                    throw new CifarFormatException(file + " record " + r + ": label " + l + " out of range [0,9]");
                }
                y[r] = l;
                System.arraycopy(raw, r * RECORD + 1, px, r * (RECORD - 1), RECORD - 1);
            }
            pixels.put(batch, px);
            labels.put(batch, y);
        }

        Splits splits() {
            return new Splits(dataset(TRAIN), dataset(List.of(TEST)));
        }

        private ImageDataset dataset(List<String> batches) {
            byte[][] segments = new byte[batches.size()][];
            long[] y = new long[batches.size() * records];
            for (int i = 0; i < segments.length; i++) {
                segments[i] = pixels.get(batches.get(i));
                System.arraycopy(labels.get(batches.get(i)), 0, y, i * records, records);
            }
            return new ImageDataset(segments, records, y, 3, 32, 32).withFlatten(false);
        }
    }

    private static List<String> allBatches() {
        List<String> all = new ArrayList<>(TRAIN);
        all.add(TEST);
        return all;
    }

    private static void checkSize(String name, long size, int records) throws CifarFormatException {
        if (size != (long) records * RECORD) {
            throw new CifarFormatException(name + ": " + size + " bytes is not " + records + " records of " + RECORD);
        }
    }

    /** Reads one batch file of any whole number of records. */
    public static ImageDataset readBatch(Path file) throws IOException {
        long size = Files.size(file);
        if (size == 0 || size % RECORD != 0) {
            throw new CifarFormatException(file + ": " + size + " bytes is not a whole number of " + RECORD + "-byte records");
        }
        long records = size / RECORD;
        if (records * (RECORD - 1) > Integer.MAX_VALUE - 8) {
            throw new CifarFormatException(file + ": " + records + " records are more than one tensor holds ("
                    + (Integer.MAX_VALUE - 8) / (RECORD - 1) + ")");
        }
        byte[] pixels = new byte[(int) records * (RECORD - 1)];
        long[] labels = new long[(int) records];
        byte[] label = new byte[1];
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            for (int r = 0; r < records; r++) {
                if (in.readNBytes(label, 0, 1) + in.readNBytes(pixels, r * (RECORD - 1), RECORD - 1) < RECORD) {
                    throw new CifarFormatException(file + ": file shrank while being read (record " + r + ")");
                }
                labels[r] = label[0] & 0xFF;
                if (labels[r] > 9) {
                    throw new CifarFormatException(file + " record " + r + ": label " + labels[r] + " out of range [0,9]");
                }
            }
        }
        return new ImageDataset(pixels, labels, 3, 32, 32).withFlatten(false);
    }

    /** The six batches from a cifar-10-binary.tar.gz stream, without extracting anything. */
    static Splits readArchive(String name, InputStream raw, int records) throws IOException {
        Batches batches = new Batches(name, records);
        readArchive(name, raw, batches);
        return batches.splits();
    }

    private static void readArchive(String name, InputStream raw, Batches found) throws IOException {
        int records = found.records;
        long offset = 0;
        try (InputStream in = new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16)) {
            byte[] header = new byte[512];
            String longName = null;
            boolean ended = false;
            while (true) {
                int got = in.readNBytes(header, 0, 512);
                if (got == 0) {
                    break; // no end-of-archive blocks: accepted below only if every batch was read
                }
                if (got < 512) {
                    throw new CifarFormatException(name + ": archive truncated inside the tar header at offset " + offset);
                }
                if (isZero(header)) {
                    ended = true;
                    break;
                }
                checkChecksum(name, header, offset);
                long size = octal(name, header, 124, 12, offset);
                char type = (char) header[156];
                String member = longName != null ? longName : memberName(header);
                longName = null;
                offset += 512;
                long padded = (size + 511) / 512 * 512;
                if (type == 'L') { // GNU long name: the next member's name, in this member's data
                    if (size > 4096) {
                        throw new CifarFormatException(name + ": long name of " + size + " bytes at offset " + offset);
                    }
                    byte[] n = readExactly(name, in, (int) padded, offset);
                    longName = new String(n, 0, (int) size, StandardCharsets.UTF_8).replace("\0", "");
                    offset += padded;
                    continue;
                }
                if (member.startsWith("/") || member.equals("..") || member.startsWith("../") || member.contains("/../")) {
                    throw new CifarFormatException(name + ": member name '" + member + "' escapes the archive");
                }
                String base = member.startsWith(DIR) ? member.substring(DIR.length()) : null;
                boolean wanted = base != null && allBatches().contains(base);
                if (wanted && (type == '1' || type == '2')) {
                    throw new CifarFormatException(name + ": member " + member + " is a link, not a file");
                }
                if (wanted && (type == '0' || type == '\0')) {
                    if (found.has(base)) {
                        throw new CifarFormatException(name + ": member " + member + " appears twice");
                    }
                    checkSize(name + "!" + member, size, records);
                    found.read(name + "!" + member, base, in);
                    skip(name, in, padded - size, offset);
                } else {
                    skip(name, in, padded, offset);
                }
                offset += padded;
            }
            for (String n : allBatches()) {
                if (!found.has(n)) {
                    throw new CifarFormatException(name + ": archive lacks " + DIR + n
                            + (ended ? "" : " (it ends without the end-of-archive blocks: truncated?)"));
                }
            }
        } catch (EOFException e) {
            throw new CifarFormatException(name + ": gzip stream truncated (file may be incomplete)", e);
        } catch (ZipException e) {
            throw new CifarFormatException(name + ": damaged gzip data: " + e.getMessage(), e);
        }
    }

    private static boolean isZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    private static String memberName(byte[] h) {
        String n = field(h, 0, 100);
        String prefix = new String(h, 257, 5, StandardCharsets.US_ASCII).equals("ustar") ? field(h, 345, 155) : "";
        return prefix.isEmpty() ? n : prefix + "/" + n;
    }

    private static String field(byte[] h, int off, int len) {
        int end = off;
        while (end < off + len && h[end] != 0) {
            end++;
        }
        return new String(h, off, end - off, StandardCharsets.UTF_8);
    }

    private static long octal(String name, byte[] h, int off, int len, long at) throws CifarFormatException {
        if ((h[off] & 0x80) != 0) {
            throw new CifarFormatException(name + ": tar header at offset " + at + " uses a base-256 size; not supported");
        }
        long v = 0;
        boolean digits = false;
        for (int i = off; i < off + len; i++) {
            byte b = h[i];
            if (b == 0 || b == ' ') {
                if (digits) {
                    break;
                }
                continue;
            }
            if (b < '0' || b > '7') {
                throw new CifarFormatException(name + ": tar header at offset " + at + " has a size field that is not octal");
            }
            v = v * 8 + (b - '0');
            digits = true;
            if (v > Integer.MAX_VALUE - 8) {
                throw new CifarFormatException(name + ": tar header at offset " + at + " has an absurd size " + v);
            }
        }
        return v;
    }

    private static void checkChecksum(String name, byte[] h, long at) throws CifarFormatException {
        long stored = octalChecksum(h);
        long sum = 0;
        for (int i = 0; i < 512; i++) {
            sum += i >= 148 && i < 156 ? ' ' : h[i] & 0xFF;
        }
        if (stored != sum) {
            throw new CifarFormatException(name + ": tar header at offset " + at + " has bad checksum (stored " + stored
                    + ", computed " + sum + ")");
        }
    }

    private static long octalChecksum(byte[] h) {
        long v = 0;
        for (int i = 148; i < 156; i++) {
            byte b = h[i];
            if (b >= '0' && b <= '7') {
                v = v * 8 + (b - '0');
            } else if (v > 0 || b == 0) {
                if (b == 0 || b == ' ') {
                    continue;
                }
                return -1;
            }
        }
        return v;
    }

    private static byte[] readExactly(String name, InputStream in, int n, long at) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length < n) {
            throw new CifarFormatException(name + ": archive truncated: member data at offset " + at + " needs " + n
                    + " bytes, found " + b.length);
        }
        return b;
    }

    private static void skip(String name, InputStream in, long n, long at) throws IOException {
        long left = n;
        while (left > 0) {
            long s = in.skip(left);
            if (s <= 0) {
                if (in.read() < 0) {
                    throw new CifarFormatException(name + ": archive truncated while skipping member data at offset " + at);
                }
                s = 1;
            }
            left -= s;
        }
    }
}
