package io.dyndit.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dyndit.core.Device;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorFiles;
import io.dyndit.model.DiTModel;
import io.dyndit.model.FlexiSchedule;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * FlexiDiT DDIM 10 steps, guidance 1.5, K_c = 4, K_u = 6 (golden-fd flexidit_f5, a float64 reference): steps
 * 0-3 both branches at q = 4, steps 4-5 weak guidance (packed p = 2 / q = 4), steps 6-9 plain DiT guidance.
 * Each step from the reference's x_in: model output and new latent at 1e-4 max(1,|ref|), pred_xstart at that
 * times its amplification of model differences (sqrt(1/abar - 1), 157 at t = 999), as in DdpmGoldenTest.
 * The free-running chain accumulates the engine's float32 rounding (model outputs within ~2.5e-5 of the
 * float64 reference at every step) through that amplification: measured 6.8e-4, held to 1e-3.
 */
class FlexiSamplingGoldenTest {
    @Test
    void everyStepFromTheReferenceInputs() throws URISyntaxException {
        Path dir = Path.of(getClass().getResource("/golden-fd/flexidit_f5_ddim10_cfg1p5/case.json").toURI()).getParent();
        try (DiTModel m = DiTModel.load(dir.resolve("weights.safetensors"), dir.resolve("case.json"), Device.cpu());
                TensorFile io = TensorFiles.open(dir.resolve("io.safetensors"))) {
            Denoiser d = m.denoiser(new FlexiSchedule(4, 4, 6, Double.NaN));
            DiffusionSchedule s = DiffusionSchedule.respaced(10);
            long[] labels = io.get("labels").toLongArray();
            long[] y = {labels[0], labels[1], 10, 10};
            for (int k = 0; k < 10; k++) {
                String p = "step." + k + ".";
                int i = 9 - k;
                float[] xin = io.get(p + "x_in").toFloatArray();
                float[] x = new float[2 * xin.length];
                System.arraycopy(xin, 0, x, 0, xin.length);
                System.arraycopy(xin, 0, x, xin.length, xin.length);
                float[] out = d.evaluate(x, y, k, s.timestep(i), 1.5).output();
                float[] x0 = new float[x.length], next = new float[x.length];
                DdimUpdate.apply(s, i, 0.0, new BatchLayout(4, 4, 8, 64), x, out, null, x0, next);
                float[] mo = io.get(p + "model_out").toFloatArray();
                SamplingGolden.assertClose(mo, Arrays.copyOf(out, mo.length), p + "model_out", 1e-4);
                SamplingGolden.assertClose(io.get(p + "sample").toFloatArray(), Arrays.copyOf(next, xin.length),
                        p + "sample", 1e-4);
                double amplification = Math.max(1, s.sqrtRecipm1AlphasCumprod[i]);
                SamplingGolden.assertClose(io.get(p + "pred_xstart").toFloatArray(), Arrays.copyOf(x0, xin.length),
                        p + "pred_xstart", 1e-4 * amplification);
            }
        }
    }

    @ParameterizedTest(name = "on {0}")
    @ValueSource(strings = {"cpu", "cuda-emu"})
    void ddimWithAPatchScheduleFollowsTheReference(String device) throws URISyntaxException {
        Path dir = Path.of(getClass().getResource("/golden-fd/flexidit_f5_ddim10_cfg1p5/case.json").toURI()).getParent();
        try (DiTModel m = DiTModel.load(dir.resolve("weights.safetensors"), dir.resolve("case.json"), Device.parse(device))
                        .precision(io.dyndit.core.Precision.FP32);
                TensorFile io = TensorFiles.open(dir.resolve("io.safetensors"))) {
            int[] seen = {0};
            GenerationRequest r = GenerationRequest.builder().labels(io.get("labels").toLongArray()).steps(10)
                    .sampler(SamplerType.DDIM).cfgScale(1.5).noise(new InjectedNoise(io, 0)).inspector(t -> {
                        String p = "step." + t.step() + ".";
                        int half = t.xIn().length / 2;
                        assertEquals(io.get(p + "model_t").toLongArray()[0], t.timestep());
                        SamplingGolden.assertClose(io.get(p + "x_in").toFloatArray(), Arrays.copyOf(t.xIn(), half),
                                p + "x_in", 1e-3);
                        float[] mo = io.get(p + "model_out").toFloatArray();
                        SamplingGolden.assertClose(mo, Arrays.copyOf(t.modelOut(), mo.length), p + "model_out", 1e-3);
                        // pred_xstart carries the model's fp32 rounding times sqrt(1/abar - 1) (157 at t = 999)
                        double amplification = Math.max(1, DiffusionSchedule.respaced(10).sqrtRecipm1AlphasCumprod[t.index()]);
                        SamplingGolden.assertClose(io.get(p + "pred_xstart").toFloatArray(),
                                Arrays.copyOf(t.predXstart(), half), p + "pred_xstart", 1e-3 * amplification);
                        SamplingGolden.assertClose(io.get(p + "sample").toFloatArray(), Arrays.copyOf(t.sample(), half),
                                p + "sample", 1e-3);
                        seen[0]++;
                    }).build();
            GenerationResult g = new DiffusionSampler(m.denoiser(new FlexiSchedule(4, 4, 6, Double.NaN))).generate(r);
            assertEquals(10, seen[0]);
            SamplingGolden.assertClose(io.get("step.9.sample").toFloatArray(), g.samples(), "samples", 1e-3);
            // the weak-patch steps execute fewer MACs than static steps
            double first = g.steps().get(0).macs(), last = g.steps().get(9).macs();
            org.junit.jupiter.api.Assertions.assertTrue(first < 0.5 * last, "step 0 " + first + " vs step 9 " + last);
        }
    }
}
