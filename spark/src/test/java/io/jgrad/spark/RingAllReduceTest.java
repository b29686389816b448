package io.jgrad.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jgrad.core.Generator;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** The TCP all-reduce on plain threads, without Spark. */
class RingAllReduceTest {
    interface RankBody {
        Object run(RingAllReduce ring) throws Exception;
    }

    /** Runs {@code world} ranks on threads, each joining the ring then running {@code body}; returns their results. */
    static List<Object> group(int world, Duration timeout, RankBody body) throws Exception {
        List<ServerSocket> servers = new ArrayList<>();
        List<InetSocketAddress> peers = new ArrayList<>();
        for (int r = 0; r < world; r++) {
            ServerSocket s = RingAllReduce.listen();
            servers.add(s);
            peers.add(new InetSocketAddress("127.0.0.1", s.getLocalPort()));
        }
        ExecutorService pool = Executors.newFixedThreadPool(world);
        try {
            List<Future<Object>> fs = new ArrayList<>();
            for (int r = 0; r < world; r++) {
                int rank = r;
                fs.add(pool.submit(() -> {
                    try (RingAllReduce ring = RingAllReduce.connect(rank, peers, servers.get(rank), 42L, timeout)) {
                        return body.run(ring);
                    }
                }));
            }
            List<Object> out = new ArrayList<>();
            for (Future<Object> f : fs) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    static float[][] parts(int rank, int count, int n, long step) {
        Generator g = Generator.seeded(rank * 1000L + step);
        float[][] p = new float[count][n];
        for (float[] row : p) {
            for (int i = 0; i < n; i++) {
                row[i] = (float) (g.nextGaussian() * Math.pow(10, g.nextInt(7) - 3)); // magnitudes that round differently per order
            }
        }
        return p;
    }

    @Test
    void theSumIsTheLeftFoldInRankOrderWhateverTheGroupSize() throws Exception {
        int shards = 4;
        int n = 7850;
        // the same four shards' parts, spread over 1, 2 and 4 ranks, must give the same bits
        float[][] all = new float[shards][];
        for (int k = 0; k < shards; k++) {
            all[k] = parts(k, 1, n, 3)[0];
        }
        float[] fold = new float[n];
        for (float[] p : all) {
            for (int i = 0; i < n; i++) {
                fold[i] += p[i];
            }
        }
        float[] pairwise = new float[n]; // another order gives other bits: the test can fail
        for (int i = 0; i < n; i++) {
            pairwise[i] = (all[0][i] + all[1][i]) + (all[2][i] + all[3][i]);
        }
        assertThat(pairwise).isNotEqualTo(fold);
        for (int world : new int[] {1, 2, 4}) {
            int per = shards / world;
            List<Object> sums = group(world, Duration.ofSeconds(60), ring -> {
                float[][] mine = new float[per][];
                for (int j = 0; j < per; j++) {
                    mine[j] = all[ring.rank() * per + j];
                }
                double[][] stats = {{ring.rank() + 1.0}};
                float[] sum = new float[n];
                double[] statSum = new double[1];
                for (int rep = 0; rep < 3; rep++) { // several calls in a row stay in step
                    ring.sumInOrder(mine, stats, sum, statSum);
                }
                assertThat(statSum[0]).isEqualTo(world * (world + 1) / 2.0);
                return sum;
            });
            for (Object s : sums) {
                assertThat((float[]) s).as("world %d", world).isEqualTo(fold);
            }
        }
    }

    @Test
    void largeVectorsTravelInChunksWithoutDeadlock() throws Exception {
        int n = 535_818; // W2's gradient: larger than any socket buffer, nine chunks
        int nd = 100_000; // and doubles over several chunks after the floats
        List<Object> sums = group(4, Duration.ofSeconds(60), ring -> {
            float[] sum = new float[n];
            double[] dsum = new double[nd];
            double[][] dparts = {new double[nd]};
            java.util.Arrays.fill(dparts[0], 0.1 * (ring.rank() + 1));
            ring.sumInOrder(parts(ring.rank(), 2, n, 1), dparts, sum, dsum);
            return new Object[] {sum, dsum};
        });
        float[] expected = new float[n];
        double expectedD = 0;
        for (int r = 0; r < 4; r++) {
            for (float[] p : parts(r, 2, n, 1)) {
                for (int i = 0; i < n; i++) {
                    expected[i] += p[i];
                }
            }
            expectedD += 0.1 * (r + 1);
        }
        for (Object s : sums) {
            Object[] pair = (Object[]) s;
            assertThat((float[]) pair[0]).isEqualTo(expected);
            double[] d = (double[]) pair[1];
            assertThat(d[0]).isEqualTo(expectedD);
            assertThat(d[nd - 1]).isEqualTo(expectedD);
        }
    }

    @Test
    void aPeerThatHangsTimesOutWithAMessageNamingIt() throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        List<Object> results = group(2, Duration.ofMillis(300), ring -> {
            if (ring.rank() == 1) {
                done.await(); // never sends: rank 0 must not wait forever
                return "waited";
            }
            try {
                ring.sumInOrder(new double[][] {{1}}, new double[1]);
                return "no failure";
            } catch (IOException e) {
                return e.getMessage();
            } finally {
                done.countDown();
            }
        });
        assertThat((String) results.get(0)).contains("rank 0 of 2").contains("no data from rank 1");
    }

    @Test
    void closingFromAnotherThreadFailsABlockedReadAtOnce() throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        List<Object> results = group(2, Duration.ofMinutes(10), ring -> {
            if (ring.rank() == 1) {
                done.await(); // never sends
                return "waited";
            }
            Thread closer = new Thread(() -> {
                try {
                    Thread.sleep(300); // rank 0 is blocked reading rank 1's result by then (or soon after)
                } catch (InterruptedException e) {
                    return;
                }
                ring.close(); // as a task-failure listener or the watchdog does, from another thread
            });
            closer.start();
            try {
                ring.sumInOrder(new double[][] {{1}}, new double[1]);
                return "no failure";
            } catch (IOException e) {
                return e.getMessage();
            } finally {
                closer.join();
                done.countDown();
            }
        });
        assertThat((String) results.get(0)).contains("rank 0 of 2").contains("(closed)");
    }

