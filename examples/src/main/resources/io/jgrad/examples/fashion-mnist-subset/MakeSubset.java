import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * Regenerates the embedded Fashion-MNIST subset from the full data set: the first 600 training
 * and the first 100 test images of each class, in their original order, written as the same
 * four gzipped IDX files. Run from this folder with the JDK alone:
 * {@code java MakeSubset.java /usr/share/datasets/fashion-mnist .}
 */
public class MakeSubset {
    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: java MakeSubset.java FULL_DATA_DIR OUTPUT_DIR");
            System.exit(2);
        }
        Path from = Path.of(args[0]);
        Path to = Path.of(args[1]);
        subset(from, to, "train", 600);
        subset(from, to, "t10k", 100);
    }

    static void subset(Path from, Path to, String prefix, int perClass) throws IOException {
        byte[] images = read(from.resolve(prefix + "-images-idx3-ubyte.gz"), 0x803, 16);
        byte[] labels = read(from.resolve(prefix + "-labels-idx1-ubyte.gz"), 0x801, 8);
        int n = labels.length;
        int pixels = images.length / n;
        int[] taken = new int[10];
        ByteArrayOutputStream keptImages = new ByteArrayOutputStream();
        ByteArrayOutputStream keptLabels = new ByteArrayOutputStream();
        for (int i = 0; i < n; i++) {
            int label = labels[i];
            if (taken[label] < perClass) {
                taken[label]++;
                keptImages.write(images, i * pixels, pixels);
                keptLabels.write(label);
            }
        }
        for (int t : taken) {
            if (t != perClass) {
                throw new IOException(prefix + ": a class has only " + t + " images, " + perClass + " needed");
            }
        }
        int kept = 10 * perClass;
        write(to.resolve(prefix + "-images-idx3-ubyte.gz"), new int[] {0x803, kept, 28, 28}, keptImages.toByteArray());
        write(to.resolve(prefix + "-labels-idx1-ubyte.gz"), new int[] {0x801, kept}, keptLabels.toByteArray());
    }

    /** The payload of a gzipped IDX file after its header of {@code headerBytes}, checking the magic. */
    static byte[] read(Path file, int magic, int headerBytes) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
            byte[] all = in.readAllBytes();
            if (ByteBuffer.wrap(all).getInt() != magic) {
                throw new IOException(file + ": magic 0x" + Integer.toHexString(magic) + " expected");
            }
            return java.util.Arrays.copyOfRange(all, headerBytes, all.length);
        }
    }

    static void write(Path file, int[] header, byte[] payload) throws IOException {
        try (OutputStream gz = new GZIPOutputStream(Files.newOutputStream(file));
             DataOutputStream out = new DataOutputStream(gz)) {
            for (int h : header) {
                out.writeInt(h);
            }
            out.write(payload);
        }
    }
}
