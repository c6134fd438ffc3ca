package io.dyndit.spark;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.hadoop.yarn.client.api.YarnClient;
import org.apache.hadoop.yarn.conf.HAUtil;
import org.apache.hadoop.yarn.conf.YarnConfiguration;

/**
 * Asks a cluster's manager whether it answers before Spark is started: Spark alone keeps retrying for a minute
 * (standalone), 15 minutes (YARN's ResourceManager) or until its HTTP client gives up (Kubernetes), and then reports
 * the failure in its own terms. One attempt of {@link #ATTEMPT} per address, the whole probe within
 * {@link #LIMIT}; a manager that answers anything (an error, an untrusted certificate, a refused login) counts as
 * reachable, and what it says next is left to Spark.
 *
 * <p>Thread-safety: stateless, safe from any thread; each probe runs on a daemon thread of its own.
 */
final class ClusterProbe {
    static final Duration ATTEMPT = Duration.ofSeconds(5);
    static final Duration LIMIT = Duration.ofSeconds(15);

    private ClusterProbe() {}

    /** A standalone master: one of the listed host:port must accept a connection. */
    static void standalone(String url) {
        List<String> tried = new ArrayList<>();
        for (String hostPort : url.substring("spark://".length()).split(",")) {
            int colon = hostPort.lastIndexOf(':');
            String host = colon > 0 ? hostPort.substring(0, colon) : hostPort;
            int port;
            try {
                port = colon > 0 ? Integer.parseInt(hostPort.substring(colon + 1)) : 7077;
            } catch (NumberFormatException e) {
                throw new GenerateFailure("--master " + url + ": '" + hostPort + "' has no valid port");
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host, port), (int) ATTEMPT.toMillis());
                return;
            } catch (IOException | IllegalArgumentException e) {
                tried.add(hostPort + " (" + Words.of(e) + ")");
            }
        }
        throw new GenerateFailure("cannot reach the Spark master " + url + ": " + String.join(", ", tried));
    }

    /**
     * The directories holding the cluster's core-site.xml and yarn-site.xml, from HADOOP_CONF_DIR and YARN_CONF_DIR
     * in {@code env}: at least one must be set, as spark-submit requires, and each set one must be a directory.
     */
    static List<Path> yarnConfDirs(Map<String, String> env) throws GenerateUsageException {
        List<Path> dirs = new ArrayList<>();
        for (String name : new String[] {"HADOOP_CONF_DIR", "YARN_CONF_DIR"}) {
            String value = env.get(name);
            if (value == null || value.isBlank()) {
                continue;
            }
            Path dir = Path.of(value);
            if (!Files.isDirectory(dir)) {
                throw new GenerateUsageException("--master yarn: " + name + "=" + value + " is not a directory (it "
                        + "should hold the cluster's core-site.xml and yarn-site.xml)");
            }
            dirs.add(dir);
        }
        if (dirs.isEmpty()) {
            throw new GenerateUsageException("--master yarn needs HADOOP_CONF_DIR or YARN_CONF_DIR set to the "
                    + "directory of the cluster's core-site.xml and yarn-site.xml (as spark-submit does)");
        }
        return dirs;
    }

    /**
     * YARN: the ResourceManager named by the Hadoop configuration (the class path's, the *-site.xml files of
     * {@code confDirs}, then spark.hadoop.* settings, as Spark reads it) answers one cluster-metrics call.
     */
    static void yarn(List<Path> confDirs, Map<String, String> sparkConf) {
        YarnConfiguration conf = new YarnConfiguration();
        for (Path dir : confDirs) {
            for (String file : new String[] {"core-site.xml", "yarn-site.xml"}) {
                if (Files.isRegularFile(dir.resolve(file))) {
                    conf.addResource(new org.apache.hadoop.fs.Path(dir.resolve(file).toUri()));
                }
            }
        }
        sparkConf.forEach((k, v) -> {
            if (k.startsWith("spark.hadoop.")) {
                conf.set(k.substring("spark.hadoop.".length()), v);
            }
        });
        // one quick attempt per ResourceManager (Hadoop's defaults retry for 15 minutes); LIMIT bounds the rest
        int attemptMs = (int) ATTEMPT.toMillis();
        conf.setLong(YarnConfiguration.RESOURCEMANAGER_CONNECT_MAX_WAIT_MS, 1000);
        conf.setLong(YarnConfiguration.RESOURCEMANAGER_CONNECT_RETRY_INTERVAL_MS, 1000);
        conf.setLong(YarnConfiguration.CLIENT_FAILOVER_SLEEPTIME_BASE_MS, 100);
        conf.setInt(YarnConfiguration.CLIENT_FAILOVER_MAX_ATTEMPTS, 1);
        conf.setInt("ipc.client.connect.timeout", attemptMs);
        conf.setInt("ipc.client.connect.max.retries", 0);
        conf.setInt("ipc.client.connect.max.retries.on.timeouts", 0);
        conf.setInt("ipc.client.rpc-timeout.ms", attemptMs);
        conf.setBoolean("ipc.client.ping", false);
        String where = "the YARN ResourceManager at " + resourceManagers(conf);
        YarnClient client = YarnClient.createYarnClient();
        try {
            answers(where, () -> {
                client.init(conf);
                client.start();
                return client.getYarnClusterMetrics();
            });
        } finally {
            daemon(client::stop, "yarn-probe-stop").start(); // a call still blocked would hold a plain stop()
        }
    }

    /** The address(es) of the configured ResourceManager(s), for messages. */
    private static String resourceManagers(YarnConfiguration conf) {
        if (!HAUtil.isHAEnabled(conf)) {
            return conf.get(YarnConfiguration.RM_ADDRESS, YarnConfiguration.DEFAULT_RM_ADDRESS);
        }
        List<String> all = new ArrayList<>();
        for (String id : HAUtil.getRMHAIds(conf)) {
            String address = conf.get(HAUtil.addSuffix(YarnConfiguration.RM_ADDRESS, id));
            all.add(address != null ? address : conf.get(HAUtil.addSuffix(YarnConfiguration.RM_HOSTNAME, id)) + ":"
                    + YarnConfiguration.DEFAULT_RM_PORT);
        }
        return String.join(" or ", all);
    }

    /**
     * The API server of {@code k8s://[https://]HOST[:PORT]} (Spark's form: https when no scheme is given) answers an
     * HTTP request for its version; any status, or a TLS certificate this JVM does not trust, counts as an answer
     * (Spark authenticates with the kubeconfig's credentials and CA).
     */
    static void kubernetes(String url) throws GenerateUsageException {
        String rest = url.substring("k8s://".length());
        URI api;
        try {
            api = URI.create(rest.contains("://") ? rest : "https://" + rest);
        } catch (IllegalArgumentException e) {
            throw new GenerateUsageException("--master " + url + " is not k8s://[https://]HOST[:PORT]");
        }
        if (api.getHost() == null || !(api.getScheme().equals("https") || api.getScheme().equals("http"))) {
            throw new GenerateUsageException("--master " + url + " is not k8s://[https://]HOST[:PORT]");
        }
        HttpClient http = HttpClient.newBuilder().connectTimeout(ATTEMPT).build();
        HttpRequest version = HttpRequest.newBuilder(api.resolve("/version")).timeout(ATTEMPT).GET().build();
        answers("the Kubernetes API server at " + api, () -> {
            try {
                http.send(version, HttpResponse.BodyHandlers.discarding());
            } catch (javax.net.ssl.SSLException e) {
                // it speaks TLS with a certificate of the cluster's own CA: it answered
            }
            return null;
        });
    }

    /**
     * Runs {@code call} within {@link #LIMIT}; a connection refused, a host unknown or unreachable, or no answer in
     * time is a {@link GenerateFailure} naming {@code where}; any other outcome means that something answered.
     */
    private static void answers(String where, Callable<?> call) {
        FutureTask<?> task = new FutureTask<>(call);
        daemon(task, "cluster-probe").start();
        try {
            task.get(LIMIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            task.cancel(true);
            throw new GenerateFailure("cannot reach " + where + ": no answer in " + LIMIT.toSeconds() + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GenerateFailure("interrupted while reaching " + where);
        } catch (ExecutionException e) {
            String silence = silence(e.getCause());
            if (silence != null) {
                throw new GenerateFailure("cannot reach " + where + ": " + silence, e.getCause());
            }
        }
    }

    /**
     * Why nothing answered, in fixed words (the exceptions' own messages name Java classes), or null when something
     * did: a timeout, an unknown or unreachable host, or a refused connection anywhere in {@code t}'s chain.
     */
    private static String silence(Throwable t) {
        List<Throwable> chain = new ArrayList<>();
        for (Throwable c = t; c != null && !chain.contains(c); c = c.getCause()) {
            chain.add(c);
        }
        // the most specific first: a refused connection often wraps an unknown host
        if (chain.stream().anyMatch(c -> c instanceof SocketTimeoutException || c instanceof HttpTimeoutException)) {
            return "no answer in " + ATTEMPT.toSeconds() + " s";
        }
        if (chain.stream().anyMatch(c -> c instanceof UnknownHostException || c instanceof UnresolvedAddressException)) {
            return "unknown host";
        }
        if (chain.stream().anyMatch(c -> c instanceof NoRouteToHostException)) {
            return "no route to host";
        }
        return chain.stream().anyMatch(c -> c instanceof ConnectException) ? "connection refused" : null;
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
