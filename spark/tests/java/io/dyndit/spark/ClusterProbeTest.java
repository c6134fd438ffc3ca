package io.dyndit.spark;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checks before Spark starts on a cluster: the YARN and Kubernetes cluster managers are found, a missing setting
 * is named, and a ResourceManager or API server that refuses, or accepts and stays silent, is reported within
 * {@link ClusterProbe#LIMIT} (Spark alone retries for minutes); a server that answers anything passes.
 */
class ClusterProbeTest {
    /** A hang guard, not a speed measurement: one attempt of 5 s, the whole probe bounded at 15 s. */
    private static final double BOUND_S = 30;

    @TempDir
    Path tmp;

    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Accepts connections and never writes a byte: a host that is up but whose service does not answer. */
    private static final class SilentServer implements AutoCloseable {
        final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final List<Socket> accepted = new ArrayList<>();
        private final Thread acceptor = new Thread(() -> {
            try {
                while (true) {
                    Socket s = socket.accept();
                    synchronized (accepted) {
                        accepted.add(s);
                    }
                }
            } catch (IOException e) {
                // closed
            }
        });

        SilentServer() throws IOException {
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            socket.close();
            synchronized (accepted) {
                for (Socket s : accepted) {
                    s.close();
                }
            }
        }
    }

    private static GenerateFailure failsWithin(org.junit.jupiter.api.function.Executable probe) {
        long start = System.nanoTime();
        GenerateFailure f = assertThrows(GenerateFailure.class, probe);
        double seconds = (System.nanoTime() - start) / 1e9;
        assertTrue(seconds < BOUND_S, "reported after " + seconds + " s: " + f.getMessage());
        assertTrue(!f.getMessage().contains("Exception") && !f.getMessage().contains("java."), f.getMessage());
        return f;
    }

    @Test
    void theYarnAndKubernetesClusterManagersAreFoundAndTheirAbsenceIsNamed() throws Exception {
        SparkMaster yarn = SparkMaster.parse("yarn"), k8s = SparkMaster.parse("k8s://https://127.0.0.1:6443");
        ClassLoader here = getClass().getClassLoader();
        assertDoesNotThrow(() -> yarn.requireClusterManager(here, "spark-yarn_2.13"));
        assertDoesNotThrow(() -> k8s.requireClusterManager(here, "spark-kubernetes_2.13"));
        try (URLClassLoader bare = new URLClassLoader(new URL[0], null)) { // a Spark built without either
            String m = assertThrows(GenerateFailure.class, () -> yarn.requireClusterManager(bare, "spark-yarn_2.13"))
                    .getMessage();
            assertEquals("this Spark has no cluster manager for --master yarn: the driver's class path lacks "
                    + "org.apache.spark:spark-yarn_2.13:" + SparkMaster.sparkVersion() + " (./dyndit generate has it "
                    + "in spark/target/spark-lib/; spark-submit: a Spark distribution built with it)", m);
        }
    }

    @Test
    void yarnNeedsTheClustersConfigurationDirectoryAsSparkSubmitDoes() throws Exception {
        String m = assertThrows(GenerateUsageException.class, () -> ClusterProbe.yarnConfDirs(Map.of())).getMessage();
        assertTrue(m.startsWith("--master yarn needs HADOOP_CONF_DIR or YARN_CONF_DIR set"), m);
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        m = assertThrows(GenerateUsageException.class,
                () -> ClusterProbe.yarnConfDirs(Map.of("YARN_CONF_DIR", file.toString()))).getMessage();
        assertTrue(m.contains("YARN_CONF_DIR=" + file + " is not a directory"), m);
        Path a = Files.createDirectories(tmp.resolve("hadoop")), b = Files.createDirectories(tmp.resolve("yarn"));
        assertEquals(List.of(a, b), ClusterProbe.yarnConfDirs(Map.of("HADOOP_CONF_DIR", a.toString(), "YARN_CONF_DIR",
                b.toString(), "HOME", "/")));
    }

    /** A yarn-site.xml as a cluster's HADOOP_CONF_DIR holds it. */
    private Path yarnSite(String... nameValues) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("conf-" + System.nanoTime()));
        StringBuilder xml = new StringBuilder("<?xml version=\"1.0\"?>\n<configuration>\n");
        for (int i = 0; i < nameValues.length; i += 2) {
            xml.append("  <property><name>").append(nameValues[i]).append("</name><value>").append(nameValues[i + 1])
                    .append("</value></property>\n");
        }
        Files.writeString(dir.resolve("yarn-site.xml"), xml.append("</configuration>\n"));
        return dir;
    }

    @Test
    void aResourceManagerThatRefusesOrStaysSilentIsReportedInBoundedTime() throws Exception {
        int closed = closedPort();
        Path conf = yarnSite("yarn.resourcemanager.address", "127.0.0.1:" + closed);
        String m = failsWithin(() -> ClusterProbe.yarn(List.of(conf), Map.of())).getMessage();
        assertEquals("cannot reach the YARN ResourceManager at 127.0.0.1:" + closed + ": connection refused", m);

        try (SilentServer silent = new SilentServer()) {
            // --conf spark.hadoop.* wins over the file, as in Spark's own Hadoop configuration
            m = failsWithin(() -> ClusterProbe.yarn(List.of(conf), Map.of("spark.hadoop.yarn.resourcemanager.address",
                    "127.0.0.1:" + silent.port()))).getMessage();
            assertTrue(m.startsWith("cannot reach the YARN ResourceManager at 127.0.0.1:" + silent.port() + ": no "
                    + "answer in "), m);
        }

        Path ha = yarnSite("yarn.resourcemanager.ha.enabled", "true", "yarn.resourcemanager.ha.rm-ids", "rm1,rm2",
                "yarn.resourcemanager.address.rm1", "127.0.0.1:" + closed, "yarn.resourcemanager.hostname.rm2",
                "127.0.0.1");
        m = failsWithin(() -> ClusterProbe.yarn(List.of(ha), Map.of())).getMessage();
        assertTrue(m.startsWith("cannot reach the YARN ResourceManager at 127.0.0.1:" + closed + " or 127.0.0.1:8032: "),
                m);
    }

    @Test
    void aKubernetesApiServerThatRefusesOrStaysSilentIsReportedInBoundedTime() throws Exception {
        int closed = closedPort();
        String m = failsWithin(() -> ClusterProbe.kubernetes("k8s://https://127.0.0.1:" + closed)).getMessage();
        assertEquals("cannot reach the Kubernetes API server at https://127.0.0.1:" + closed + ": connection refused",
                m);
        try (SilentServer silent = new SilentServer()) {
            // no scheme: https, as Spark reads k8s://HOST:PORT
            m = failsWithin(() -> ClusterProbe.kubernetes("k8s://127.0.0.1:" + silent.port())).getMessage();
            assertTrue(m.startsWith("cannot reach the Kubernetes API server at https://127.0.0.1:" + silent.port()
                    + ": no answer in "), m);
            m = failsWithin(() -> ClusterProbe.kubernetes("k8s://http://127.0.0.1:" + silent.port())).getMessage();
            assertTrue(m.contains("http://127.0.0.1:" + silent.port() + ": no answer in "), m);
        }
        for (String bad : new String[] {"k8s://", "k8s://ftp://127.0.0.1:1", "k8s://https://a b"}) {
            m = assertThrows(GenerateUsageException.class, () -> ClusterProbe.kubernetes(bad)).getMessage();
            assertEquals("--master " + bad + " is not k8s://[https://]HOST[:PORT]", m);
        }
    }

    /**
     * Any answer passes: an HTTP status without credentials, or TLS with a certificate of the cluster's own CA (here a
     * self-signed one, made by the JDK's keytool), which this JVM does not trust but Spark's client will.
     */
    @Test
    void anApiServerThatAnswersAnythingPasses() throws Exception {
        HttpServer plain = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        HttpsServer tls = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        tls.setHttpsConfigurator(new HttpsConfigurator(selfSignedTls()));
        for (HttpServer server : List.of(plain, tls)) {
            server.createContext("/version", x -> {
                x.sendResponseHeaders(401, -1);
                x.close();
            });
            server.start();
        }
        try {
            assertDoesNotThrow(() -> ClusterProbe.kubernetes("k8s://http://127.0.0.1:" + plain.getAddress().getPort()));
            assertDoesNotThrow(() -> ClusterProbe.kubernetes("k8s://127.0.0.1:" + tls.getAddress().getPort()));
        } finally {
            plain.stop(0);
            tls.stop(0);
        }
    }

    private SSLContext selfSignedTls() throws Exception {
        Path store = tmp.resolve("api-server.p12");
        char[] password = "changeit".toCharArray();
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "api", "-keyalg", "EC", "-dname", "CN=127.0.0.1", "-validity", "1",
                "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", new String(password))
                .redirectErrorStream(true).start();
        String out = new String(keytool.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, keytool.waitFor(), out);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(store)) {
            ks.load(in, password);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, password);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        return ctx;
    }
}
