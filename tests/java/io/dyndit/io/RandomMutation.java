package io.dyndit.io;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * One to four random edits of a copy of some bytes (bit flips, set bytes, overwritten 4/8-byte integers chosen to
 * hit length and offset checks, truncation, insertion, deletion), aimed mostly at a "hot" region where the
 * structure lives. {@link #description} says what was done, for replaying a failure by hand.
 */
record RandomMutation(byte[] bytes, String description) {
    static RandomMutation of(byte[] original, int hotStart, int hotEnd, Random random) {
        byte[] bytes = original.clone();
        List<String> edits = new ArrayList<>();
        int count = 1 + random.nextInt(4);
        for (int i = 0; i < count && bytes.length > 0; i++) {
            int at = position(random, bytes.length, hotStart, hotEnd);
            switch (random.nextInt(6)) {
                case 0 -> {
                    int bit = random.nextInt(8);
                    bytes[at] ^= (byte) (1 << bit);
                    edits.add("flip bit " + bit + " @" + at);
                }
                case 1 -> {
                    byte value = (byte) new int[] {0, 0xFF, 0x7F, 0x80, random.nextInt(256)}[random.nextInt(5)];
                    bytes[at] = value;
                    edits.add("set @" + at + "=" + (value & 0xFF));
                }
                case 2 -> {
                    long value = new long[] {0, -1, Integer.MAX_VALUE, 0xFFFFFFFFL, Long.MAX_VALUE, bytes.length,
                            bytes.length + 1, random.nextInt(1 << 16)}[random.nextInt(8)];
                    int width = random.nextBoolean() ? 4 : 8;
                    for (int b = 0; b < width && at + b < bytes.length; b++) {
                        bytes[at + b] = (byte) (value >>> (8 * b));
                    }
                    edits.add("write " + width + "-byte " + value + " @" + at);
                }
                case 3 -> {
                    bytes = Arrays.copyOf(bytes, at);
                    edits.add("truncate to " + at);
                }
                case 4 -> {
                    byte[] inserted = new byte[1 + random.nextInt(16)];
                    random.nextBytes(inserted);
                    byte[] longer = new byte[bytes.length + inserted.length];
                    System.arraycopy(bytes, 0, longer, 0, at);
                    System.arraycopy(inserted, 0, longer, at, inserted.length);
                    System.arraycopy(bytes, at, longer, at + inserted.length, bytes.length - at);
                    bytes = longer;
                    edits.add("insert " + inserted.length + " bytes @" + at);
                }
                default -> {
                    int length = Math.min(1 + random.nextInt(32), bytes.length - at);
                    byte[] shorter = new byte[bytes.length - length];
                    System.arraycopy(bytes, 0, shorter, 0, at);
                    System.arraycopy(bytes, at + length, shorter, at, bytes.length - at - length);
                    bytes = shorter;
                    edits.add("delete " + length + " bytes @" + at);
                }
            }
        }
        return new RandomMutation(bytes, String.join(", ", edits));
    }

    /** 70% inside the hot region (clipped to the current length), otherwise anywhere. */
    private static int position(Random random, int length, int hotStart, int hotEnd) {
        int end = Math.min(hotEnd, length);
        if (end > hotStart && random.nextInt(10) < 7) {
            return hotStart + random.nextInt(end - hotStart);
        }
        return random.nextInt(length);
    }
}
