package io.dyndit.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.ZipFile;

/** Test helpers: the tiny golden DiT (8×8 latents, 10 classes), running commands, reading the .npz outputs. */
final class GenerateRun {
    static final Path GOLDEN = Path.of(System.getProperty("dyndit.golden.dir", "../tests/resources/golden"))
            .resolve("sample_ddpm10_cfg4");
    static final Path WEIGHTS = GOLDEN.resolve("weights.safetensors"), CONFIG = GOLDEN.resolve("case.json");
    static final int CLASSES = 10;
    /** A tiny SD-VAE decoder (4 latent channels, 8× upsampling): 8×8 latents become 64×64 images. */
    static final Path VAE = GOLDEN.getParent().resolveSibling("golden-vae").resolve("v2_sdvae_div8_g8_4x4");

    private GenerateRun() {}

    /** Output of one command: exit code, stdout, stderr. */
    record Result(int code, String out, String err) {}

    static Result generate(int expectCode, String... args) {
        return run(expectCode, true, args);
    }

    /** `dyndit sample` of the core CLI, in this JVM. */
    static Result sample(int expectCode, String... args) {
        return run(expectCode, false, args);
    }

    private static Result run(int expectCode, boolean generate, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8), e = new PrintStream(err, true,
                StandardCharsets.UTF_8);
        int code = generate ? GenerateMain.run(args, o, e) : io.dyndit.cli.Main.run(args, o, e);
        Result r = new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        assertEquals(expectCode, code, "exit code of " + Arrays.toString(args) + "\nstdout: " + r.out + "\nstderr: "
                + r.err);
        return r;
    }

    /** The tiny model, 10 DDPM steps, local[2] with one native thread per task, plus {@code more}. */
    static String[] tinyRun(Path weights, Path outDir, long seed, String... more) {
        List<String> a = new ArrayList<>(List.of("--weights", weights.toString(), "--config", CONFIG.toString(),
                "--num-samples", "64", "--shards", "4", "--steps", "10", "--seed", Long.toString(seed), "--out-dir",
                outDir.toString(), "--master", "local[2]", "--threads", "1"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    static float[] floats(Path npz, String name) throws IOException {
        try (ZipFile z = new ZipFile(npz.toFile()); NpyMember m = NpyMember.open(z, name)) {
            return m.floats();
        }
    }

    static byte[] bytes(Path npz, String name) throws IOException {
        try (ZipFile z = new ZipFile(npz.toFile()); NpyMember m = NpyMember.open(z, name)) {
            return m.bytes();
        }
    }

    static long[] longs(Path npz, String name) throws IOException {
        try (ZipFile z = new ZipFile(npz.toFile()); NpyMember m = NpyMember.open(z, name)) {
            return m.longs();
        }
    }

    static long[] shape(Path npz, String name) throws IOException {
        try (ZipFile z = new ZipFile(npz.toFile()); NpyMember m = NpyMember.open(z, name)) {
            return m.shape;
        }
    }

    /** ‖a − ref‖ / ‖ref‖ in double. */
    static double relativeL2(float[] a, float[] ref) {
        return io.dyndit.sampling.Deviation.relativeL2(a, ref);
    }
}
