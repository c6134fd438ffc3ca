package io.dyndit.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.core.DType;
import io.dyndit.core.Device;
import io.dyndit.core.Ops;
import io.dyndit.core.Scope;
import io.dyndit.core.ShapeMismatchException;
import io.dyndit.core.Tensor;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The native sampler steps (what the device sampling loop runs) against the Java sampler's own update on fresh
 * random inputs: pred_xstart bit for bit; the next latent too, except that exp is the platform's (Java's Math.exp
 * and the C library's may round the last double bit differently), so one float ulp is allowed there.
 */
class SamplerOpsTest {
    private static final int B = 4, C = 4, H = 6, W = 5, P = H * W;

    private static float[] randoms(Random r, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (scale * r.nextGaussian());
        return v;
    }

    private static void assertWithinUlp(float[] ref, float[] got, int ulps, String what) {
        for (int i = 0; i < ref.length; i++) {
            assertTrue(Math.abs(ref[i] - got[i]) <= ulps * Math.ulp(ref[i]), what + "[" + i + "]: " + got[i] + " vs " + ref[i]);
        }
    }

    @ParameterizedTest(name = "on {0}")
    @ValueSource(strings = {"cpu", "cuda-emu"})
    void ddpmAndDdimStepsEqualTheJavaUpdate(String device) {
        Device d = Device.parse(device);
        Random r = new Random(io.dyndit.testing.Seeds.fresh());
        DiffusionSchedule sched = DiffusionSchedule.respaced(50);
        BatchLayout learned = new BatchLayout(B, C, 2 * C, P);
        try (Scope s = Scope.open()) {
            for (int i : new int[] {49, 17, 0}) {
                float[] x = randoms(r, B * C * P, 1), out = randoms(r, B * 2 * C * P, 1), noise = randoms(r, B * C * P, 1);
                for (int v = 0; v < out.length; v++) {
                    if ((v / P) % (2 * C) >= C) out[v] = (float) Math.tanh(out[v]); // v in [-1, 1]
                }
                Tensor tx = s.of(d, x, B, C, H, W), to = s.of(d, out, B, 2 * C, H, W), tn = s.of(d, noise, B, C, H, W);
                Tensor tp = s.empty(d, DType.F32, B, C, H, W), tnext = s.empty(d, DType.F32, B, C, H, W);
                float[] refPred = new float[x.length], refNext = new float[x.length];
                DdpmUpdate.apply(sched, i, VarianceType.LEARNED_RANGE, learned, x, out, i == 0 ? null : noise, refPred,
                        refNext);
                Ops.ddpmUpdate(tx, to, i == 0 ? null : tn, tp, tnext, DdpmUpdate.coefs(sched, i), true);
                assertWithinUlp(refPred, tp.toFloatArray(), 0, "ddpm pred_xstart step " + i);
                assertWithinUlp(refNext, tnext.toFloatArray(), 1, "ddpm next step " + i);

                double eta = i == 17 ? 0.0 : 0.7;
                DdimUpdate.apply(sched, i, eta, learned, x, out, noise, refPred, refNext);
                Ops.ddimUpdate(tx, to, tn, tp, tnext, DdimUpdate.coefs(sched, i, eta));
                assertWithinUlp(refPred, tp.toFloatArray(), 0, "ddim pred_xstart step " + i);
                assertWithinUlp(refNext, tnext.toFloatArray(), 0, "ddim next step " + i);
            }
        }
    }

