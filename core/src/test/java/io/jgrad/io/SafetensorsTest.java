package io.jgrad.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jgrad.core.DType;
import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import io.jgrad.core.TensorTooLargeException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The safetensors reader and writer against the reference's bytes, every malformed case, and crash safety. */
class SafetensorsTest {
    @TempDir
    Path dir;

    private static byte[] file(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        return b.array();
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(String.format("%02x", x));
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------- the reference's bytes

    @Test
    void goldenVectorsOfTheReferenceWriter() throws IOException {
        byte[] empty = Safetensors.toBytes(Map.of(), Map.of());
        assertThat(hex(empty)).isEqualTo("0800000000000000" + hex("{}      ".getBytes(StandardCharsets.US_ASCII)));
        byte[] meta = Safetensors.toBytes(Map.of(), Map.of("framework", "pt"));
        assertThat(meta).hasSize(48);
        assertThat(new String(meta, 8, 40, StandardCharsets.US_ASCII)).isEqualTo("{\"__metadata__\":{\"framework\":\"pt\"}}     ");
        byte[] attn = Safetensors.toBytes(Map.of("attn0", Tensor.arange(0, 6, 1).reshape(1, 1, 2, 3)), Map.of());
        assertThat(attn).hasSize(104);
        assertThat(hex(attn)).isEqualTo("4800000000000000" + hex(
                "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ".getBytes(
                        StandardCharsets.US_ASCII)) + "000000000000803f0000004000004040000080400000a040");
    }

    @Test
    void readsTheReferenceReaderVectorAndRejectsItWithTrailingBytes() throws IOException {
        byte[] ok = file("{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", new byte[16]);
        assertThat(ByteBuffer.wrap(ok).order(ByteOrder.LITTLE_ENDIAN).getLong()).isEqualTo(60);
        Tensor t = Safetensors.read(ok, "vector").tensors().get("test");
        assertThat(t.shape().toArray()).containsExactly(2, 2);
        assertThat(t.toLongArray()).containsOnly(0);
        byte[] longer = java.util.Arrays.copyOf(ok, ok.length + 4);
        assertThatThrownBy(() -> Safetensors.read(longer, "vector")).isInstanceOf(SafetensorsFormatException.class)
                .hasMessage("vector: data section is 20 bytes but tensors cover 16");
    }

    private static Map<String, Tensor> fixtureTensors() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("layer.weight", Tensor.arange(0, 12, 1).reshape(3, 4).div(8).sub(0.5));
        m.put("layer.bias", Tensor.of(new double[] {1.5, -2.25, 3.0}));
        m.put("steps", Tensor.of(new long[] {7, -1, 1L << 40, 0}, 2, 2));
        m.put("scalar", Tensor.scalar(2.5));
        m.put("empty", Tensor.zeros(0, 3));
        return m;
    }

