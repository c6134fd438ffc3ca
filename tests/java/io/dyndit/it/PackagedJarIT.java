package io.dyndit.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The packaged dyndit-all.jar runs on its own: fresh JVM, empty LD_LIBRARY_PATH, its own native libraries. */
class PackagedJarIT {
    @Test
    void infoAndSelfCheckRunFromTheJarAlone() throws Exception {
        String jar = System.getProperty("dyndit.jar", "target/dyndit-all.jar");
        assertTrue(new File(jar).isFile(), "no packaged jar at " + jar);
        Path cache = Path.of("target", "it-javacpp-cache").toAbsolutePath();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(List.of(java, "-Dorg.bytedeco.javacpp.cachedir=" + cache, "-jar", jar,
                "info", "--check"));
        pb.environment().put("LD_LIBRARY_PATH", "");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out");
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("self-check") && out.contains(": ok"), out);
        assertTrue(out.contains("kernels:"), out);
        // the cuda-emu plugin travels in the jar and loads from there (extracted like the other libraries)
        assertTrue(out.contains("self-check cuda-emu") && !out.contains("FAILED"), out);
    }
}
