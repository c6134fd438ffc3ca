package io.dyndit.spark;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything a generation run is: what the executors need to make a shard, and the identity of the run that a
 * manifest records (so an out-dir never mixes two runs). Paths are absolute strings: on a cluster they must name the
 * same files on every machine (a shared filesystem).
 *
 * <p>Thread-safety: immutable (the class array is copied in and never handed out), safe to share.
 *
 * @param weights       DiT checkpoint
 * @param weightsSha256 its SHA-256, the identity of the weights in the manifest
 * @param config        model config JSON, or null (inferred from the tensors)
 * @param vae           SD-VAE decoder checkpoint, or null (latents are the samples)
 * @param vaeConfig     its config JSON, or null
 * @param sampler       sampler name as the CLI spells it
 * @param cache         cache spec as the CLI spells it
 * @param precision     CUDA matrix precision as the CLI spells it
 * @param device        device as the CLI spells it
 * @param numSamples    N: global indices 0..N-1
 * @param classes       the labels in their fixed order: sample i has label classes[i mod classes.length]
 * @param shards        K: shard k holds indices [k·N/K, (k+1)·N/K)
 * @param batchSize     samples per generation call within a shard (not part of the run's identity)
 * @param threads       native threads per task (not part of the run's identity)
 * @param failShardOnce test switch: the first attempt of this shard fails after its first batch; -1 = off
 */
record GenerationSettings(String weights, String weightsSha256, String config, String configSha256, String vae,
        String vaeSha256, String vaeConfig, String sampler, int steps, double cfgScale, double eta, String cache,
        String precision, String device, boolean staticModel, long seed, int numSamples, int[] classes, int shards,
        int batchSize, int threads, int failShardOnce) implements Serializable {
    GenerationSettings {
        classes = classes.clone();
    }

    @Override
    public int[] classes() {
        return classes.clone();
    }

    /** The label of global sample {@code index}: the classes in turn, so any N spreads evenly (counts differ by 1). */
    long label(long index) {
        return classes[(int) (index % classes.length)];
    }

    /** First global index of shard {@code k}; {@code firstIndex(shards)} = N. */
    int firstIndex(int k) {
        return (int) ((long) k * numSamples / shards);
    }

    int shardSize(int k) {
        return firstIndex(k + 1) - firstIndex(k);
    }

    /** The run's identity as the manifest records it: whatever changes the samples or their sharding. */
    Map<String, String> identity() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("weights_sha256", weightsSha256);
        m.put("config_sha256", configSha256 != null ? configSha256 : "inferred");
        m.put("vae_sha256", vaeSha256 != null ? vaeSha256 : "none");
        m.put("sampler", sampler);
        m.put("steps", Integer.toString(steps));
        m.put("cfg_scale", Double.toString(cfgScale));
        m.put("eta", Double.toString(eta));
        m.put("cache", cache);
        m.put("precision", precision);
        m.put("device", device);
        m.put("static", Boolean.toString(staticModel));
        m.put("seed", Long.toString(seed));
        m.put("num_samples", Integer.toString(numSamples));
        m.put("classes", classesText());
        m.put("shards", Integer.toString(shards));
        return m;
    }

    /** "0-999" for a full range, else the list. */
    String classesText() {
        boolean range = true;
        for (int i = 0; i < classes.length; i++) {
            range &= classes[i] == classes[0] + i;
        }
        if (range && classes.length > 2) {
            return classes[0] + "-" + classes[classes.length - 1];
        }
        StringBuilder s = new StringBuilder();
        for (int c : classes) {
            s.append(s.length() == 0 ? "" : ",").append(c);
        }
        return s.toString();
    }
}