    /** reference_written.safetensors was written by the Python safetensors package (see make_fixture.py). */
    @Test
    void readsWhatTheReferenceWroteAndWritesTheSameBytes() throws IOException {
        byte[] reference;
        try (InputStream in = getClass().getResourceAsStream("/safetensors/reference_written.safetensors")) {
            reference = in.readAllBytes();
        }
        Safetensors.Contents c = Safetensors.read(reference, "reference_written.safetensors");
        assertThat(c.metadata()).containsExactly(Map.entry("format", "pt"));
        Map<String, Tensor> expected = fixtureTensors();
        assertThat(c.tensors().keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
        for (var e : expected.entrySet()) {
            Tensor got = c.tensors().get(e.getKey());
            assertThat(got.dtype()).isEqualTo(e.getValue().dtype());
            assertThat(got.shape()).isEqualTo(e.getValue().shape());
            assertThat(got.toDoubleArray()).containsExactly(e.getValue().toDoubleArray());
        }
        byte[] ours = Safetensors.toBytes(expected, Map.of("format", "pt"));
        assertThat(hex(ours)).isEqualTo(hex(reference));
        Files.createDirectories(Path.of("target"));
        Safetensors.save(Path.of("target", "jgrad_written.safetensors"), expected, Map.of("format", "pt"));
    }

    @Test
    void roundTripsEveryDtypeRankAndZeroSizeWithAlignedPayloads() throws IOException {
        Generator g = Generator.seeded(3);
        for (int trial = 0; trial < 20; trial++) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            int count = 1 + g.nextInt(6);
            for (int i = 0; i < count; i++) {
                int rank = g.nextInt(5);
                int[] shape = new int[rank];
                for (int d = 0; d < rank; d++) {
                    shape[d] = g.nextInt(5);
                }
                DType dt = DType.values()[g.nextInt(3)];
                Tensor t = dt == DType.INT64 ? Tensor.randint(g, -1000, 1000, shape) : Tensor.randn(g, dt, shape);
                tensors.put("t" + trial + "." + i, t);
            }
            byte[] bytes = Safetensors.toBytes(tensors, Map.of("trial", Integer.toString(trial), "b", "x"));
            long headerLength = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertThat(headerLength % 8).isZero();
            Safetensors.Contents c = Safetensors.read(bytes, "trial");
            assertThat(c.metadata()).containsEntry("trial", Integer.toString(trial));
            for (var e : tensors.entrySet()) {
                Tensor back = c.tensors().get(e.getKey());
                assertThat(back.dtype()).isEqualTo(e.getValue().dtype());
                assertThat(back.shape()).isEqualTo(e.getValue().shape());
                assertThat(back.toDoubleArray()).containsExactly(e.getValue().toDoubleArray());
            }
            assertThat(Safetensors.toBytes(c.tensors(), c.metadata())).isEqualTo(bytes); // deterministic
        }
    }

    @Test
    void nanAndInfinityAreStoredAsIs() throws IOException {
        Tensor t = Tensor.of(new double[] {Double.NaN, Double.POSITIVE_INFINITY, -0.0});
        double[] back = Safetensors.read(Safetensors.toBytes(Map.of("x", t), Map.of()), "f").tensors().get("x")
                .toDoubleArray();
        assertThat(Double.doubleToRawLongBits(back[2])).isEqualTo(Double.doubleToRawLongBits(-0.0));
        assertThat(back[0]).isNaN();
        assertThat(back[1]).isInfinite();
    }

    @Test
    void theWriterRefusesWhatTheReferenceCouldNotRead() {
        assertThatThrownBy(() -> Safetensors.toBytes(Map.of("__metadata__", Tensor.zeros(1)), Map.of()))
                .hasMessageContaining("reserved");
        Tensor w = Tensor.zeros(2, 2);
        Map<String, Tensor> tied = new LinkedHashMap<>();
        tied.put("a", w);
        tied.put("b", w.t());
        assertThatThrownBy(() -> Safetensors.toBytes(tied, Map.of())).hasMessageContaining("'a' and 'b' share storage");
    }

    // ---------------------------------------------------------------- malformed files (RELIABILITY.md §2.A)

    private static void rejects(byte[] bytes, String message) {
        assertThatThrownBy(() -> Safetensors.read(bytes, "bad.safetensors"))
                .isInstanceOf(SafetensorsFormatException.class).hasMessageContaining(message);
    }

    private static final String W = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";

