package io.dyndit.cli;

import static io.dyndit.cli.CliConventionsTest.assertPlain;
import static io.dyndit.cli.CliConventionsTest.dit;
import static io.dyndit.cli.CliConventionsTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.cli.CliConventionsTest.Run;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Output files appear whole or not at all, and a bad output path is reported before any computing. */
class OutputSafetyTest {
    @TempDir
    Path tmp;

    private static final byte[] OLD = "previous result".getBytes(StandardCharsets.UTF_8);

    private List<String> listing() throws Exception {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private String[] forward(Path out, String... more) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("forward", "--weights", dit("weights.pt"), "--config",
                dit("case.json"), "--inputs", dit("io.safetensors"), "--out", out.toString()));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    @Test
    void forwardWhoseWriteFailsLeavesTheExistingOutUntouchedAndNoTemporaryFile() throws Exception {
        // the name is legal, but the temporary file beside it (".<name>.<random>.tmp") is too long to create:
        // the write fails after the model has run
        Path out = tmp.resolve("o".repeat(240) + ".safetensors");
        Files.write(out, OLD);
        Run r = run(1, forward(out));
        assertTrue(r.err().startsWith("dyndit forward: error: cannot write " + out), r.err());
        assertPlain(r);
        assertArrayEquals(OLD, Files.readAllBytes(out));
        assertEquals(List.of(out.getFileName().toString()), listing());
    }

    @Test
    void forwardFailingAfterTheModelLoadedLeavesTheExistingOutUntouched() throws Exception {
        Path out = tmp.resolve("out.safetensors");
        Files.write(out, OLD);
        Run r = run(1, forward(out, "--patch-size", "3")); // patch 3 does not divide the 8x8 latent
        assertPlain(r);
        assertArrayEquals(OLD, Files.readAllBytes(out));
        assertEquals(List.of("out.safetensors"), listing());
        Path fresh = tmp.resolve("fresh.safetensors");
        run(1, forward(fresh, "--patch-size", "3"));
        assertFalse(Files.exists(fresh), "a failed run leaves no output file");
    }

    @Test
    void aMissingOutputDirectoryIsReportedBeforeComputingAndNamesTheDirectory() throws Exception {
        Path dir = tmp.resolve("no/such/dir");
        Run r = run(1, forward(dir.resolve("o.safetensors")));
        assertTrue(r.err().contains("directory " + dir + " does not exist"), r.err());
        assertEquals("", r.out());
        assertPlain(r);

        // 1000 sampling steps would take many seconds: failing fast shows nothing was computed
        long t0 = System.nanoTime();
        r = run(1, "sample", "--weights", dit("weights.safetensors"), "--config", dit("case.json"), "--labels", "1,2",
                "--steps", "1000", "--out", dir.resolve("s.safetensors").toString());
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(r.err().contains("directory " + dir + " does not exist"), r.err());
        assertTrue(seconds < 3, "took " + seconds + " s: the check came after the sampling");
        assertEquals("", r.out());

        r = run(1, "sample", "--weights", dit("weights.safetensors"), "--config", dit("case.json"), "--labels", "1",
                "--steps", "1000", "--out", tmp.resolve("s.safetensors").toString(), "--npz",
                dir.resolve("s.npz").toString());
        assertTrue(r.err().contains(dir.toString()), r.err());
        assertEquals(List.of(), listing(), "nothing written, no directory created");
    }

    @Test
    void aCheckpointThatIsNoDecoderIsReportedBeforeSamplingAndNothingIsWritten() throws Exception {
        long t0 = System.nanoTime();
        Run r = run(1, "sample", "--weights", dit("weights.safetensors"), "--config", dit("case.json"), "--labels", "1",
                "--steps", "1000", "--out", tmp.resolve("s.safetensors").toString(), "--vae", dit("weights.safetensors"),
                "--png", tmp.resolve("png").toString(), "--npz", tmp.resolve("s.npz").toString());
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(r.err().startsWith("dyndit sample: error: "), r.err());
        assertPlain(r);
        assertTrue(seconds < 3, "took " + seconds + " s: the decoder was looked at after the sampling");
        assertEquals(List.of(), listing(), "nothing written");
    }

    @Test
    void aPngDirectoryThatCannotBeCreatedIsReportedBeforeDecoding() throws Exception {
        Path file = tmp.resolve("plain-file");
        Files.write(file, OLD);
        Path vae = Path.of(getClass().getResource("/golden-vae/v2_sdvae_div8_g8_4x4/case.json").toURI()).getParent();
        Run r = run(1, "decode", "--vae", vae.resolve("weights.safetensors").toString(), "--config",
                vae.resolve("case.json").toString(), "--latents", vae.resolve("io.safetensors").toString(), "--out",
                tmp.resolve("d.safetensors").toString(), "--png", file.resolve("png").toString());
        assertTrue(r.err().contains("cannot write to directory " + file.resolve("png")) && r.err().contains("not a directory"),
                r.err());
        assertPlain(r);
        assertEquals(List.of("plain-file"), listing(), "no decode output written");
    }

    @Test
    void decodeWritesItsFilesWholeAndLeavesNoStagingBehind() throws Exception {
        Path vae = Path.of(getClass().getResource("/golden-vae/v2_sdvae_div8_g8_4x4/case.json").toURI()).getParent();
        Path out = tmp.resolve("d.safetensors"), png = tmp.resolve("png");
        Run r = run(0, "decode", "--vae", vae.resolve("weights.safetensors").toString(), "--config",
                vae.resolve("case.json").toString(), "--latents", vae.resolve("io.safetensors").toString(), "--out",
                out.toString(), "--png", png.toString());
        assertTrue(r.out().contains("wrote " + out) && r.out().contains("uint8 ["), r.out());
        assertEquals(List.of("d.safetensors", "png"), listing());
        try (Stream<Path> s = Files.list(png)) {
            assertTrue(s.allMatch(p -> p.getFileName().toString().matches("\\d{6}\\.png")), "only the PNGs");
        }
    }
}
