package io.dyndit.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.testing.Seeds;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `dyndit generate` on a real Spark standalone cluster (a Master and a Worker as child JVMs on 127.0.0.1), driven
 * through the ./dyndit launcher and through SparkSubmit with the packaged dyndit-spark-all.jar as the README's
 * spark-submit line does. Each run equals the local-mode run of the same indices; its executor loaded the native
 * library from the jar (into an empty JavaCPP cache: nothing installed) and the model once for all its tasks.
 */
class StandaloneClusterIT {
    private static final Path ROOT = Path.of(System.getProperty("dyndit.root", "..")).toAbsolutePath().normalize();
    private static final Path JOB_JAR = ROOT.resolve("spark/target/dyndit-spark-all.jar");
    private static final int SHARDS = 4;
    /** The bound for other batch compositions (relative L2, as in ShardedGenerationTest). */
    private static final double BATCH_ORDER_TOLERANCE = 1e-4;
    /** Each run's executors extract the native libraries into their own JavaCPP cache, empty at the start. */
    private static final String EXECUTOR_CACHE = "spark.executor.extraJavaOptions=-Dorg.bytedeco.javacpp.cachedir=";
    private static final Pattern NATIVE_FROM = Pattern.compile("native library \\S+ from (\\S+)\\)");

    @TempDir
    static Path tmp;
    private static StandaloneCluster cluster;
    private static long seed;
    private static Path localRun;

    @BeforeAll
    static void localReferenceAndCluster() throws IOException, InterruptedException {
        seed = Seeds.fresh();
        localRun = tmp.resolve("local");
        // in this JVM, local mode, 2 shards (the cluster runs make 4): the same global indices
        GenerateRun.generate(0, args(localRun, "--master", "local[2]", "--shards", "2", "--threads", "1")
                .toArray(String[]::new));
        cluster = StandaloneCluster.start(tmp.resolve("cluster"), 2);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** The tiny golden model: 16 samples, 10 steps, {@code more} after. */
    private static List<String> args(Path outDir, String... more) {
        List<String> a = new ArrayList<>(List.of("--weights", GenerateRun.WEIGHTS.toString(), "--config",
                GenerateRun.CONFIG.toString(), "--num-samples", "16", "--shards", Integer.toString(SHARDS), "--steps",
                "10", "--seed", Long.toString(seed), "--out-dir", outDir.toString(), "--conf",
                "spark.ui.enabled=false"));
        a.addAll(List.of(more));
        return a;
    }

    @Test
    void theLauncherRunsTheJobOnTheCluster() throws Exception {
        Path out = tmp.resolve("launcher"), cache = tmp.resolve("javacpp-launcher");
        List<String> cmd = new ArrayList<>(List.of("bash", ROOT.resolve("dyndit").toString(), "generate"));
        cmd.addAll(args(out, "--master", cluster.masterUrl(), "--threads", "1", "--batch-size", "3", "--conf",
                "spark.executor.memory=512m", "--conf", EXECUTOR_CACHE + cache));
        Set<Path> appsBefore = apps();
        Map<String, String> driverJvm = Map.of("DYNDIT_JAVA_OPTS", "-Xmx512m -Dorg.bytedeco.javacpp.cachedir="
                + tmp.resolve("javacpp-driver"));
        StandaloneCluster.Finished run = cluster.run(cmd, driverJvm, tmp.resolve("launcher.log"), 300);
        assertEquals(0, run.code(), run.output());
        assertGenerated(out, run.output(), "1 native thread(s) per task");
        assertExecutorLog(newApp(appsBefore), cache, 1);
    }

    /** The README's spark-submit line, with this cluster's master and sizes (2 threads on 2 executor cores). */
    @Test
    void sparkSubmitOfThePackagedJarRunsTheJob() throws Exception {
        Path out = tmp.resolve("submit"), cache = tmp.resolve("javacpp-submit");
        List<String> cmd = StandaloneCluster.sparkJava("org.apache.spark.deploy.SparkSubmit", "--master",
                cluster.masterUrl(), "--class", "io.dyndit.spark.GenerateMain", "--executor-cores", "2",
                "--executor-memory", "512m", "--conf", "spark.executor.memoryOverhead=256m", "--conf",
                "spark.task.maxFailures=4", "--conf", EXECUTOR_CACHE + cache, JOB_JAR.toString());
        cmd.addAll(args(out, "--threads", "2"));
        Set<Path> appsBefore = apps();
        StandaloneCluster.Finished run = cluster.run(cmd, Map.of(), tmp.resolve("submit.log"), 300);
        assertEquals(0, run.code(), run.output());
        assertGenerated(out, run.output(), "2 native thread(s) per task");
        assertExecutorLog(newApp(appsBefore), cache, 2);
    }

    /** spark-submit to a master nobody listens on: a plain error line, exit code 1, without Spark's minute of retries. */
    @Test
    void anUnreachableMasterOfSparkSubmitFailsAtOnce() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        List<String> cmd = StandaloneCluster.sparkJava("org.apache.spark.deploy.SparkSubmit", "--master",
                "spark://127.0.0.1:" + closedPort, "--class", "io.dyndit.spark.GenerateMain", JOB_JAR.toString());
        cmd.addAll(args(tmp.resolve("unreachable")));
        // 60 s bounds a JVM start plus the 5 s connect timeout; Spark alone would retry for about a minute more
        StandaloneCluster.Finished run = cluster.run(cmd, Map.of(), tmp.resolve("unreachable.log"), 60);
        assertEquals(1, run.code(), run.output());
        String line = run.output().lines().filter(l -> l.startsWith("dyndit generate: error:")).findFirst()
                .orElse(run.output());
        assertTrue(line.contains("cannot reach the Spark master spark://127.0.0.1:" + closedPort), line);
        assertFalse(line.contains("Exception"), line);
    }

