package io.jgrad.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.jgrad.core.DType;
import io.jgrad.core.Tensor;
import io.jgrad.core.TensorTooLargeException;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes of JSON naming each
 * tensor's dtype, shape and byte range, then the raw little-endian row-major payloads. Files
 * written here match the reference writer byte for byte (dtype-then-name order, compact JSON,
 * header padded with spaces to a multiple of 8, metadata keys sorted) and are written
 * atomically; PyTorch's {@code safetensors} package reads them.
 *
 * <p>The reader checks everything the reference checks, in the same order, plus duplicate
 * names, before allocating any tensor; every problem ends in a {@link SafetensorsFormatException}
 * naming the file. Supported dtypes: F32, F64 and I64 (read and written), F16 and BF16 (read
 * into FLOAT32, exactly; written when asked, see {@link Half}), I32, U8 and BOOL (read into INT64).
 */
public final class Safetensors {
    /** The reference's limit on the header size, in bytes (reading and writing). */
    public static final long MAX_HEADER = 100_000_000;
    /**
     * jgrad's limit on the tensors in one file, and separately on its {@code __metadata__} keys
     * (reading and writing). Each costs a few hundred bytes of heap however small it is in the
     * file, so without a limit a header within {@link #MAX_HEADER} could need gigabytes; real
     * files hold thousands at most.
     */
    public static final int MAX_ENTRIES = 100_000;

