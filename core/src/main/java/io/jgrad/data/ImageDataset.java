package io.jgrad.data;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.Tensor;
import io.jgrad.core.cpu.CpuBackend;
import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * Images kept as raw bytes (C·H·W per image, 0-255) with integer labels; each batch is
 * converted on demand: scaled to [0, 1], normalised as (x − mean) / std, and either kept as
 * [B, C, H, W] or flattened to [B, C·H·W].
 */
public final class ImageDataset implements Dataset {
    /** The images' bytes in equal segments of {@code perSegment} images (a reader's files, kept without a copy). */
    private final byte[][] segments;
    private final int perSegment;
    private final long[] labels;
    private final int channels;
    private final int height;
    private final int width;
    private final double mean;
    private final double std;
    private final boolean flatten;

    /** Images of shape [channels, height, width] as consecutive bytes, one label each; no normalisation, flattened. */
    public ImageDataset(byte[] pixels, long[] labels, int channels, int height, int width) {
        this(new byte[][] {pixels}, Math.max(1, labels.length), labels, channels, height, width, 0, 1, true);
    }

    /**
     * Images held in {@code segments} of {@code perSegment} images each (the last may hold fewer),
     * as a reader gets them file by file; the arrays are kept, not copied.
     */
    ImageDataset(byte[][] segments, int perSegment, long[] labels, int channels, int height, int width) {
        this(segments, perSegment, labels, channels, height, width, 0, 1, true);
    }

    private ImageDataset(byte[][] segments, int perSegment, long[] labels, int channels, int height, int width,
                         double mean, double std, boolean flatten) {
        checkArgument(channels > 0 && height > 0 && width > 0, "ImageDataset: image dims must be positive");
        long per = (long) channels * height * width;
        long bytes = 0;
        for (byte[] s : segments) {
            bytes += s.length;
        }
        checkArgument(bytes == per * labels.length, "ImageDataset: %s pixel bytes for %s images of %s bytes",
                bytes, labels.length, per);
        for (int i = 0; i < segments.length; i++) { // all full but the last, which holds the rest
            long full = per * perSegment;
            checkArgument(i + 1 < segments.length ? segments[i].length == full : segments[i].length <= full,
                    "ImageDataset: segment %s of %s holds %s bytes; %s images take %s", i, segments.length,
                    segments[i].length, perSegment, full);
        }
        checkArgument(std > 0 && Double.isFinite(std) && Double.isFinite(mean), "ImageDataset: need finite mean and "
                + "positive std, got %s, %s", mean, std);
        this.segments = segments;
        this.perSegment = perSegment;
        this.labels = labels;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.mean = mean;
        this.std = std;
        this.flatten = flatten;
    }

    /** The same images normalised as (pixel / 255 − mean) / std. */
    public ImageDataset withNormalization(double mean, double std) {
        return new ImageDataset(segments, perSegment, labels, channels, height, width, mean, std, flatten);
    }

    /** The same images, batched as [B, C·H·W] ({@code true}) or [B, C, H, W]. */
    public ImageDataset withFlatten(boolean flat) {
        return new ImageDataset(segments, perSegment, labels, channels, height, width, mean, std, flat);
    }

    /** Mean and (population) standard deviation of all pixels scaled to [0, 1], for normalisation. */
    public double[] pixelMeanStd() {
        double sum = 0;
        double sq = 0;
        long count = 0;
        for (byte[] pixels : segments) {
            for (byte b : pixels) {
                double v = (b & 0xFF) / 255.0;
                sum += v;
                sq += v * v;
            }
            count += pixels.length;
        }
        double m = sum / count;
        return new double[] {m, Math.sqrt(Math.max(0, sq / count - m * m))};
    }

