package io.dyndit.sampling;

/**
 * Counter-based standard normal numbers: the same (key, counter) always gives the same values, whatever order or
 * thread computes them, on every JVM and machine.
 *
 * <p>Algorithm. Uniform bits come from Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
 * SC 2011): a 128-bit counter (c0, c1, c2, c3) and a 64-bit key (k0, k1) go through 10 rounds of
 * <pre>
 *   (hi0, lo0) = 0xD2511F53 · c0,  (hi1, lo1) = 0xCD9E8D57 · c2      (32×32 → 64-bit products)
 *   (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
 * </pre>
 * with the key bumped by (0x9E3779B9, 0xBB67AE85) between rounds; the tests check Random123's known-answer vectors.
 * One block of four output words w0..w3 gives two normals by the Box–Muller transform in float64:
 * u1 = (top 53 bits of w0:w1 + 1)·2⁻⁵³ ∈ (0, 1], u2 = (top 53 bits of w2:w3)·2⁻⁵³ ∈ [0, 1),
 * r = sqrt(−2 ln u1), z0 = r cos(2π u2), z1 = r sin(2π u2), each rounded to float32. ln, cos and sin are
 * {@link StrictMath}'s (fdlibm), so the values are bit-identical on every platform.
 *
 * <p>Thread-safety: stateless (pure functions of key and counter), safe from any thread.
 */
public final class PhiloxGaussian {
    private static final int M0 = 0xD2511F53, M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9, W1 = 0xBB67AE85;
    private static final double TWO_POW_M53 = 0x1.0p-53;

    private PhiloxGaussian() {}

    /** Philox4x32-10 of counter {@code ctr} (4 words) under key (k0, k1); returns the 4 output words. */
    public static int[] block(int[] ctr, int k0, int k1) {
        int c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
        for (int round = 0; round < 10; round++) {
            if (round > 0) {
                k0 += W0;
                k1 += W1;
            }
            long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int n0 = (int) (p1 >>> 32) ^ c1 ^ k0;
            int n2 = (int) (p0 >>> 32) ^ c3 ^ k1;
            c1 = (int) p1;
            c3 = (int) p0;
            c0 = n0;
            c2 = n2;
        }
        return new int[] {c0, c1, c2, c3};
    }

    /**
     * Fills {@code out[offset .. offset+count)} with the normals numbered {@code first .. first+count} of the stream
     * (seed, c1, c2, c3): normal number e comes from the block with counter (e/2, c1, c2, c3), cosine for even e and
     * sine for odd e.
     */
    public static void fill(float[] out, int offset, int count, long seed, int c1, int c2, int c3, long first) {
        int k0 = (int) seed, k1 = (int) (seed >>> 32);
        int[] ctr = new int[4];
        ctr[1] = c1;
        ctr[2] = c2;
        ctr[3] = c3;
        long e = first;
        int pos = offset, end = offset + count;
        while (pos < end) {
            long blockIndex = e >>> 1;
            if (blockIndex > 0xFFFFFFFFL) {
                throw new IllegalArgumentException("normal index " + e + " beyond the 2^33 a stream holds");
            }
            ctr[0] = (int) blockIndex;
            int[] w = block(ctr, k0, k1);
            long a = ((w[0] & 0xFFFFFFFFL) << 32 | (w[1] & 0xFFFFFFFFL)) >>> 11;
            long b = ((w[2] & 0xFFFFFFFFL) << 32 | (w[3] & 0xFFFFFFFFL)) >>> 11;
            double u1 = (a + 1) * TWO_POW_M53;
            double angle = 2 * Math.PI * (b * TWO_POW_M53);
            double r = Math.sqrt(-2 * StrictMath.log(u1));
            if ((e & 1) == 0) {
                out[pos++] = (float) (r * StrictMath.cos(angle));
                e++;
                if (pos == end) {
                    break;
                }
            }
            out[pos++] = (float) (r * StrictMath.sin(angle));
            e++;
        }
    }
}
