package io.dyndit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class MainTest {
    private static String[] run(int expectCode, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true,
                StandardCharsets.UTF_8));
        String o = out.toString(StandardCharsets.UTF_8), e = err.toString(StandardCharsets.UTF_8);
        assertEquals(expectCode, code, "exit code; stdout=" + o + " stderr=" + e);
        return new String[] {o, e};
    }

    @Test
    void infoReportsBuildAndMachine() {
        String out = run(0, "info", "--check")[0];
        for (String key : new String[] {"dyndit ", "cpu:", "kernels:", "threads:", "blas:", "cuda:", "gpu:"}) {
            assertTrue(out.contains(key), "missing '" + key + "' in:\n" + out);
        }
        assertTrue(out.contains("self-check") && out.contains(": ok"), out);
    }

    @Test
    void unknownCommandAndOptionExitWithUsage() {
        assertTrue(run(2, "frobnicate")[1].contains("unknown command"));
        assertTrue(run(2, "info", "--bogus")[1].contains("unknown option"));
    }

    @Test
    void flopsReportsThePapersNumberForDiTXL2() {
        String out = run(0, "flops", "--model", "DiT-XL/2", "--json")[0];
        var m = io.dyndit.io.JsonParser.parseObject(out.trim());
        double macs = ((Number) m.get("macs")).doubleValue();
        // DiT paper: 118.6 GFLOPs (MACs) for XL/2 at 256x256; DyDiT README: 118.69 (counts a little more)
        assertTrue(Math.abs(macs / 1e9 - 118.6) < 0.1, "macs " + macs);
        assertTrue(run(0, "flops", "--model", "DiT-S/2")[0].contains("GMACs"));
        assertTrue(run(1, "flops", "--model", "DiT-Q/2")[1].contains("unknown model"));
    }

    @Test
    void forwardCommandReproducesGoldenOutAndGuidedOut(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        java.nio.file.Path dir = java.nio.file.Path.of(getClass().getResource("/golden/dit_p2_d64_h4/case.json").toURI())
                .getParent();
        java.nio.file.Path ioFile = dir.resolve("io.safetensors");
        java.nio.file.Path out = tmp.resolve("out.safetensors");
        run(0, "forward", "--weights", dir.resolve("weights.pt").toString(), "--config", dir.resolve("case.json").toString(),
                "--inputs", ioFile.toString(), "--out", out.toString());
        try (var golden = io.dyndit.io.TensorFiles.open(ioFile); var got = io.dyndit.io.TensorFiles.open(out)) {
            assertClose(golden.get("out").toFloatArray(), got.get("out").toFloatArray());
            run(0, "forward", "--weights", dir.resolve("weights.safetensors").toString(), "--config",
                    dir.resolve("case.json").toString(), "--inputs", ioFile.toString(), "--prefix", "cfg.", "--cfg-scale", "4",
                    "--out", out.toString());
        }
        try (var golden = io.dyndit.io.TensorFiles.open(ioFile); var got = io.dyndit.io.TensorFiles.open(out)) {
            assertClose(golden.get("cfg.out").toFloatArray(), got.get("out").toFloatArray());
        }
        String err = run(1, "forward", "--weights", dir.resolve("weights.pt").toString(), "--config",
                dir.resolve("case.json").toString(), "--inputs", ioFile.toString(), "--prefix", "nope.", "--out",
                out.toString())[1];
        assertTrue(err.contains("nope.x"), err);
        assertTrue(run(2, "forward", "--weights", "w.pt")[1].contains("missing --inputs"));
    }

    /** `forward --device cuda-emu`: the CUDA backend under the SIMT emulator, FP32 GEMMs; DyDiT decisions exact. */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0} on cuda-emu")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"dit_p2_d64_h4", "dydit_v2_p2_d64_h4"})
    void forwardOnTheEmulatedGpuReproducesGoldenCases(String name, @org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        java.nio.file.Path dir = java.nio.file.Path.of(getClass().getResource("/golden/" + name + "/case.json").toURI())
                .getParent();
        java.nio.file.Path ioFile = dir.resolve("io.safetensors"), out = tmp.resolve("out.safetensors");
        run(0, "forward", "--weights", dir.resolve("weights.safetensors").toString(), "--config",
                dir.resolve("case.json").toString(), "--inputs", ioFile.toString(), "--out", out.toString(), "--device",
                "cuda-emu", "--precision", "fp32");
        try (var golden = io.dyndit.io.TensorFiles.open(ioFile); var got = io.dyndit.io.TensorFiles.open(out)) {
            assertClose(golden.get("out").toFloatArray(), got.get("out").toFloatArray());
            for (String mask : new String[] {"attn_masks", "mlp_masks", "token_select"}) {
                if (golden.contains(mask)) {
                    org.junit.jupiter.api.Assertions.assertArrayEquals(golden.get(mask).toFloatArray(),
                            got.get(mask).toFloatArray(), mask);
                }
            }
        }
    }

    private static void assertClose(float[] ref, float[] got) {
        assertEquals(ref.length, got.length);
        for (int i = 0; i < ref.length; i++) {
            assertTrue(Math.abs(got[i] - ref[i]) <= 1e-4 * Math.max(1, Math.abs(ref[i])), "element " + i);
        }
    }

    @Test
    void sampleDecodesToPngsAndAdmNpz(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path dit = java.nio.file.Path.of(getClass().getResource("/golden/dit_p2_d64_h4/case.json").toURI())
                .getParent();
        java.nio.file.Path vae = java.nio.file.Path.of(
                getClass().getResource("/golden-vae/v2_sdvae_div8_g8_4x4/case.json").toURI()).getParent();
        java.nio.file.Path png = tmp.resolve("png"), npz = tmp.resolve("s.npz");
        String out = run(0, "sample", "--weights", dit.resolve("weights.safetensors").toString(), "--config",
                dit.resolve("case.json").toString(), "--labels", "1,2,3", "--steps", "2", "--out",
                tmp.resolve("s.safetensors").toString(), "--vae", vae.resolve("weights.safetensors").toString(),
                "--vae-config", vae.resolve("case.json").toString(), "--png", png.toString(), "--npz", npz.toString())[0];
        assertTrue(out.contains("PNG"), out);
        for (String f : new String[] {"000000.png", "000001.png", "000002.png", "grid.png"}) {
            java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(png.resolve(f).toFile());
            assertTrue(img != null && img.getWidth() >= 64, f);
        }
        assertTrue(java.nio.file.Files.size(npz) > 3 * 64 * 64 * 3, "npz holds the uint8 batch");
        assertTrue(run(2, "sample", "--weights", "w", "--labels", "1", "--out", "o", "--png", "d")[1].contains("--vae"));
    }
}
