package io.jgrad.core;

import static com.google.common.base.Preconditions.checkArgument;

/**
 * A seedable pseudo-random generator (xoshiro256**, seeded through SplitMix64) whose whole state
 * can be read and restored, so that a checkpoint can resume a run bit-exactly.
 *
 * <p>Gaussian samples use Box-Muller with {@link StrictMath} and keep no cached second value, so
 * the state is exactly the four longs returned by {@link #state()} and the same seed gives the
 * same numbers on every machine. Not thread-safe: give each thread its own generator.
 */
public final class Generator {
    private static final Generator DEFAULT = seeded(0);

    private long s0;
    private long s1;
    private long s2;
    private long s3;

    private Generator(long s0, long s1, long s2, long s3) {
        this.s0 = s0;
        this.s1 = s1;
        this.s2 = s2;
        this.s3 = s3;
    }

    /** A generator whose stream is a fixed function of {@code seed}. */
    public static Generator seeded(long seed) {
        long x = seed;
        long[] s = new long[4];
        for (int i = 0; i < 4; i++) {
            x += 0x9E3779B97F4A7C15L; // SplitMix64 spreads any seed (even 0) over all 256 state bits
            long z = x;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            s[i] = z ^ (z >>> 31);
        }
        return new Generator(s[0], s[1], s[2], s[3]);
    }

    /**
     * The process-wide generator used by factory methods that take none (seeded with 0 at start-up,
     * like PyTorch's fixed default seed). Not thread-safe.
     */
    public static Generator getDefault() {
        return DEFAULT;
    }

    /** Re-seeds the default generator, like {@code torch.manual_seed}. */
    public static void manualSeed(long seed) {
        DEFAULT.setState(seeded(seed).state());
    }

    /** A copy of the state: four longs; feed it to {@link #setState} to replay the stream from here. */
    public long[] state() {
        return new long[] {s0, s1, s2, s3};
    }

    /** Restores a state saved by {@link #state()}. */
    public void setState(long[] state) {
        checkArgument(state != null && state.length == 4, "Generator: state must be 4 longs, got %s",
                state == null ? "null" : state.length);
        checkArgument((state[0] | state[1] | state[2] | state[3]) != 0, "Generator: state must not be all zero");
        s0 = state[0];
        s1 = state[1];
        s2 = state[2];
        s3 = state[3];
    }

    /** An independent generator starting from this one's current state. */
    public Generator copy() {
        return new Generator(s0, s1, s2, s3);
    }

    /** The next 64 uniformly random bits. */
    public long nextLong() {
        long result = Long.rotateLeft(s1 * 5, 7) * 9;
        long t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = Long.rotateLeft(s3, 45);
        return result;
    }

    /** Uniform in [0, 1) with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Uniform in [0, 1) with 24 random bits. */
    public float nextFloat() {
        return (nextLong() >>> 40) * 0x1.0p-24f;
    }

    /** Uniform integer in [0, bound), without modulo bias. */
    public int nextInt(int bound) {
        checkArgument(bound > 0, "Generator.nextInt: bound must be positive, got %s", bound);
        long r = nextLong() >>> 33; // 31 random bits
        long m = r * bound;
        long low = m & 0x7FFFFFFFL;
        if (low < bound) {
            long threshold = (0x80000000L - bound) % bound; // Lemire's method: reject the few biased values
            while (low < threshold) {
                r = nextLong() >>> 33;
                m = r * bound;
                low = m & 0x7FFFFFFFL;
            }
        }
        return (int) (m >>> 31);
    }

    /** Standard normal sample (Box-Muller; no hidden cache). */
    public double nextGaussian() {
        double u1 = 1.0 - nextDouble(); // in (0, 1], so the log is finite
        double u2 = nextDouble();
        return StrictMath.sqrt(-2.0 * StrictMath.log(u1)) * StrictMath.cos(2.0 * Math.PI * u2);
    }
}
