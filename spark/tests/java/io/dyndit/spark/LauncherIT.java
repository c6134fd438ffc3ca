package io.dyndit.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ./dyndit launcher: its top-level help lists generate, and it says what to do when Spark's jars are gone. */
class LauncherIT {
    private static final Path ROOT = Path.of(System.getProperty("dyndit.root", "..")).toAbsolutePath().normalize();

    @TempDir
    Path tmp;

    private record Finished(int code, String output) {}

    private static Finished bash(Path script, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("bash", script.toString()));
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

    /** A built checkout whose Spark jars left the local Maven repository (a cleaned ~/.m2, say). */
    @Test
    void sparkJarsMissingFromTheMavenRepositoryAreReportedWithTheFix() throws Exception {
        Path root = tmp.resolve("checkout");
        Files.createDirectories(root.resolve("target"));
        Files.createDirectories(root.resolve("spark/target"));
        Path launcher = Files.copy(ROOT.resolve("dyndit"), root.resolve("dyndit"));
        Files.writeString(root.resolve("target/dyndit-all.jar"), "");
        Files.writeString(root.resolve("spark/target/dyndit-spark-all.jar"), "");
        Path gone = tmp.resolve("m2/org/apache/spark/spark-core_2.13/4.1.3/spark-core_2.13-4.1.3.jar");
        Files.writeString(root.resolve("spark/target/spark-classpath.txt"), gone + ":" + launcher);
        Finished f = bash(launcher, "generate", "--help");
        assertEquals(1, f.code(), f.output());
        assertTrue(f.output().contains("dyndit generate: Spark is no longer in the local Maven repository (" + gone
                + " is gone): run 'mvn -DskipTests package' in " + root), f.output());
        assertFalse(f.output().contains("Exception"), f.output());
    }
}
