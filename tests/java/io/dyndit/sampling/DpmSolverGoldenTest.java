package io.dyndit.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dyndit.core.Device;
import io.dyndit.core.InvalidArgumentException;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorFiles;
import io.dyndit.model.DiTModel;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * DPM-Solver++(2M) against diffusers' DPMSolverMultistepScheduler stepping the official DiT (dpmpp2m_10_cfg4: 10 steps,
 * guidance 4, labels 1 and 8, every step stored), and the schedule against the reference's worked tables.
 */
class DpmSolverGoldenTest {
    private static final String CASE = "dpmpp2m_10_cfg4";
    /** The update on the official inputs: scalars and terms in diffusers' float32 order; exp/log may differ by an ulp. */
    private static final double UPDATE_TOLERANCE = 1e-6;
    /** One model evaluation from the official x_in, as every golden forward. */
    private static final double STEP_TOLERANCE = 1e-4;
    /**
     * The free-running float32 chain: x0 = (x − σε)/α multiplies a model difference by σ/α = 157 at t = 999 and the
     * later steps carry it; the official loop in float64 differs from its own float32 run by 3.2e-4 scaled
     * (case.json f32_vs_f64_max_scaled_diff), so 1e-3 is the meaningful bound (as for DDPM and DDIM).
     */
    private static final double CHAIN_TOLERANCE = 1e-3;

    private static Path dir() {
        return SamplingGolden.file(CASE, "case.json").getParent();
    }

    @Test
    void scheduleMatchesTheReferenceTables() {
        try (TensorFile io = TensorFiles.open(dir().resolve("io.safetensors"))) {
            DpmSolverSchedule s = new DpmSolverSchedule(10, 2);
            long[] want = io.get("timesteps").toLongArray();
            float[] sigmas = io.get("sched.sigmas").toFloatArray();
            for (int i = 0; i < 10; i++) {
                assertEquals(want[i], s.timestep(i), "timestep " + i);
                assertEquals(io.get("step." + i + ".order").toLongArray()[0], s.order(i), "order of step " + i);
            }
            for (int i = 0; i <= 10; i++) {
                assertEquals(sigmas[i], s.sigmaTable(i), Math.ulp(sigmas[i]), "sigma " + i); // torch's linspace: ulps
            }
        }
        // shared/docs/dpm-solver-reference.md section 2: half-to-even rounding (166.5 -> 166, 832.5 -> 832)
        long[] n12 = {999, 916, 832, 749, 666, 583, 500, 416, 333, 250, 166, 83};
        long[] n25 = {999, 959, 919, 879, 839, 799, 759, 719, 679, 639, 599, 559, 519, 480, 440, 400, 360, 320, 280, 240,
            200, 160, 120, 80, 40};
        DpmSolverSchedule s12 = new DpmSolverSchedule(12, 3), s25 = new DpmSolverSchedule(25, 3);
        for (int i = 0; i < 12; i++) {
            assertEquals(n12[i], s12.timestep(i));
        }
        for (int i = 0; i < 25; i++) {
            assertEquals(n25[i], s25.timestep(i));
        }
        // section 6: N = 12 order 3 runs 1 2 3 ... 3 2 1; N >= 15 order 3 runs 1 2 3 ... 3 1
        int[] o12 = {1, 2, 3, 3, 3, 3, 3, 3, 3, 3, 2, 1};
        for (int i = 0; i < 12; i++) {
            assertEquals(o12[i], s12.order(i), "N=12 step " + i);
        }
        assertEquals(3, s25.order(23));
        assertEquals(1, s25.order(24));
        // section 7, the worked table: rho at t = 500 and the step scalars of step 5
        assertEquals(3.4429669f, new DpmSolverSchedule(10, 2).sigmaTable(5), 2e-6f);
    }

    @Test
    void updateReproducesEveryStepFromTheOfficialInputs() {
        try (TensorFile io = TensorFiles.open(dir().resolve("io.safetensors"))) {
            DpmSolverSchedule s = new DpmSolverSchedule(10, 2);
            BatchLayout layout = new BatchLayout(4, 4, 8, 64);
            float[] m1 = new float[4 * 4 * 64], m2 = new float[m1.length];
            double worst = 0;
            for (int k = 0; k < 10; k++) {
                String p = "step." + k + ".";
                float[] x = io.get(p + "x_in").toFloatArray(), x0 = new float[x.length], next = new float[x.length];
                DpmSolverUpdate.apply(s, k, layout, x, io.get(p + "model_out").toFloatArray(), m1, m2, x0, next);
                float[] refX0 = io.get(p + "x0_pred").toFloatArray(), refNext = io.get(p + "sample").toFloatArray();
                worst = Math.max(worst, relativeToMax(refX0, x0, p + "x0_pred"));
                worst = Math.max(worst, relativeToMax(refNext, next, p + "sample"));
                m2 = m1;
                m1 = refX0; // the official history, so each step is checked on its own
            }
            System.out.printf("%s update on official inputs: max error %.3g of max|ref|%n", CASE, worst);
        }
        assertArrayEquals(new float[0], new float[0]);
    }

