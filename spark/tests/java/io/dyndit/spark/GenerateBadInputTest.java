package io.dyndit.spark;

import static io.dyndit.spark.GenerateRun.generate;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.testing.Seeds;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `dyndit generate` refuses what it cannot do, with a plain message and exit code 2 (command line) or 1 (run). */
class GenerateBadInputTest {
    @TempDir
    Path tmp;

    private static void assertPlain(String err) {
        assertFalse(err.contains("Exception") || err.contains("\tat "), "no Java class names or stack: " + err);
    }

    @Test
    void anOutDirOfAnotherRunIsRefused() throws IOException {
        long seed = Seeds.fresh();
        Path out = tmp.resolve("run");
        generate(0, GenerateRun.tinyRun(GenerateRun.WEIGHTS, out, seed));
        String manifest = Files.readString(out.resolve(Manifest.FILE));
        byte[] merged = Files.readAllBytes(out.resolve("samples.npz"));

        String err = generate(1, GenerateRun.tinyRun(GenerateRun.WEIGHTS, out, seed + 1)).err();
        assertTrue(err.contains("holds another run") && err.contains("seed " + seed + " in the manifest, " + (seed + 1)
                + " in this command") && err.contains("never mixed"), err);
        assertPlain(err);
        err = generate(1, GenerateRun.tinyRun(GenerateRun.WEIGHTS, out, seed, "--cfg-scale", "1.5")).err();
        assertTrue(err.contains("cfg_scale 4.0 in the manifest, 1.5 in this command"), err);
        Path otherWeights = tmp.resolve("other.safetensors");
        byte[] w = Files.readAllBytes(GenerateRun.WEIGHTS);
        w[w.length - 1] ^= 1; // one weight bit: other weights
        Files.write(otherWeights, w);
        err = generate(1, GenerateRun.tinyRun(otherWeights, out, seed)).err();
        assertTrue(err.contains("weights_sha256"), err);

        assertEquals(manifest, Files.readString(out.resolve(Manifest.FILE)), "the refused runs changed nothing");
        assertTrue(java.util.Arrays.equals(merged, Files.readAllBytes(out.resolve("samples.npz"))));
        // the batch size and threads are not part of a run: the same run resumes with others
        assertTrue(generate(0, GenerateRun.tinyRun(GenerateRun.WEIGHTS, out, seed, "--batch-size", "3")).out()
                .contains("all 4 shards are complete"));
    }

    @Test
    void badCommandLinesExitTwoBeforeAnythingRuns() {
        Path out = tmp.resolve("never");
        record Case(List<String> args, String message) {}
        for (Case c : List.of(new Case(List.of("--num-samples", "0"), "--num-samples must be in 1.."),
                new Case(List.of("--num-samples", "-5"), "--num-samples must be in 1.."),
                new Case(List.of("--classes", "3,10"), "unknown class 10 (the model has classes 0..9)"),
                new Case(List.of("--classes", "3,x"), "--classes takes 'all' or class numbers"),
                new Case(List.of("--shards", "65"), "--shards must be in 1..N (64), got 65"),
                new Case(List.of("--batch-size", "0"), "--batch-size must be >= 1"),
                new Case(List.of("--master", "mesos://h:5050"), "--master must be local, local[N]"),
                new Case(List.of("--threads", "3"), "--threads must be in 1..2"),
                // a cluster task with more threads than executor cores would wait for resources for ever
                new Case(List.of("--master", "spark://127.0.0.1:1", "--threads", "2"),
                        "--threads 2 on a cluster needs the executor cores: add --conf spark.executor.cores=C"),
                new Case(List.of("--master", "spark://127.0.0.1:1", "--threads", "3", "--conf",
                        "spark.executor.cores=2"), "--threads 3 exceeds the executor cores (spark.executor.cores 2)"),
                // the driver runs in this process: a driver on the cluster is spark-submit's
                new Case(List.of("--master", "yarn", "--conf", "spark.submit.deployMode=cluster"),
                        "spark.submit.deployMode=cluster: ./dyndit generate runs the driver in this process"),
                new Case(List.of("--master", "k8s://https://127.0.0.1:1"), "--master k8s://https://127.0.0.1:1 needs "
                        + "the executors' container image: --conf spark.kubernetes.container.image=IMAGE"),
                new Case(List.of("--master", "k8s://ftp://h", "--conf", "spark.kubernetes.container.image=i"),
                        "--master k8s://ftp://h is not k8s://[https://]HOST[:PORT]"),
                new Case(List.of("--sampler", "euler"), "unknown sampler 'euler'"),
                new Case(List.of("--conf", "spark.ui.enabled"), "--conf takes KEY=VALUE"),
                new Case(List.of("--vae-config", "x.json"), "--vae-config needs --vae"),
                new Case(List.of("--bogus"), "Unknown option: '--bogus'"))) {
            String err = generate(2, GenerateRun.tinyRun(GenerateRun.WEIGHTS, out, 1, c.args().toArray(String[]::new)))
                    .err();
            assertTrue(err.contains(c.message()), c.args() + ": " + err);
            assertTrue(err.contains("Usage:"), err);
        }
        assertFalse(Files.exists(out), "nothing was created");
    }

    @Test
    void runtimeFailuresExitOneWithAPlainMessage() throws IOException {
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        String err = generate(1, GenerateRun.tinyRun(GenerateRun.WEIGHTS, file.resolve("out"), 1)).err();
        assertTrue(err.contains("cannot create --out-dir " + file.resolve("out")), err);
        assertPlain(err);

        err = generate(1, GenerateRun.tinyRun(tmp.resolve("missing.safetensors"), tmp.resolve("o"), 1)).err();
        assertTrue(err.contains("missing.safetensors") && err.contains("no such file"), err);
        assertPlain(err);

        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        long start = System.nanoTime();
        err = generate(1, GenerateRun.tinyRun(GenerateRun.WEIGHTS, tmp.resolve("o"), 1, "--master",
                "spark://127.0.0.1:" + closedPort)).err();
        double seconds = (System.nanoTime() - start) / 1e9;
        assertTrue(err.contains("cannot reach the Spark master spark://127.0.0.1:" + closedPort), err);
        assertPlain(err);
        // a hang guard, not a speed measurement: Spark alone would retry its registration for about a minute
        assertTrue(seconds < 30, "the unreachable master was reported after " + seconds + " s");
    }
}
