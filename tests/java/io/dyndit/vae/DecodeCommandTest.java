package io.dyndit.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.cli.Main;
import io.dyndit.core.DType;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorFiles;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `dyndit decode` end to end on a golden case: `image`, `uint8` and one PNG per image. */
class DecodeCommandTest {
    private static final String CASE = "v2_sdvae_div8_g8_4x4";

    @TempDir
    Path dir;

    private int run(ByteArrayOutputStream err, String... args) {
        return Main.run(args, new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    /** On the CPU and on the CUDA kernels under the SIMT emulator (fp32 convolutions). */
    @org.junit.jupiter.params.ParameterizedTest(name = "on {0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"cpu", "cuda-emu"})
    void decodesGoldenLatentsToSafetensorsAndPngs(String device) throws Exception {
        Path golden = VaeGolden.dir(CASE), out = dir.resolve("out.safetensors"), png = dir.resolve("png");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = run(err, "decode", "--vae", golden.resolve("weights.safetensors").toString(), "--config",
                golden.resolve("case.json").toString(), "--latents", golden.resolve("io.safetensors").toString(), "--out",
                out.toString(), "--png", png.toString(), "--tile", "1", "--device", device, "--precision", "fp32");
        assertEquals(0, rc, err.toString(StandardCharsets.UTF_8));
        try (TensorFile got = TensorFiles.open(out); TensorFile io = VaeGolden.io(CASE)) {
            assertArrayEquals(io.get("image").shape(), got.get("image").shape());
            VaeGolden.assertClose(io.get("image").toFloatArray(), got.get("image").toFloatArray(), "image");
            assertEquals(DType.U8, got.get("uint8").dtype());
            assertArrayEquals(io.get("uint8").shape(), got.get("uint8").shape());
            long[] a = io.get("uint8").toLongArray(), b = got.get("uint8").toLongArray();
            for (int i = 0; i < a.length; i++) {
                assertTrue(Math.abs(a[i] - b[i]) <= 1, "uint8[" + i + "]");
            }
        }
        assertTrue(Files.isRegularFile(png.resolve("000000.png")));
        assertTrue(Files.isRegularFile(png.resolve("000001.png")));
    }

    @Test
    void usageAndTypedErrorsBecomeExitCodes() {
        Path golden = VaeGolden.dir(CASE);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, run(err, "decode", "--vae", "x.safetensors"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("missing --latents"), err.toString(StandardCharsets.UTF_8));
        err.reset();
        int rc = run(err, "decode", "--vae", golden.resolve("weights.safetensors").toString(), "--config",
                golden.resolve("case.json").toString(), "--latents", golden.resolve("io.safetensors").toString(), "--key",
                "nope", "--out", dir.resolve("o.safetensors").toString());
        assertEquals(1, rc);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("'nope'"), err.toString(StandardCharsets.UTF_8));
    }
}