    /** max |got − ref| / max|ref|, failing above UPDATE_TOLERANCE (the reference's own check is 3e-7 of max|ref|). */
    private static double relativeToMax(float[] ref, float[] got, String what) {
        double max = 0, worst = 0;
        for (float v : ref) {
            max = Math.max(max, Math.abs(v));
        }
        for (int i = 0; i < ref.length; i++) {
            double e = Math.abs((double) got[i] - ref[i]) / max;
            if (!(e <= UPDATE_TOLERANCE)) {
                throw new AssertionError(what + "[" + i + "]: got " + got[i] + ", golden " + ref[i] + " (" + e
                        + " of max|ref| " + max + ")");
            }
            worst = Math.max(worst, e);
        }
        return worst;
    }

    @Test
    void everyStepFromTheOfficialInputsMatchesWithTheDiTForward() {
        Path dir = dir();
        try (DiTModel model = DiTModel.load(dir.resolve("weights.safetensors"), dir.resolve("case.json"), Device.cpu());
                TensorFile io = TensorFiles.open(dir.resolve("io.safetensors"))) {
            DpmSolverSchedule s = new DpmSolverSchedule(10, 2);
            BatchLayout layout = new BatchLayout(4, 4, 8, 64);
            long[] y = io.get("y").toLongArray();
            float[] m1 = new float[4 * 4 * 64], m2 = new float[m1.length];
            double[] worst = new double[3];
            for (int k = 0; k < 10; k++) {
                String p = "step." + k + ".";
                float[] x = io.get(p + "x_in").toFloatArray();
                long[] t = io.get(p + "t").toLongArray();
                float[] out = model.forwardWithCfg(x, t, y, 4.0);
                float[] x0 = new float[x.length], next = new float[x.length];
                DpmSolverUpdate.apply(s, k, layout, x, out, m1, m2, x0, next);
                worst[0] = Math.max(worst[0], SamplingGolden.assertClose(io.get(p + "model_out").toFloatArray(), out,
                        p + "model_out", STEP_TOLERANCE));
                // x0 carries the model difference times sigma/alpha (157 at t = 999), the new latent with it
                double amplification = Math.max(1, s.x0Coefs(k)[0] / s.x0Coefs(k)[1]);
                worst[1] = Math.max(worst[1], SamplingGolden.assertClose(io.get(p + "x0_pred").toFloatArray(), x0,
                        p + "x0_pred", STEP_TOLERANCE * amplification) / amplification);
                worst[2] = Math.max(worst[2], SamplingGolden.assertClose(io.get(p + "sample").toFloatArray(), next,
                        p + "sample", STEP_TOLERANCE * amplification) / amplification);
                m2 = m1;
                m1 = io.get(p + "x0_pred").toFloatArray();
            }
            System.out.printf("%s per step: model_out %.3g, x0 %.3g, sample %.3g (per unit of amplification)%n", CASE,
                    worst[0], worst[1], worst[2]);
        }
    }

    /** On cuda-emu the loop keeps its latents on the device (dd_dpm_update); fp32 GEMMs as the golden. */
    @org.junit.jupiter.params.ParameterizedTest(name = "on {0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"cpu", "cuda-emu"})
    void freeRunningChainFollowsTheOfficialRun(String device) {
        Path dir = dir();
        try (DiTModel model = DiTModel.load(dir.resolve("weights.safetensors"), dir.resolve("case.json"),
                Device.parse(device)).precision(io.dyndit.core.Precision.FP32);
                TensorFile io = TensorFiles.open(dir.resolve("io.safetensors"))) {
            double[] worst = new double[1];
            GenerationRequest r = GenerationRequest.builder().labels(1, 8).steps(10).cfgScale(4.0)
                    .sampler(SamplerType.DPMPP_2M).noise(new InjectedNoise(io, 0)).inspector(t -> {
                        String p = "step." + t.step() + ".";
                        assertEquals(io.get(p + "t").toLongArray()[0], t.timestep(), p + "t");
                        for (String name : new String[] {"x_in", "x0_pred", "sample"}) {
                            float[] got = name.equals("x_in") ? t.xIn() : name.equals("sample") ? t.sample()
                                    : t.predXstart();
                            worst[0] = Math.max(worst[0], SamplingGolden.assertClose(io.get(p + name).toFloatArray(),
                                    got, p + name, CHAIN_TOLERANCE));
                        }
                    }).build();
            GenerationResult result = model.generate(r);
            double samples = SamplingGolden.assertClose(io.get("samples").toFloatArray(), result.samples(), "samples",
                    CHAIN_TOLERANCE);
            System.out.printf("%s free-running on %s: latents %.3g, samples %.3g (scaled)%n", CASE, device, worst[0],
                    samples);
        }
    }

    @Test
    void badStepCountsAreRefused() {
        assertThrows(InvalidArgumentException.class, () -> GenerationRequest.builder().labels(1).steps(2)
                .sampler(SamplerType.DPMPP_3M).build());
        assertThrows(InvalidArgumentException.class, () -> GenerationRequest.builder().labels(1).steps(1000)
                .sampler(SamplerType.DPMPP_2M).build());
        assertEquals(SamplerType.DPMPP_3M, SamplerType.parse("DPM++3M"));
    }
}
