package io.dyndit.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.nio.file.Path;
import java.util.jar.JarFile;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * Spark stays out of what library users get: the core jar holds no Spark, and the job's jar (for spark-submit)
 * holds the job, the core library and its native libraries but not Spark, which the cluster provides.
 */
class PackagingIT {
    private static final Path ROOT = Path.of(System.getProperty("dyndit.root", "..")).toAbsolutePath().normalize();

    private static boolean hasSpark(ZipFile jar) {
        return jar.stream().anyMatch(e -> e.getName().startsWith("org/apache/spark/")
                || e.getName().startsWith("scala/"));
    }

    @Test
    void sparkIsInNeitherJar() throws Exception {
        try (ZipFile core = new ZipFile(ROOT.resolve("target/dyndit-all.jar").toFile())) {
            assertNotNull(core.getEntry("io/dyndit/cli/Main.class"));
            assertFalse(hasSpark(core), "the core jar holds Spark or Scala classes");
        }
        try (JarFile job = new JarFile(ROOT.resolve("spark/target/dyndit-spark-all.jar").toFile())) {
            assertFalse(hasSpark(job), "the job's jar holds Spark or Scala classes (the cluster provides them)");
            for (String entry : new String[] {"io/dyndit/spark/GenerateMain.class", "io/dyndit/model/DiTModel.class",
                "io/dyndit/nativelib/linux-x86_64/libdyndit.so"}) {
                assertNotNull(job.getEntry(entry), entry);
            }
            assertEquals("io.dyndit.spark.GenerateMain", job.getManifest().getMainAttributes().getValue("Main-Class"));
        }
    }
}
