package io.dyndit.spark;

import java.util.Map;
import java.util.ServiceLoader;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.scheduler.ExternalClusterManager;

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
     * Before Spark starts, for a cluster: its cluster manager is on the class path (yarn, k8s://), what it needs is
     * set, and it answers within seconds ({@link ClusterProbe}); otherwise a plain error (exit 2 for a missing setting,
     * 1 for a cluster that cannot be used). {@code sparkConf}: the settings in effect (spark-submit's and --conf).
     * Nothing is probed in spark-submit's cluster deploy mode: this driver runs on the cluster already.
     */
    void checkCluster(Map<String, String> sparkConf, Map<String, String> env) throws GenerateUsageException {
        if (local) {
            return;
        }
        if (sparkConf.getOrDefault("spark.submit.deployMode", "client").equals("cluster")) {
            if (System.getProperty("spark.master") == null) {
                throw new GenerateUsageException("spark.submit.deployMode=cluster: ./dyndit generate runs the driver "
                        + "in this process; for a driver on the cluster, spark-submit --deploy-mode cluster the job's "
                        + "jar");
            }
            return;
        }
        if (url.startsWith("spark://")) {
            ClusterProbe.standalone(url);
        } else if (url.equals("yarn")) {
            requireClusterManager(Thread.currentThread().getContextClassLoader(), "spark-yarn_2.13");
            ClusterProbe.yarn(ClusterProbe.yarnConfDirs(env), sparkConf);
        } else if (url.startsWith("k8s://")) {
            requireClusterManager(Thread.currentThread().getContextClassLoader(), "spark-kubernetes_2.13");
            if (!sparkConf.containsKey("spark.kubernetes.container.image")
                    && !sparkConf.containsKey("spark.kubernetes.executor.container.image")) {
                throw new GenerateUsageException("--master " + url + " needs the executors' container image: --conf "
                        + "spark.kubernetes.container.image=IMAGE (Spark " + sparkVersion() + ", Scala 2.13, Java 17+)");
            }
            ClusterProbe.kubernetes(url);
        }
    }

    /**
     * Spark finds the YARN and Kubernetes cluster managers through ServiceLoader; without the module on the class
     * path it would only say that it cannot parse the master URL.
     */
    void requireClusterManager(ClassLoader loader, String module) {
        for (ExternalClusterManager m : ServiceLoader.load(ExternalClusterManager.class, loader)) {
            if (m.canCreate(url)) {
                return;
            }
        }
        throw new GenerateFailure("this Spark has no cluster manager for --master " + url + ": the driver's class path "
                + "lacks org.apache.spark:" + module + ":" + sparkVersion() + " (./dyndit generate has it in spark/target/spark-lib/; spark-submit: a Spark distribution built "
                + "with it)");
    }

    /** The version of the Spark this JVM runs. */
    static String sparkVersion() {
        return org.apache.spark.package$.MODULE$.SPARK_VERSION();
    }
}
