package io.jgrad.spark;

import io.jgrad.core.Autograd;
import io.jgrad.core.Block;
import io.jgrad.core.DType;
import io.jgrad.core.Generator;
import io.jgrad.core.Parameter;
import io.jgrad.core.Tensor;
import io.jgrad.data.MicroShards;
import io.jgrad.io.CheckpointStore;
import io.jgrad.io.Safetensors;
import io.jgrad.layers.Dropout;
import io.jgrad.optim.Optimizer;
import io.jgrad.train.EpochMetrics;
import io.jgrad.train.History;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.CRC32;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.SparkEnv;
import scala.Tuple2;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractFunction1;

/**
 * One barrier task of a {@link SparkTrainer} fit: rank {@code r} of the workers, holding its
 * micro-shards, training its replica in step with the others. Package-private: the trainer's
 * machinery.
 */
final class Worker extends AbstractFunction1<scala.collection.Iterator<Tuple2<Long, Example>>,
        scala.collection.Iterator<Worker.Outcome>> implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final System.Logger LOG = System.getLogger(Worker.class.getName());
    static final String STEM = "jgrad-spark-";

    /**
     * What rank 0 reports: the final state as safetensors bytes, the history (as a checkpoint
     * holds it) with each epoch's timings (epoch, seconds, samples/s), the steps, the resumed step
     * (-1: none) and the final checkpoint; or an error every rank agreed on.
     */
    record Outcome(byte[] state, String historyJson, double[][] timings, long steps, long resumedStep,
            String checkpoint, String error, boolean nonFinite) implements Serializable {}

    private final SparkTrainer t;
    private final MicroShards shards;
    private final int[] shape;
    private final String config;
    private final long token;

    Worker(SparkTrainer trainer, MicroShards shards, int[] shape, String config, long token) {
        this.t = trainer;
        this.shards = shards;
        this.shape = shape;
        this.config = config;
        this.token = token;
    }

    @Override
    public scala.collection.Iterator<Outcome> apply(scala.collection.Iterator<Tuple2<Long, Example>> rows) {
        BarrierTaskContext ctx = BarrierTaskContext.get();
        AtomicReference<RingAllReduce> ring = new AtomicReference<>();
        AtomicReference<ServerSocket> server = new AtomicReference<>();
        // a failed task closes its sockets at once, so that its peers fail instead of waiting for the timeout
        ctx.addTaskFailureListener((org.apache.spark.util.TaskFailureListener) (c, e) -> closeAll(ring, server));
        ctx.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) c -> closeAll(ring, server));
        // a killed task is only flagged (Spark does not interrupt it, and blocking socket reads would not
        // notice): a watchdog closes the connections, so the task ends and frees its slot for the retry
        Thread watchdog = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                if (ctx.isInterrupted()) {
                    closeAll(ring, server);
                    return;
                }
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "jgrad-spark-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        try {
            Outcome o = run(ctx, CollectionConverters.asJava(rows), ring, server);
            List<Outcome> out = o == null ? List.of() : List.of(o);
            return CollectionConverters.asScala(out.iterator());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            watchdog.interrupt();
        }
    }

    private static void closeAll(AtomicReference<RingAllReduce> ring, AtomicReference<ServerSocket> server) {
        RingAllReduce r = ring.get();
        if (r != null) {
            r.close();
        }
        ServerSocket s = server.get();
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing on the way out
            }
        }
    }

    private Outcome run(BarrierTaskContext ctx, java.util.Iterator<Tuple2<Long, Example>> rows,
            AtomicReference<RingAllReduce> ringRef, AtomicReference<ServerSocket> serverRef) throws IOException {
        int rank = ctx.partitionId();
        int world = t.workers;
        int m = t.microShards / world;
        int firstShard = rank * m;
        int d = Arrays.stream(shape).reduce(1, (a, b) -> a * b);

        // this rank's shards, each in position order whatever order the shuffle delivered them in
        float[][] features = new float[m][];
        long[][] labels = new long[m][];
        int[] counts = new int[m];
        for (int j = 0; j < m; j++) {
            int size = shards.shardSize(firstShard + j);
            features[j] = new float[Math.multiplyExact(size, d)];
            labels[j] = new long[size];
        }
        while (rows.hasNext()) {
            Tuple2<Long, Example> r = rows.next();
            int j = shards.shardOf(r._1()) - firstShard;
            if (j < 0 || j >= m) {
                throw new IllegalStateException("rank " + rank + " got row " + r._1() + " of shard " + (j + firstShard)
                        + ", not one of its shards " + firstShard + ".." + (firstShard + m - 1));
            }
            int pos = shards.positionOf(r._1());
            System.arraycopy(r._2().features(), 0, features[j], pos * d, d);
            labels[j][pos] = r._2().label();
            counts[j]++;
        }
        for (int j = 0; j < m; j++) {
            if (counts[j] != labels[j].length) {
                throw new IllegalStateException("rank " + rank + ": shard " + (firstShard + j) + " has " + counts[j]
                        + " rows, expected " + labels[j].length + " (did the input change while training?)");
            }
        }

        RingAllReduce ring = join(ctx, token, t.exchangeTimeout, serverRef);
        ringRef.set(ring);

        Block model = t.modelFactory.create();
        model.train();
        Optimizer<?> optimizer = t.optimizerFactory.create(model);
        Map<String, Parameter> named = model.namedParameters();
        List<Tensor> params = new ArrayList<>(); // the trained ones: frozen parameters are left alone
        for (Parameter p : named.values()) {
            if (p.requiresGrad()) {
                params.add(p);
            }
        }
        List<Tensor> checked = new ArrayList<>(params); // what the replicas compare: weights and buffers
        checked.addAll(model.namedBuffers().values());
        DType dtype = params.get(0).dtype();
        int total = 0;
        for (Tensor p : params) {
            total = Math.addExact(total, p.numel());
        }
        List<Dropout> dropouts = new ArrayList<>();
        model.apply(x -> {
            if (x instanceof Dropout dr) {
                dropouts.add(dr);
            }
        });

        // where to start: rank 0 picks the newest checkpoint that loads; the initial weights must agree
        Path dir = t.checkpointDir == null ? null : Path.of(t.checkpointDir);
        CheckpointStore store = dir == null ? null : new CheckpointStore(dir, STEM, 3);
        Safetensors.Contents resumed = null;
        double[] hello = new double[1 + world];
        if (rank == 0 && store != null) {
            var latest = store.loadLatest();
            if (latest.isPresent()) {
                resumed = latest.get().contents();
                hello[0] = latest.get().step();
                latest.get().warnings().forEach(w -> LOG.log(System.Logger.Level.WARNING, w));
                if (store.steps().lastKey() > latest.get().step()) { // newer files did not load: replace them
                    store = store.overwriting();
                }
            }
        }
        hello[1 + rank] = checksum(checked);
        double[] agreed = new double[hello.length];
        ring.sumInOrder(new double[][] {hello}, agreed);
        long start = (long) agreed[0];
        List<EpochMetrics> history = new ArrayList<>();
        double[] progress = new double[3]; // this epoch's loss sum, correct, seen
        if (start == 0) {
            for (int r = 1; r < world; r++) {
                if (agreed[1 + r] != agreed[1]) { // every rank sees it: all stop, rank 0 reports (no retry helps)
                    return rank == 0 ? failed("the model factory gave rank " + r + " other initial weights than rank 0; "
                            + "it must be deterministic (seed the generators it uses)", false) : null;
                }
            }
        } else {
            if (resumed == null) {
                resumed = Safetensors.load(store.file(start)); // the step rank 0 chose; the directory must be shared
            }
            Map<String, Tensor> ms = new LinkedHashMap<>();
            Map<String, Tensor> os = new LinkedHashMap<>();
            resumed.tensors().forEach((k, v) -> {
                if (k.startsWith("model.")) {
                    ms.put(k.substring(6), v);
                } else if (k.startsWith("optim.")) {
                    os.put(k.substring(6), v);
                }
            });
            model.loadStateDict(ms, true);
            optimizer.loadStateDict(os);
            history.addAll(History.fromJson(resumed.metadata().getOrDefault("history", "[]")));
            String p = resumed.metadata().get("epoch_progress");
            if (p != null) {
                String[] s = p.split(",");
                progress = new double[] {Double.parseDouble(s[0]), Double.parseDouble(s[1]), Double.parseDouble(s[2])};
            }
            LOG.log(System.Logger.Level.INFO, "rank {0}: resuming at step {1}", rank, start);
        }

        int perEpoch = shards.stepsPerEpoch();
        long steps = (long) t.epochs * perEpoch;
        int b = shards.shardBatch();
        int sShards = t.microShards;
        double share = (double) b / t.globalBatch;
        // float32 gradients travel as floats; float64 ones as doubles, before the four statistics
        boolean f64 = dtype == DType.FLOAT64;
        int nStats = 4; // loss, hits, non-finite losses, failed micro-shards
        int statAt = f64 ? total : 0;
        float[][] gradParts = new float[m][f64 ? 0 : total];
        double[][] statParts = new double[m][statAt + nStats];
        float[] gradSum = new float[f64 ? 0 : total];
        double[] statSum = new double[statAt + nStats];
        // each parameter's slice of the exchange's arrays: the gradients go in without a copy of their
        // own, and the sum is the parameters' grad (the exchange writes it in place)
        Tensor[][] partViews = new Tensor[m][];
        for (int j = 0; j < m; j++) {
            partViews[j] = views(f64 ? Tensor.wrapArray(statParts[j]) : Tensor.wrapArray(gradParts[j]), params);
        }
        Tensor[] sumViews = views(f64 ? Tensor.wrapArray(statSum) : Tensor.wrapArray(gradSum), params);
        for (int i = 0; i < params.size(); i++) {
            params.get(i).setGrad(sumViews[i]);
        }
        // one micro-shard's part of a step: its gradient (a mean over it, weighted by its share of the global
        // batch) into the exchange's arrays, its loss and hits into the statistics; true when its scores are [B, C]
        interface ShardStep {
            boolean run(int j, int k, long s, int step, int[] order);
        }
        ShardStep shardStep = (j, k, s, step, order) -> {
            int[] pos = shards.positions(order, step);
            float[] xs = new float[b * d];
            long[] ys = new long[b];
            for (int i = 0; i < b; i++) {
                System.arraycopy(features[j], pos[i] * d, xs, i * d, d);
                ys[i] = labels[j][pos[i]];
            }
            Tensor x = SparkTrainer.input(xs, shape, dtype);
            Tensor y = Tensor.of(ys, b);
            for (int i = 0; i < dropouts.size(); i++) {
                dropouts.get(i).generator().setState(Generator.seeded(mix(t.seed, s, k, i)).state());
            }
            Tensor scores = model.forward(x);
            Tensor l = t.lossOf(model, scores, y);
            double lv = l.item();
            if (Double.isFinite(lv)) {
                List<Tensor> g = Autograd.grad(List.of(sShards == 1 ? l : l.mul(share)), params, Autograd.Options.DEFAULT);
                for (int i = 0; i < g.size(); i++) {
                    partViews[j][i].copyFrom(g.get(i)); // straight into the array the exchange sends
                }
                statParts[j][statAt] = sShards == 1 ? lv : lv * share;
                statParts[j][statAt + 2] = 0;
            } else {
                Arrays.fill(gradParts[j], 0f);
                Arrays.fill(statParts[j], 0d);
                statParts[j][statAt + 2] = 1;
            }
            statParts[j][statAt + 1] = hits(scores, y);
            return scores.dim() == 2;
        };
        boolean classification = true; // every micro-shard's scores are [B, C]: the history has an accuracy
        int[][] orders = null;
        int ordersEpoch = -1;
        List<double[]> timings = new ArrayList<>();
        long epochStart = System.nanoTime();
        long epochExamples = 0;
        double lr = optimizer.learningRate(0);
        String lastCheckpoint = null;
        for (long s = start; s < steps; s++) {
            int epoch = (int) (s / perEpoch);
            int step = (int) (s % perEpoch);
            if (t.failAtStep == s + 1 && t.failRank == rank && ctx.stageAttemptNumber() == 0) {
                throw new IllegalStateException("rank " + rank + ": failure injected at step " + (s + 1));
            }
            if (ordersEpoch != epoch) {
                orders = new int[m][];
                for (int j = 0; j < m; j++) {
                    orders[j] = shards.shardOrder(epoch, firstShard + j);
                }
                ordersEpoch = epoch;
            }
            if (step == 0 || s == start) {
                lr = optimizer.learningRate(0);
                epochStart = System.nanoTime();
                epochExamples = 0;
            }
            RuntimeException failure = null;
            for (int j = 0; j < m; j++) {
                int k = firstShard + j;
                try {
                    classification &= shardStep.run(j, k, s, step, orders[j]);
                } catch (RuntimeException e) { // the others must hear of it, or they wait for this rank's sum
                    failure = failure == null ? e : failure;
                    Arrays.fill(gradParts[j], 0f);
                    Arrays.fill(statParts[j], 0d);
                    statParts[j][statAt + 3] = 1;
                }
            }
            ring.sumInOrder(gradParts, statParts, gradSum, statSum);
            if (statSum[statAt + 3] > 0) { // a rank failed: every rank stops here, the failed one reports why
                if (failure != null) {
                    LOG.log(System.Logger.Level.ERROR, "rank " + rank + " failed at step " + (s + 1), failure);
                    return failed("rank " + rank + " failed at epoch " + (epoch + 1) + " step " + (s + 1) + ": "
                            + failure, false);
                }
                return null;
            }
            String bad = statSum[statAt + 2] > 0 ? "a micro-shard's loss is not finite"
                    : allFinite(gradSum) && allFinite(statSum) ? null : "the summed gradient is not finite";
            if (bad != null) {
                return rank == 0 ? failed(bad + " at epoch " + (epoch + 1) + " step " + (s + 1) + "; nothing was "
                        + "applied; a lower learning rate than " + optimizer.learningRate(0) + " may help") : null;
            }
            optimizer.step();
            progress[0] += statSum[statAt] * t.globalBatch;
            progress[1] += statSum[statAt + 1];
            progress[2] += t.globalBatch;
            epochExamples += t.globalBatch;
            long done = s + 1;
            if (t.checksumEvery > 0 && done % t.checksumEvery == 0) {
                double[] mine = new double[world];
                mine[rank] = checksum(checked);
                double[] sums = new double[world];
                ring.sumInOrder(new double[][] {mine}, sums);
                for (int r = 1; r < world; r++) {
                    if (sums[r] != sums[0]) {
                        return rank == 0 ? failed("the replicas diverged by step " + done + ": rank " + r + "'s weights "
                                + "differ from rank 0's (do all executors run the same jgrad and BLAS?)", false) : null;
                    }
                }
            }
            boolean epochEnd = step == perEpoch - 1;
            if (epochEnd) {
                double secs = (System.nanoTime() - epochStart) / 1e9;
                Map<String, Double> v = new LinkedHashMap<>();
                v.put("loss", progress[0] / progress[2]);
                if (classification) {
                    v.put("accuracy", progress[1] / progress[2]);
                }
                v.put("lr", lr);
                history.add(new EpochMetrics(epoch + 1, done, v));
                timings.add(new double[] {epoch + 1, secs, epochExamples / secs});
                progress = new double[3];
            }
            if (rank == 0 && store != null && (epochEnd || done == steps
                    || (t.checkpointEvery > 0 && done % t.checkpointEvery == 0))) {
                lastCheckpoint = save(store, done, model, optimizer, history, epochEnd ? null : progress).toString();
            }
        }
        if (rank != 0) {
            return null;
        }
        if (store != null && lastCheckpoint == null && start > 0) {
            lastCheckpoint = store.file(start).toString(); // a finished run resumed: nothing more to write
        }
        Map<String, Tensor> state = model.stateDict();
        return new Outcome(Safetensors.toBytes(state, Map.of()), History.toJson(history),
                timings.toArray(new double[0][]), Math.max(start, steps), start > 0 ? start : -1, lastCheckpoint, null,
                false);
    }

    /** Views of {@code flat}, one per parameter, shaped like it, in order from offset 0. */
    private static Tensor[] views(Tensor flat, List<Tensor> params) {
        Tensor[] v = new Tensor[params.size()];
        int at = 0;
        for (int i = 0; i < v.length; i++) {
            Tensor p = params.get(i);
            v[i] = flat.narrow(0, at, p.numel()).view(p.shape().toArray());
            at += p.numel();
        }
        return v;
    }

    /**
     * Joins the ring of this barrier stage's tasks: a listening socket, the addresses exchanged once
     * through Spark ({@code allGather}), then direct TCP. {@code serverRef} holds the socket until it
     * is closed, so that a failure listener can close it.
     */
    static RingAllReduce join(BarrierTaskContext ctx, long token, java.time.Duration timeout,
            AtomicReference<ServerSocket> serverRef) throws IOException {
        ServerSocket server = RingAllReduce.listen();
        serverRef.set(server);
        String host = SparkEnv.get().blockManager().blockManagerId().host();
        String[] all = ctx.allGather(host + ":" + server.getLocalPort());
        List<InetSocketAddress> peers = new ArrayList<>();
        for (String a : all) {
            int colon = a.lastIndexOf(':');
            peers.add(new InetSocketAddress(a.substring(0, colon), Integer.parseInt(a.substring(colon + 1))));
        }
        // the token differs per stage attempt: a task left over from a failed attempt cannot join the next one's ring
        long attemptToken = token ^ (0x9E3779B97F4A7C15L * (ctx.stageAttemptNumber() + 1));
        return RingAllReduce.connect(ctx.partitionId(), peers, server, attemptToken, timeout);
    }

    private Path save(CheckpointStore store, long step, Block model, Optimizer<?> optimizer, List<EpochMetrics> history,
            double[] progress) throws IOException {
        Map<String, Tensor> all = new LinkedHashMap<>();
        model.stateDict().forEach((k, v) -> all.put("model." + k, v));
        optimizer.stateDict().forEach((k, v) -> all.put("optim." + k, v));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("config", config);
        meta.put("data", dataFingerprint(shards, shape));
        meta.put("step", Long.toString(step));
        meta.put("history", History.toJson(history));
        if (progress != null) {
            meta.put("epoch_progress", progress[0] + "," + progress[1] + "," + progress[2]);
        }
        return store.save(step, all, meta);
    }

    /** What a checkpoint records of the data: a resume on other data is refused. */
    static String dataFingerprint(MicroShards shards, int[] shape) {
        return "examples=" + shards.examples() + ",features=" + Arrays.toString(shape);
    }

    private static Outcome failed(String message) {
        return failed(message, true);
    }

    private static Outcome failed(String message, boolean nonFinite) {
        return new Outcome(null, null, null, 0, -1, null, message, nonFinite);
    }

    /** The argmax hits of a classification's scores (0 when the scores are not [B, C]). */
    private static double hits(Tensor scores, Tensor y) {
        if (scores.dim() != 2) {
            return 0;
        }
        try (var g = Autograd.noGrad()) {
            return scores.argmax(1).eq(y).sum().item();
        }
    }

    private static boolean allFinite(double[] v) {
        for (double x : v) {
            if (!Double.isFinite(x)) {
                return false;
            }
        }
        return true;
    }

    private static boolean allFinite(float[] v) {
        for (float x : v) {
            if (!Float.isFinite(x)) {
                return false;
            }
        }
        return true;
    }

    /** A CRC32 of the parameters' bits (exact in a double, so the all-reduce can carry it). */
    private static double checksum(List<Tensor> params) {
        CRC32 crc = new CRC32();
        for (Tensor p : params) {
            double[] v = p.toDoubleArray();
            ByteBuffer bb = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            bb.asDoubleBuffer().put(v);
            crc.update(bb.array());
        }
        return crc.getValue();
    }

    /** The seed of dropout layer {@code i} in micro-shard {@code shard} of global step {@code step}. */
    static long mix(long seed, long step, int shard, int i) {
        // the constant keeps these streams apart from MicroShards' shuffles, which mix (seed, epoch, shard) alike
        return (seed * 0x9E3779B97F4A7C15L + step * 0xBF58476D1CE4E5B9L + shard * 0x94D049BB133111EBL
                + i * 0x2545F4914F6CDD1DL) ^ 0xD1B54A32D192ED03L;
    }
}
