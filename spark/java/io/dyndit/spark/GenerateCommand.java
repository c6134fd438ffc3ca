package io.dyndit.spark;

import io.dyndit.core.Device;
import io.dyndit.core.DynditException;
import io.dyndit.core.Precision;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorFiles;
import io.dyndit.model.CacheSpec;
import io.dyndit.model.DiTConfig;
import io.dyndit.sampling.GenerationRequest;
import io.dyndit.sampling.SamplerType;
import io.dyndit.sampling.SeededNoise;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The options of `dyndit generate` and their checks; the run itself is {@link GenerateJob}. */
@Command(name = "dyndit generate", sortOptions = false, mixinStandardHelpOptions = false,
        description = {"Generate N class-conditional samples in K shards with Apache Spark (local mode in this process "
                + "unless --master names a cluster) and merge them into OUT-DIR/samples.npz (the ADM evaluator's "
                + "layout). Sample i has label CLASSES[i mod |CLASSES|] and noise keyed by (seed, i), whatever the "
                + "sharding; `dyndit sample --seed S --first-index A --labels ...` reproduces any range.",
            "Rerunning the same command resumes: completed shards (manifest.json, SHA-256) are kept."},
        footer = {"", "Exit codes: 0 success, 1 the run failed, 2 bad command line."})
final class GenerateCommand {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help and exit")
    boolean help;

    @Option(names = "--weights", required = true, paramLabel = "FILE", description = "DiT checkpoint (.safetensors or "
            + ".pt); on a cluster, a path every executor can read")
    Path weights;

    @Option(names = "--config", paramLabel = "FILE", description = "model config JSON (default: inferred)")
    Path config;

    @Option(names = "--num-samples", required = true, paramLabel = "N", description = "samples to generate")
    long numSamples;

    @Option(names = "--classes", paramLabel = "all|C,C,...", defaultValue = "all",
            description = "labels used in turn (default: all classes of the model, 0 first)")
    String classes;

    @Option(names = "--sampler", paramLabel = "S", defaultValue = "ddpm",
            description = "ddpm, ddim, dpm++2m or dpm++3m (default: ${DEFAULT-VALUE})")
    String sampler;

    @Option(names = "--steps", paramLabel = "N", description = "sampling steps (default: 250 ddpm, 50 ddim, 25 dpm++)")
    Integer steps;

    @Option(names = "--cfg-scale", paramLabel = "S", description = "guidance scale; 1 = none (default: "
            + GenerationRequest.DEFAULT_CFG_SCALE + ")")
    Double cfgScale;

    @Option(names = "--eta", paramLabel = "E", defaultValue = "0", description = "DDIM eta (default: ${DEFAULT-VALUE})")
    double eta;

    @Option(names = "--cache", paramLabel = "SPEC", defaultValue = "none",
            description = "none, step:THRESHOLD, block:N[,order=1] or token:FRACTION[,refresh=N], as for "
                    + "`sample` (default: ${DEFAULT-VALUE})")
    String cache;

    @Option(names = "--static", description = "DyDiT/DiffCR checkpoints: run the complete model, routers off")
    boolean staticModel;