    /**
     * A short digest of the images and labels (SHA-256, first 16 hex digits), stored with
     * checkpoints so that resuming on other data is noticed.
     */
    public String fingerprint() {
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            for (byte[] pixels : segments) {
                md.update(pixels);
            }
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 * labels.length);
            for (long l : labels) {
                b.putLong(l);
            }
            md.update(b.array());
            return java.util.HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }

    /** The label of example {@code i}. */
    public long label(int i) {
        return labels[i];
    }

    /** The raw bytes of image {@code i} (a copy). */
    public byte[] image(int i) {
        int per = channels * height * width;
        int at = (i % perSegment) * per;
        return java.util.Arrays.copyOfRange(segments[i / perSegment], at, at + per);
    }

    @Override
    public int size() {
        return labels.length;
    }

    @Override
    public Batch batch(int[] indices) {
        int per = channels * height * width;
        // first the indices' checks and one read of each 64-byte line of every image: independent loads,
        // which the memory system serves many at a time, where the conversion below, image after image,
        // waits for each line in turn (128 Fashion-MNIST images from the 47 MB of a training set: 36-38 µs
        // for the conversion alone, 22 µs with this pass first, a microbenchmark on this project's machine)
        int touched = 0;
        for (int i : indices) {
            if (i < 0 || i >= labels.length) {
                throw new IndexOutOfBoundsException("ImageDataset: index " + i + " out of range [0, " + labels.length + ")");
            }
            byte[] pixels = segments[i / perSegment];
            int src = (i % perSegment) * per;
            for (int p = 0; p < per; p += 64) {
                touched += pixels[src + p];
            }
            touched += pixels[src + per - 1];
        }
        lines = touched; // stored, so that the reads are not dropped as unused
        float[] x = fresh(Math.multiplyExact(indices.length, per));
        long[] y = new long[indices.length];
        float scale = (float) (1 / (255.0 * std));
        float shift = (float) (mean / std);
        for (int k = 0; k < indices.length; k++) {
            int i = indices[k];
            byte[] pixels = segments[i / perSegment];
            int src = (i % perSegment) * per;
            int dst = k * per;
            CpuBackend.scaleBytes(pixels, src, x, dst, per, scale, shift); // (pixel & 0xFF)·scale − shift
            y[k] = labels[i];
        }
        // x is this batch's own array: wrapped, not copied again
        Tensor inputs = flatten ? Tensor.wrapArray(x, indices.length, per)
                : Tensor.wrapArray(x, indices.length, channels, height, width);
        return new Batch(inputs, Tensor.of(y), () -> reuse(inputs));
    }

    /** The sum of the bytes {@link #batch}'s first pass read (unused: it keeps the reads). */
    @SuppressWarnings("unused")
    private int lines;

    /** The most arrays kept for reuse: as many as a loader with prefetch gathers ahead. */
    private static final int KEPT = 4;
    /** Arrays of closed batches ({@link Batch#close()}), for the next batches of the same size; guarded by itself. */
    private final ArrayDeque<float[]> spare = new ArrayDeque<>();

    /** How many closed batches' arrays are kept for reuse (tests). */
    int spareArrays() {
        synchronized (spare) {
            return spare.size();
        }
    }

    /** An array of n floats: a closed batch's if one of that size is kept, else a new one. */
    private float[] fresh(int n) {
        synchronized (spare) {
            for (Iterator<float[]> it = spare.iterator(); it.hasNext(); ) {
                float[] a = it.next();
                if (a.length == n) {
                    it.remove();
                    return a; // every element is written before the batch is handed out
                }
            }
        }
        return new float[n];
    }

    /** Takes a closed batch's array back from its inputs (which then fail when read) and keeps it for reuse. */
    private void reuse(Tensor inputs) {
        float[] a;
        try {
            a = inputs.releaseArray();
        } catch (IllegalStateException | UnsupportedOperationException e) {
            return; // another backend's memory, or given back already: nothing to reuse
        }
        synchronized (spare) {
            if (spare.size() == KEPT) {
                spare.removeFirst();
            }
            spare.addLast(a);
        }
    }
}
