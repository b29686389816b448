package io.jgrad.data;

import io.jgrad.io.CifarFormatException;
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
        if (!Files.exists(folderOrArchive)) {
            throw new NoSuchFileException(folderOrArchive.toString(), null, "no such file or folder; CIFAR-10 is read "
                    + "from the extracted " + DIR + " folder, the folder holding it, or cifar-10-binary.tar.gz");
        }
        Map<String, byte[]> batches = new LinkedHashMap<>();
        if (Files.isDirectory(folderOrArchive)) {
            Path dir = Files.isDirectory(folderOrArchive.resolve(DIR)) ? folderOrArchive.resolve(DIR) : folderOrArchive;
            for (String name : allBatches()) {
                Path f = dir.resolve(name);
                if (!Files.isRegularFile(f)) {
                    throw new CifarFormatException(dir + ": missing " + name);
                }
                long size = Files.size(f);
                checkSize(f.toString(), size, recordsPerBatch);
                batches.put(name, Files.readAllBytes(f));
            }
        } else {
            try (InputStream in = Files.newInputStream(folderOrArchive)) {
                batches = readArchive(folderOrArchive.toString(), in, recordsPerBatch);
            }
        }
        List<byte[]> train = new ArrayList<>();
        for (String n : TRAIN) {
            train.add(batches.get(n));
        }
        return new Splits(toDataset(folderOrArchive + "!train", train), toDataset(folderOrArchive + "!" + TEST,
                List.of(batches.get(TEST))));
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

    /** The records of one or more batch files as a dataset, checking every label. */
    static ImageDataset toDataset(String name, List<byte[]> files) throws CifarFormatException {
        int n = 0;
        for (byte[] f : files) {
            n += f.length / RECORD;
        }
        byte[] pixels = new byte[n * (RECORD - 1)];
        long[] labels = new long[n];
        int k = 0;
        for (byte[] f : files) {
            for (int r = 0; r < f.length / RECORD; r++, k++) {
                int label = f[r * RECORD] & 0xFF;
                if (label > 9) {
                    throw new CifarFormatException(name + " record " + r + ": label " + label + " out of range [0,9]");
                }
                labels[k] = label;
                System.arraycopy(f, r * RECORD + 1, pixels, k * (RECORD - 1), RECORD - 1);
            }
        }
        return new ImageDataset(pixels, labels, 3, 32, 32).withFlatten(false);
    }

    /** Reads one batch file of any whole number of records. */
    public static ImageDataset readBatch(Path file) throws IOException {
        long size = Files.size(file);
        if (size == 0 || size % RECORD != 0) {
            throw new CifarFormatException(file + ": " + size + " bytes is not a whole number of " + RECORD + "-byte records");
        }
        return toDataset(file.toString(), List.of(Files.readAllBytes(file)));
    }

    /** The six batches from a cifar-10-binary.tar.gz stream, without extracting anything. */
    static Map<String, byte[]> readArchive(String name, InputStream raw, int records) throws IOException {
        Map<String, byte[]> found = new LinkedHashMap<>();
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
                    if (found.containsKey(base)) {
                        throw new CifarFormatException(name + ": member " + member + " appears twice");
                    }
                    checkSize(name + "!" + member, size, records);
                    byte[] data = readExactly(name, in, (int) size, offset);
                    skip(name, in, padded - size, offset);
                    found.put(base, data);
                } else {
                    skip(name, in, padded, offset);
                }
                offset += padded;
            }
            for (String n : allBatches()) {
                if (!found.containsKey(n)) {
                    throw new CifarFormatException(name + ": archive lacks " + DIR + n
                            + (ended ? "" : " (it ends without the end-of-archive blocks: truncated?)"));
                }
            }
            return found;
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