    /** The driver's progress lines, and samples.npz equal to the local-mode run's. */
    private static void assertGenerated(Path out, String output, String threads) throws IOException {
        assertTrue(output.contains("on " + cluster.masterUrl() + " (" + threads + ")"), output);
        assertTrue(output.contains("4/4 shards") && output.contains("samples/s") && output.contains("ETA"), output);
        Path merged = out.resolve("samples.npz"), reference = localRun.resolve("samples.npz");
        assertArrayEquals(GenerateRun.shape(reference, "arr_0"), GenerateRun.shape(merged, "arr_0"));
        assertArrayEquals(GenerateRun.longs(reference, "arr_1"), GenerateRun.longs(merged, "arr_1"));
        double dev = GenerateRun.relativeL2(GenerateRun.floats(merged, "arr_0"),
                GenerateRun.floats(reference, "arr_0"));
        assertTrue(dev <= BATCH_ORDER_TOLERANCE, "cluster run vs local mode: relative L2 " + dev);
    }

    /**
     * The application's executors (one here: 2 worker cores) made all shards, each loaded the model once, and the
     * native library came from the JavaCPP cache the executor was given, empty before: extracted from the jar.
     */
    private static void assertExecutorLog(Path app, Path cache, int threads) throws IOException {
        int shards = 0, mostOnOneExecutor = 0;
        try (Stream<Path> executors = Files.list(app)) {
            for (Path executor : executors.filter(Files::isDirectory).toList()) {
                String log = Files.readString(executor.resolve("stderr"), StandardCharsets.UTF_8);
                int started = count(log, ShardGenerator.STARTED), loads = count(log, ExecutorModels.LOADED);
                shards += started;
                mostOnOneExecutor = Math.max(mostOnOneExecutor, started);
                if (started == 0) {
                    continue;
                }
                assertEquals(1, loads, executor + ": one model load for " + started + " tasks\n" + log);
                assertEquals(started, count(log, " on " + threads + " native thread(s) with the model"),
                        "each task ran with --threads native threads\n" + log);
                Matcher m = NATIVE_FROM.matcher(log);
                assertTrue(m.find(), log);
                Path lib = Path.of(m.group(1));
                assertTrue(lib.startsWith(cache) && lib.getFileName().toString().startsWith("libdyndit.so")
                        && Files.isRegularFile(lib), "libdyndit loaded from " + lib + ", not from " + cache);
            }
        }
        assertEquals(SHARDS, shards, "one task per shard, none failed");
        assertTrue(mostOnOneExecutor >= 2, "an executor ran several tasks: " + mostOnOneExecutor);
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    private static Set<Path> apps() throws IOException {
        try (Stream<Path> s = Files.list(cluster.workDir)) {
            return s.collect(Collectors.toSet());
        }
    }

    /** The one application directory the Worker made since {@code before}. */
    private static Path newApp(Set<Path> before) throws IOException {
        Set<Path> now = apps();
        now.removeAll(before);
        assertEquals(1, now.size(), "one new application on the cluster: " + now);
        return now.iterator().next();
    }
}
