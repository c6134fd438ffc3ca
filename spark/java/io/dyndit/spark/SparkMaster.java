package io.dyndit.spark;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The --master value: local mode ({@code local}, {@code local[N]}, {@code local[*]}, {@code local[N,F]}) or a cluster
 * ({@code spark://host:port[,host:port]}, {@code yarn}, {@code k8s://...}). Local mode gets task retries (Spark's
 * plain {@code local[N]} tries a task once): {@code local[N]} runs as {@code local[N,4]}.
 *
 * <p>Thread-safety: immutable.
 */
record SparkMaster(String url, boolean local, int localCores) {
    static final int LOCAL_TASK_TRIES = 4;
    private static final Pattern LOCAL = Pattern.compile("local(?:\\[(\\*|\\d+)(?:,(\\d+))?])?");

    static SparkMaster parse(String text) throws GenerateUsageException {
        Matcher m = LOCAL.matcher(text);
        if (m.matches()) {
            int cores = m.group(1) == null ? 1 : m.group(1).equals("*") ? Runtime.getRuntime().availableProcessors()
                    : Integer.parseInt(m.group(1));
            int tries = m.group(2) != null ? Integer.parseInt(m.group(2)) : LOCAL_TASK_TRIES;
            if (cores < 1 || tries < 1) {
                throw new GenerateUsageException("--master " + text + ": cores and task tries must be >= 1");
            }
            return new SparkMaster("local[" + cores + "," + tries + "]", true, cores);
        }
        if (text.startsWith("spark://") || text.equals("yarn") || text.startsWith("k8s://")) {
            return new SparkMaster(text, false, 0);
        }
        throw new GenerateUsageException("--master must be local, local[N], local[*], spark://HOST:PORT, yarn or "
                + "k8s://URL, got '" + text + "'");
    }

    /**
     * The master spark-submit gave this driver (its spark.master property), or null outside spark-submit. A master
     * this class does not know (Spark's test-only local-cluster[...], say) counts as a cluster.
     */
    static SparkMaster submitted() {
        String url = System.getProperty("spark.master");
        if (url == null) {
            return null;
        }
        try {
            return parse(url);
        } catch (GenerateUsageException e) {
            return new SparkMaster(url, false, 0);
        }
    }

    /**
     * For a standalone master, fails fast when no listed host:port accepts a connection (Spark itself retries for a
     * minute before giving up); other cluster managers are left to Spark.
     */
    void checkReachable() {
        if (!url.startsWith("spark://")) {
            return;
        }
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
                s.connect(new InetSocketAddress(host, port), 5000);
                return;
            } catch (IOException | IllegalArgumentException e) {
                tried.add(hostPort + " (" + Words.of(e) + ")");
            }
        }
        throw new GenerateFailure("cannot reach the Spark master " + url + ": " + String.join(", ", tried));
    }
}
