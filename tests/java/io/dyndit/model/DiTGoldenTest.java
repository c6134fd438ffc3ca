package io.dyndit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.io.TensorFile;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The DiT forward against the official code's outputs and every stored intermediate, both weight formats. */
class DiTGoldenTest {
    @ParameterizedTest(name = "{0} from {1} on {2}")
    @CsvSource({"dit_p2_d64_h4, weights.safetensors, cpu", "dit_p2_d64_h4, weights.pt, cpu",
            "dit_p4_c3_nosigma, weights.safetensors, cpu", "dit_p4_c3_nosigma, weights.pt, cpu",
            "dit_p2_d64_h4, weights.safetensors, cuda-emu", "dit_p4_c3_nosigma, weights.safetensors, cuda-emu"})
    void forwardMatchesOfficialOutputsAndIntermediates(String caseName, String weightsFile, String device)
            throws Exception {
        Path dir = Golden.dir(caseName);
        try (DiTModel model = Golden.load(dir.resolve(weightsFile), caseName, device, false);
                TensorFile io = Golden.io(caseName)) {
            Map<String, float[]> seen = new HashMap<>();
            float[] out = model.forward(Golden.floats(io, "x"), Golden.longsAsFloats(io, "t"), io.get("y").toLongArray(),
                    (name, t) -> seen.put(name, t.toFloatArray()));
            Golden.assertMatches(Golden.floats(io, "out"), out, caseName + " out");
            int compared = 0;
            for (Map.Entry<String, float[]> e : seen.entrySet()) {
                if (io.contains(e.getKey())) {
                    Golden.assertMatches(Golden.floats(io, e.getKey()), e.getValue(), caseName + " " + e.getKey());
                    compared++;
                }
            }
            int depth = model.config().depth();
            assertEquals(7 + 4 * depth, compared, "intermediates compared: " + seen.keySet());
            if (io.contains("cfg.out")) {
                double s = ((Number) Golden.caseJson(caseName).get("cfg_scale")).doubleValue();
                float[] g = model.forwardWithCfg(Golden.floats(io, "cfg.x"), Golden.longsAsFloats(io, "cfg.t"),
                        io.get("cfg.y").toLongArray(), s);
                Golden.assertMatches(Golden.floats(io, "cfg.out"), g, caseName + " cfg.out");
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"dit_p2_d64_h4", "dit_p4_c3_nosigma"})
    void configFileAgreesWithTheGoldenCase(String caseName) throws Exception {
        DiTConfig c = DiTConfig.fromJson(Golden.dir(caseName).resolve("case.json"));
        Map<String, Object> j = Golden.caseJson(caseName);
        assertEquals(((Number) j.get("hidden_size")).intValue(), c.hiddenSize());
        assertEquals(j.get("learn_sigma"), c.learnSigma());
        assertTrue(Set.of(1, 2).contains(c.outChannels() / c.inChannels()));
    }
}
