package io.dyndit.model;

/** (start, length) blocks of weight rows/columns for active units, consecutive units merged into one run. */
final class Blocks {
    private Blocks() {}

    /** Units (heads or MLP groups) of {@code size} channels each: one block per run of consecutive units. */
    static long[] units(int[] active, int size) {
        long[] tmp = new long[2 * active.length];
        int nb = 0;
        for (int i = 0; i < active.length; i++) {
            long start = (long) active[i] * size;
            if (nb > 0 && tmp[2 * nb - 2] + tmp[2 * nb - 1] == start) {
                tmp[2 * nb - 1] += size;
            } else {
                tmp[2 * nb] = start;
                tmp[2 * nb + 1] = size;
                nb++;
            }
        }
        return java.util.Arrays.copyOf(tmp, 2 * nb);
    }

    /** qkv weight rows of the active heads: q rows, then k rows, then v rows (channel s*D + h*hd + e). */
    static long[] qkvRows(int[] heads, int d, int hd) {
        long[] one = units(heads, hd);
        long[] all = new long[3 * one.length];
        for (int s = 0; s < 3; s++) {
            for (int j = 0; j < one.length; j += 2) {
                all[s * one.length + j] = one[j] + (long) s * d;
                all[s * one.length + j + 1] = one[j + 1];
            }
        }
        return all;
    }
}
