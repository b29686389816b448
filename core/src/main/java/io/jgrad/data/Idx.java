package io.jgrad.data;

import io.jgrad.core.TensorTooLargeException;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reader of the IDX format of MNIST and Fashion-MNIST: two zero bytes, an element-type byte,
 * a rank byte, one big-endian uint32 per dimension, then the elements in row-major order.
 * Files may be gzip-compressed (detected by their first two bytes). Every check is explicit:
 * magic, type, rank, dims, sizes before allocating, and an exact payload length (a short or a
 * long payload is rejected); damaged gzip streams are reported as such.
 */
public final class Idx {
    /** An unsigned-byte IDX array: its dims and its elements. */
    public record Bytes(int[] dims, byte[] data) {}

    private Idx() {}

    /**
     * A caller's check of the dims a file declares, run after the header and before any of the
     * payload is read: a file whose dims the caller cannot use costs its header, not its payload.
     */
    @FunctionalInterface
    public interface DimsCheck {
        /** Throws (with a message naming the file) when {@code dims} are not what the caller reads. */
        void check(int[] dims) throws IdxFormatException;
    }

    /** Reads an unsigned-byte file of the given rank (3 for images, 1 for labels). */
    public static Bytes readUnsignedBytes(Path file, int expectedRank) throws IOException {
        if (Files.size(file) == 0) {
            throw new IdxFormatException(file + ": file is empty");
        }
        try (InputStream in = Files.newInputStream(file)) {
            return read(file.toString(), in, expectedRank);
        }
    }

    /** Reads an unsigned-byte IDX stream, raw or gzipped; {@code name} is used in messages. */
    public static Bytes read(String name, InputStream source, int expectedRank) throws IOException {
        return read(name, source, expectedRank, dims -> { });
    }

    /**
     * Reads an unsigned-byte IDX stream, raw or gzipped, whose declared dims pass {@code check}
     * before any payload is read.
     */
    public static Bytes read(String name, InputStream source, int expectedRank, DimsCheck check) throws IOException {
        try (InputStream raw = new BufferedInputStream(source, 1 << 16)) {
            raw.mark(2);
            int b0 = raw.read();
            int b1 = raw.read();
            raw.reset();
            InputStream in = b0 == 0x1f && b1 == 0x8b ? new GZIPInputStream(raw, 1 << 16) : raw;
            return parse(name, in, expectedRank, check);
        } catch (EOFException e) {
            throw new IdxFormatException(name + ": gzip stream truncated (file may be incomplete)", e);
        } catch (ZipException e) {
            String what = String.valueOf(e.getMessage());
            throw new IdxFormatException(name + (what.contains("trailer") || what.contains("invalid")
                    ? ": gzip checksum mismatch (corrupt download)" : ": damaged gzip data: " + what), e);
        }
    }

    /** Parses an unsigned-byte IDX stream; {@code name} is used in messages. */
    public static Bytes parse(String name, InputStream in, int expectedRank) throws IOException {
        return parse(name, in, expectedRank, dims -> { });
    }

    /** Parses an unsigned-byte IDX stream whose declared dims pass {@code check} before its payload is read. */
    public static Bytes parse(String name, InputStream in, int expectedRank, DimsCheck check) throws IOException {
        byte[] head = in.readNBytes(4);
        if (head.length < 4) {
            throw new IdxFormatException(name + ": truncated header: need 4 bytes, file has " + head.length);
        }
        if (head[0] != 0 || head[1] != 0) {
            throw new IdxFormatException(name + ": bad magic 0x" + String.format("%02X%02X%02X%02X", head[0], head[1],
                    head[2], head[3]) + (head[0] == 0x1f && head[1] == (byte) 0x8b ? " (is it still gzipped?)"
                    : ": expected 0x0000 in bytes 0-1"));
        }
        int type = head[2] & 0xFF;
        String typeName = switch (type) {
            case 0x08 -> "u8";
            case 0x09 -> "i8";
            case 0x0B -> "i16";
            case 0x0C -> "i32";
            case 0x0D -> "f32";
            case 0x0E -> "f64";
            default -> throw new IdxFormatException(name + ": unknown IDX element type 0x" + String.format("%02X", type));
        };
        int rank = head[3] & 0xFF;
        if (type != 0x08 || rank != expectedRank) {
            throw new IdxFormatException(name + ": expected u8 rank-" + expectedRank + " file, found " + typeName
                    + " rank-" + rank);
        }
        byte[] dimBytes = in.readNBytes(4 * rank);
        if (dimBytes.length < 4 * rank) {
            throw new IdxFormatException(name + ": truncated header: need " + (4 + 4 * rank) + " bytes, file has "
                    + (4 + dimBytes.length));
        }
        int[] dims = new int[rank];
        long count = 1;
        for (int d = 0; d < rank; d++) {
            long v = ((dimBytes[4 * d] & 0xFFL) << 24) | ((dimBytes[4 * d + 1] & 0xFF) << 16)
                    | ((dimBytes[4 * d + 2] & 0xFF) << 8) | (dimBytes[4 * d + 3] & 0xFF);
            if (v == 0 || v >= (1L << 31)) {
                throw new IdxFormatException(name + ": dimension " + d + " is " + v + "; expected 1 to " + Integer.MAX_VALUE);
            }
            dims[d] = (int) v;
            count *= v;
            if (count > Integer.MAX_VALUE - 8) {
                TensorTooLargeException e = new TensorTooLargeException("dims " + Arrays.toString(dims) + " hold more than "
                        + (Integer.MAX_VALUE - 8) + " elements");
                throw new IdxFormatException(name + ": " + e.getMessage(), e);
            }
        }
        check.check(dims.clone());
        // in pieces until half the declared payload has arrived: a short stream fails before a large allocation
        int need = (int) count;
        byte[] data = BoundedReads.readExactly(in, need, got -> new IdxFormatException(name + ": payload has "
                + got + " bytes, dims " + Arrays.toString(dims) + " need " + need));
        if (in.read() != -1) {
            throw new IdxFormatException(name + ": payload is longer than dims " + Arrays.toString(dims) + " need ("
                    + count + " bytes)");
        }
        return new Bytes(dims, data);
    }
}
