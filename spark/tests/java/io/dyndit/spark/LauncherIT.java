package io.dyndit.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ./dyndit launcher: its top-level help lists generate, it says what to do when Spark's jars are gone, and its
 * Spark has the YARN and Kubernetes cluster managers, whose missing settings and silent servers it reports.
 */
class LauncherIT {
    private static final Path ROOT = Path.of(System.getProperty("dyndit.root", "..")).toAbsolutePath().normalize();

    @TempDir
    Path tmp;

    private record Finished(int code, String output) {}

    private static Finished bash(Path script, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash", script.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out: " + out);
        return new Finished(p.exitValue(), out);
    }

    @Test
    void topLevelHelpListsGenerate() throws Exception {
        Finished f = bash(ROOT.resolve("dyndit"), "--help");
        assertEquals(0, f.code(), f.output());
        assertTrue(f.output().matches("(?s).*\\n\\s+generate\\s+N class-conditional samples in shards on Apache "
                + "Spark.*"), f.output());
    }

    /** A built checkout whose spark/target/spark-lib lost Spark (a partly cleaned target, say). */
    @Test
    void sparkJarsMissingFromTheBundleAreReportedWithTheFix() throws Exception {
        Path root = tmp.resolve("checkout");
        Files.createDirectories(root.resolve("target"));
        Files.createDirectories(root.resolve("spark/target/spark-lib"));
        Path launcher = Files.copy(ROOT.resolve("dyndit"), root.resolve("dyndit"));
        Files.writeString(root.resolve("target/dyndit-all.jar"), "");
        Files.writeString(root.resolve("spark/target/dyndit-spark-all.jar"), "");
        Finished f = bash(launcher, "generate", "--help");
        assertEquals(1, f.code(), f.output());
        assertTrue(f.output().contains("dyndit generate: Spark's jars are missing from " + root
                + "/spark/target/spark-lib: run 'mvn -DskipTests package' in " + root), f.output());
        assertFalse(f.output().contains("Exception"), f.output());
    }

    /** `./dyndit generate` of the tiny model on {@code master}, with {@code env} in place of HADOOP/YARN_CONF_DIR. */
    private Finished generateOn(Map<String, String> env, String master, String... more) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash", ROOT.resolve("dyndit").toString(), "generate", "--weights",
                GenerateRun.WEIGHTS.toString(), "--config", GenerateRun.CONFIG.toString(), "--num-samples", "4",
                "--out-dir", tmp.resolve("out").toString(), "--master", master));
        cmd.addAll(List.of(more));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("HADOOP_CONF_DIR");
        pb.environment().remove("YARN_CONF_DIR");
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out: " + out);
        assertFalse(out.contains("Exception") || out.contains("\tat "), "no Java class names or stack: " + out);
        assertFalse(Files.exists(tmp.resolve("out")), "nothing was created: " + out);
        return new Finished(p.exitValue(), out);
    }

    /**
     * --master yarn through the launcher: its class path has Spark's YARN cluster manager (the checks after that one
     * run) and the cluster's configuration directory; a missing directory is a command-line error, a
     * ResourceManager that does not answer a run error, within seconds.
     */
    @Test
    void yarnIsFoundAndItsMissingConfigurationOrUnreachableResourceManagerReported() throws Exception {
        Finished f = generateOn(Map.of(), "yarn");
        assertEquals(2, f.code(), f.output());
        assertTrue(f.output().contains("dyndit generate: --master yarn needs HADOOP_CONF_DIR or YARN_CONF_DIR set to "
                + "the directory of the cluster's core-site.xml and yarn-site.xml (as spark-submit does)"), f.output());

        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        Path conf = Files.createDirectories(tmp.resolve("hadoop-conf"));
        Files.writeString(conf.resolve("yarn-site.xml"), "<?xml version=\"1.0\"?>\n<configuration><property><name>"
                + "yarn.resourcemanager.address</name><value>127.0.0.1:" + closed + "</value></property>"
                + "</configuration>\n");
        long start = System.nanoTime();
        f = generateOn(Map.of("HADOOP_CONF_DIR", conf.toString()), "yarn");
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(1, f.code(), f.output());
        assertTrue(f.output().contains("dyndit generate: error: cannot reach the YARN ResourceManager at 127.0.0.1:"
                + closed + ": connection refused"), f.output());
        // a hang guard, not a speed measurement: Hadoop's client alone retries for 15 minutes
        assertTrue(seconds < 60, "reported after " + seconds + " s");
    }

    /** --master k8s://: the executors' image is required (exit 2); an API server that refuses is a run error. */
    @Test
    void kubernetesIsFoundAndItsMissingImageOrUnreachableApiServerReported() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        String master = "k8s://https://127.0.0.1:" + closed;
        Finished f = generateOn(Map.of(), master);
        assertEquals(2, f.code(), f.output());
        assertTrue(f.output().contains("dyndit generate: --master " + master + " needs the executors' container "
                + "image: --conf spark.kubernetes.container.image=IMAGE (Spark "), f.output());
        f = generateOn(Map.of(), master, "--conf", "spark.kubernetes.container.image=apache/spark");
        assertEquals(1, f.code(), f.output());
        assertTrue(f.output().contains("dyndit generate: error: cannot reach the Kubernetes API server at https://"
                + "127.0.0.1:" + closed + ": connection refused"), f.output());
    }
}