    @Test
    void everyMalformedFileGetsAFormatExceptionNamingTheProblem() {
        rejects(new byte[5], "bad.safetensors: file is 5 bytes; need at least 8 for the header length");           // 1
        rejects(new byte[0], "file is 0 bytes");
        byte[] huge = new byte[16];
        java.util.Arrays.fill(huge, 0, 8, (byte) 0xFF);
        rejects(huge, "header length 18446744073709551615 exceeds limit 100000000");                              // 2
        rejects(ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(100_000_001).array(), "exceeds limit");
        rejects(ByteBuffer.allocate(112).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).array(),
                "header length 1000 runs past end of file (file is 112 bytes)");                                  // 3
        byte[] notUtf8 = file("{\"a\":1}", new byte[0]);
        notUtf8[10] = (byte) 0xC3;
        notUtf8[11] = (byte) 0x28;
        rejects(notUtf8, "header is not valid UTF-8 at header byte 2");                                           // 4
        rejects(file("[1,2]", new byte[0]), "header is not valid JSON: the top level must be an object");         // 5
        rejects(file("{\"w\":", new byte[0]), "header is not valid JSON");
        rejects(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"w\":{\"dtype\":\"F32\","
                + "\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]), "duplicate tensor name 'w' in header");  // 6
        rejects(file("{\"__metadata__\":{\"k\":1}}", new byte[0]), "__metadata__ value for key 'k' must be a string"); // 7
        rejects(file("{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8]), "tensor 'w': missing dtype"); // 8
        rejects(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", new byte[8]),
                "tensor 'w': shape value -2 is outside [0, 2^64)");
        rejects(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", new byte[8]),
                "tensor 'w': shape must hold non-negative integers, found 2.5");
        rejects(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", new byte[8]),
                "data_offsets must have exactly 2 numbers, got 1");
        rejects(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,99999999999999999999999]}}",
                new byte[8]), "outside [0, 2^64)");
        rejects(file("{\"w\":{\"dtype\":\"F12\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8]),
                "unknown dtype 'F12' for tensor 'w'");                                                            // 9
        rejects(file("{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", new byte[2]),
                "dtype F8_E4M3 of tensor 'w' is not supported by jgrad");
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},\"b\":{\"dtype\":\"F32\","
                + "\"shape\":[4],\"data_offsets\":[0,16]}}", new byte[32]),
                "tensor 'b': data_offsets [0,16] must begin at 16 (payloads must be contiguous and non-overlapping)"); // 10
        rejects(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]), "must begin at 0");
        rejects(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", new byte[8]), "must begin at 0");
        rejects(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,18446744073709551614],\"data_offsets\":[0,8]}}",
                new byte[8]), "tensor 'w': element count of shape [2, 18446744073709551614] overflows");             // 11
        rejects(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[0,1099511627776],\"data_offsets\":[0,0]}}", new byte[0]),
                "tensor 'w': dimension 1 of shape [0, 1099511627776] exceeds jgrad's limit 2147483639"); // fuzz finding
        rejects(file("{\"w\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,4]}}", new byte[4]),
                "tensor 'w': data_offsets give 4 bytes but I32 × [2, 2] needs 16");                               // 12
        rejects(file(W, new byte[50]), "data section is 50 bytes but tensors cover 8");                          // 13
        rejects(file(W, new byte[4]), "data section is 4 bytes but tensors cover 8");
        String big = "{\"w\":{\"dtype\":\"U8\",\"shape\":[3000000000],\"data_offsets\":[0,3000000000]}}";
        byte[] header = file(big, new byte[0]);
        assertThatThrownBy(() -> Safetensors.read(header, "big")).isInstanceOf(SafetensorsFormatException.class)
                .hasMessageContaining("3000000000 elements"); // rejected from the header alone, nothing allocated
    }

    /**
     * Issue 17 item 11: a repeated metadata key or entry field was reported as a "duplicate tensor
     * name"; a BOOL byte other than 0 or 1 was read as that number.
     */
    @Test
    void repeatedNamesAreReportedForWhatTheyAreAndBoolBytesMustBeZeroOrOne() throws SafetensorsFormatException {
        rejects(file("{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}", new byte[0]),
                "bad.safetensors: duplicate __metadata__ key 'k' in header");
        rejects(file("{\"__metadata__\":{},\"__metadata__\":{}}", new byte[0]), "__metadata__ appears twice");
        rejects(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]),
                "tensor 'w': field 'shape' appears twice");
        rejects(file("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                new byte[4]), "tensor 'w': field 'dtype' appears twice");
        String bool = "{\"b\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[0,3]}}";
        rejects(file(bool, new byte[] {1, 0, 2}), "tensor 'b': BOOL element 2 is byte 2, not 0 or 1");
        rejects(file(bool, new byte[] {(byte) 0xFF, 0, 1}), "BOOL element 0 is byte 255");
        assertThat(Safetensors.read(file(bool, new byte[] {1, 0, 1}), "ok").tensors().get("b").toLongArray())
                .containsExactly(1, 0, 1);
        assertThat(Safetensors.read(file(bool.replace("BOOL", "U8"), new byte[] {1, 0, (byte) 200}), "ok").tensors()
                .get("b").toLongArray()).containsExactly(1, 0, 200);
    }

    /** More than {@link Safetensors#MAX_ENTRIES} tensors or metadata keys: refused on reading and on writing. */
    @Test
    void tensorAndMetadataCountsHaveALimit() {
        StringBuilder h = new StringBuilder("{");
        for (int i = 0; i <= Safetensors.MAX_ENTRIES; i++) {
            h.append(i == 0 ? "" : ",").append("\"t").append(i).append("\":{\"dtype\":\"F32\",\"shape\":[0],"
                    + "\"data_offsets\":[0,0]}");
        }
        rejects(file(h.append('}').toString(), new byte[0]), "header names more than 100000 tensors, jgrad's limit");
        Map<String, String> many = new java.util.HashMap<>();
        for (int i = 0; i <= Safetensors.MAX_ENTRIES; i++) {
            many.put("k" + i, "");
        }
        assertThatThrownBy(() -> Safetensors.toBytes(Map.of(), many)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("the limit is 100000 of each");
    }

    /**
     * F16 and BF16 (issue 22): PyTorch's own roundings of 534 float32 values (zeros, ±1, the
     * largest halves and the values just past them, subnormals and the values between, ties,
     * infinities, NaN, random values of several scales) read back exactly as PyTorch's float32
     * view of them, and jgrad's writer rounds the same float32 values to the same bytes.
     */
    @Test
    void halfAndBfloat16ReadAndWriteAsPyTorchRoundsThem() throws IOException {
        byte[] file;
        try (InputStream in = SafetensorsTest.class.getResourceAsStream("half-reference.safetensors")) {
            file = in.readAllBytes();
        }
        Safetensors.Contents c = Safetensors.read(file, "half-reference.safetensors");
        assertThat(c.metadata().get("torch")).startsWith("1.13");
        for (String kind : List.of("f16", "bf16")) {
            Tensor read = c.tensors().get(kind);
            assertThat(read.dtype()).isEqualTo(DType.FLOAT32);
            float[] got = read.toFloatArray();
            float[] want = c.tensors().get(kind + "_as_f32").toFloatArray();
            assertThat(got).hasSize(534);
            for (int i = 0; i < want.length; i++) {
                assertThat(Float.floatToRawIntBits(got[i])).as("%s element %s (%s)", kind, i, want[i])
                        .isEqualTo(Float.floatToRawIntBits(want[i]));
            }
        }
        Tensor source = c.tensors().get("source");
        byte[] ours = Safetensors.toBytes(Map.of("f16", source, "bf16", source.clone()), Map.of(),
                Map.of("f16", Safetensors.Half.F16, "bf16", Safetensors.Half.BF16));
        Safetensors.Contents back = Safetensors.read(ours, "ours");
        for (String kind : List.of("f16", "bf16")) {
            byte[] mine = payload(ours, kind);
            byte[] torch = payload(file, kind);
            assertThat(mine).hasSameSizeAs(torch);
            for (int i = 0; i < torch.length; i += 2) { // NaN payloads vary between PyTorch versions: NaN is NaN
                short a = (short) ((mine[i] & 0xFF) | mine[i + 1] << 8);
                short b = (short) ((torch[i] & 0xFF) | torch[i + 1] << 8);
                boolean nan = kind.equals("f16") ? (b & 0x7C00) == 0x7C00 && (b & 0x3FF) != 0
                        : (b & 0x7F80) == 0x7F80 && (b & 0x7F) != 0;
                if (nan) {
                    assertThat(Float.isNaN(back.tensors().get(kind).toFloatArray()[i / 2])).isTrue();
                } else {
                    assertThat(a).as("%s element %s", kind, i / 2).isEqualTo(b);
                }
            }
            float[] mineBack = back.tensors().get(kind).toFloatArray();
            float[] torchBack = c.tensors().get(kind + "_as_f32").toFloatArray();
            for (int i = 0; i < torchBack.length; i++) {
                assertThat(Float.isNaN(torchBack[i]) ? Float.isNaN(mineBack[i])
                        : Float.floatToRawIntBits(mineBack[i]) == Float.floatToRawIntBits(torchBack[i]))
                        .as("%s element %s", kind, i).isTrue();
            }
        }
        assertThat(new String(ours, StandardCharsets.UTF_8)).contains("\"bf16\":{\"dtype\":\"BF16\",\"shape\":[534],"
                + "\"data_offsets\":[0,1068]}");
        // a float64 tensor rounds through float32, as PyTorch's .half() on a double does; integers cannot be halved
        Tensor d = Tensor.of(new double[] {1.0 / 3, 70000});
        assertThat(Safetensors.read(Safetensors.toBytes(Map.of("d", d), Map.of(), Map.of("d", Safetensors.Half.F16)),
                "d").tensors().get("d").toFloatArray()).containsExactly(0.33325195f, Float.POSITIVE_INFINITY);
        assertThatThrownBy(() -> Safetensors.toBytes(Map.of("i", Tensor.of(new long[] {1})), Map.of(),
                Map.of("i", Safetensors.Half.BF16))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'i' is int64; only floating-point tensors can be stored as BF16");
        assertThatThrownBy(() -> Safetensors.toBytes(Map.of(), Map.of(), Map.of("x", Safetensors.Half.F16)))
                .hasMessageContaining("'x', which is not among the tensors");
    }

    /** The raw payload bytes of tensor {@code name} in a safetensors file. */
    private static byte[] payload(byte[] file, String name) {
        long n = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(file, 8, (int) n, StandardCharsets.UTF_8);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"" + name
                + "\":\\{[^}]*\"data_offsets\":\\[(\\d+),(\\d+)\\]").matcher(header);
        assertThat(m.find()).as(name + " in " + header).isTrue();
        int from = (int) (8 + n + Long.parseLong(m.group(1)));
        int to = (int) (8 + n + Long.parseLong(m.group(2)));
        return java.util.Arrays.copyOfRange(file, from, to);
    }

    /** A shape of n dims as JSON: [d, d, ..., d]. */
    private static String dims(int n, int d) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : ",").append(d);
        }
        return sb.append(']').toString();
    }

    /**
     * Shapes of more dims than a tensor may have are a format error from the header alone, in time
     * linear in the file: 65 dims of 1 (194 bytes) gave a ShapeException from a reshape, 100,000
     * dims 43 s and 37 GB of allocation, 800,000 dims of 2 a 40 GB BigInteger product.
     */
    @Test
    @Timeout(30)
    void highRankShapesAreRejectedFromTheHeaderInLinearTime() {
        rejects(file("{\"w\":{\"dtype\":\"F32\",\"shape\":" + dims(65, 1) + ",\"data_offsets\":[0,4]}}", new byte[4]),
                "tensor 'w': shape has more than 64 dimensions, jgrad's limit");
        rejects(file("{\"w\":{\"dtype\":\"F32\",\"shape\":" + dims(100_000, 1) + ",\"data_offsets\":[0,4]}}",
                new byte[4]), "shape has more than 64 dimensions");
        rejects(file("{\"w\":{\"dtype\":\"U8\",\"shape\":" + dims(800_000, 2) + ",\"data_offsets\":[0,4]}}",
                new byte[4]), "shape has more than 64 dimensions");
        rejects(file("{\"w\":{\"dtype\":\"U8\",\"shape\":" + dims(64, 4096) + ",\"data_offsets\":[0,4]}}",
                new byte[4]), "overflows"); // 64 dims are read; their product stops at the first overflow
        byte[] ok = file("{\"w\":{\"dtype\":\"F32\",\"shape\":" + dims(64, 1) + ",\"data_offsets\":[0,4]}}", new byte[4]);
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> Safetensors.read(ok, "ok"))).isNull();
    }

    @Test
    @Timeout(10)
    void reshapeChecksARankTooHighOnceAndQuickly() {
        int[] shape = new int[100_000];
        java.util.Arrays.fill(shape, 1);
        assertThatThrownBy(() -> Tensor.zeros(1).reshape(shape)).isInstanceOf(io.jgrad.core.ShapeException.class)
                .hasMessageContaining("100000 dims; the limit is 64");
        int[] many = new int[64];
        java.util.Arrays.fill(many, 1);
        many[3] = -1;
        assertThat(Tensor.zeros(1).reshape(many).shape().toArray()).hasSize(64);
    }

    @Test
    void aTensorTooLargeForJavaIsRejectedBeforeReading(@TempDir Path tmp) throws IOException {
        // a sparse 3 GB file: the header is valid, the tensor has more elements than a Java array holds
        Path f = tmp.resolve("big.safetensors");
        byte[] head = file("{\"w\":{\"dtype\":\"U8\",\"shape\":[3000000000],\"data_offsets\":[0,3000000000]}}      ",
                new byte[0]);
        try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(head));
            ch.write(ByteBuffer.wrap(new byte[1]), head.length + 3_000_000_000L - 1);
        }
        assertThatThrownBy(() -> Safetensors.load(f)).isInstanceOf(SafetensorsFormatException.class)
                .hasMessageContaining("3000000000 elements; limit is 2147483639")
                .hasCauseInstanceOf(TensorTooLargeException.class);                                              // 14
    }

    @Test
    @Timeout(30)
    void aHeaderWith100000EntriesParsesInBoundedTime() throws IOException {
        StringBuilder h = new StringBuilder("{");
        for (int i = 0; i < 100_000; i++) {
            h.append(i == 0 ? "" : ",").append("\"t").append(i).append("\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[")
                    .append(i).append(',').append(i + 1).append("]}");
        }
        h.append('}');
        assertThat(Safetensors.read(file(h.toString(), new byte[100_000]), "many").tensors()).hasSize(100_000); // 15
    }

    @Test
    @Timeout(60)
    void everyTruncationAndEveryHeaderByteFlipIsAFormatExceptionOrAValidFile() throws IOException {
        byte[] good = Safetensors.toBytes(fixtureTensors(), Map.of("format", "pt"));
        for (int k = 0; k < good.length; k++) {
            byte[] cut = java.util.Arrays.copyOf(good, k);
            assertThatThrownBy(() -> Safetensors.read(cut, "cut")).isInstanceOf(SafetensorsFormatException.class);
        }
        int headerEnd = 8 + (int) ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN).getLong();
        for (int k = 0; k < headerEnd; k++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] flipped = good.clone();
                flipped[k] ^= (byte) (1 << bit);
                try {
                    Safetensors.Contents c = Safetensors.read(flipped, "flipped");
                    Safetensors.read(Safetensors.toBytes(c.tensors(), c.metadata()), "rewritten"); // re-validates
                } catch (SafetensorsFormatException expected) {
                    // the documented outcome
                }
            }
        }
    }

    // ---------------------------------------------------------------- atomic saving

    /** An output that fails with "No space left on device" after {@code limit} bytes. */
    static final class FailingStream extends OutputStream {
        private final OutputStream out;
        private long left;

        FailingStream(OutputStream out, long limit) {
            this.out = out;
            this.left = limit;
        }

        @Override
        public void write(int b) throws IOException {
            if (left-- <= 0) {
                throw new IOException("No space left on device");
            }
            out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            for (int i = 0; i < len; i++) {
                write(b[off + i]);
            }
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }
    }

    @Test
    void aSaveThatFailsAtAnyByteLeavesThePreviousFileLoadable() throws IOException {
        Path target = dir.resolve("model.safetensors");
        Map<String, Tensor> first = fixtureTensors();
        Safetensors.save(target, first, Map.of("version", "1"));
        byte[] before = Files.readAllBytes(target);
        Map<String, Tensor> second = new LinkedHashMap<>(first);
        second.put("layer.bias", Tensor.of(new double[] {9, 9, 9}));
        int size = Safetensors.toBytes(second, Map.of("version", "2")).length;
        for (int k = 0; k < size; k++) {
            long limit = k;
            assertThatThrownBy(() -> Safetensors.save(target, second, Map.of("version", "2"),
                    out -> new FailingStream(out, limit))).isInstanceOf(IOException.class)
                    .hasMessageContaining("No space left");
            assertThat(Files.readAllBytes(target)).isEqualTo(before);
            try (var files = Files.list(dir)) {
                assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactly("model.safetensors");
            }
        }
        Safetensors.save(target, second, Map.of("version", "2"));
        assertThat(Safetensors.load(target).metadata()).containsEntry("version", "2");
    }

    @Test
    void savingOverAFileThatIsOpenForReadingLeavesTheReaderItsOldBytes() throws IOException {
        Path target = dir.resolve("open.safetensors");
        Safetensors.save(target, Map.of("x", Tensor.ones(1000)), Map.of());
        try (var reader = java.nio.channels.FileChannel.open(target)) {
            Safetensors.save(target, Map.of("x", Tensor.zeros(1000)), Map.of());
            ByteBuffer b = ByteBuffer.allocate((int) reader.size());
            reader.read(b, 0);
            assertThat(Safetensors.read(b.array(), "old").tensors().get("x").toFloatArray()).containsOnly(1f);
        }
        assertThat(Safetensors.load(target).tensors().get("x").toFloatArray()).containsOnly(0f);
    }

    /** Saves in a loop until killed, saying "saved" after the first save; used by the kill test below. */
    public static void main(String[] args) throws IOException {
        Path target = Path.of(args[0]);
        for (int i = 0; ; i++) {
            Map<String, Tensor> t = new LinkedHashMap<>();
            t.put("w", Tensor.full(i, 256, 256));
            Safetensors.save(target, t, Map.of("i", Integer.toString(i)));
            if (i == 0) {
                System.out.println("saved");
                System.out.flush();
            }
        }
    }

    @Test
    @Timeout(120)
    void aChildJvmKilledWhileSavingNeverLeavesAnUnloadableFile() throws Exception {
        Path target = dir.resolve("loop.safetensors");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Generator g = Generator.seeded(8);
        for (int kill = 0; kill < 10; kill++) {
            Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                    SafetensorsTest.class.getName(), target.toString()).redirectErrorStream(true).start();
            if (kill == 0) { // the first kill lands after a save, whatever the machine's load: a file must exist at the end
                try (var out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = out.readLine()) != null && !line.equals("saved")) {
                        continue; // a JVM warning
                    }
                    assertThat(line).as("the saving JVM's first save").isEqualTo("saved");
                    Thread.sleep(g.nextInt(100)); // then at any point of a later save
                    p.destroyForcibly();
                }
            } else {
                Thread.sleep(300 + g.nextInt(400)); // anywhere: before, during or after a save
                p.destroyForcibly();
            }
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            if (Files.exists(target)) {
                Safetensors.Contents c = Safetensors.load(target);
                int i = Integer.parseInt(c.metadata().get("i"));
                assertThat(c.tensors().get("w").toFloatArray()).containsOnly((float) i);
            }
        }
        assertThat(Files.exists(target)).isTrue();
    }
}
