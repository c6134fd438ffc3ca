package io.dyndit.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** tests/cli/check-cli.sh against the packaged jar: exit codes 0/2/1 and plain messages, as a user's shell sees them. */
class CliConventionsIT {
    @Test
    void checkCliScriptPassesOnThePackagedJar() throws Exception {
        String jar = System.getProperty("dyndit.jar", "target/dyndit-all.jar");
        assertTrue(new File(jar).isFile(), "no packaged jar at " + jar);
        Path cache = Path.of("target", "it-javacpp-cache").toAbsolutePath();
        ProcessBuilder pb = new ProcessBuilder(List.of("bash", "tests/cli/check-cli.sh", jar));
        pb.environment().put("LD_LIBRARY_PATH", "");
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("DYNDIT_JAVA_OPTS", "-Dorg.bytedeco.javacpp.cachedir=" + cache);
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "timed out");
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("checks passed"), out);
    }
}
