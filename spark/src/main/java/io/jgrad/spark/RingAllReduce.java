package io.jgrad.spark;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Sums vectors over a group of processes (or threads) in one fixed order, over direct TCP:
 * the result is the left fold {@code ((0 + p[0][0]) + p[0][1]) + ... + p[1][0] + ...} of every
 * rank's parts, rank after rank and part after part, so it has the same bits whatever the
 * number of ranks the parts are spread over. That is what makes data-parallel training
 * bit-identical across worker counts: a ring all-reduce would add the same numbers in an order
 * that depends on the rank count.
 *
 * <p>The ranks form a ring, each connected to the next. A sum travels rank 0 → 1 → ... → W-1,
 * each rank adding its parts to the partial sum it receives; the last rank then sends the total
 * back round the ring (W-1 → 0 → ... → W-2). Both phases are pipelined in chunks of 64 Ki values,
 * so a sum costs about two transfers of the vector plus one chunk per rank, and each phase is
 * a chain (no rank waits on one that waits on it), so no rank blocks another. Every message
 * carries a sequence number and its lengths: a rank out of step with its neighbour gets an
 * {@link IOException} saying so, not wrong numbers.
 *
 * <p>Faults: reads time out after {@code timeout} (a peer that hangs or died without closing
 * its socket gives an {@link IOException} naming it), and {@link #close()} may be called from
 * another thread to make a blocked read fail at once (Spark's task-failure listener does this).
 * Connections are authenticated by a token shared by the group, so a stranger that connects to
 * a listening port is refused. Not thread-safe apart from {@code close}.
 */
public final class RingAllReduce implements Closeable {
    private static final int HELLO = 0x6A677264; // "jgrd"
    private static final int MESSAGE = 0x6A67726D;
    private static final byte REDUCE = 1;
    private static final byte RESULT = 2;
    /** Values per message: 256 KiB of floats. */
    private static final int CHUNK = 1 << 16;

    private final int rank;
    private final int world;
    private final Duration timeout;
    private final Socket next;
    private final Socket previous;
    private final DataOutputStream out;
    private final DataInputStream in;
    private byte[] buffer = new byte[0];
    private long sequence;
    private volatile boolean closed;

    private RingAllReduce(int rank, int world, Duration timeout, Socket next, Socket previous) throws IOException {
        this.rank = rank;
        this.world = world;
        this.timeout = timeout;
        this.next = next;
        this.previous = previous;
        this.out = next == null ? null : new DataOutputStream(new BufferedOutputStream(next.getOutputStream(), 1 << 16));
        this.in = previous == null ? null : new DataInputStream(new BufferedInputStream(previous.getInputStream(), 1 << 16));
    }

    /** A server socket on every interface and a free port, for {@link #connect}; its port goes to the peers. */
    public static ServerSocket listen() throws IOException {
        return new ServerSocket(0, 16);
    }

    /**
     * Joins the ring: connects to rank {@code rank + 1} (mod the group size) and accepts rank
     * {@code rank - 1} on {@code server}, which is closed afterwards. A group of one needs no
     * sockets. Every rank must call this with the same {@code peers} and {@code token}.
     *
     * @param rank    this rank, in [0, peers.size())
     * @param peers   every rank's listening address, by rank
     * @param server  this rank's listening socket (from {@link #listen()}), its port in {@code peers}
     * @param token   a secret shared by the group; a connection without it is refused
     * @param timeout how long a read (and the set-up) may wait for a peer before failing
     * @throws IOException when a peer cannot be reached or does not answer within {@code timeout}
     */
    public static RingAllReduce connect(int rank, List<InetSocketAddress> peers, ServerSocket server, long token,
            Duration timeout) throws IOException {
        int world = peers.size();
        if (world < 1 || rank < 0 || rank >= world) {
            throw new IllegalArgumentException("RingAllReduce: rank " + rank + " out of range for " + world + " peers");
        }
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("RingAllReduce: the timeout must be positive, got " + timeout);
        }
        if (world == 1) {
            if (server != null) {
                server.close();
            }
            return new RingAllReduce(0, 1, timeout, null, null);
        }
        int millis = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
        long deadline = System.nanoTime() + timeout.toNanos();
        InetSocketAddress target = peers.get((rank + 1) % world);
        Socket next = null;
        Socket previous = null;
        try {
            try {
                next = connectWithRetry(target, deadline, rank);
            } catch (SocketTimeoutException | java.net.NoRouteToHostException e) {
                throw new IOException("rank " + rank + ": cannot reach the next rank at " + target + ": " + e, e);
            }
            DataOutputStream hello = new DataOutputStream(next.getOutputStream());
            hello.writeInt(HELLO);
            hello.writeLong(token);
            hello.writeInt(rank);
            hello.writeInt(world);
            hello.flush();
            int expected = (rank - 1 + world) % world;
            while (previous == null) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    throw new SocketTimeoutException("rank " + rank + " of " + world + ": rank " + expected
                            + " did not connect within " + timeout);
                }
                server.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
                Socket s = server.accept();
                s.setSoTimeout((int) Math.min(millis, 5_000)); // a silent stranger must not use up the whole wait
                try {
                    DataInputStream din = new DataInputStream(s.getInputStream());
                    int magic = din.readInt();
                    long theirToken = din.readLong();
                    int theirRank = din.readInt();
                    int theirWorld = din.readInt();
                    if (magic != HELLO || theirToken != token || theirRank != expected || theirWorld != world) {
                        s.close(); // a stranger, or a member of another group: not ours
                        continue;
                    }
                } catch (IOException e) {
                    s.close();
                    continue;
                }
                s.setSoTimeout(millis);
                previous = s;
            }
            next.setSoTimeout(millis);
            next.setTcpNoDelay(true);
            previous.setTcpNoDelay(true);
            return new RingAllReduce(rank, world, timeout, next, previous);
        } catch (IOException | RuntimeException e) {
            closeQuietly(next);
            closeQuietly(previous);
            throw e;
        } finally {
            server.close();
        }
    }

    private static Socket connectWithRetry(InetSocketAddress target, long deadline, int rank) throws IOException {
        while (true) {
            Socket s = new Socket();
            try {
                long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
                s.connect(target, (int) Math.min(Integer.MAX_VALUE, left));
                return s;
            } catch (ConnectException e) {
                s.close();
                if (System.nanoTime() > deadline) {
                    throw new ConnectException("rank " + rank + ": cannot reach the next rank at " + target + ": "
                            + e.getMessage());
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IOException("rank " + rank + ": interrupted while connecting to " + target, ie);
                }
            } catch (IOException e) {
                s.close();
                throw e;
            }
        }
    }

    /** This rank. */
    public int rank() {
        return rank;
    }

    /** The number of ranks. */
    public int world() {
        return world;
    }

    /**
     * Sums the parts of every rank in (rank, part) order, starting from zero, and gives every rank
     * the result. Each rank passes its own parts (any number, the same lengths everywhere):
     * {@code floatSum[i] = (((0 + floatParts[0][i] of rank 0) + ...) + floatParts[0][i] of rank 1) + ...},
     * in float arithmetic, and the same for the doubles.
     *
     * @throws IOException when a peer fails, hangs for longer than the timeout, or is out of step
     */
    public void sumInOrder(float[][] floatParts, double[][] doubleParts, float[] floatSum, double[] doubleSum)
            throws IOException {
        int nf = floatSum.length;
        int nd = doubleSum.length;
        for (float[] p : floatParts) {
            check(p.length == nf, "a float part has " + p.length + " values, the sum " + nf);
        }
        for (double[] p : doubleParts) {
            check(p.length == nd, "a double part has " + p.length + " values, the sum " + nd);
        }
        long seq = sequence++;
        // pipelined in chunks: a rank passes a chunk on as soon as it has added its parts to it, so a
        // sum over W ranks costs about two transfers of the vector, not 2 (W - 1); the result goes
        // round only after the last rank has the whole sum, so the two phases never wait on each other
        int floatChunks = (nf + CHUNK - 1) / CHUNK;
        int chunks = Math.max(1, floatChunks + (nd + CHUNK / 2 - 1) / (CHUNK / 2));
        for (int c = 0; c < chunks; c++) {
            int[] r = range(c, floatChunks, nf, nd);
            if (rank == 0) {
                if (r[0] == 0) {
                    java.util.Arrays.fill(floatSum, r[1], r[2], 0f);
                } else {
                    java.util.Arrays.fill(doubleSum, r[1], r[2], 0d);
                }
            } else {
                receive(REDUCE, seq, c, r, floatSum, doubleSum);
            }
            if (r[0] == 0) {
                for (float[] p : floatParts) {
                    for (int i = r[1]; i < r[2]; i++) {
                        floatSum[i] += p[i];
                    }
                }
            } else {
                for (double[] p : doubleParts) {
                    for (int i = r[1]; i < r[2]; i++) {
                        doubleSum[i] += p[i];
                    }
                }
            }
            if (rank < world - 1) {
                send(REDUCE, seq, c, r, floatSum, doubleSum);
            }
        }
        if (world == 1) {
            return;
        }
        for (int c = 0; c < chunks; c++) {
            int[] r = range(c, floatChunks, nf, nd);
            if (rank == world - 1) {
                send(RESULT, seq, c, r, floatSum, doubleSum);
            } else {
                receive(RESULT, seq, c, r, floatSum, doubleSum);
                if (rank < world - 2) {
                    send(RESULT, seq, c, r, floatSum, doubleSum);
                }
            }
        }
    }

    /** Chunk {@code c}: {type (0 floats, 1 doubles), from, to}. */
    private static int[] range(int c, int floatChunks, int nf, int nd) {
        if (c < floatChunks) {
            return new int[] {0, c * CHUNK, (int) Math.min(nf, (c + 1L) * CHUNK)};
        }
        int k = c - floatChunks;
        return new int[] {1, k * (CHUNK / 2), (int) Math.min(nd, (k + 1L) * (CHUNK / 2))};
    }

    /** {@link #sumInOrder(float[][], double[][], float[], double[])} for doubles only. */
    public void sumInOrder(double[][] parts, double[] sum) throws IOException {
        sumInOrder(new float[0][], parts, new float[0], sum);
    }

    private void send(byte kind, long seq, int chunk, int[] r, float[] f, double[] d) throws IOException {
        int n = r[2] - r[1];
        int bytes = n * (r[0] == 0 ? 4 : 8);
        ByteBuffer b = payload(bytes);
        if (r[0] == 0) {
            b.asFloatBuffer().put(f, r[1], n);
        } else {
            b.asDoubleBuffer().put(d, r[1], n);
        }
        try {
            out.writeInt(MESSAGE);
            out.writeByte(kind);
            out.writeLong(seq);
            out.writeInt(chunk);
            out.writeByte(r[0]);
            out.writeInt(r[1]);
            out.writeInt(n);
            out.write(buffer, 0, bytes);
            out.flush();
        } catch (IOException e) {
            throw failure("cannot send to rank " + (rank + 1) % world, e);
        }
    }

    private void receive(byte kind, long seq, int chunk, int[] r, float[] f, double[] d) throws IOException {
        int from = (rank - 1 + world) % world;
        int n = r[2] - r[1];
        try {
            int magic = in.readInt();
            byte k = in.readByte();
            long s = in.readLong();
            int c = in.readInt();
            byte type = in.readByte();
            int start = in.readInt();
            int len = in.readInt();
            if (magic != MESSAGE || k != kind || s != seq || c != chunk || type != r[0] || start != r[1] || len != n) {
                throw new OutOfStepException("rank " + rank + ": rank " + from + " is out of step: expected "
                        + (kind == REDUCE ? "partial sum" : "result") + " #" + seq + " chunk " + chunk + " ("
                        + n + (r[0] == 0 ? " floats" : " doubles") + " from " + r[1] + "), got kind " + k + " #" + s
                        + " chunk " + c + " (" + len + (type == 0 ? " floats" : " doubles") + " from " + start + ")"
                        + (magic != MESSAGE ? " (not a message header)" : ""));
            }
            int bytes = n * (r[0] == 0 ? 4 : 8);
            ByteBuffer b = payload(bytes);
            in.readFully(buffer, 0, bytes);
            if (r[0] == 0) {
                b.asFloatBuffer().get(f, r[1], n);
            } else {
                b.asDoubleBuffer().get(d, r[1], n);
            }
        } catch (SocketTimeoutException e) {
            throw failure("no data from rank " + from + " for " + timeout + " (it failed or hangs)", e);
        } catch (EOFException e) {
            throw failure("rank " + from + " closed its connection (it failed or was stopped)", e);
        } catch (OutOfStepException e) {
            throw e;
        } catch (IOException e) {
            throw failure("lost the connection from rank " + from, e);
        }
    }

    /** A peer sent another message than the one this rank expected: the ranks are not running the same sums. */
    public static final class OutOfStepException extends IOException {
        private static final long serialVersionUID = 1L;

        OutOfStepException(String message) {
            super(message);
        }
    }

    private IOException failure(String what, IOException cause) {
        return new IOException("rank " + rank + " of " + world + ": " + what + (closed ? " (closed)" : ""), cause);
    }

    private ByteBuffer payload(int bytes) {
        if (buffer.length < bytes) {
            buffer = new byte[bytes];
        }
        return ByteBuffer.wrap(buffer, 0, bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("RingAllReduce: " + message);
        }
    }

    /** Closes the connections; a read blocked in another thread fails at once. Idempotent. */
    @Override
    public void close() {
        closed = true;
        closeQuietly(next);
        closeQuietly(previous);
    }

    private static void closeQuietly(Socket s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing to unblock: nothing more to do
            }
        }
    }
}
