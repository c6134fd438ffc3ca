package io.dyndit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The conventions every command follows: --help, --version, --opt=value, exit codes 0/1/2, plain messages. */
class CliConventionsTest {
    /** Every option each command had before picocli (scripts use them), plus the common ones. */
    static final Map<String, List<String>> OPTIONS = Map.of(
            "demo", List.of("--out", "--steps", "--labels", "--cfg-scale", "--seed"),
            "info", List.of("--check"),
            "forward", List.of("--weights", "--config", "--inputs", "--out", "--prefix", "--cfg-scale", "--static",
                    "--patch-size", "--flexi-guided", "--cond-patch", "--guidance-patch", "--weak-cfg-scale", "--device",
                    "--precision"),
            "flops", List.of("--model", "--input-size", "--json"),
            "bench", List.of("--model", "--batch", "--input-size", "--iters", "--warmup", "--threads", "--device",
                    "--dydit-width", "--dydit-token-bias", "--diffcr-ratio", "--flexi-patch", "--vae", "--image-size"),
            "sample", List.of("--weights", "--config", "--labels", "--sampler", "--steps", "--cfg-scale", "--eta", "--seed",
                    "--noise", "--out", "--trace", "--npz", "--static", "--per-step", "--flexi-patch", "--flexi-steps",
                    "--flexi-guidance-steps", "--flexi-budget", "--weak-cfg-scale", "--vae", "--vae-config", "--png",
                    "--device", "--precision"),
            "decode", List.of("--vae", "--config", "--latents", "--key", "--out", "--png", "--tile", "--device",
                    "--precision"));

    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {
        String all() {
            return out + err;
        }
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Run run(int expectCode, String... args) {
        Run r = run(args);
        assertEquals(expectCode, r.code, "exit code of " + Arrays.toString(args) + "; stdout=" + r.out + " stderr=" + r.err);
        return r;
    }

    /** What users see never names a Java class or shows a stack frame. */
    static void assertPlain(Run r) {
        for (String bad : new String[] {"Exception", "java.", "at io.", "picocli."}) {
            assertFalse(r.all().contains(bad), "'" + bad + "' in output:\n" + r.all());
        }
    }

    static Path golden(String caseName, String file) throws Exception {
        return Path.of(CliConventionsTest.class.getResource("/golden/" + caseName + "/case.json").toURI()).getParent()
                .resolve(file);
    }

    static String dit(String file) throws Exception {
        return golden("dit_p2_d64_h4", file).toString();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("commandsAndHelpFlags")
    void helpOnEveryCommandListsItsOptionsAndExitsZero(String command, String flag) {
        Run r = run(0, command, flag);
        assertTrue(r.out.startsWith("Usage: dyndit " + command), r.out);
        for (String option : OPTIONS.get(command)) {
            assertTrue(r.out.contains(option), command + " help lacks " + option + ":\n" + r.out);
        }
        for (String common : new String[] {"--help", "--verbose", "--quiet"}) {
            assertTrue(r.out.contains(common), command + " help lacks " + common);
        }
        // every option line carries a description
        for (String line : r.out.split("\n")) {
            if (line.matches(" {2,8}(-\\w, )?--[\\w-]+(=\\S+)?\\s*")) {
                fail(command + ": option without a description on its line: " + line);
            }
        }
        assertEquals("", r.err);
    }

    static Stream<Arguments> commandsAndHelpFlags() {
        return OPTIONS.keySet().stream().sorted().flatMap(c -> Stream.of(Arguments.of(c, "--help"), Arguments.of(c, "-h")));
    }

    private static void fail(String message) {
        org.junit.jupiter.api.Assertions.fail(message);
    }

    @ParameterizedTest
    @ValueSource(strings = {"--help", "-h", "help"})
    void topLevelHelpListsEveryCommand(String flag) {
        Run r = run(0, flag);
        for (String c : OPTIONS.keySet()) {
            assertTrue(r.out.contains(c), "top-level help lacks " + c + ":\n" + r.out);
        }
        assertTrue(r.out.contains("--version") && r.out.contains("Exit codes"), r.out);
        assertTrue(run(0, "help", "sample").out.contains("--labels"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"--version", "-V"})
    void versionPrintsTheVersionAndExitsZero(String flag) {
        Run r = run(0, flag);
        assertTrue(r.out.trim().matches("dyndit \\d+\\.\\d+\\.\\d+\\S*"), r.out);
        assertEquals("", r.err);
    }

    @Test
    void noCommandIsAUsageError() {
        Run r = run(2);
        assertTrue(r.err.contains("missing command") && r.err.contains("Usage:"), r.err);
    }

    /** `generate` lives in the Spark module's jar: listed here, and run from this jar it says where it is. */
    @Test
    void generateIsListedAndPointsToTheSparkJar() {
        assertTrue(run(0, "--help").out.matches("(?s).*\\n\\s+generate\\s+N class-conditional samples in shards on "
                + "Apache Spark.*"), "top-level help lists generate");
        Run r = run(2, "generate", "--weights", "w.pt", "--num-samples", "8", "--out-dir", "d");
        assertTrue(r.err.contains("dyndit generate: generate runs on Apache Spark from "
                + "spark/target/dyndit-spark-all.jar") && r.err.contains("./dyndit generate --help"), r.err);
        assertPlain(r);
    }

    @Test
    void optionsTakeTheirValueAfterAnEqualsSignToo() throws Exception {
        assertTrue(run(0, "flops", "--model=DiT-S/2", "--input-size=16").out.contains("16x16 latent"));
        Path out = tmp.resolve("s.safetensors");
        Run r = run(0, "sample", "--weights=" + dit("weights.safetensors"), "--config=" + dit("case.json"), "--labels=1,2",
                "--steps=2", "--seed=3", "--out=" + out);
        assertTrue(Files.isRegularFile(out));
        // the line scripts read
        assertTrue(r.out.lines().anyMatch(l -> l.matches(
                "\\s*compute: [0-9.e+]+ GMACs executed, [0-9.e+]+ GMACs static \\([0-9.]+%\\)")), r.out);
    }

    /** Usage errors: exit 2, a short message naming the problem, the command's usage, nothing read or loaded. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("usageErrors")
    void usageErrorsExitTwoWithAPlainMessageAndTheUsage(String name, List<String> args, List<String> mentions) {
        Run r = run(2, args.toArray(String[]::new));
        String first = r.err.lines().findFirst().orElse("");
        for (String m : mentions) {
            assertTrue(first.contains(m), "message lacks '" + m + "': " + first);
        }
        assertTrue(first.startsWith("dyndit"), first);
        assertTrue(r.err.contains("Usage: dyndit"), "no usage on stderr:\n" + r.err);
        assertEquals("", r.out);
        assertPlain(r);
    }

    static Stream<Arguments> usageErrors() {
        // the weights file does not exist: a usage error must be reported before it is looked at
        List<String> sample = List.of("sample", "--weights", "nope.pt", "--labels", "1", "--out", "o.safetensors");
        List<String> forward = List.of("forward", "--weights", "nope.pt", "--inputs", "i.safetensors", "--out",
                "o.safetensors");
        List<String> decode = List.of("decode", "--vae", "nope.pt", "--latents", "l.safetensors", "--out", "o.safetensors");
        return Stream.of(
                Arguments.of("unknown option", with(sample, "--bogus"), List.of("unknown option", "--bogus")),
                Arguments.of("misspelt option", with(sample, "--cfgscale", "2"), List.of("--cfgscale", "--cfg-scale")),
                Arguments.of("unknown command", List.of("frobnicate"), List.of("unknown command", "frobnicate")),
                Arguments.of("missing required option", List.of("forward", "--weights", "w.pt"),
                        List.of("missing --inputs")),
                Arguments.of("option without its value", List.of("forward", "--weights"), List.of("--weights")),
                Arguments.of("bad sampler", with(sample, "--sampler", "foo"), List.of("--sampler", "foo", "ddpm", "ddim")),
                Arguments.of("token cache fraction out of range", with(sample, "--cache", "token:1.5"),
                        List.of("--cache", "token cache fraction", "1.5")),
                Arguments.of("block cache order out of range", with(sample, "--cache", "block:3,order=2"),
                        List.of("--cache", "order", "2")),
                Arguments.of("unknown cache option", with(sample, "--cache", "token:0.3,foo=1"),
                        List.of("--cache", "foo=1", "refresh")),
                Arguments.of("bad device", with(forward, "--device", "gpu"),
                        List.of("--device", "gpu", "cpu", "cuda", "cuda-emu")),
                Arguments.of("bad precision", with(decode, "--precision", "fp16"),
                        List.of("--precision", "fp16", "tf32", "fp32", "bf16")),
                Arguments.of("non-numeric label", with(sample, "--labels", "3,x"), List.of("--labels", "3,x")),
                Arguments.of("empty label", with(sample, "--labels", "3,"), List.of("--labels")),
                Arguments.of("non-numeric steps", with(sample, "--steps", "ten"), List.of("--steps", "ten", "integer")),
                Arguments.of("non-numeric scale", with(sample, "--cfg-scale", "abc"), List.of("--cfg-scale", "abc")),
                Arguments.of("integer out of range", with(sample, "--steps", "10000000000"),
                        List.of("--steps", "out of range")),
                Arguments.of("seed out of range", with(sample, "--seed", "99999999999999999999"), List.of("out of range")),
                Arguments.of("--png without --vae", with(sample, "--png", "dir"), List.of("--vae")),
                Arguments.of("seed and noise", with(sample, "--seed", "1", "--noise", "n.safetensors"),
                        List.of("either")),
                Arguments.of("negative tile", with(decode, "--tile", "-1"), List.of("--tile")),
                Arguments.of("flexi-guided without scale", with(forward, "--flexi-guided"), List.of("--cfg-scale")),
                Arguments.of("bench without model", List.of("bench"), List.of("--model")),
                Arguments.of("bad diffcr ratio", List.of("bench", "--model", "DiT-S/2", "--diffcr-ratio", "2"),
                        List.of("--diffcr-ratio")));
    }

    private static List<String> with(List<String> base, String... more) {
        List<String> all = new ArrayList<>(base);
        all.addAll(List.of(more));
        return all;
    }

    @Test
    void everySamplerIsListedAndAccepted() throws Exception {
        String help = run(0, "sample", "--help").out;
        for (io.dyndit.sampling.SamplerType t : io.dyndit.sampling.SamplerType.values()) {
            assertTrue(help.contains(t.cliName()), "sample --help lacks " + t.cliName() + ":\n" + help);
            run(0, "sample", "--weights", dit("weights.safetensors"), "--config", dit("case.json"), "--labels", "1",
                    "--steps", "3", "--sampler", t.cliName(), "--out", tmp.resolve(t + ".safetensors").toString());
        }
    }

    @Test
    void valuesAreTakenAsTheyAre() {
        assertTrue(run(1, "flops", "--model", "@presets").err.contains("unknown model '@presets'"), "no @file expansion");
        assertTrue(run(0, "flops", "--model", "DiT-B/2", "--model", "DiT-S/2").out.startsWith("DiT-S/2"), "last one wins");
    }

    @Test
    void outOfRangeIsNotCalledNotAnInteger() {
        Run r = run(2, "flops", "--model", "DiT-S/2", "--input-size", "3000000000");
        assertTrue(r.err.contains("out of range") && !r.err.contains("must be an integer"), r.err);
    }

    @Test
    void aMissingWeightsFileIsARuntimeErrorInPlainWords() throws Exception {
        Path missing = tmp.resolve("nope.pt");
        Run r = run(1, "sample", "--weights", missing.toString(), "--labels", "1", "--out",
                tmp.resolve("o.safetensors").toString());
        assertEquals("dyndit sample: error: cannot read " + missing + ": no such file", r.err.trim());
        assertPlain(r);
        r = run(1, "forward", "--weights", missing.toString(), "--inputs", dit("io.safetensors"), "--out",
                tmp.resolve("o.safetensors").toString());
        assertEquals("dyndit forward: error: cannot read " + missing + ": no such file", r.err.trim());
        r = run(1, "decode", "--vae", dit("weights.safetensors"), "--latents", tmp.toString(), "--out",
                tmp.resolve("o.safetensors").toString());
        assertTrue(r.err.contains("cannot read " + tmp + ": it is a directory"), r.err);
        assertPlain(r);
    }

    @Test
    void runtimeErrorsAreOneLineUnlessVerbose() throws Exception {
        String[] args = {"forward", "--weights", dit("weights.pt"), "--config", dit("case.json"), "--inputs",
            dit("io.safetensors"), "--prefix", "nope.", "--out", tmp.resolve("o.safetensors").toString()};
        Run quiet = run(1, args);
        assertTrue(quiet.err.startsWith("dyndit forward: error: ") && quiet.err.contains("nope.x"), quiet.err);
        assertEquals(1, quiet.err.lines().count(), quiet.err);
        assertPlain(quiet);
        for (Run verbose : new Run[] {run(1, with(List.of(args), "--verbose").toArray(String[]::new)),
            run(1, with(List.of("--verbose"), args).toArray(String[]::new))}) {
            // frames read "at io.dyndit.X" on the class path, "at io.dyndit@VERSION/io.dyndit.X" in the module
            assertTrue(verbose.err.lines().anyMatch(l -> l.strip().startsWith("at ") && l.contains("io.dyndit.cli.")),
                    "--verbose shows the stack trace:\n" + verbose.err);
        }
    }

    @Test
    void errorsOfTheJvmBecomePlainMessages() {
        assertTrue(ErrorMessages.plain(new OutOfMemoryError("Java heap space")).startsWith("out of memory (Java heap space)"));
        assertEquals("internal error; rerun with --verbose for details", ErrorMessages.plain(new NullPointerException()));
        String wrapped = ErrorMessages.plain(new io.dyndit.io.CheckpointException("cannot read a.pt: "
                + new java.nio.file.AccessDeniedException("a.pt"), new java.nio.file.AccessDeniedException("a.pt")));
        assertEquals("cannot read a.pt: permission denied", wrapped);
        assertEquals("cannot access b.pt: no such file", ErrorMessages.plain(new java.nio.file.NoSuchFileException("b.pt")));
    }

    @Test
    void quietDropsInformationalLinesButStillWrites() throws Exception {
        Path out = tmp.resolve("f.safetensors");
        String[] args = {"forward", "--weights", dit("weights.pt"), "--config", dit("case.json"), "--inputs",
            dit("io.safetensors"), "--out", out.toString()};
        Run loud = run(0, args);
        assertTrue(loud.out.contains("wrote " + out + ": out [2,8,8,8]"), loud.out);
        Files.delete(out);
        Run quiet = run(0, with(List.of(args), "--quiet").toArray(String[]::new));
        assertEquals("", quiet.out + quiet.err);
        assertTrue(Files.isRegularFile(out));
        assertEquals("", run(0, with(List.of("-q"), args).toArray(String[]::new)).out);
    }
}
