package io.dyndit.sampling;

import java.net.URISyntaxException;
import java.nio.file.Path;

/** The sampling golden files copied under tests/resources/golden (from the official DiT code). */
final class SamplingGolden {
    static final String DDPM_CASE = "sample_ddpm10_cfg4";

    private SamplingGolden() {}

    static Path file(String caseName, String name) {
        var url = SamplingGolden.class.getResource("/golden/" + caseName + "/" + name);
        if (url == null) {
            throw new IllegalStateException("golden file " + caseName + "/" + name + " missing from test resources");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Returns the largest |got − ref| / max(1, |ref|); fails when it exceeds {@code tolerance}. */
    static double assertClose(float[] ref, float[] got, String what, double tolerance) {
        if (ref.length != got.length) {
            throw new AssertionError(what + ": " + got.length + " values, golden has " + ref.length);
        }
        double worst = 0;
        for (int i = 0; i < ref.length; i++) {
            double rel = Math.abs((double) got[i] - ref[i]) / Math.max(1, Math.abs(ref[i]));
            if (!(rel <= tolerance)) {
                throw new AssertionError(String.format("%s[%d]: got %.7g, golden %.7g (tolerance %.1g)", what, i, got[i],
                        ref[i], tolerance));
            }
            worst = Math.max(worst, rel);
        }
        return worst;
    }
}
