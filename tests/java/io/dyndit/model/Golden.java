package io.dyndit.model;

import io.dyndit.io.JsonParser;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorFiles;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Golden cases from the official DiT code, copied into tests/resources/golden. */
final class Golden {
    private Golden() {}

    static Path dir(String caseName) {
        try {
            String root = caseName.startsWith("diffcr_") || caseName.startsWith("flexidit_") ? "/golden-fd/" : "/golden/";
            var url = Golden.class.getResource(root + caseName + "/case.json");
            if (url == null) {
                throw new IllegalStateException("golden case " + caseName + " missing from test resources");
            }
            return Path.of(url.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The case's model on "cpu" or "cuda-emu" (the CUDA backend under the SIMT emulator) with FP32 GEMMs, so the
     * same 1e-4 tolerance holds on both.
     */
    static DiTModel load(Path weights, String caseName, String device, boolean staticModel) {
        return DiTModel.load(weights, ModelOptions.builder().config(dir(caseName).resolve("case.json"))
                .device(io.dyndit.core.Device.parse(device)).staticModel(staticModel).build())
                .precision(io.dyndit.core.Precision.FP32);
    }

    static Map<String, Object> caseJson(String caseName) throws Exception {
        return JsonParser.parseObject(Files.readString(dir(caseName).resolve("case.json")));
    }

    static TensorFile io(String caseName) {
        return TensorFiles.open(dir(caseName).resolve("io.safetensors"));
    }

    static float[] floats(TensorFile f, String name) {
        return f.get(name).toFloatArray();
    }

    static float[] longsAsFloats(TensorFile f, String name) {
        long[] l = f.get(name).toLongArray();
        float[] r = new float[l.length];
        for (int i = 0; i < l.length; i++) r[i] = l[i];
        return r;
    }

    /** |got - ref| <= 1e-4 * max(1, |ref|): fp32 vs the official fp32 run (fp64 differs by ~2e-6 at |x|~4). */
    static void assertMatches(float[] ref, float[] got, String what) {
        if (ref.length != got.length) {
            throw new AssertionError(what + ": " + got.length + " values, golden has " + ref.length);
        }
        for (int i = 0; i < ref.length; i++) {
            double tol = 1e-4 * Math.max(1, Math.abs(ref[i]));
            if (!(Math.abs(got[i] - ref[i]) <= tol)) {
                throw new AssertionError(String.format("%s[%d]: got %.7g, golden %.7g", what, i, got[i], ref[i]));
            }
        }
    }
}
