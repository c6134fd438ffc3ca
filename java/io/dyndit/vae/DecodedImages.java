package io.dyndit.vae;

/**
 * Decoded images: {@code image} f32 [n, channels, height, width] as the VAE returns it (no clamp), and the
 * DiT uint8 form on demand.
 *
 * <p>Thread-safety: a record owned by the caller; {@code image} is not copied, so share it only while nobody writes it.
 */
public record DecodedImages(float[] image, int n, int channels, int height, int width) {
    public DecodedImages {
        if ((long) n * channels * height * width != image.length) {
            throw new IllegalArgumentException("image has " + image.length + " values for [" + n + "," + channels + ","
                    + height + "," + width + "]");
        }
    }

    public long[] shape() {
        return new long[] {n, channels, height, width};
    }

    /** [n, height, width, channels] unsigned bytes: clamp(127.5 x + 128, 0, 255) truncated (DiT's sample_ddp.py). */
    public byte[] uint8Nhwc() {
        return Uint8Images.toNhwc(image, n, channels, height, width);
    }
}
