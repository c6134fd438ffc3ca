package io.dyndit.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * Spark stays out of what library users get: the core jar holds no Spark, and the job's jar (for spark-submit)
 * holds the job, the core library and its native libraries but not Spark, which the cluster provides. The launcher's
 * own Spark is the build's spark/target/spark-lib: Spark with the YARN and Kubernetes cluster managers, and none of
 * dyndit.
 */
class PackagingIT {
    private static final Path ROOT = Path.of(System.getProperty("dyndit.root", "..")).toAbsolutePath().normalize();
    private static final String CLUSTER_MANAGERS = "META-INF/services/org.apache.spark.scheduler.ExternalClusterManager";

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

    @Test
    void theLocalSparkBundleHasSparkAndItsClusterManagers() throws Exception {
        List<Path> jars;
        try (Stream<Path> s = Files.list(ROOT.resolve("spark/target/spark-lib"))) {
            jars = s.filter(p -> p.toString().endsWith(".jar")).sorted().toList();
        }
        List<String> managers = new ArrayList<>();
        boolean sparkContext = false, scala = false;
        for (Path jar : jars) {
            assertFalse(jar.getFileName().toString().startsWith("dyndit"), "dyndit in Spark's bundle: " + jar);
            try (ZipFile z = new ZipFile(jar.toFile())) {
                sparkContext |= z.getEntry("org/apache/spark/SparkContext.class") != null;
                scala |= z.getEntry("scala/Predef.class") != null;
                assertTrue(z.getEntry("io/dyndit/") == null, "dyndit classes in " + jar);
                ZipEntry services = z.getEntry(CLUSTER_MANAGERS);
                if (services != null) {
                    managers.addAll(lines(z, services));
                }
            }
        }
        assertTrue(sparkContext && scala, "spark-lib lacks Spark core or Scala: " + jars);
        assertTrue(managers.contains("org.apache.spark.scheduler.cluster.YarnClusterManager"), managers.toString());
        assertTrue(managers.contains("org.apache.spark.scheduler.cluster.k8s.KubernetesClusterManager"),
                managers.toString());
    }

    private static List<String> lines(ZipFile z, ZipEntry e) throws IOException {
        try (InputStream in = z.getInputStream(e)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().map(String::strip)
                    .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        }
    }
}
