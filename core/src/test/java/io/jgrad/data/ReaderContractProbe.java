package io.jgrad.data;

import io.jgrad.io.CheckpointStore;
import io.jgrad.io.Safetensors;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The child JVM of {@link ReaderContractTest}: reads each file it is given with the reader named
 * beside it, under whatever heap it was started with, and prints one line per case: the outcome
 * (ACCEPTED or the exception's class), the bytes this thread allocated (garbage included), the
 * heap the result keeps, the peak heap in use (garbage not yet collected included) and the time
 * taken. An {@link OutOfMemoryError} is an outcome too, so one case cannot hide the rest.
 *
 * <p>Arguments: triples of case name, reader and path. Readers: {@code safetensors},
 * {@code checkpoints} (a folder of {@code ckpt-<step>.safetensors}), {@code idx3} (rank-3 IDX),
 * {@code fashion} (a Fashion-MNIST folder), {@code cifar:<records>} (folder or archive) and
 * {@code cifar-batch}.
 */
public final class ReaderContractProbe {
    private ReaderContractProbe() {}

    /** What the last read returned, kept while its retained size is measured. */
    private static Object kept;

    private static long used() {
        System.gc();
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                sum += pool.getUsage().getUsed();
            }
        }
        return sum;
    }

    public static void main(String[] args) {
        // the product library is chosen once per JVM, on a thread of its own from the first tensor on
        // (Blas.chooseEarly); choosing it here, before any case, keeps that one-time work (jblas's
        // extraction of its native part, JavaGemm's set-up) out of the cases' measurements
        io.jgrad.core.cpu.Blas.backend();
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long self = Thread.currentThread().getId();
        for (int i = 0; i + 2 < args.length; i += 3) {
            String name = args[i];
            String reader = args[i + 1];
            Path path = Path.of(args[i + 2]);
            kept = null;
            long base = used();
            for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
                if (pool.getType() == MemoryType.HEAP) {
                    pool.resetPeakUsage();
                }
            }
            long before = threads.getThreadAllocatedBytes(self);
            long start = System.nanoTime();
            String outcome;
            String detail;
            try {
                detail = read(reader, path);
                outcome = "ACCEPTED";
            } catch (Throwable t) { // the outcome under test, whatever it is
                outcome = t.getClass().getName();
                detail = String.valueOf(t.getMessage());
            }
            long ms = (System.nanoTime() - start) / 1_000_000;
            long allocated = threads.getThreadAllocatedBytes(self) - before;
            long retained = Math.max(0, used() - base);
            long peak = 0;
            for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
                if (pool.getType() == MemoryType.HEAP) {
                    peak += pool.getPeakUsage().getUsed();
                }
            }
            detail = detail.length() > 200 ? detail.substring(0, 200) + "..." : detail;
            System.out.printf(Locale.ROOT, "CASE %s %s allocated=%d retained=%d peak=%d ms=%d %s%n", name, outcome, allocated,
                    retained, peak,
                    ms, detail.replace('\n', ' '));
        }
    }

    private static String read(String reader, Path path) throws Exception {
        switch (reader.replaceAll(":.*", "")) {
            case "safetensors" -> {
                Safetensors.Contents c = Safetensors.load(path);
                kept = c;
                return c.tensors().size() + " tensors, " + c.metadata().size() + " metadata keys";
            }
            case "checkpoints" -> {
                var loaded = new CheckpointStore(path, "ckpt-", 3).loadLatest().orElseThrow();
                kept = loaded;
                return "step " + loaded.step() + " after " + loaded.warnings().size() + " warnings";
            }
            case "idx3" -> {
                Idx.Bytes b = Idx.readUnsignedBytes(path, 3);
                kept = b;
                return b.data().length + " bytes";
            }
            case "fashion" -> {
                FashionMnist.Splits s = FashionMnist.read(path);
                kept = s;
                return s.train().size() + " training images";
            }
            case "cifar" -> {
                int records = Integer.parseInt(reader.substring(reader.indexOf(':') + 1));
                Cifar10.Splits s = Cifar10.load(path, records);
                kept = s;
                return s.train().size() + " training images";
            }
            case "cifar-batch" -> {
                ImageDataset d = Cifar10.readBatch(path);
                kept = d;
                return d.size() + " images";
            }
            default -> throw new IllegalArgumentException("no reader " + reader);
        }
    }
}
