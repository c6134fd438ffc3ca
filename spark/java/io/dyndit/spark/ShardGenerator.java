package io.dyndit.spark;

import io.dyndit.core.LibraryInfo;
import io.dyndit.model.CacheSpec;
import io.dyndit.sampling.DiffusionSampler;
import io.dyndit.sampling.GenerationRequest;
import io.dyndit.sampling.GenerationResult;
import io.dyndit.sampling.NoiseSource;
import io.dyndit.sampling.SamplerType;
import io.dyndit.vae.DecodedImages;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes one shard where a task runs: its global indices in batches of {@code batchSize}, each batch drawing the noise
 * of its global indices ({@link NoiseSource#seeded(long, long)}), so the samples do not depend on the sharding or the
 * batching; decodes them when the run has a VAE; writes the shard file atomically and returns its manifest entry.
 *
 * <p>Thread-safety: stateless static functions; concurrent tasks share the JVM's model, which is safe to share.
 */
final class ShardGenerator {
    /** Logged at INFO as each task starts its shard (an executor's stderr shows which shards it made). */
    static final String STARTED = "dyndit: generating shard";
    private static final Logger LOG = LoggerFactory.getLogger(ShardGenerator.class);

    private ShardGenerator() {}

    /**
     * {@code attempt} 0 is a task's first try (the test switch fails only that one); {@code checkCancelled} runs
     * before each batch and throws when Spark has cancelled the task (so a killed task stops within one batch).
     */
    static Manifest.Entry generate(GenerationSettings s, int shard, Path outDir, int attempt, Runnable checkCancelled) {
        ExecutorModels.Loaded loaded = ExecutorModels.get(s);
        SamplerType sampler = SamplerType.parse(s.sampler());
        CacheSpec cache = CacheSpec.parse(s.cache());
        int first = s.firstIndex(shard), n = s.shardSize(shard);
        // the team size the native library applies on this task thread (it keeps --threads process-wide)
        LOG.info("{} {} (indices {}..{}, attempt {}) on {} native thread(s) with the model of this JVM (loads so far: "
                + "{})", STARTED, shard, first, first + n - 1, attempt, LibraryInfo.query().threads(),
                ExecutorModels.loads());
        long[] labels = new long[n], indices = new long[n];
        float[] latents = null;
        byte[] images = null;
        long[] shape = null;
        for (int b = 0; b < n; b += s.batchSize()) {
            checkCancelled.run();
            int m = Math.min(s.batchSize(), n - b);
            long[] batchLabels = new long[m];
            for (int j = 0; j < m; j++) {
                indices[b + j] = first + b + j;
                labels[b + j] = batchLabels[j] = s.label(first + b + j);
            }
            GenerationRequest r = GenerationRequest.builder().labels(batchLabels).sampler(sampler).steps(s.steps())
                    .cfgScale(s.cfgScale()).eta(s.eta()).noise(NoiseSource.seeded(s.seed(), first + b)).build();
            GenerationResult g = new DiffusionSampler(loaded.model().denoiser(null, cache)).generate(r);
            long[] gs = g.shape();
            if (loaded.vae() != null) {
                DecodedImages d = loaded.vae().decodeLatents(g.samples(), gs);
                byte[] u8 = d.uint8Nhwc();
                if (images == null) {
                    shape = new long[] {n, d.height(), d.width(), 3};
                    images = new byte[Math.multiplyExact(n, u8.length / m)];
                }
                System.arraycopy(u8, 0, images, b * (u8.length / m), u8.length);
            } else {
                float[] z = g.samples();
                if (latents == null) {
                    shape = new long[] {n, gs[1], gs[2], gs[3]};
                    latents = new float[Math.multiplyExact(n, z.length / m)];
                }
                System.arraycopy(z, 0, latents, b * (z.length / m), z.length);
            }
            if (s.failShardOnce() == shard && attempt == 0) {
                throw new GenerateFailure("injected failure (test switch) in shard " + shard + " after its first batch");
            }
        }
        checkCancelled.run();
        String name = ShardFile.name(shard);
        Path file = outDir.resolve(name);
        ShardFile.write(file, new ShardFile.Samples(shape, latents, images), labels, indices);
        try {
            return new Manifest.Entry(shard, first, n, name, ShardFile.sha256(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read back " + file + ": " + Words.of(e), e);
        }
    }
}
