package io.dyndit.vae;

/**
 * DiT's conversion of decoded images to bytes (sample_ddp.py): {@code clamp(127.5 * x + 128, 0, 255)} in float32,
 * truncated to uint8, NCHW -> NHWC.
 *
 * <p>Thread-safety: stateless static functions, safe to call from any thread.
 */
public final class Uint8Images {
    private Uint8Images() {}

    /** image [n, channels, h, w] f32 -> [n, h, w, channels] bytes (unsigned). */
    public static byte[] toNhwc(float[] image, int n, int channels, int h, int w) {
        long count = (long) n * channels * h * w;
        if (count != image.length) {
            throw new IllegalArgumentException("image has " + image.length + " values, [" + n + "," + channels + ","
                    + h + "," + w + "] needs " + count);
        }
        byte[] out = new byte[image.length];
        int plane = h * w;
        for (int s = 0; s < n; s++) {
            for (int c = 0; c < channels; c++) {
                int src = (s * channels + c) * plane;
                int dst = s * channels * plane + c;
                for (int p = 0; p < plane; p++) {
                    out[dst + p * channels] = toByte(image[src + p]);
                }
            }
        }
        return out;
    }

    /** One value: float32 arithmetic as torch does it (Java float ops are IEEE single), then truncation. */
    static byte toByte(float x) {
        float v = 127.5f * x + 128.0f;
        v = v < 0f ? 0f : (v > 255f ? 255f : v);  // NaN stays NaN and casts to 0, as it does in torch
        return (byte) (int) v;
    }
}
