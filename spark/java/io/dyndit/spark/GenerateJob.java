package io.dyndit.spark;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction2;
import scala.runtime.BoxedUnit;

/**
 * The driver of a run: checks the out-dir (a manifest of another run is refused; completed shards are verified by
 * checksum and skipped), runs one Spark job with a task per missing shard, records each shard in the manifest as its
 * task reports back (with samples/s and an ETA), then merges {@code samples.npz}.
 *
 * <p>Thread-safety: one run per instance; the manifest is updated under this object's lock (Spark reports results on
 * its scheduler thread).
 */
final class GenerateJob {
    /** How long a failed run waits for its cancelled tasks to stop (each finishes its current batch first). */
    private static final long CANCEL_WAIT_MS = 600_000;
    private final GenerationSettings settings;
    private final Path outDir;
    private final SparkMaster master;
    private final Map<String, String> sparkConf;
    private final PrintStream out;
    private final boolean quiet;
    private Manifest manifest;
    private long startNanos;
    private int samplesToDo, samplesDone, shardsToDo, shardsDone;

    /** {@code master} null: the one spark-submit gave (spark.master), else local mode on every core. */
    GenerateJob(GenerationSettings settings, Path outDir, SparkMaster master, Map<String, String> sparkConf,
            PrintStream out, boolean quiet) {
        this.settings = settings;
        this.outDir = outDir.toAbsolutePath();
        this.master = master;
        this.sparkConf = sparkConf;
        this.out = out;
        this.quiet = quiet;
    }

    /** Generates what is missing (unless {@code mergeOnly}), then writes samples.npz; returns its path. */
    Path run(boolean mergeOnly) {
        prepareOutDir();
        manifest = Manifest.read(outDir);
        Map<String, String> identity = settings.identity();
        if (manifest != null) {
            String diff = manifest.mismatch(identity);
            if (diff != null) {
                throw new GenerateFailure("--out-dir " + outDir + " holds another run (" + diff + "); give an empty "
                        + "or new --out-dir: runs are never mixed");
            }
        } else {
            manifest = new Manifest(identity);
        }
        List<Integer> pending = verifyShards(mergeOnly);
        if (!mergeOnly) { // --merge only reads: the next full run reports what it found itself
            manifest.write(outDir);
        }
        if (mergeOnly && !pending.isEmpty()) {
            throw new GenerateFailure("cannot merge: " + pending.size() + " of " + settings.shards() + " shards are "
                    + "missing or corrupt (" + shardList(pending) + "); rerun without --merge to generate them");
        }
        if (!pending.isEmpty()) {
            generate(pending);
        } else if (!mergeOnly) {
            info("all %d shards are complete", settings.shards());
        }
        Path merged = SampleSetMerge.merge(outDir, settings, manifest);
        info("wrote %s: %d samples (arr_0) and labels (arr_1), indices 0..%d in order", merged,
                settings.numSamples(), settings.numSamples() - 1);
        return merged;
    }

    private void prepareOutDir() {
        try {
            Files.createDirectories(outDir);
        } catch (IOException e) {
            throw new GenerateFailure("cannot create --out-dir " + outDir + ": " + Words.of(e), e);
        }
        if (!Files.isWritable(outDir)) {
            throw new GenerateFailure("--out-dir " + outDir + " is not writable");
        }
    }

    /** Drops manifest entries whose file is missing or changed; returns the shards to (re)generate, in order. */
    private List<Integer> verifyShards(boolean mergeOnly) {
        List<Integer> pending = new ArrayList<>();
        for (int k = 0; k < settings.shards(); k++) {
            Manifest.Entry e = manifest.get(k);
            Path file = outDir.resolve(ShardFile.name(k));
            String problem = null;
            if (e == null) {
                problem = Files.exists(file) ? "not in the manifest (its task did not report back)" : null;
            } else if (!Files.exists(file)) {
                problem = "missing";
            } else if (e.first() != settings.firstIndex(k) || e.count() != settings.shardSize(k)
                    || !e.file().equals(file.getFileName().toString())) {
                problem = "recorded with other indices";
            } else {
                try {
                    problem = ShardFile.sha256(file).equals(e.sha256()) ? null : "corrupt (checksum mismatch)";
                } catch (IOException ex) {
                    problem = "unreadable (" + Words.of(ex) + ")";
                }
            }
            if (e == null || problem != null) {
                if (problem != null) {
                    info("shard %d: %s %s%s", k, file.getFileName(), problem, mergeOnly ? "" : ", regenerating it");
                }
                manifest.remove(k);
                pending.add(k);
            }
        }
        return pending;
    }

