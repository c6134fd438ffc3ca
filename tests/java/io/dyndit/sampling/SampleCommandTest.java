package io.dyndit.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.cli.Main;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorFiles;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/** `dyndit sample` end to end on the golden DDPM case, and its errors. */
class SampleCommandTest {
    @TempDir
    Path tmp;

    private static String[] run(int expectCode, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String o = out.toString(StandardCharsets.UTF_8), e = err.toString(StandardCharsets.UTF_8);
        assertEquals(expectCode, code, "exit code; stdout=" + o + " stderr=" + e);
        return new String[] {o, e};
    }

    private static Path golden(String name) {
        return SamplingGolden.file(SamplingGolden.DDPM_CASE, name);
    }

    private String[] base(String... more) {
        String[] head = {"sample", "--weights", golden("weights.safetensors").toString(), "--config",
            golden("case.json").toString()};
        String[] all = new String[head.length + more.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(more, 0, all, head.length, more.length);
        return all;
    }

    /** On the CPU and on the CUDA backend under the SIMT emulator (fp32 GEMMs, so the same tolerance holds). */
    @ParameterizedTest(name = "on {0}")
    @ValueSource(strings = {"cpu", "cuda-emu"})
    void replaysTheOfficialRunWithTraceAndNpz(String device) throws Exception {
        Path out = tmp.resolve("samples.safetensors"), npz = tmp.resolve("samples.npz");
        String stdout = run(0, base("--labels", "2,5", "--steps", "10", "--noise", golden("io.safetensors").toString(),
                "--out", out.toString(), "--trace", "--npz", npz.toString(), "--device", device, "--precision",
                "fp32"))[0];
        assertTrue(stdout.contains("on " + device), stdout);
        assertTrue(stdout.contains("10 steps") && stdout.contains("compute:") && stdout.contains("GMACs"), stdout);
        try (TensorFile got = TensorFiles.open(out); TensorFile ref = TensorFiles.open(golden("io.safetensors"))) {
            assertArrayEquals(new long[] {2, 4, 8, 8}, got.get("samples").shape());
            // the free-running float32 chain's bound, as DdpmGoldenTest.CHAIN_TOLERANCE derives it (measured 5.5e-4)
            SamplingGolden.assertClose(ref.get("samples").toFloatArray(), got.get("samples").toFloatArray(), "samples",
                    1e-3);
            for (int k = 0; k < 10; k++) {
                assertArrayEquals(new long[] {4, 4, 8, 8}, got.get("step." + k + ".sample").shape());
                SamplingGolden.assertClose(ref.get("step." + k + ".sample").toFloatArray(),
                        got.get("step." + k + ".sample").toFloatArray(), "step." + k + ".sample", 1e-3);
            }
            assertEquals("ddpm", got.metadata().get("sampler"));
            // the ADM layout without a decoder: arr_0 = the latents as float32, labels as int64, by value
            try (ZipFile zip = new ZipFile(npz.toFile())) {
                io.dyndit.io.NpyMembers.Member arr = io.dyndit.io.NpyMembers.read(zip, "arr_0.npy");
                assertEquals("<f4", arr.descr());
                assertEquals("2, 4, 8, 8", arr.shape());
                assertArrayEquals(got.get("samples").toFloatArray(), arr.floats());
                io.dyndit.io.NpyMembers.Member labels = io.dyndit.io.NpyMembers.read(zip, "labels.npy");
                assertEquals("<i8", labels.descr());
                assertArrayEquals(new long[] {2, 5}, labels.longs());
            }
        }
    }

    @Test
    void seededRunsAreReproducibleAndDefaultToGuidance() throws Exception {
        Path a = tmp.resolve("a.safetensors"), b = tmp.resolve("b.safetensors");
        run(0, base("--labels", "1,2,3", "--steps", "4", "--seed", "5", "--out", a.toString()));
        run(0, base("--labels", "1,2,3", "--steps", "4", "--seed", "5", "--out", b.toString()));
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        try (TensorFile f = TensorFiles.open(a)) {
            assertEquals("4.0", f.metadata().get("cfg_scale"));
            assertEquals(1, f.names().size(), "no trace unless asked");
        }
        Path c = tmp.resolve("c.safetensors");
        run(0, base("--labels", "1", "--steps", "3", "--sampler", "ddim", "--eta", "0.5", "--cfg-scale", "1", "--out",
                c.toString()));
    }

    @Test
    void badInputExitsNonZeroWithAMessageAndWritesNothing() throws Exception {
        String out = tmp.resolve("o.safetensors").toString();
        assertTrue(run(1, base("--labels", "1", "--steps", "0", "--out", out))[1].contains("steps must be between"));
        assertTrue(run(1, base("--labels", "1", "--steps", "1001", "--out", out))[1].contains("1001"));
        assertTrue(run(1, base("--labels", "1", "--cfg-scale", "-1", "--out", out))[1].contains("guidance scale"));
        assertTrue(run(1, base("--labels", "10", "--steps", "2", "--out", out))[1].contains("null class"));
        assertTrue(run(1, base("--labels", "12", "--steps", "2", "--out", out))[1].contains("classes 0..9"));
        assertTrue(run(2, base("--labels", "1,x", "--out", out))[1].contains("--labels"));
        assertTrue(run(2, base("--labels", "1", "--seed", "1", "--noise", "n", "--out", out))[1].contains("either"));
        assertTrue(run(2, base("--labels", "1", "--sampler", "plms", "--out", out))[1].contains("unknown sampler"));
        // the golden z is [4,...]: 3 labels need [3,...] or [6,...]
        assertTrue(run(1, base("--labels", "1,2,3", "--steps", "2", "--noise", golden("io.safetensors").toString(),
                "--out", out))[1].contains("'z'"));
        String missingDir = tmp.resolve("no/such/dir/o.safetensors").toString();
        assertTrue(run(1, base("--labels", "1", "--steps", "2", "--out", missingDir))[1].contains("does not exist"));
        assertTrue(run(1, base("--labels", "1", "--steps", "2", "--out", tmp.toString()))[1].contains("directory"));
        try (var files = Files.list(tmp)) {
            assertEquals(0, files.count(), "nothing written by failed runs");
        }
        assertFalse(Files.exists(Path.of(out)));
    }

    /** With a decoder: arr_0 is the uint8 NHWC images the decoder makes of the samples, and each PNG holds them. */
    @Test
    void npzAndPngsHoldTheDecodedImagesByValue() throws Exception {
        Path vaeDir = Path.of(getClass().getResource("/golden-vae/v1_tiny_32_64_g8_4x6/case.json").toURI()).getParent();
        Path out = tmp.resolve("s.safetensors"), npz = tmp.resolve("s.npz"), png = tmp.resolve("png");
        Files.createDirectories(png);
        run(0, base("--labels", "3,1,4", "--steps", "3", "--seed", "9", "--out", out.toString(), "--npz", npz.toString(),
                "--vae", vaeDir.resolve("weights.safetensors").toString(), "--vae-config",
                vaeDir.resolve("case.json").toString(), "--png", png.toString()));
        byte[] want;
        int n = 3, h, w;
        try (TensorFile got = TensorFiles.open(out);
                io.dyndit.vae.VaeDecoder vae = io.dyndit.vae.VaeDecoder.load(vaeDir.resolve("weights.safetensors"),
                        vaeDir.resolve("case.json"), io.dyndit.core.Device.cpu())) {
            io.dyndit.vae.DecodedImages img = vae.decodeLatents(got.get("samples").toFloatArray(),
                    got.get("samples").shape());
            want = img.uint8Nhwc();
            h = img.height();
            w = img.width();
        }
        try (ZipFile zip = new ZipFile(npz.toFile())) {
            io.dyndit.io.NpyMembers.Member arr = io.dyndit.io.NpyMembers.read(zip, "arr_0.npy");
            assertEquals("|u1", arr.descr());
            assertEquals(n + ", " + h + ", " + w + ", 3", arr.shape());
            assertArrayEquals(want, arr.bytes());
            assertArrayEquals(new long[] {3, 1, 4}, io.dyndit.io.NpyMembers.read(zip, "labels.npy").longs());
        }
        for (int i = 0; i < n; i++) {
            java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(png.resolve(String.format("%06d.png", i))
                    .toFile());
            assertEquals(w, img.getWidth());
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int at = ((i * h + y) * w + x) * 3;
                    int rgb = (want[at] & 0xFF) << 16 | (want[at + 1] & 0xFF) << 8 | (want[at + 2] & 0xFF);
                    assertEquals(rgb, img.getRGB(x, y) & 0xFFFFFF, "image " + i + " pixel " + x + "," + y);
                }
            }
        }
    }
}
