package io.dyndit.sampling;

import io.dyndit.core.ShapeMismatchException;

/**
 * How far a result lies from its reference: what a saving (caching, dynamic plans) costs in quality.
 *
 * <p>Thread-safety: stateless static functions, safe from any thread.
 */
public final class Deviation {
    private Deviation() {}

    /** ‖a − ref‖₂ / ‖ref‖₂ in double. */
    public static double relativeL2(float[] a, float[] ref) {
        check(a.length, ref.length);
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - ref[i];
            num += d * d;
            den += (double) ref[i] * ref[i];
        }
        return den == 0 ? (num == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(num / den);
    }

    /** PSNR in dB of 8-bit images (peak 255); +infinity when identical. */
    public static double psnr(byte[] a, byte[] ref) {
        check(a.length, ref.length);
        double se = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (a[i] & 0xff) - (ref[i] & 0xff);
            se += d * d;
        }
        return se == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(255.0 * 255.0 * a.length / se);
    }

    private static void check(int a, int b) {
        if (a != b) {
            throw new ShapeMismatchException("compared results have " + a + " and " + b + " values");
        }
    }
}
