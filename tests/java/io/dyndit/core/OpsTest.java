package io.dyndit.core;

import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every op on every available device against a double-precision reference, on fresh random inputs
 * of odd sizes. Tolerances: fp32 rounding only. For sums of K products the error bound is
 * ~K * 6e-8 * sum|x w|; 2e-6 * sum|x w| covers K up to ~30 worst-case and far more in practice,
 * while a wrong index or formula is off by O(|ref|).
 */
class OpsTest {
    /** The CPU, CUDA device 0 where a GPU exists, and the emulated CUDA device (the GPU code path on any machine). */
    static Stream<Device> devices() {
        Device emu = Device.cudaEmulated();
        return emu.isAvailable() ? Stream.concat(TestData.devices(), Stream.of(emu)) : TestData.devices();
    }

    /**
     * The tolerances here are fp32 rounding, and the CUDA default is TF32: every test runs its CUDA devices in
     * FP32, set on this thread before each test (never left over from an earlier test class), and the library
     * default put back after.
     */
    @BeforeEach
    void fp32OnCudaDevices() {
        devices().filter(Device::isCuda).forEach(d -> d.setGemmPrecision(Precision.FP32));
    }

    @AfterEach
    void defaultPrecisionAgain() {
        devices().filter(Device::isCuda).forEach(d -> d.setGemmPrecision(Precision.TF32));
    }

