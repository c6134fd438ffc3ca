package io.dyndit.core;

import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/** Fresh random inputs (seed printed on failure) and the list of devices every op runs on. */
final class TestData {
    final long seed = io.dyndit.testing.Seeds.fresh();
    final Random random = new Random(seed);

    float[] gaussian(int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (random.nextGaussian() * std);
        return a;
    }

    /** Every device usable here: the CPU, plus CUDA device 0 when a GPU is present. */
    static Stream<Device> devices() {
        Device cuda = Device.cuda(0);
        return (cuda.isAvailable() ? List.of(Device.cpu(), cuda) : List.of(Device.cpu())).stream();
    }

    /**
     * Asserts |got - ref| <= atol + rtol |ref| elementwise; the message carries the seed and the worst index.
     */
    void assertClose(double[] ref, float[] got, double rtol, double atol, String what) {
        if (ref.length != got.length) {
            throw new AssertionError(what + ": length " + got.length + " != " + ref.length);
        }
        for (int i = 0; i < ref.length; i++) {
            double err = Math.abs(got[i] - ref[i]);
            if (!(err <= atol + rtol * Math.abs(ref[i]))) {
                throw new AssertionError(String.format("%s: element %d got %.9g expected %.9g (err %.3g, seed %d)", what, i,
                        got[i], ref[i], err, seed));
            }
        }
    }
}