    @Option(names = "--device", paramLabel = "DEV", defaultValue = "cpu",
            description = "cpu, cuda, cuda:N or cuda-emu, on every executor (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--precision", paramLabel = "P", defaultValue = "tf32",
            description = "CUDA matrix precision: tf32, fp32 or bf16 (default: ${DEFAULT-VALUE})")
    String precision;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "noise seed (default: 0)")
    long seed;

    @Option(names = "--out-dir", required = true, paramLabel = "DIR", description = "shards, manifest.json and "
            + "samples.npz (created if missing; on a cluster, a directory shared by all executors)")
    Path outDir;

    @Option(names = "--vae", paramLabel = "FILE", description = "SD-VAE decoder: samples become uint8 NHWC images")
    Path vae;

    @Option(names = "--vae-config", paramLabel = "FILE", description = "AutoencoderKL config JSON of --vae")
    Path vaeConfig;

    @Option(names = "--shards", paramLabel = "K", description = "shards, one Spark task each (default: N/500, "
            + "at least 1)")
    Integer shards;

    @Option(names = "--batch-size", paramLabel = "B", defaultValue = "16",
            description = "samples per generation call in a task (default: ${DEFAULT-VALUE}); does not change samples")
    int batchSize;

    @Option(names = "--threads", paramLabel = "T", description = "native threads per task, = spark.task.cpus "
            + "(default: all cores of local mode, 1 on a cluster, where more needs spark.executor.cores >= T)")
    Integer threads;

    @Option(names = "--master", paramLabel = "URL", description = "local[N], spark://HOST:PORT, yarn or k8s://URL "
            + "(default: spark-submit's, else local[*])")
    String master;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "a Spark setting (repeatable)")
    List<String> conf;

    @Option(names = "--merge", description = "only merge the complete shards into samples.npz (no generation)")
    boolean merge;

    @Option(names = {"-q", "--quiet"}, description = "no progress lines")
    boolean quiet;

    @Option(names = {"-v", "--verbose"}, description = "on failure, also print the stack trace")
    boolean verbose;

    /** Test switch: the first attempt of this shard's task fails after its first batch (Spark retries it). */
    @Option(names = "--test-fail-shard-once", hidden = true)
    Integer failShardOnce;

    void call(PrintStream out) throws GenerateUsageException {
        if (numSamples < 1 || numSamples > Integer.MAX_VALUE || numSamples - 1 > SeededNoise.MAX_INDEX) {
            throw new GenerateUsageException("--num-samples must be in 1.." + Integer.MAX_VALUE + ", got " + numSamples);
        }
        int n = (int) numSamples;
        int k = shards != null ? shards : Math.max(1, (n + 499) / 500);
        if (k < 1 || k > n) {
            throw new GenerateUsageException("--shards must be in 1..N (" + n + "), got " + k);
        }
        if (batchSize < 1) {
            throw new GenerateUsageException("--batch-size must be >= 1, got " + batchSize);
        }
        if (vaeConfig != null && vae == null) {
            throw new GenerateUsageException("--vae-config needs --vae FILE");
        }
        SparkMaster where = master != null ? SparkMaster.parse(master) : null;
        SparkMaster runsOn = where != null ? where : SparkMaster.submitted(); // else spark-submit's, if any
        Map<String, String> sparkConf = sparkConf();
        Map<String, String> inEffect = settingsInEffect(sparkConf);
        int t = threadsPerTask(runsOn, inEffect);
        SamplerType samplerType;
        try {
            samplerType = SamplerType.parse(sampler);
            CacheSpec.parse(cache);
            Device.parse(device);
            Precision.parse(precision);
            GenerationRequest.builder().labels(new long[] {0}).sampler(samplerType)
                    .steps(steps != null ? steps : samplerType.defaultSteps())
                    .cfgScale(cfgScale != null ? cfgScale : GenerationRequest.DEFAULT_CFG_SCALE).eta(eta).build();
        } catch (DynditException e) {
            throw new GenerateUsageException(e.getMessage());
        }
        if (runsOn != null) {
            runsOn.checkCluster(inEffect, System.getenv());
        }
        DiTConfig model = modelConfig();
        int[] labels = classes(model.numClasses());
        GenerationSettings s = new GenerationSettings(abs(weights), sha256(weights), abs(config), sha256(config),
                abs(vae), sha256(vae), abs(vaeConfig), samplerType.cliName(),
                steps != null ? steps : samplerType.defaultSteps(),
                cfgScale != null ? cfgScale : GenerationRequest.DEFAULT_CFG_SCALE, eta, cache,
                Precision.parse(precision).toString(), Device.parse(device).toString(), staticModel, seed, n, labels, k,
                batchSize, t, failShardOnce != null ? failShardOnce : -1);
        new GenerateJob(s, outDir, where, sparkConf, out, quiet).run(merge);
    }

    /**
     * --threads, checked against the cores a task can get: local mode's, or on a cluster spark.executor.cores (from
     * --conf or spark-submit --executor-cores). A cluster task with more threads than executor cores would never be
     * scheduled (Spark waits for resources for ever), so more than one thread needs the executor cores stated.
     */
    private int threadsPerTask(SparkMaster runsOn, Map<String, String> inEffect) throws GenerateUsageException {
        if (runsOn == null || runsOn.local()) {
            int cores = runsOn != null ? runsOn.localCores() : Runtime.getRuntime().availableProcessors();
            int t = threads != null ? threads : cores;
            if (t < 1 || t > cores) {
                throw new GenerateUsageException("--threads must be in 1.." + cores + " (the cores of local mode), got "
                        + t);
            }
            return t;
        }
        int t = threads != null ? threads : 1;
        String cores = inEffect.get("spark.executor.cores");
        if (t < 1) {
            throw new GenerateUsageException("--threads must be >= 1, got " + t);
        }
        if (t > 1 && cores == null) {
            throw new GenerateUsageException("--threads " + t + " on a cluster needs the executor cores: add --conf "
                    + "spark.executor.cores=C (spark-submit: --executor-cores C) with C >= " + t);
        }
        try {
            if (cores != null && t > Integer.parseInt(cores.trim())) {
                throw new GenerateUsageException("--threads " + t + " exceeds the executor cores (spark.executor.cores "
                        + cores.trim() + "): a task needs as many cores as threads");
            }
        } catch (NumberFormatException e) {
            throw new GenerateUsageException("spark.executor.cores must be a whole number, got '" + cores + "'");
        }
        return t;
    }

    private Map<String, String> sparkConf() throws GenerateUsageException {
        Map<String, String> m = new LinkedHashMap<>();
        if (conf != null) {
            for (String kv : conf) {
                int eq = kv.indexOf('=');
                if (eq <= 0) {
                    throw new GenerateUsageException("--conf takes KEY=VALUE, got '" + kv + "'");
                }
                m.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
        }
        return m;
    }

    /** Spark's settings as the driver will see them: spark-submit's (system properties), then --conf. */
    private static Map<String, String> settingsInEffect(Map<String, String> sparkConf) {
        Map<String, String> all = new LinkedHashMap<>();
        for (String key : System.getProperties().stringPropertyNames()) {
            if (key.startsWith("spark.")) {
                all.put(key, System.getProperty(key));
            }
        }
        all.putAll(sparkConf);
        return all;
    }

    /** The model's config from the JSON or the checkpoint's header (no weights are loaded on the driver). */
    private DiTConfig modelConfig() {
        if (config != null) {
            return DiTConfig.fromJson(config);
        }
        try (TensorFile f = TensorFiles.open(weights)) {
            return DiTConfig.infer(f);
        }
    }

    private int[] classes(int numClasses) throws GenerateUsageException {
        if (classes.equals("all")) {
            int[] all = new int[numClasses];
            for (int c = 0; c < numClasses; c++) {
                all[c] = c;
            }
            return all;
        }
        String[] parts = classes.split(",", -1);
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new GenerateUsageException("--classes takes 'all' or class numbers like 3,7, got '" + parts[i]
                        + "'");
            }
            if (out[i] < 0 || out[i] >= numClasses) {
                throw new GenerateUsageException("--classes: unknown class " + out[i] + " (the model has classes 0.."
                        + (numClasses - 1) + ")");
            }
        }
        return out;
    }

    private static String abs(Path p) {
        return p == null ? null : p.toAbsolutePath().normalize().toString();
    }

    private static String sha256(Path p) {
        if (p == null) {
            return null;
        }
        if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
            throw new GenerateFailure("cannot read " + p + ": " + (Files.isDirectory(p) ? "it is a directory"
                    : Files.exists(p) ? "permission denied" : "no such file"));
        }
        try {
            return ShardFile.sha256(p);
        } catch (IOException e) {
            throw new GenerateFailure("cannot read " + p + ": " + Words.of(e), e);
        }
    }
}
