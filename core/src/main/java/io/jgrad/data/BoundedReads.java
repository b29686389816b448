package io.jgrad.data;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongFunction;

/** Reading a declared number of bytes from a stream that may hold fewer, without trusting the declaration. */
final class BoundedReads {
    /** Bytes read per piece while the stream has not yet shown half of what it declares. */
    static final int PIECE = 1 << 20;

    private BoundedReads() {}

    /**
     * Exactly {@code count} bytes of {@code in}: in pieces while the stream has shown less than half
     * of them, then straight into the result. A short stream (a truncated or lying file) fails
     * having allocated about what it held, never the declared size; a complete one peaks at 1.5
     * times {@code count}.
     *
     * @param truncated the exception to throw, given the number of bytes the stream had
     */
    static byte[] readExactly(InputStream in, int count, LongFunction<? extends IOException> truncated)
            throws IOException {
        List<byte[]> pieces = new ArrayList<>();
        long got = 0;
        boolean ended = false;
        while (!ended && 2 * got < count) {
            int want = (int) Math.min(PIECE, count - got);
            byte[] piece = in.readNBytes(want);
            pieces.add(piece);
            got += piece.length;
            ended = piece.length < want;
        }
        if (ended) {
            throw truncated.apply(got);
        }
        byte[] data = new byte[count];
        int at = 0;
        for (byte[] piece : pieces) {
            System.arraycopy(piece, 0, data, at, piece.length);
            at += piece.length;
        }
        pieces.clear();
        at += in.readNBytes(data, at, count - at);
        if (at < count) {
            throw truncated.apply(at);
        }
        return data;
    }
}