    @ParameterizedTest(name = "on {0}")
    @ValueSource(strings = {"cpu", "cuda-emu"})
    void cfgCombineMatchesForwardWithCfg(String device) {
        Device d = Device.parse(device);
        Random r = new Random(io.dyndit.testing.Seeds.fresh());
        int n = 2, co = 8;
        float[] out = randoms(r, 2 * n * co * P, 2);
        float[] ref = out.clone();
        float scale = 4f;
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < 3; ch++) {
                for (int e = 0; e < P; e++) {
                    int c = (i * co + ch) * P + e, u = ((i + n) * co + ch) * P + e;
                    float g = ref[u] + scale * (ref[c] - ref[u]);
                    ref[c] = g;
                    ref[u] = g;
                }
            }
        }
        try (Scope s = Scope.open()) {
            Tensor t = s.of(d, out, 2 * n, co, H, W);
            Ops.cfgCombine(t, 3, scale);
            assertWithinUlp(ref, t.toFloatArray(), 0, "cfg combine");
            // FlexiDiT weak guidance: cond = g + s_w (cond - g) on the first 3 channels, the rest untouched
            float[] cond = randoms(r, n * co * P, 2), guide = randoms(r, n * co * P, 2), want = cond.clone();
            float sw = 0.4f;
            for (int i = 0; i < n; i++) {
                for (int ch = 0; ch < 3; ch++) {
                    for (int e = 0; e < P; e++) {
                        int o = (i * co + ch) * P + e;
                        want[o] = guide[o] + sw * (cond[o] - guide[o]);
                    }
                }
            }
            Tensor tc = s.of(d, cond, n, co, H, W), tg = s.of(d, guide, n, co, H, W);
            Ops.weakGuidance(tc, tg, 3, sw);
            assertWithinUlp(want, tc.toFloatArray(), 0, "weak guidance");
            Tensor odd = s.of(d, randoms(r, 3 * co * P, 1), 3, co, H, W);
            ShapeMismatchException e = assertThrows(ShapeMismatchException.class, () -> Ops.cfgCombine(odd, 3, scale));
            assertTrue(e.getMessage().contains("even batch"), e.getMessage());
            Tensor x = s.of(d, randoms(r, B * C * P, 1), B, C, H, W), small = s.of(d, randoms(r, B * C * P, 1), B, C, H, W);
            Tensor next = s.empty(d, DType.F32, B, C, H, W);
            e = assertThrows(ShapeMismatchException.class, () -> Ops.ddpmUpdate(x, small, null, null, next,
                    new float[7], true));
            assertTrue(e.getMessage().contains("model_out") && e.getMessage().contains("at least 8"), e.getMessage());
            // still usable after the errors: a DDIM step with hand-picked coefficients, checked element by element
            Ops.ddimUpdate(x, small, null, null, next, new float[] {1, 0.5f, 0.9f, 0.1f, 0});
            float[] xv = x.toFloatArray(), ev = small.toFloatArray(), got = next.toFloatArray();
            for (int i = 0; i < xv.length; i++) {
                float x0 = 1f * xv[i] - 0.5f * ev[i], eps = (1f * xv[i] - x0) / 0.5f;
                assertEquals(x0 * 0.9f + 0.1f * eps, got[i], 0f, "ddim element " + i);
            }
        }
    }

    /** dd_dpm_update of every order on fresh inputs equals the Java DPM-Solver++ update bit for bit. */
    @ParameterizedTest(name = "on {0}")
    @ValueSource(strings = {"cpu", "cuda-emu"})
    void dpmSolverStepsEqualTheJavaUpdate(String device) {
        Device d = Device.parse(device);
        long seed = io.dyndit.testing.Seeds.fresh();
        Random r = new Random(seed);
        DpmSolverSchedule sched = new DpmSolverSchedule(12, 3);
        BatchLayout learned = new BatchLayout(B, C, 2 * C, P);
        try (Scope s = Scope.open()) {
            for (int k : new int[] {0, 1, 5, 10, 11}) { // orders 1, 2, 3, 2, 1
                float[] x = randoms(r, B * C * P, 3), out = randoms(r, B * 2 * C * P, 1);
                float[] m1 = randoms(r, B * C * P, 1), m2 = randoms(r, B * C * P, 1);
                float[] refX0 = new float[x.length], refNext = new float[x.length];
                DpmSolverUpdate.apply(sched, k, learned, x, out, m1, m2, refX0, refNext);
                Tensor tx0 = s.empty(d, DType.F32, B, C, H, W), tnext = s.empty(d, DType.F32, B, C, H, W);
                Ops.dpmUpdate(s.of(d, x, B, C, H, W), s.of(d, out, B, 2 * C, H, W), s.of(d, m1, B, C, H, W),
                        s.of(d, m2, B, C, H, W), tx0, tnext, DpmSolverUpdate.coefs(sched, k), sched.order(k));
                assertWithinUlp(refX0, tx0.toFloatArray(), 0, "x0 step " + k + " (seed " + seed + ")");
                assertWithinUlp(refNext, tnext.toFloatArray(), 0, "next step " + k + " order " + sched.order(k)
                        + " (seed " + seed + ")");
            }
            Tensor x = s.empty(d, DType.F32, B, C, H, W), o = s.empty(d, DType.F32, B, 2 * C, H, W);
            assertThrows(io.dyndit.core.InvalidArgumentException.class, () -> Ops.dpmUpdate(x, o, null, null, null,
                    s.empty(d, DType.F32, B, C, H, W), DpmSolverUpdate.coefs(sched, 0), 1));
            assertThrows(ShapeMismatchException.class, () -> Ops.dpmUpdate(x, o, s.empty(d, DType.F32, B, C, H, 1),
                    null, s.empty(d, DType.F32, B, C, H, W), s.empty(d, DType.F32, B, C, H, W),
                    DpmSolverUpdate.coefs(sched, 1), 2));
        }
    }
}
