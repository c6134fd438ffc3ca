package io.dyndit.spark;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Spark standalone cluster on 127.0.0.1 for tests: a Master and one Worker, each a child JVM started from the Spark
 * jars the module resolves (no Spark distribution: the Worker's SPARK_HOME is an empty stand-in and
 * SPARK_DIST_CLASSPATH gives its executors the same jars). Ephemeral ports, a temporary work directory; {@link #close}
 * ends every child JVM (the Worker's executors too), and a shutdown hook does so if the test JVM ends first.
 *
 * <p>Thread-safety: not thread-safe; one test class drives it.
 */
final class StandaloneCluster implements AutoCloseable {
    private static final Pattern MASTER_URL =
            Pattern.compile("Starting Spark master at (spark://127\\.0\\.0\\.1:\\d+)");
    private static final long START_TIMEOUT_S = 120;

    /** Spark's jars (the module's provided dependencies), as the build copied them for the launcher. */
    static final String SPARK_CLASSPATH = sparkLibClasspath();
    /** The JVM options Spark's launcher gives Java 17 (the pom's spark.jvm.options). */
    static final List<String> SPARK_JVM_OPTIONS = List.of(System.getProperty("dyndit.spark.jvm.options", "")
            .trim().split("\\s+"));

    final Path dir;
    final Path workDir;
    private String masterUrl;
    private final List<Process> children = new ArrayList<>();
    private final Thread hook = new Thread(this::kill, "standalone-cluster-kill");

    private StandaloneCluster(Path dir) throws IOException {
        this.dir = dir;
        this.workDir = Files.createDirectories(dir.resolve("work"));
        Files.createDirectories(dir.resolve("spark-home/jars"));
    }

    /**
     * Starts a Master and a Worker with {@code workerCores} cores under {@code dir}, and waits until the Worker has
     * registered; if any part fails to start, what did start is ended again.
     */
    static StandaloneCluster start(Path dir, int workerCores) throws IOException, InterruptedException {
        StandaloneCluster c = new StandaloneCluster(dir);
        Runtime.getRuntime().addShutdownHook(c.hook);
        try {
            Path masterLog = dir.resolve("master.log"), workerLog = dir.resolve("worker.log");
            Process master = c.start(masterLog, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                    "--port", "0", "--webui-port", "0");
            c.masterUrl = awaitLine(masterLog, MASTER_URL, master).group(1);
            Process worker = c.start(workerLog, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                    "--port", "0", "--webui-port", "0", "--cores", Integer.toString(workerCores), "--memory", "1g",
                    "--work-dir", c.workDir.toString(), c.masterUrl);
            awaitLine(workerLog, Pattern.compile("Successfully registered with master"), worker);
            return c;
        } catch (IOException | InterruptedException | RuntimeException | AssertionError e) {
            c.close();
            throw e;
        }
    }

    /** spark://127.0.0.1:PORT */
    String masterUrl() {
        return masterUrl;
    }

    /** The environment every JVM of the cluster (drivers included) gets: loopback only, Spark from Maven's jars. */
    Map<String, String> environment() {
        return Map.of("SPARK_HOME", dir.resolve("spark-home").toString(), "SPARK_SCALA_VERSION", "2.13",
                "SPARK_DIST_CLASSPATH", SPARK_CLASSPATH, "SPARK_LOCAL_IP", "127.0.0.1", "LD_LIBRARY_PATH", "");
    }

    /**
     * `java -Xmx512m [Spark's JVM options] -cp SPARK_CLASSPATH mainClass args`: a JVM with Spark on its class path
     * (512 MB: the least heap a Spark driver accepts).
     */
    static List<String> sparkJava(String... classAndArgs) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m"));
        cmd.addAll(SPARK_JVM_OPTIONS);
        cmd.addAll(List.of("-cp", SPARK_CLASSPATH));
        cmd.addAll(Arrays.asList(classAndArgs));
        return cmd;
    }

    private Process start(Path log, String... classAndArgs) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(sparkJava(classAndArgs)).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().putAll(environment());
        Process p = pb.start();
        children.add(p);
        return p;
    }

    /** Output of a finished child process. */
    record Finished(int code, String output) {}

    /**
     * Runs {@code command} to its end with the cluster's environment (stdout and stderr into {@code log}); fails the
     * test, ending the process and its children, if it takes longer than {@code timeoutS}.
     */
    Finished run(List<String> command, Map<String, String> moreEnv, Path log, long timeoutS) throws IOException,
            InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(environment());
        pb.environment().putAll(moreEnv);
        Process p = pb.start();
        try {
            if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
                fail(command.get(0) + " did not finish in " + timeoutS + " s:\n" + tail(log));
            }
            return new Finished(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            end(p);
        }
    }

    private static Matcher awaitLine(Path log, Pattern line, Process process) throws IOException,
            InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_TIMEOUT_S);
        while (System.nanoTime() < end) {
            Matcher m = line.matcher(Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "");
            if (m.find()) {
                return m;
            }
            if (!process.isAlive()) {
                fail(log.getFileName() + ": the process ended (exit code " + process.exitValue() + "):\n" + tail(log));
            }
            Thread.sleep(100);
        }
        fail(log.getFileName() + ": no '" + line + "' in " + START_TIMEOUT_S + " s:\n" + tail(log));
        return null;
    }

    static String tail(Path log) throws IOException {
        String s = Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        return s.length() > 6000 ? "..." + s.substring(s.length() - 6000) : s;
    }

    /** Ends the Worker (its executors first), then the Master. */
    @Override
    public void close() {
        kill();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // the JVM is shutting down: the hook runs or ran
        }
    }

    private void kill() {
        for (int i = children.size() - 1; i >= 0; i--) {
            end(children.get(i));
        }
    }

    /** SIGTERM to the process and its descendants, then SIGKILL to whatever still runs after 20 s. */
    private static void end(Process p) {
        List<ProcessHandle> all = new ArrayList<>(p.descendants().toList());
        all.add(p.toHandle());
        all.forEach(ProcessHandle::destroy);
        for (ProcessHandle h : all) {
            try {
                h.onExit().get(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                h.destroyForcibly();
            }
        }
    }

    /** The jars of target/spark-lib as a class path entry (java expands DIR/*). */
    private static String sparkLibClasspath() {
        Path dir = Path.of(System.getProperty("dyndit.spark.lib", "target/spark-lib")).toAbsolutePath();
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("no Spark jars at " + dir + " (copied there by mvn package)");
        }
        return dir + "/*";
    }
}