    @ParameterizedTest
    @MethodSource("devices")
    void linearWithAndWithoutBiasMatchesReference(Device dev) {
        TestData d = new TestData();
        int m = 37, n = 23, k = 129;
        float[] x = d.gaussian(m * k, 1), w = d.gaussian(n * k, 0.1), b = d.gaussian(n, 0.1);
        double[] bound = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double s = Math.abs(b[j]);
                for (int q = 0; q < k; q++) s += Math.abs((double) x[i * k + q] * w[j * k + q]);
                bound[i * n + j] = s;
            }
        try (Scope s = Scope.open()) {
            Tensor tx = s.of(dev, x, 1, m, k), tw = s.of(dev, w, n, k), tb = s.of(dev, b, n);
            Tensor ty = s.empty(dev, DType.F32, 1, m, n);
            Ops.linear(tx, tw, tb, ty);
            assertWithin(d, Reference.linear(x, w, b, m, n, k), ty.toFloatArray(), bound, "linear+bias");
            Ops.linear(tx, tw, null, ty);
            assertWithin(d, Reference.linear(x, w, null, m, n, k), ty.toFloatArray(), bound, "linear");
        }
    }

    @ParameterizedTest
    @MethodSource("devices")
    void linearReadsRowStridedViews(Device dev) {
        TestData d = new TestData();
        int m = 11, k = 19, n = 7, pad = 5;
        float[] wide = d.gaussian(m * (k + pad), 1), w = d.gaussian(n * k, 0.3);
        float[] x = new float[m * k];
        for (int i = 0; i < m; i++) System.arraycopy(wide, i * (k + pad) + pad, x, i * k, k);
        try (Scope s = Scope.open()) {
            Tensor base = s.of(dev, wide, m, k + pad);
            Tensor xv = s.track(base.narrow(1, pad, k));
            Tensor ty = s.empty(dev, DType.F32, m, n);
            Ops.linear(xv, s.of(dev, w, n, k), null, ty);
            d.assertClose(Reference.linear(x, w, null, m, n, k), ty.toFloatArray(), 1e-5, 1e-5, "strided linear");
        }
    }

    @ParameterizedTest
    @MethodSource("devices")
    void layerNormModulateWithChunkViewsOfAdaLN(Device dev) {
        TestData d = new TestData();
        int n = 3, t = 37, dim = 72;
        float[] x = d.gaussian(n * t * dim, 2), ada = d.gaussian(n * 6 * dim, 0.5);
        float[] shift = new float[n * dim], scale = new float[n * dim];
        for (int a = 0; a < n; a++) {
            System.arraycopy(ada, a * 6 * dim + 3 * dim, shift, a * dim, dim); // chunk 3 = shift_mlp
            System.arraycopy(ada, a * 6 * dim + 4 * dim, scale, a * dim, dim); // chunk 4 = scale_mlp
        }
        try (Scope s = Scope.open()) {
            Tensor tx = s.of(dev, x, n, t, dim), tada = s.of(dev, ada, n, 6 * dim);
            Tensor sh = s.track(tada.narrow(1, 3 * dim, dim)), sc = s.track(tada.narrow(1, 4 * dim, dim));
            Tensor ty = s.empty(dev, DType.F32, n, t, dim);
            Ops.layerNormModulate(tx, sh, sc, 1e-6f, ty);
            // outputs are O(3); fp32 mean/variance over 72 terms: ~1e-6 relative
            d.assertClose(Reference.layerNormModulate(x, shift, scale, n, t, dim, 1e-6), ty.toFloatArray(), 1e-5, 1e-5,
                    "ln+modulate");
            Ops.layerNormModulate(tx, null, null, 1e-6f, tx); // in place, plain LN
            d.assertClose(Reference.layerNormModulate(x, null, null, n, t, dim, 1e-6), tx.toFloatArray(), 1e-5, 1e-5,
                    "plain ln in place");
        }
    }

    @ParameterizedTest
    @MethodSource("devices")
    void activationsMatchReference(Device dev) {
        TestData d = new TestData();
        float[] x = d.gaussian(10007, 4);
        x[0] = 20f;
        x[1] = -20f;
        x[2] = 1e-4f;
        double[] gelu = new double[x.length], silu = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            gelu[i] = Reference.geluTanh(x[i]);
            silu[i] = Reference.silu(x[i]);
        }
        try (Scope s = Scope.open()) {
            Tensor tx = s.of(dev, x, 10007), ty = s.empty(dev, DType.F32, 10007);
            Ops.geluTanh(tx, ty);
            // exp approximation ~2e-7 relative, one division: 2e-6 relative
            d.assertClose(gelu, ty.toFloatArray(), 2e-6, 1e-7, "gelu_tanh");
            Ops.silu(tx, tx);
            d.assertClose(silu, tx.toFloatArray(), 2e-6, 1e-7, "silu in place");
        }
    }

    @ParameterizedTest
    @MethodSource("devices")
    void gatedResidualAdd(Device dev) {
        TestData d = new TestData();
        int n = 2, t = 13, dim = 40;
        float[] h = d.gaussian(n * t * dim, 1), x = d.gaussian(n * t * dim, 1), g = d.gaussian(n * dim, 1);
        double[] ref = new double[h.length], plain = new double[h.length];
        for (int a = 0; a < n; a++)
            for (int i = 0; i < t * dim; i++) {
                int e = a * t * dim + i;
                ref[e] = h[e] + (double) g[a * dim + i % dim] * x[e];
                plain[e] = ref[e] + x[e];
            }
        try (Scope s = Scope.open()) {
            Tensor th = s.of(dev, h, n, t, dim), tx = s.of(dev, x, n, t, dim);
            Ops.gatedResidualAdd(th, s.of(dev, g, n, dim), tx);
            d.assertClose(ref, th.toFloatArray(), 1e-6, 1e-6, "gated residual");
            Ops.gatedResidualAdd(th, null, tx);
            d.assertClose(plain, th.toFloatArray(), 1e-6, 1e-6, "plain residual");
        }
    }

    @ParameterizedTest
    @MethodSource("devices")
    void attentionOnViewsOfPackedQkv(Device dev) {
        TestData d = new TestData();
        int n = 2, t = 37, h = 7, dh = 24, dim = h * dh;
        float[] qkv = d.gaussian(n * t * 3 * dim, 1);
        float[] q = new float[n * t * dim], k = new float[n * t * dim], v = new float[n * t * dim];
        for (int r = 0; r < n * t; r++) {
            System.arraycopy(qkv, r * 3 * dim, q, r * dim, dim);
            System.arraycopy(qkv, r * 3 * dim + dim, k, r * dim, dim);
            System.arraycopy(qkv, r * 3 * dim + 2 * dim, v, r * dim, dim);
        }
        double scale = 1 / Math.sqrt(dh);
        try (Scope s = Scope.open()) {
            Tensor packed = s.of(dev, qkv, n, t, 3, h, dh);
            long[] st = packed.strides();
            long[] shape = {n, t, h, dh}, strides = {st[0], st[1], st[3], st[4]};
            Tensor tq = s.track(packed.view(shape, strides, 0));
            Tensor tk = s.track(packed.view(shape, strides, dim));
            Tensor tv = s.track(packed.view(shape, strides, 2L * dim));
            Tensor out = s.empty(dev, DType.F32, n, t, h, dh);
            Ops.attention(tq, tk, tv, (float) scale, out);
            // softmax weights sum to 1: output error ~ dot-product error (24 terms) ~1e-6
            d.assertClose(Reference.attention(q, k, v, n, t, h, dh, scale), out.toFloatArray(), 1e-5, 1e-5, "attention");
        }
    }

    @ParameterizedTest
    @MethodSource("devices")
    void varlenAttentionEqualsEachSequenceOnItsOwn(Device dev) {
        TestData d = new TestData();
        int h = 3, dh = 20;
        int[] lengths = {37, 5, 0, 16, 1};
        int[] cu = new int[lengths.length + 1];
        for (int i = 0; i < lengths.length; i++) cu[i + 1] = cu[i] + lengths[i];
        int rows = cu[lengths.length];
        float[] q = d.gaussian(rows * h * dh, 1), k = d.gaussian(rows * h * dh, 1), v = d.gaussian(rows * h * dh, 1);
        double scale = 1 / Math.sqrt(dh);
        try (Scope s = Scope.open()) {
            Tensor out = s.empty(dev, DType.F32, rows, h, dh);
            Ops.attentionVarlen(s.of(dev, q, rows, h, dh), s.of(dev, k, rows, h, dh), s.of(dev, v, rows, h, dh),
                    s.ofInts(Device.cpu(), cu, cu.length), (float) scale, out);
            float[] got = out.toFloatArray();
            for (int b = 0; b < lengths.length; b++) {
                int n = lengths[b], off = cu[b] * h * dh;
                if (n == 0) continue;
                double[] ref = Reference.attention(java.util.Arrays.copyOfRange(q, off, off + n * h * dh),
                        java.util.Arrays.copyOfRange(k, off, off + n * h * dh),
                        java.util.Arrays.copyOfRange(v, off, off + n * h * dh), 1, n, h, dh, scale);
                d.assertClose(ref, java.util.Arrays.copyOfRange(got, off, off + n * h * dh), 1e-5, 1e-5,
                        "sequence " + b + " of length " + n);
            }
            InvalidArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(InvalidArgumentException.class,
                    () -> Ops.attentionVarlen(out, out, out, s.ofInts(Device.cpu(), new int[] {0, 5, 3, rows}, 4),
                            (float) scale, s.empty(dev, DType.F32, rows, h, dh)));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("cu_seqlens"), e.getMessage());
        }
    }

    /**
     * Attention with the key mass (token caching's full step): the very outputs of attention and attentionKeyMass, the
     * mass against the double reference; the CPU sums the attention's own probabilities, emulated CUDA says it ran
     * the scores again. A mass of the wrong shape is a typed error naming it, and the next call still works.
     */
    @ParameterizedTest
    @MethodSource("devices")
    void attentionWithKeyMassEqualsTheSeparateOps(Device dev) {
        TestData d = new TestData();
        int n = 2, t = 19, h = 3, dh = 8;
        float[] q = d.gaussian(n * t * h * dh, 1), k = d.gaussian(n * t * h * dh, 1), v = d.gaussian(n * t * h * dh, 1);
        float scale = (float) (1 / Math.sqrt(dh));
        try (Scope s = Scope.open()) {
            Tensor tq = s.of(dev, q, n, t, h, dh), tk = s.of(dev, k, n, t, h, dh), tv = s.of(dev, v, n, t, h, dh);
            Tensor out = s.empty(dev, DType.F32, n, t, h, dh), mass = s.empty(dev, DType.F32, n, t);
            Tensor out1 = s.empty(dev, DType.F32, n, t, h, dh), mass1 = s.empty(dev, DType.F32, n, t);
            boolean recomputed = Ops.attentionWithKeyMass(tq, tk, tv, scale, out, mass);
            org.junit.jupiter.api.Assertions.assertEquals(dev.type() != Device.Type.CPU, recomputed);
            Ops.attention(tq, tk, tv, scale, out1);
            Ops.attentionKeyMass(tq, tk, scale, mass1);
            org.junit.jupiter.api.Assertions.assertArrayEquals(out1.toFloatArray(), out.toFloatArray());
            float[] got = mass.toFloatArray();
            org.junit.jupiter.api.Assertions.assertArrayEquals(mass1.toFloatArray(), got);
            d.assertClose(Reference.attentionKeyMass(q, k, n, t, h, dh, scale), got, 1e-5, 1e-5, "key mass");
            Tensor bad = s.empty(dev, DType.F32, n, t + 1);
            ShapeMismatchException e = org.junit.jupiter.api.Assertions.assertThrows(ShapeMismatchException.class,
                    () -> Ops.attentionWithKeyMass(tq, tk, tv, scale, out, bad));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("'mass'"), e.getMessage());
            Ops.attentionWithKeyMass(tq, tk, tv, scale, out, mass);
            org.junit.jupiter.api.Assertions.assertArrayEquals(got, mass.toFloatArray(), "after the refused call");
        }
    }

    /** bf16 activations outside the bf16 GEMM precision: a typed error naming the tensor; the next call works. */
    @ParameterizedTest
    @MethodSource("devices")
    void bf16ActivationsOutsideBf16PrecisionAreATypedError(Device dev) {
        TestData d = new TestData();
        int m = 5, n = 6, k = 8;
        float[] x = d.gaussian(m * k, 1), w = d.gaussian(n * k, 0.1);
        dev.setGemmPrecision(Precision.FP32);
        try (Scope s = Scope.open()) {
            Tensor x16 = s.empty(dev, DType.BF16, m, k), tx = s.of(dev, x, m, k), tw = s.of(dev, w, n, k);
            Tensor y = s.empty(dev, DType.F32, m, n);
            DTypeMismatchException e = org.junit.jupiter.api.Assertions.assertThrows(DTypeMismatchException.class,
                    () -> Ops.linear(x16, tw, null, y));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("'x'")
                    && e.getMessage().contains("bf16 GEMM precision"), e.getMessage());
            Ops.linear(tx, tw, null, y);
            float[] got = y.toFloatArray();
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    double r = 0, mag = 0;
                    for (int q = 0; q < k; q++) {
                        r += (double) x[i * k + q] * w[j * k + q];
                        mag += Math.abs((double) x[i * k + q] * w[j * k + q]);
                    }
                    org.junit.jupiter.api.Assertions.assertEquals(r, got[i * n + j], 1e-5 * mag + 1e-7,
                            "after the refused call");
                }
        }
    }

    /**
     * The bf16 forms of attention, the width-sliced linears and GELU outside the bf16 GEMM precision, and where a
     * device has no bf16 form (CUDA's sliced ops and GELU): typed errors naming the tensor; the process goes on and
     * the f32 forms give their values right after.
     */
    @ParameterizedTest
    @MethodSource("devices")
    void bf16AttentionSlicedOpsAndGeluAreRefusedWithTypedErrors(Device dev) {
        TestData d = new TestData();
        int n = 2, t = 5, h = 2, hd = 8, dm = h * hd;
        float[] xs = d.gaussian(n * t * dm, 1), ws = d.gaussian(dm * dm, 0.2);
        dev.setGemmPrecision(Precision.FP32);
        try (Scope s = Scope.open()) {
            Tensor q16 = s.empty(dev, DType.BF16, n, t, h, hd), o16 = s.empty(dev, DType.BF16, n, t, h, hd);
            DTypeMismatchException a = org.junit.jupiter.api.Assertions.assertThrows(DTypeMismatchException.class,
                    () -> Ops.attention(q16, q16, q16, 0.25f, o16));
            org.junit.jupiter.api.Assertions.assertTrue(a.getMessage().contains("'q'")
                    && a.getMessage().contains("bf16 GEMM precision"), a.getMessage());
            Tensor x16 = s.empty(dev, DType.BF16, n * t, dm), w = s.of(dev, ws, dm, dm), y = s.empty(dev, DType.F32, n * t, 8);
            Class<? extends DynditException> sliced = dev.isCuda() ? UnsupportedOnDeviceException.class
                    : DTypeMismatchException.class;
            DynditException b = org.junit.jupiter.api.Assertions.assertThrows(sliced,
                    () -> Ops.linearOutBlocks(x16, w, null, new long[] {0, 8}, y));
            org.junit.jupiter.api.Assertions.assertTrue(b.getMessage().contains("'x'"), b.getMessage());
            DynditException g = org.junit.jupiter.api.Assertions.assertThrows(sliced, () -> Ops.geluTanh(x16, x16));
            org.junit.jupiter.api.Assertions.assertTrue(g.getMessage().contains("'x'"), g.getMessage());
            // the f32 GELU right after: the double reference within its 1e-5 relative
            Tensor x = s.of(dev, xs, n * t, dm), gy = s.empty(dev, DType.F32, n * t, dm);
            Ops.geluTanh(x, gy);
            float[] got = gy.toFloatArray();
            for (int i = 0; i < xs.length; i++) {
                double v = xs[i], want = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
                org.junit.jupiter.api.Assertions.assertEquals(want, got[i], 1e-5 * Math.abs(want) + 1e-7,
                        "after the refused calls");
            }
        }
    }

    /**
     * The fused width-sliced MLP ops from Java: h += gate * (x W[:, cols]^T + b) against the double reference on the CPU;
     * a wrong gate is a ShapeMismatchException naming 'gate' and h is untouched; CUDA devices refuse both ops with
     * UnsupportedOnDeviceException (the forward runs the separate ops there), and the process goes on.
     */
    @ParameterizedTest
    @MethodSource("devices")
    void fusedSlicedOpsMatchTheReferenceOrAreRefusedWithTypedErrors(Device dev) {
        TestData d = new TestData();
        int n = 2, t = 7, k = 24, dm = 12;
        long[] cols = {16, 5, 2, 6}; // 11 columns of W [dm, k]: 16..20 and 2..7
        int kept = 11;
        float[] xs = d.gaussian(n * t * kept, 1), ws = d.gaussian(dm * k, 0.3), bs = d.gaussian(dm, 1);
        float[] hs = d.gaussian(n * t * dm, 1), gs = d.gaussian(n * dm, 1);
        try (Scope s = Scope.open()) {
            Tensor x = s.of(dev, xs, n, t, kept), w = s.of(dev, ws, dm, k), b = s.of(dev, bs, dm);
            Tensor h = s.of(dev, hs, n, t, dm), gate = s.of(dev, gs, n, dm), badGate = s.of(dev, gs, dm, n);
            if (dev.isCuda()) {
                UnsupportedOnDeviceException e = org.junit.jupiter.api.Assertions.assertThrows(
                        UnsupportedOnDeviceException.class, () -> Ops.linearInBlocksGatedResidual(x, w, b, cols, gate, h));
                org.junit.jupiter.api.Assertions.assertTrue(
                        e.getMessage().contains("dd_linear_in_blocks_gated_residual"), e.getMessage());
                org.junit.jupiter.api.Assertions.assertThrows(UnsupportedOnDeviceException.class,
                        () -> Ops.linearOutBlocksGelu(h, s.of(dev, ws, k, dm), null, new long[] {0, 4},
                                s.empty(dev, DType.F32, n, t, 4)));
                return;
            }
            ShapeMismatchException e = org.junit.jupiter.api.Assertions.assertThrows(ShapeMismatchException.class,
                    () -> Ops.linearInBlocksGatedResidual(x, w, b, cols, badGate, h));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("'gate'"), e.getMessage());
            org.junit.jupiter.api.Assertions.assertArrayEquals(hs, h.toFloatArray(), "h untouched by the refused call");
            Ops.linearInBlocksGatedResidual(x, w, b, cols, gate, h);
            double[] ref = new double[hs.length], bound = new double[hs.length];
            for (int r = 0; r < n * t; r++)
                for (int o = 0; o < dm; o++) {
                    double acc = bs[o], mag = Math.abs(bs[o]);
                    int c = 0;
                    for (int blk = 0; blk < cols.length; blk += 2)
                        for (int j = 0; j < cols[blk + 1]; j++, c++) {
                            double p = (double) xs[r * kept + c] * ws[o * k + (int) cols[blk] + j];
                            acc += p;
                            mag += Math.abs(p);
                        }
                    double g = gs[(r / t) * dm + o];
                    ref[r * dm + o] = hs[r * dm + o] + g * acc;
                    bound[r * dm + o] = Math.abs(g) * mag + Math.abs(hs[r * dm + o]); // assertWithin: 2e-6 of it
                }
            assertWithin(d, ref, h.toFloatArray(), bound, "fused in-blocks gated residual");
        }
    }

    /**
     * The row-invariant linear: the double reference's values (K = 24: (K + 1) 2^-24 of sum |terms| is within
     * assertWithin's 2e-6), a row alone the same bits as among 13, bf16 x a typed error naming x; CUDA devices refuse it.
     */
    @ParameterizedTest
    @MethodSource("devices")
    void rowInvariantLinearMatchesTheReferenceRowByRow(Device dev) {
        TestData d = new TestData();
        int m = 13, n = 37, k = 24;
        float[] xs = d.gaussian(m * k, 1), ws = d.gaussian(n * k, 0.3), bs = d.gaussian(n, 1);
        try (Scope s = Scope.open()) {
            Tensor x = s.of(dev, xs, m, k), w = s.of(dev, ws, n, k), b = s.of(dev, bs, n), y = s.empty(dev, DType.F32, m, n);
            if (dev.isCuda()) {
                UnsupportedOnDeviceException e = org.junit.jupiter.api.Assertions.assertThrows(
                        UnsupportedOnDeviceException.class, () -> Ops.linearRowInvariant(x, w, b, y));
                org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("dd_linear_row_invariant"),
                        e.getMessage());
                return;
            }
            Ops.linearRowInvariant(x, w, b, y);
            float[] got = y.toFloatArray();
            double[] ref = new double[m * n], bound = new double[m * n];
            for (int r = 0; r < m; r++)
                for (int o = 0; o < n; o++) {
                    double acc = bs[o], mag = Math.abs(bs[o]);
                    for (int j = 0; j < k; j++) {
                        double p = (double) xs[r * k + j] * ws[o * k + j];
                        acc += p;
                        mag += Math.abs(p);
                    }
                    ref[r * n + o] = acc;
                    bound[r * n + o] = mag;
                }
            assertWithin(d, ref, got, bound, "row-invariant linear");
            int row = d.random.nextInt(m);
            Tensor x1 = s.of(dev, java.util.Arrays.copyOfRange(xs, row * k, (row + 1) * k), 1, k);
            Tensor y1 = s.empty(dev, DType.F32, 1, n);
            Ops.linearRowInvariant(x1, w, b, y1);
            org.junit.jupiter.api.Assertions.assertArrayEquals(java.util.Arrays.copyOfRange(got, row * n, (row + 1) * n),
                    y1.toFloatArray(), "row " + row + " alone vs among " + m + " (seed " + d.seed + ")");
            try (Tensor xb = x.convert(DType.BF16)) {
                DTypeMismatchException e = org.junit.jupiter.api.Assertions.assertThrows(DTypeMismatchException.class,
                        () -> Ops.linearRowInvariant(xb, w, b, y));
                org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("'x'"), e.getMessage());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("devices")
    void gatherAndGatedScatterAddWithRepeats(Device dev) {
        TestData d = new TestData();
        int rows = 29, cols = 300, k = 41, samples = 3;
        float[] src = d.gaussian(rows * cols, 1), upd = d.gaussian(k * cols, 1), gate = d.gaussian(samples * cols, 1);
        int[] idx = new int[k], sample = new int[k];
        for (int i = 0; i < k; i++) {
            idx[i] = d.random.nextInt(rows); // repeats on purpose
            sample[i] = d.random.nextInt(samples);
        }
        double[] gathered = new double[k * cols];
        double[] scattered = new double[rows * cols];
        for (int i = 0; i < rows * cols; i++) scattered[i] = src[i];
        for (int i = 0; i < k; i++)
            for (int c = 0; c < cols; c++) {
                gathered[i * cols + c] = src[idx[i] * cols + c];
                scattered[idx[i] * cols + c] += (double) gate[sample[i] * cols + c] * upd[i * cols + c];
            }
        try (Scope s = Scope.open()) {
            Tensor ts = s.of(dev, src, rows, cols), ti = s.ofInts(dev, idx, k), tg = s.empty(dev, DType.F32, k, cols);
            Ops.gatherRows(ts, ti, tg);
            d.assertClose(gathered, tg.toFloatArray(), 0, 0, "gather (exact copy)");
            Ops.scatterAddRows(ts, ti, s.of(dev, upd, k, cols), s.of(dev, gate, samples, cols), s.ofInts(dev, sample, k));
            d.assertClose(scattered, ts.toFloatArray(), 1e-6, 1e-6, "scatter-add");
        }
    }

    private static void assertWithin(TestData d, double[] ref, float[] got, double[] bound, String what) {
        for (int i = 0; i < ref.length; i++) {
            double tol = 2e-6 * bound[i];
            if (!(Math.abs(got[i] - ref[i]) <= tol)) {
                throw new AssertionError(String.format("%s: element %d got %.9g expected %.9g (tol %.3g, seed %d)", what, i,
                        got[i], ref[i], tol, d.seed));
            }
        }
    }
}
