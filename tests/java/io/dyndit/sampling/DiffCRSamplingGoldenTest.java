package io.dyndit.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dyndit.core.Device;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorFiles;
import io.dyndit.model.DiTModel;
import java.net.URISyntaxException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * DiffCR DDPM 10 steps, guidance 4, R = 3 regions (golden-fd diffcr_d3v, a float64 reference). As the case
 * itself advises, each step starts from the reference's x_in: model output and new latent at 1e-4
 * max(1,|ref|), pred_xstart at that times sqrt(1/abar - 1) (its amplification of model differences).
 * The kept token indices of every block, sample and step equal the reference's.
 */
class DiffCRSamplingGoldenTest {
    @Test
    void everyStepFromTheReferenceInputs() throws URISyntaxException {
        Path dir = Path.of(getClass().getResource("/golden-fd/diffcr_d3v_ddpm10_cfg4_R3/case.json").toURI()).getParent();
        try (DiTModel m = DiTModel.load(dir.resolve("weights.safetensors"), dir.resolve("case.json"), Device.cpu());
                TensorFile io = TensorFiles.open(dir.resolve("io.safetensors"))) {
            DiffusionSchedule s = DiffusionSchedule.respaced(10);
            long[] y = io.get("y").toLongArray();
            for (int k = 0; k < 10; k++) {
                String p = "step." + k + ".";
                int i = 9 - k;
                assertEquals(io.get(p + "model_t").toLongArray()[0], s.timestep(i));
                float[] x = io.get(p + "x_in").toFloatArray();
                float[] t = new float[y.length];
                java.util.Arrays.fill(t, s.timestep(i));
                DiTModel.Result res = m.forwardWithCfgDetailed(x, t, y, 4.0);
                float[] out = res.out();
                long[] kk = io.get(p + "k").toLongArray(), idx = io.get(p + "topk_idx").toLongArray(); // [N, L, T], -1 padded
                int layers = m.config().depth(), tok = m.config().tokens();
                for (int l = 0; l < layers; l++) {
                    int kl = (int) kk[l];
                    for (int smp = 0; smp < y.length; smp++) {
                        for (int j = 0; j < kl; j++) {
                            assertEquals(idx[(smp * layers + l) * tok + j], res.trace().topK[l][smp * kl + j],
                                    p + "topk block " + l + " sample " + smp + " slot " + j);
                        }
                    }
                }
                float[] x0 = new float[x.length], next = new float[x.length];
                DdpmUpdate.apply(s, i, VarianceType.LEARNED_RANGE, new BatchLayout(4, 4, 8, 64), x, out,
                        io.contains(p + "noise") ? io.get(p + "noise").toFloatArray() : null, x0, next);
                SamplingGolden.assertClose(io.get(p + "model_out").toFloatArray(), out, p + "model_out", 1e-4);
                SamplingGolden.assertClose(io.get(p + "sample").toFloatArray(), next, p + "sample", 1e-4);
                SamplingGolden.assertClose(io.get(p + "pred_xstart").toFloatArray(), x0, p + "pred_xstart",
                        1e-4 * Math.max(1, s.sqrtRecipm1AlphasCumprod[i]));
            }
        }
    }

    /** The free-running loop through the sampler (what `dyndit sample` runs): chain tolerance as in DdpmGoldenTest. */
    @ParameterizedTest(name = "on {0}")
    @ValueSource(strings = {"cpu", "cuda-emu"})
    void samplerReproducesTheReferenceSamples(String device) throws URISyntaxException {
        Path dir = Path.of(getClass().getResource("/golden-fd/diffcr_d3v_ddpm10_cfg4_R3/case.json").toURI()).getParent();
        try (DiTModel m = DiTModel.load(dir.resolve("weights.safetensors"), dir.resolve("case.json"), Device.parse(device))
                        .precision(io.dyndit.core.Precision.FP32);
                TensorFile io = TensorFiles.open(dir.resolve("io.safetensors"))) {
            long[] y = io.get("y").toLongArray();
            GenerationRequest r = GenerationRequest.builder().labels(y[0], y[1]).steps(10).cfgScale(4.0)
                    .noise(new InjectedNoise(io, 0)).build();
            GenerationResult g = new DiffusionSampler(m.denoiser()).generate(r);
            float[] last = io.get("step.9.sample").toFloatArray();
            SamplingGolden.assertClose(java.util.Arrays.copyOf(last, g.samples().length), g.samples(), "samples", 1e-3);
            org.junit.jupiter.api.Assertions.assertTrue(g.executedMacs() < g.staticMacs());
            if (m.device().isCuda()) { // fixed k per block: the untraced steps were captured, one graph per plan region
                org.junit.jupiter.api.Assertions.assertTrue(m.capturedGraphs() >= 1 && m.capturedGraphs() <= 3,
                        "graphs " + m.capturedGraphs());
            }
        }
    }
}
