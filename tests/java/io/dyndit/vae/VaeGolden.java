package io.dyndit.vae;

import io.dyndit.core.Tensor;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorFiles;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The golden cases of the official diffusers decoder, copied into tests/resources/golden-vae. */
final class VaeGolden {
    static final List<String> CASES = List.of("v1_tiny_32_64_g8_4x6", "v2_sdvae_div8_g8_4x4");

    private VaeGolden() {}

    static Path dir(String caseName) {
        try {
            var url = VaeGolden.class.getResource("/golden-vae/" + caseName + "/case.json");
            if (url == null) {
                throw new IllegalStateException("golden VAE case " + caseName + " missing from test resources");
            }
            return Path.of(url.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static VaeConfig config(String caseName) {
        return VaeConfig.fromJson(dir(caseName).resolve("case.json"));
    }

    static TensorFile weights(String caseName) {
        return TensorFiles.open(dir(caseName).resolve("weights.safetensors"));
    }

    static TensorFile io(String caseName) {
        return TensorFiles.open(dir(caseName).resolve("io.safetensors"));
    }

    /** Largest |got - ref| / max(1, |ref|); fails beyond 1e-4 (the bound) naming the first bad element. */
    static double assertClose(float[] ref, float[] got, String what) {
        if (ref.length != got.length) {
            throw new AssertionError(what + ": " + got.length + " values, golden has " + ref.length);
        }
        double worst = 0;
        for (int i = 0; i < ref.length; i++) {
            double err = Math.abs((double) got[i] - ref[i]) / Math.max(1, Math.abs(ref[i]));
            if (!(err <= 1e-4)) {
                throw new AssertionError(String.format("%s[%d]: got %.7g, golden %.7g", what, i, got[i], ref[i]));
            }
            worst = Math.max(worst, err);
        }
        return worst;
    }

    /** Collects every stage the decoder reports, stitching tiles back into whole-batch arrays. */
    static final class Capture implements VaeObserver {
        final Map<String, float[]> stages = new HashMap<>();
        private final int batch;

        Capture(int batch) {
            this.batch = batch;
        }

        @Override
        public void stage(String name, int firstSample, Tensor value) {
            float[] tile = value.toFloatArray();
            int perSample = tile.length / (int) value.dim(0);
            float[] all = stages.computeIfAbsent(name, k -> new float[perSample * batch]);
            System.arraycopy(tile, 0, all, firstSample * perSample, tile.length);
        }
    }
}