    private void generate(List<Integer> pending) {
        SparkConf conf = new SparkConf().setAppName("dyndit generate");
        if (master != null) {
            conf.setMaster(master.url());
        } else if (!conf.contains("spark.master")) {
            conf.setMaster(defaultMaster().url());
        }
        conf.set("spark.task.cpus", Integer.toString(settings.threads())); // executor cores / threads tasks at once
        sparkConf.forEach(conf::set);
        if (!conf.get("spark.master").startsWith("local") && !conf.contains("spark.jars")) {
            conf.set("spark.jars", jobJar()); // spark-submit names its jar; a driver started by ./dyndit ships its own
        }
        if (conf.get("spark.master").equals("yarn") && System.getProperty("spark.master") == null
                && !conf.contains("spark.yarn.jars") && !conf.contains("spark.yarn.archive")) {
            // YARN's containers get Spark from the client: spark-submit's from its distribution, ours from here
            conf.set("spark.yarn.jars", jarDirectory(SparkConf.class).resolve("*.jar").toUri().toString());
        }
        samplesToDo = 0;
        for (int k : pending) {
            samplesToDo += settings.shardSize(k);
        }
        shardsToDo = pending.size();
        info("generating %d samples in %d shard(s) on %s (%d native thread(s) per task)", samplesToDo, shardsToDo,
                conf.get("spark.master"), settings.threads());
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            JavaRDD<Integer> shards = sc.parallelize(pending, pending.size()); // one shard per partition, so a task
            TaskTracker tasks = new TaskTracker(this, pending);
            sc.sc().addSparkListener(tasks);
            startNanos = System.nanoTime();
            try {
                sc.sc().runJob(shards.rdd(), new ShardTask(settings, outDir), new Completed(this),
                        ClassTag$.MODULE$.apply(Manifest.Entry.class));
            } catch (Exception e) { // SparkException is checked but undeclared (Scala)
                // the job's other tasks were cancelled: let them stop (within a batch) before the JVM may exit
                tasks.awaitNoneRunning(CANCEL_WAIT_MS);
                throw e;
            }
        } catch (GenerateFailure e) {
            throw e;
        } catch (Exception e) {
            throw new GenerateFailure("the Spark job failed: " + rootMessage(e) + " (completed shards are kept: "
                    + "rerun the same command to resume)", e);
        }
    }

    /**
     * The jar this driver runs from, which executors fetch from the driver (it holds the job, the core library and
     * the native libraries). Running from class directories works in local mode only.
     */
    private static String jobJar() {
        Path code = codeLocation(GenerateJob.class);
        if (code == null || !Files.isRegularFile(code) || !code.toString().endsWith(".jar")) {
            throw new GenerateFailure("a cluster runs the job from spark/target/dyndit-spark-all.jar, but this driver "
                    + "runs from " + (code != null ? code : "an unknown location") + ": use ./dyndit generate or "
                    + "spark-submit that jar (or --conf spark.jars=JAR)");
        }
        return code.toString();
    }

    /** The directory of the jar {@code c} was loaded from (Spark's: spark/target/spark-lib under ./dyndit). */
    private static Path jarDirectory(Class<?> c) {
        Path code = codeLocation(c);
        if (code == null || !Files.isRegularFile(code)) {
            throw new GenerateFailure("--master yarn: this driver's Spark is not in a jar (" + code + "): set "
                    + "--conf spark.yarn.jars=... or spark.yarn.archive=... to the Spark jars for the containers");
        }
        return code.getParent();
    }

    private static Path codeLocation(Class<?> c) {
        try {
            return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (java.net.URISyntaxException | RuntimeException e) {
            return null;
        }
    }

    /** Local mode on every core, one task at a time with all of them unless --threads says otherwise. */
    private static SparkMaster defaultMaster() {
        try {
            return SparkMaster.parse("local[*]");
        } catch (GenerateUsageException e) {
            throw new IllegalStateException(e); // a constant that parses
        }
    }

    /**
     * Spark wraps a task's failure ("Job aborted due to stage failure: ... : some.Exception: message"); the innermost
     * cause says what went wrong. Its first line, without Java class names.
     */
    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return plainFirstLine(Words.of(root));
    }

    private static String plainFirstLine(String m) {
        int cut = m.indexOf('\n');
        m = cut > 0 ? m.substring(0, cut) : m;
        return JAVA_NAME.matcher(m).replaceAll("");
    }

    private static final java.util.regex.Pattern JAVA_NAME = java.util.regex.Pattern.compile(
            "\\b[a-z][a-z0-9_]*(\\.[a-zA-Z0-9_$]+)+(Exception|Error|Failure)(: )?");

    /** Called by Spark on the driver as each task reports its shard. */
    private synchronized void completed(Manifest.Entry e) {
        manifest.add(e);
        manifest.write(outDir);
        samplesDone += e.count();
        shardsDone++;
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        double rate = samplesDone / Math.max(seconds, 1e-9);
        info("shard %d done (%d/%d shards): %d/%d samples, %.2f samples/s, ETA %s", e.shard(), shardsDone, shardsToDo,
                samplesDone, samplesToDo, rate, duration((samplesToDo - samplesDone) / rate));
    }

    private static String duration(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    }

    private static String shardList(List<Integer> shards) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < shards.size() && i < 10; i++) {
            names.add(Integer.toString(shards.get(i)));
        }
        return "shard " + String.join(", ", names) + (shards.size() > 10 ? ", ..." : "");
    }

    private synchronized void info(String format, Object... args) {
        if (!quiet) {
            out.println(String.format(Locale.ROOT, format, args));
        }
    }

    /**
     * Counts running tasks and reports each failed attempt (Spark retries it, up to spark.task.maxFailures or the F of
     * local[N,F] tries). Events arrive on Spark's listener thread.
     */
    private static final class TaskTracker extends org.apache.spark.scheduler.SparkListener {
        private final GenerateJob job;
        private final List<Integer> shardOfPartition;
        private int running;

        TaskTracker(GenerateJob job, List<Integer> shardOfPartition) {
            this.job = job;
            this.shardOfPartition = List.copyOf(shardOfPartition);
        }

        @Override
        public synchronized void onTaskStart(org.apache.spark.scheduler.SparkListenerTaskStart start) {
            running++;
        }

        synchronized void awaitNoneRunning(long timeoutMs) {
            long end = System.currentTimeMillis() + timeoutMs;
            for (long left = timeoutMs; running > 0 && left > 0; left = end - System.currentTimeMillis()) {
                try {
                    wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }

        @Override
        public void onTaskEnd(org.apache.spark.scheduler.SparkListenerTaskEnd end) {
            synchronized (this) {
                running--;
                notifyAll();
            }
            org.apache.spark.scheduler.TaskInfo t = end.taskInfo();
            if (t != null && t.failed() && !t.killed()) {
                String why = end.reason() instanceof org.apache.spark.ExceptionFailure f ? f.description()
                        : end.reason() instanceof org.apache.spark.TaskFailedReason r ? r.toErrorString() : "killed";
                job.info("shard %d: task attempt %d failed on %s (%s)", shardOfPartition.get(t.index()),
                        t.attemptNumber(), t.host(), plainFirstLine(why));
            }
        }
    }

    /** Spark's result handler: (partition, entry) on the driver. Not serialized (the driver keeps it). */
    private static final class Completed extends AbstractFunction2<Object, Manifest.Entry, BoxedUnit> {
        private final GenerateJob job;

        Completed(GenerateJob job) {
            this.job = job;
        }

        @Override
        public BoxedUnit apply(Object partition, Manifest.Entry entry) {
            job.completed(entry);
            return BoxedUnit.UNIT;
        }
    }
}