    @Test
    void aStrangerIsRefusedAndTheRingStillForms() throws Exception {
        ServerSocket s0 = RingAllReduce.listen();
        ServerSocket s1 = RingAllReduce.listen();
        List<InetSocketAddress> peers = List.of(new InetSocketAddress("127.0.0.1", s0.getLocalPort()),
                new InetSocketAddress("127.0.0.1", s1.getLocalPort()));
        try (Socket stranger = new Socket("127.0.0.1", s0.getLocalPort())) {
            OutputStream o = stranger.getOutputStream();
            o.write(new byte[20]); // a wrong greeting
            o.flush();
            assertBothRanksSum(peers, s0, s1);
        }
    }

    /** Ranks 0 and 1 on their own threads form the ring and sum 1 + 2. */
    private static void assertBothRanksSum(List<InetSocketAddress> peers, ServerSocket s0, ServerSocket s1)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<double[]> a = pool.submit(() -> sumOnce(0, peers, s0));
            Future<double[]> b = pool.submit(() -> sumOnce(1, peers, s1));
            assertThat(a.get()).containsExactly(3.0);
            assertThat(b.get()).containsExactly(3.0);
        } finally {
            pool.shutdownNow();
        }
    }

    private static double[] sumOnce(int rank, List<InetSocketAddress> peers, ServerSocket s) throws IOException {
        try (RingAllReduce ring = RingAllReduce.connect(rank, peers, s, 7L, Duration.ofSeconds(30))) {
            double[] out = new double[1];
            ring.sumInOrder(new double[][] {{rank + 1.0}}, out);
            return out;
        }
    }

    @Test
    void ranksOutOfStepAreToldSo() throws Exception {
        List<Object> results = group(2, Duration.ofSeconds(30), ring -> {
            try { // rank 1 sums 3 values, rank 0 sums 2: a bug in the caller, named instead of mixed up
                ring.sumInOrder(new double[][] {new double[2 + ring.rank()]}, new double[2 + ring.rank()]);
                return "no failure";
            } catch (RingAllReduce.OutOfStepException e) {
                return "out of step: " + e.getMessage();
            } catch (IOException e) {
                return "other: " + e.getMessage();
            }
        });
        assertThat((String) results.get(1)).startsWith("out of step").contains("expected partial sum #0 chunk 0 (3 doubles")
                .contains("(2 doubles");
    }

    @Test
    void aSilentStrangerDoesNotBlockTheRing() throws Exception {
        ServerSocket s0 = RingAllReduce.listen();
        ServerSocket s1 = RingAllReduce.listen();
        List<InetSocketAddress> peers = List.of(new InetSocketAddress("127.0.0.1", s0.getLocalPort()),
                new InetSocketAddress("127.0.0.1", s1.getLocalPort()));
        try (Socket silent = new Socket("127.0.0.1", s0.getLocalPort())) { // connects first, never says a word
            assertBothRanksSum(peers, s0, s1);
        }
    }

    @Test
    void badArgumentsAreRefused() throws Exception {
        ServerSocket s = RingAllReduce.listen();
        assertThatThrownBy(() -> RingAllReduce.connect(2, List.of(new InetSocketAddress(1)), s, 0, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rank 2 out of range for 1");
        try (RingAllReduce one = RingAllReduce.connect(0, List.of(new InetSocketAddress(1)), s, 0, Duration.ofSeconds(1))) {
            assertThatThrownBy(() -> one.sumInOrder(new float[][] {new float[3]}, new double[0][], new float[2],
                    new double[0])).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("3 values, the sum 2");
        }
    }
}