    private static final List<String> DTYPE_ORDER = List.of("BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2",
            "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64",
            "F64", "I64", "U64");
    private static final int[] DTYPE_BITS = {8, 4, 6, 6, 8, 8, 8, 8, 8, 8, 8, 16, 16, 16, 16, 32, 32, 32, 64, 64, 64, 64};
    /**
     * Field names are neither canonicalized nor interned (a header of a million distinct names
     * would otherwise be held twice, once in Jackson's symbol table); duplicates are found here,
     * with a message saying which kind of name repeats.
     */
    private static final JsonFactory JSON = JsonFactory.builder()
            .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES).disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
            .build();

    private Safetensors() {}

    /** A file's tensors (in file order) and its {@code __metadata__} strings. */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {}

    // ------------------------------------------------------------------ writing

    /**
     * A 16-bit floating-point format to store a floating-point tensor in: IEEE half precision
     * ({@code F16}) or bfloat16 ({@code BF16}), each value rounded to the nearest (ties to even),
     * too large ones to infinity, NaN kept as NaN, exactly as PyTorch's {@code .half()} and
     * {@code .bfloat16()} round. Reading gives FLOAT32 tensors, exact for every 16-bit value.
     */
    public enum Half {
        /** IEEE 754 binary16: 5 exponent bits, 10 fraction bits; at most 65504. */
        F16,
        /** bfloat16: float32's 8 exponent bits, 7 fraction bits. */
        BF16
    }

    /** Writes {@code tensors} (and no metadata) to {@code path} atomically. */
    public static void save(Path path, Map<String, Tensor> tensors) throws IOException {
        save(path, tensors, Map.of());
    }

    /** Writes {@code tensors} and {@code metadata} to {@code path} atomically: the old file survives any failure. */
    public static void save(Path path, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        save(path, tensors, metadata, Map.of());
    }

    /**
     * As {@link #save(Path, Map, Map)}, storing the floating-point tensors named in {@code halves}
     * in the 16-bit format given there (the others as they are).
     */
    public static void save(Path path, Map<String, Tensor> tensors, Map<String, String> metadata,
                            Map<String, Half> halves) throws IOException {
        Map<String, String> stored = stored(tensors, halves);
        byte[] header = header(tensors, metadata, stored); // validates before the file is touched
        AtomicFiles.write(path, out -> write(out, header, tensors, stored));
    }

    /** The file's bytes, for tests and in-memory use. */
    public static byte[] toBytes(Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        return toBytes(tensors, metadata, Map.of());
    }

    /** The file's bytes with some tensors stored in 16 bits, as {@link #save(Path, Map, Map, Map)} writes them. */
    public static byte[] toBytes(Map<String, Tensor> tensors, Map<String, String> metadata, Map<String, Half> halves)
            throws IOException {
        Map<String, String> stored = stored(tensors, halves);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        write(out, header(tensors, metadata, stored), tensors, stored);
        return out.toByteArray();
    }

    static void save(Path path, Map<String, Tensor> tensors, Map<String, String> metadata,
                     java.util.function.UnaryOperator<OutputStream> wrap) throws IOException {
        Map<String, String> stored = stored(tensors, Map.of());
        byte[] header = header(tensors, metadata, stored);
        AtomicFiles.write(path, out -> write(out, header, tensors, stored), wrap);
    }

    /** Each tensor's dtype in the file: its own, or the 16-bit format asked for it. */
    private static Map<String, String> stored(Map<String, Tensor> tensors, Map<String, Half> halves) {
        for (Map.Entry<String, Half> e : halves.entrySet()) {
            Tensor t = tensors.get(e.getKey());
            if (t == null) {
                throw new IllegalArgumentException("safetensors: a 16-bit format is asked for '" + e.getKey()
                        + "', which is not among the tensors");
            }
            if (!t.dtype().isFloatingPoint()) {
                throw new IllegalArgumentException("safetensors: '" + e.getKey() + "' is " + t.dtype()
                        + "; only floating-point tensors can be stored as " + e.getValue());
            }
        }
        Map<String, String> out = new java.util.HashMap<>();
        tensors.forEach((k, t) -> out.put(k, halves.containsKey(k) ? halves.get(k).name() : dtypeName(t.dtype())));
        return out;
    }

    private static String dtypeName(DType t) {
        return switch (t) {
            case FLOAT32 -> "F32";
            case FLOAT64 -> "F64";
            case INT64 -> "I64";
        };
    }

    private static final Comparator<String> UTF8_ORDER = (a, b) -> Arrays.compareUnsigned(
            a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));

    /** Tensor names in the reference writer's order: dtype alignment descending, then name (by UTF-8 bytes). */
    private static List<String> order(Map<String, Tensor> tensors, Map<String, String> stored) {
        List<String> names = new ArrayList<>(tensors.keySet());
        names.sort(Comparator.<String>comparingInt(n -> -DTYPE_ORDER.indexOf(stored.get(n))).thenComparing(UTF8_ORDER));
        return names;
    }

    private static byte[] header(Map<String, Tensor> tensors, Map<String, String> metadata, Map<String, String> stored)
            throws IOException {
        if (tensors.size() > MAX_ENTRIES || metadata.size() > MAX_ENTRIES) {
            throw new IllegalArgumentException("safetensors: " + tensors.size() + " tensors and " + metadata.size()
                    + " metadata keys; the limit is " + MAX_ENTRIES + " of each");
        }
        StringBuilder json = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            TreeMap<String, String> sorted = new TreeMap<>(UTF8_ORDER);
            sorted.putAll(metadata);
            json.append("\"__metadata__\":{");
            boolean first = true;
            for (Map.Entry<String, String> e : sorted.entrySet()) {
                if (e.getKey() == null || e.getValue() == null) {
                    throw new IllegalArgumentException("safetensors: metadata keys and values must not be null");
                }
                json.append(first ? "" : ",").append(quote(e.getKey())).append(':').append(quote(e.getValue()));
                first = false;
            }
            json.append('}');
        }
        long offset = 0;
        List<String> names = order(tensors, stored);
        List<Tensor> seen = new ArrayList<>();
        for (String name : names) {
            if (name.equals("__metadata__")) {
                throw new IllegalArgumentException("safetensors: '__metadata__' is reserved and cannot name a tensor");
            }
            Tensor t = tensors.get(name);
            for (int i = 0; i < seen.size(); i++) {
                if (seen.get(i).sharesStorage(t)) {
                    throw new IllegalArgumentException("safetensors: tensors '" + names.get(i) + "' and '" + name
                            + "' share storage; save a copy (clone()) of one of them");
                }
            }
            seen.add(t);
            String dtype = stored.get(name);
            long bytes = (long) t.numel() * DTYPE_BITS[DTYPE_ORDER.indexOf(dtype)] / 8;
            json.append(json.length() > 1 ? "," : "").append(quote(name)).append(":{\"dtype\":\"")
                    .append(dtype).append("\",\"shape\":[");
            for (int d = 0; d < t.dim(); d++) {
                json.append(d > 0 ? "," : "").append(t.size(d));
            }
            json.append("],\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
            offset += bytes;
        }
        json.append('}');
        byte[] body = json.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (body.length + 7) / 8 * 8; // data starts 8-aligned, as the reference writes it
        if (padded > MAX_HEADER) {
            throw new IllegalArgumentException("safetensors: header of " + padded + " bytes exceeds the limit " + MAX_HEADER);
        }
        byte[] header = new byte[padded];
        Arrays.fill(header, (byte) ' ');
        System.arraycopy(body, 0, header, 0, body.length);
        return header;
    }

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    private static void write(OutputStream out, byte[] header, Map<String, Tensor> tensors, Map<String, String> stored)
            throws IOException {
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
        out.write(len.array());
        out.write(header);
        ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (String name : order(tensors, stored)) {
            Tensor t = tensors.get(name);
            String dtype = stored.get(name);
            if (dtype.equals("F16") || dtype.equals("BF16")) {
                boolean f16 = dtype.equals("F16");
                for (float v : t.dtype() == DType.FLOAT32 ? t.toFloatArray() : t.to(DType.FLOAT32).toFloatArray()) {
                    flushIfFull(out, buf, 2).putShort(f16 ? HalfFloats.toF16(v) : HalfFloats.toBf16(v));
                }
                continue;
            }
            switch (t.dtype()) {
                case FLOAT32 -> {
                    for (float v : t.toFloatArray()) {
                        flushIfFull(out, buf, 4).putFloat(v);
                    }
                }
                case FLOAT64 -> {
                    for (double v : t.toDoubleArray()) {
                        flushIfFull(out, buf, 8).putDouble(v);
                    }
                }
                case INT64 -> {
                    for (long v : t.toLongArray()) {
                        flushIfFull(out, buf, 8).putLong(v);
                    }
                }
            }
        }
        out.write(buf.array(), 0, buf.position());
        out.flush();
    }

    private static ByteBuffer flushIfFull(OutputStream out, ByteBuffer buf, int need) throws IOException {
        if (buf.remaining() < need) {
            out.write(buf.array(), 0, buf.position());
            buf.clear();
        }
        return buf;
    }

    // ------------------------------------------------------------------ reading

    /** Random access to the file's bytes. */
    private interface Source {
        long length();

        void read(long position, byte[] dst, int off, int len) throws IOException;
    }

    /** Reads and validates a file; see the class comment for what is checked. */
    public static Contents load(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            return parse(path.toString(), new Source() {
                @Override
                public long length() {
                    return size;
                }

                @Override
                public void read(long position, byte[] dst, int off, int len) throws IOException {
                    ByteBuffer b = ByteBuffer.wrap(dst, off, len);
                    long p = position;
                    while (b.hasRemaining()) {
                        int n = ch.read(b, p);
                        if (n < 0) {
                            throw new SafetensorsFormatException(path + ": file shrank while being read");
                        }
                        p += n;
                    }
                }
            });
        }
    }

    /** Reads and validates a file held in memory; {@code name} is used in messages. */
    public static Contents read(byte[] bytes, String name) throws SafetensorsFormatException {
        try {
            return parse(name, new Source() {
                @Override
                public long length() {
                    return bytes.length;
                }

                @Override
                public void read(long position, byte[] dst, int off, int len) {
                    System.arraycopy(bytes, (int) position, dst, off, len);
                }
            });
        } catch (SafetensorsFormatException e) {
            throw e;
        } catch (IOException e) {
            throw new SafetensorsFormatException(name + ": " + e.getMessage(), e);
        }
    }

    /**
     * One header entry. Shape and offsets hold unsigned 64-bit values (the format allows up to
     * 2^64 - 1), compared and multiplied as such; longs rather than BigIntegers keep a header of
     * many small entries from costing many times its size.
     */
    private record Entry(String name, String dtype, long[] shape, long begin, long end) {}

    private static Contents parse(String file, Source src) throws IOException {
        long size = src.length();
        if (size < 8) {
            throw bad(file, "file is " + size + " bytes; need at least 8 for the header length");
        }
        byte[] lenBytes = new byte[8];
        src.read(0, lenBytes, 0, 8);
        long n = ByteBuffer.wrap(lenBytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (n < 0 || n > MAX_HEADER) {
            throw bad(file, "header length " + Long.toUnsignedString(n) + " exceeds limit " + MAX_HEADER);
        }
        if (8 + n > size) {
            throw bad(file, "header length " + n + " runs past end of file (file is " + size + " bytes)");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        parseHeader(file, src, (int) n, metadata, entries);
        entries.sort((a, b) -> a.begin() != b.begin() ? Long.compareUnsigned(a.begin(), b.begin())
                : Long.compareUnsigned(a.end(), b.end()));
        long expect = 0;
        List<int[]> shapes = new ArrayList<>(entries.size());
        for (Entry e : entries) {
            if (e.begin() != expect || Long.compareUnsigned(e.end(), e.begin()) < 0) {
                throw bad(file, "tensor '" + e.name() + "': data_offsets [" + Long.toUnsignedString(e.begin()) + ","
                        + Long.toUnsignedString(e.end()) + "] must begin at " + Long.toUnsignedString(expect)
                        + " (payloads must be contiguous and non-overlapping)");
            }
            shapes.add(checkShape(file, e));
            expect = e.end();
        }
        long dataSize = size - 8 - n;
        if (dataSize != expect) {
            throw bad(file, "data section is " + dataSize + " bytes but tensors cover " + Long.toUnsignedString(expect));
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.set(i, null); // what is read replaces what was declared, not adds to it
            tensors.put(e.name(), readTensor(file, src, 8 + n + e.begin(), e, shapes.set(i, null)));
        }
        return new Contents(tensors, metadata);
    }

    /**
     * Reads the header's JSON straight from its UTF-8 bytes (no decoded copy: a 100 MB header of
     * spaces costs its 100 MB, not three times that) into {@code metadata} and {@code entries}.
     */
    private static void parseHeader(String file, Source src, int n, Map<String, String> metadata, List<Entry> entries)
            throws IOException {
        byte[] headerBytes = new byte[n];
        src.read(8, headerBytes, 0, n);
        int badUtf8 = firstBadUtf8(headerBytes);
        if (badUtf8 >= 0) {
            throw bad(file, "header is not valid UTF-8 at header byte " + badUtf8);
        }
        Set<String> names = new HashSet<>();
        boolean sawMetadata = false;
        try (JsonParser p = JSON.createParser(headerBytes)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw bad(file, "header is not valid JSON: the top level must be an object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                JsonToken t = p.nextToken();
                if (key.equals("__metadata__")) {
                    if (sawMetadata) {
                        throw bad(file, "__metadata__ appears twice in header");
                    }
                    sawMetadata = true;
                    parseMetadata(file, p, t, metadata);
                } else {
                    if (!names.add(key)) {
                        throw bad(file, "duplicate tensor name '" + key + "' in header");
                    }
                    if (names.size() > MAX_ENTRIES) {
                        throw bad(file, "header names more than " + MAX_ENTRIES + " tensors, jgrad's limit");
                    }
                    entries.add(parseEntry(file, key, p, t));
                }
            }
            if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) {
                throw bad(file, "header is not valid JSON: unexpected content after the top-level object");
            }
        } catch (JsonParseException e) {
            throw bad(file, "header is not valid JSON: " + e.getOriginalMessage() + " at column "
                    + e.getLocation().getColumnNr());
        } catch (com.fasterxml.jackson.core.exc.StreamConstraintsException e) {
            throw bad(file, "header is not valid JSON: " + e.getOriginalMessage());
        }
    }

    /** Checks an entry's shape against its dtype and byte range; returns it as jgrad's int dims. */
    private static int[] checkShape(String file, Entry e) throws SafetensorsFormatException {
        int bits = DTYPE_BITS[DTYPE_ORDER.indexOf(e.dtype())];
        BigInteger count = BigInteger.ONE;
        boolean overflow = false;
        for (long d : e.shape()) { // stops at the first overflow, as the reference's checked_mul
            count = count.multiply(unsigned(d));
            if (count.bitLength() > 64) {
                overflow = true;
                break;
            }
        }
        BigInteger totalBits = count.multiply(BigInteger.valueOf(bits));
        if (overflow || totalBits.bitLength() > 64) {
            throw bad(file, "tensor '" + e.name() + "': element count of shape " + shapeString(e.shape()) + " overflows");
        }
        if (totalBits.mod(BigInteger.valueOf(8)).signum() != 0) {
            throw bad(file, "tensor '" + e.name() + "': " + totalBits + " bits is not a whole number of bytes");
        }
        BigInteger bytes = unsigned(e.end()).subtract(unsigned(e.begin()));
        if (!bytes.equals(totalBits.shiftRight(3))) {
            throw bad(file, "tensor '" + e.name() + "': data_offsets give " + bytes + " bytes but " + e.dtype() + " × "
                    + shapeString(e.shape()) + " needs " + totalBits.shiftRight(3));
        }
        if (count.compareTo(BigInteger.valueOf(Integer.MAX_VALUE - 8)) > 0) {
            TensorTooLargeException tooLarge = new TensorTooLargeException("tensor '" + e.name() + "' has "
                    + count + " elements; limit is " + (Integer.MAX_VALUE - 8));
            throw new SafetensorsFormatException(file + ": " + tooLarge.getMessage(), tooLarge);
        }
        int[] shape = new int[e.shape().length];
        for (int i = 0; i < shape.length; i++) {
            long d = e.shape()[i];
            // with a zero dim the count fits although another dim may not (a Jazzer finding)
            if (d < 0 || d > Integer.MAX_VALUE - 8) {
                throw bad(file, "tensor '" + e.name() + "': dimension " + i + " of shape " + shapeString(e.shape())
                        + " exceeds jgrad's limit " + (Integer.MAX_VALUE - 8));
            }
            shape[i] = (int) d;
        }
        return shape;
    }

    private static BigInteger unsigned(long v) {
        BigInteger b = BigInteger.valueOf(v);
        return v >= 0 ? b : b.add(BigInteger.ONE.shiftLeft(64));
    }

    private static String shapeString(long[] shape) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(Long.toUnsignedString(shape[i]));
        }
        return sb.append(']').toString();
    }

    private static void parseMetadata(String file, JsonParser p, JsonToken t, Map<String, String> out) throws IOException {
        if (t != JsonToken.START_OBJECT) {
            throw bad(file, "__metadata__ must be an object of strings");
        }
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String k = p.currentName();
            if (p.nextToken() != JsonToken.VALUE_STRING) {
                throw bad(file, "__metadata__ value for key '" + k + "' must be a string");
            }
            String v = p.getText();
            if (out.put(k, v.isEmpty() ? "" : v) != null) {
                throw bad(file, "duplicate __metadata__ key '" + k + "' in header");
            }
            if (out.size() > MAX_ENTRIES) {
                throw bad(file, "__metadata__ has more than " + MAX_ENTRIES + " keys, jgrad's limit");
            }
        }
    }

    private static Entry parseEntry(String file, String name, JsonParser p, JsonToken t) throws IOException {
        if (t != JsonToken.START_OBJECT) {
            throw bad(file, "tensor '" + name + "': entry must be an object");
        }
        String dtype = null;
        long[] shape = null;
        long[] offsets = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken v = p.nextToken();
            if (field.equals("dtype") && dtype != null || field.equals("shape") && shape != null
                    || field.equals("data_offsets") && offsets != null) {
                throw bad(file, "tensor '" + name + "': field '" + field + "' appears twice");
            }
            switch (field) {
                case "dtype" -> {
                    if (v != JsonToken.VALUE_STRING) {
                        throw bad(file, "tensor '" + name + "': dtype must be a string");
                    }
                    dtype = p.getText();
                }
                case "shape" -> shape = integers(file, name, field, p, v, Tensor.MAX_RANK);
                case "data_offsets" -> {
                    offsets = integers(file, name, field, p, v, 3);
                    if (offsets.length != 2) {
                        throw bad(file, "tensor '" + name + "': data_offsets must have exactly 2 numbers, got "
                                + offsets.length);
                    }
                }
                default -> p.skipChildren(); // unknown keys are ignored, as by the reference
            }
        }
        if (dtype == null || shape == null || offsets == null) {
            throw bad(file, "tensor '" + name + "': missing " + (dtype == null ? "dtype" : shape == null ? "shape"
                    : "data_offsets"));
        }
        int known = DTYPE_ORDER.indexOf(dtype);
        if (known < 0) {
            throw bad(file, "unknown dtype '" + dtype + "' for tensor '" + name + "'");
        }
        if (!READABLE.contains(dtype)) {
            throw bad(file, "dtype " + dtype + " of tensor '" + name + "' is not supported by jgrad");
        }
        return new Entry(name, DTYPE_ORDER.get(known), shape, offsets[0], offsets[1]);
    }

    private static final List<String> READABLE = List.of("F32", "F64", "I64", "I32", "U8", "BOOL", "F16", "BF16");
    private static final BigInteger U64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    /**
     * A JSON array of at most {@code max} integers in [0, 2^64), as unsigned longs; reading stops
     * at the first one too many.
     */
    private static long[] integers(String file, String name, String field, JsonParser p, JsonToken t, int max)
            throws IOException {
        if (t != JsonToken.START_ARRAY) {
            throw bad(file, "tensor '" + name + "': " + field + " must be an array of non-negative integers");
        }
        long[] out = new long[4];
        int count = 0;
        for (JsonToken v; (v = p.nextToken()) != JsonToken.END_ARRAY; ) {
            if (v != JsonToken.VALUE_NUMBER_INT) {
                throw bad(file, "tensor '" + name + "': " + field + " must hold non-negative integers, found " + p.getText());
            }
            long x;
            if (p.getNumberType() == JsonParser.NumberType.INT || p.getNumberType() == JsonParser.NumberType.LONG) {
                x = p.getLongValue();
                if (x < 0) {
                    throw bad(file, "tensor '" + name + "': " + field + " value " + x + " is outside [0, 2^64)");
                }
            } else {
                BigInteger big = p.getBigIntegerValue();
                if (big.signum() < 0 || big.compareTo(U64_MAX) > 0) {
                    throw bad(file, "tensor '" + name + "': " + field + " value " + big + " is outside [0, 2^64)");
                }
                x = big.longValue(); // the low 64 bits: the value, read as unsigned
            }
            if (count == max) {
                throw bad(file, "tensor '" + name + "': " + field + " has more than " + max
                        + (field.equals("shape") ? " dimensions, jgrad's limit" : " numbers"));
            }
            if (count == out.length) {
                out = Arrays.copyOf(out, Math.min(max, 2 * count));
            }
            out[count++] = x;
        }
        return Arrays.copyOf(out, count);
    }

    /**
     * Reads one payload into a tensor of its final shape, a megabyte at a time: the heap holds the
     * tensor and one chunk, not a second copy of the tensor.
     */
    private static Tensor readTensor(String file, Source src, long at, Entry e, int[] shape) throws IOException {
        String dtype = e.dtype();
        DType type = dtype.equals("F64") ? DType.FLOAT64 : dtype.startsWith("F") || dtype.equals("BF16") ? DType.FLOAT32
                : DType.INT64;
        Tensor t = Tensor.zeros(type, shape);
        int n = t.numel();
        if (n == 0) {
            return t;
        }
        Tensor flat = t.reshape(n);
        int width = DTYPE_BITS[DTYPE_ORDER.indexOf(dtype)] / 8;
        byte[] chunk = new byte[(int) Math.min(1 << 20, (long) n * width)];
        int perChunk = chunk.length / width;
        for (int start = 0; start < n; start += perChunk) {
            int count = Math.min(perChunk, n - start);
            src.read(at + (long) start * width, chunk, 0, count * width);
            ByteBuffer b = ByteBuffer.wrap(chunk, 0, count * width).order(ByteOrder.LITTLE_ENDIAN);
            Tensor part = switch (dtype) {
                case "F32" -> {
                    float[] v = new float[count];
                    b.asFloatBuffer().get(v);
                    yield Tensor.of(v);
                }
                case "F64" -> {
                    double[] v = new double[count];
                    b.asDoubleBuffer().get(v);
                    yield Tensor.of(v);
                }
                case "F16", "BF16" -> {
                    float[] v = new float[count];
                    boolean f16 = dtype.equals("F16");
                    for (int i = 0; i < count; i++) {
                        short h = b.getShort();
                        v[i] = f16 ? HalfFloats.fromF16(h) : HalfFloats.fromBf16(h);
                    }
                    yield Tensor.of(v);
                }
                default -> Tensor.of(longs(file, e, b, start, count));
            };
            flat.narrow(0, start, count).copyFrom(part);
        }
        return t;
    }

    /** I64, I32, U8 or BOOL elements as longs; a BOOL byte other than 0 or 1 is a format error. */
    private static long[] longs(String file, Entry e, ByteBuffer b, int start, int count)
            throws SafetensorsFormatException {
        long[] v = new long[count];
        switch (e.dtype()) {
            case "I64" -> b.asLongBuffer().get(v);
            case "I32" -> {
                for (int i = 0; i < count; i++) {
                    v[i] = b.getInt();
                }
            }
            case "U8" -> {
                for (int i = 0; i < count; i++) {
                    v[i] = b.get() & 0xFF;
                }
            }
            default -> { // BOOL: the reference writes only 0 and 1; other bytes mean different things to different readers
                for (int i = 0; i < count; i++) {
                    v[i] = b.get() & 0xFF;
                    if (v[i] > 1) {
                        throw bad(file, "tensor '" + e.name() + "': BOOL element " + (start + i) + " is byte " + v[i]
                                + ", not 0 or 1");
                    }
                }
            }
        }
        return v;
    }

    /** The index of the first byte that is not valid UTF-8, or -1; decodes in small pieces, keeping nothing. */
    private static int firstBadUtf8(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        java.nio.CharBuffer out = java.nio.CharBuffer.allocate(8192);
        java.nio.charset.CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        while (true) {
            java.nio.charset.CoderResult r = decoder.decode(in, out, true);
            if (r.isError()) {
                return in.position();
            }
            if (r.isUnderflow()) {
                return decoder.flush(out.clear()).isError() ? in.position() : -1;
            }
            out.clear();
        }
    }

    private static SafetensorsFormatException bad(String file, String what) {
        return new SafetensorsFormatException(file + ": " + what);
    }
}
