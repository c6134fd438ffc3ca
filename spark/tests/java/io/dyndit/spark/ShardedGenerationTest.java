package io.dyndit.spark;

import static io.dyndit.spark.GenerateRun.generate;
import static io.dyndit.spark.GenerateRun.sample;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.testing.Seeds;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `dyndit generate` in Spark local mode on the tiny golden model: the sharded run equals single-process `sample` runs
 * of the same global indices, and survives failed tasks, deleted shards and corrupt shards.
 */
class ShardedGenerationTest {
    /**
     * Float32 summation order differs when batch composition differs (here batches of 5 in the shards, 16 in `sample`)
     * and the 10-step guided chain amplifies it; the bound, as a relative L2 norm (the tiny random-weight
     * model's latents reach 1e3, so absolute bounds would say nothing about the small values). Measured: 5e-7.
     */
    private static final double BATCH_ORDER_TOLERANCE = 1e-4;

    @TempDir
    Path tmp;

    @Test
    void shardedRunEqualsSingleProcessSampleOfTheSameIndices() throws IOException {
        long seed = Seeds.fresh();
        Path weights = Files.copy(GenerateRun.WEIGHTS, tmp.resolve("weights.safetensors")); // a model no test loaded
        int loadsBefore = ExecutorModels.loads();
        Path out = tmp.resolve("run");
        String stdout = generate(0, GenerateRun.tinyRun(weights, out, seed, "--batch-size", "5")).out();
        assertEquals(1, ExecutorModels.loads() - loadsBefore, "one model load for 4 tasks on one executor JVM");
        assertTrue(stdout.contains("samples/s") && stdout.contains("ETA"), stdout);

        Path merged = out.resolve("samples.npz");
        assertArrayEquals(new long[] {64, 4, 8, 8}, GenerateRun.shape(merged, "arr_0"));
        long[] labels = GenerateRun.longs(merged, "arr_1");
        for (int i = 0; i < 64; i++) {
            assertEquals(i % GenerateRun.CLASSES, labels[i], "label of index " + i + ": the classes in turn");
        }
        float[] all = GenerateRun.floats(merged, "arr_0");
        for (int shard = 0; shard < 4; shard++) {
            int first = 16 * shard;
            long[] shardIndices = GenerateRun.longs(out.resolve(ShardFile.name(shard)), "indices");
            assertEquals(first, shardIndices[0]);
            StringBuilder shardLabels = new StringBuilder();
            for (int i = first; i < first + 16; i++) {
                shardLabels.append(i == first ? "" : ",").append(labels[i]);
            }
            Path single = tmp.resolve("sample-" + shard + ".npz");
            sample(0, "sample", "--weights", weights.toString(), "--config", GenerateRun.CONFIG.toString(), "--labels",
                    shardLabels.toString(), "--first-index", Integer.toString(first), "--seed", Long.toString(seed),
                    "--steps", "10", "--out", tmp.resolve("sample-" + shard + ".safetensors").toString(), "--npz",
                    single.toString(), "-q");
            float[] ref = GenerateRun.floats(single, "arr_0");
            float[] got = Arrays.copyOfRange(all, first * 256, (first + 16) * 256);
            double dev = GenerateRun.relativeL2(got, ref);
            assertTrue(dev <= BATCH_ORDER_TOLERANCE, "shard " + shard + " vs sample --first-index " + first
                    + ": relative L2 " + dev);
        }
        // a different seed is a different set (the comparison above can fail)
        float[] other = Arrays.copyOfRange(all, 0, 16 * 256);
        sample(0, "sample", "--weights", weights.toString(), "--config", GenerateRun.CONFIG.toString(), "--labels",
                "0,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5", "--seed", Long.toString(seed + 1), "--steps", "10", "--out",
                tmp.resolve("other.safetensors").toString(), "--npz", tmp.resolve("other.npz").toString(), "-q");
        assertTrue(GenerateRun.relativeL2(other, GenerateRun.floats(tmp.resolve("other.npz"), "arr_0")) > 0.1);
    }

    /**
     * --cache and --precision reach the executors: each run equals `sample` with the same option (one batch of 8 in
     * both, so the same summation order) and differs from the run without it by far more than the tolerance
     * (measured: block:2 3.7e-2, bf16 5.7e-3 relative L2).
     */
    @Test
    void cacheAndPrecisionReachTheExecutors() throws IOException {
        long seed = Seeds.fresh();
        String labels = "0,1,2,3,4,5,6,7";
        float[] plain = sampleOf(labels, seed, "plain");
        for (List<String> option : List.of(List.of("--cache", "block:2"), List.of("--precision", "bf16"))) {
            String name = option.get(1).replace(':', '-');
            Path out = tmp.resolve("run-" + name);
            String[] args = GenerateRun.tinyRun(GenerateRun.WEIGHTS, out, seed, "--num-samples", "8", "--shards", "1",
                    "--batch-size", "8", option.get(0), option.get(1));
            generate(0, args);
            float[] got = GenerateRun.floats(out.resolve("samples.npz"), "arr_0");
            double same = GenerateRun.relativeL2(got, sampleOf(labels, seed, name, option.get(0), option.get(1)));
            double vsPlain = GenerateRun.relativeL2(got, plain);
            assertTrue(same <= BATCH_ORDER_TOLERANCE, option + ": vs sample with it, relative L2 " + same);
            assertTrue(vsPlain > 10 * BATCH_ORDER_TOLERANCE, option + " changed nothing: relative L2 " + vsPlain);
        }
    }

    /**
     * With --vae, samples.npz is what the ADM evaluator reads: arr_0 uint8 [N,H,W,3] images, arr_1 the labels; the
     * images are `sample --vae`'s. Batches of 4 here, 8 in `sample`: float32 summation order may move a value across
     * a rounding boundary, so a pixel may differ by 1 (measured: none did).
     */
    @Test
    void withVaeTheSetIsUint8ImagesAsSampleDecodesThem() throws IOException {
        long seed = Seeds.fresh();
        Path out = tmp.resolve("run");
        String vae = GenerateRun.VAE.resolve("weights.safetensors").toString();
        String vaeConfig = GenerateRun.VAE.resolve("case.json").toString();
        generate(0, GenerateRun.tinyRun(GenerateRun.WEIGHTS, out, seed, "--num-samples", "8", "--shards", "2",
                "--vae", vae, "--vae-config", vaeConfig));
        Path merged = out.resolve("samples.npz");
        assertArrayEquals(new long[] {8, 64, 64, 3}, GenerateRun.shape(merged, "arr_0"));
        assertArrayEquals(new long[] {0, 1, 2, 3, 4, 5, 6, 7}, GenerateRun.longs(merged, "arr_1"));
        byte[] images = GenerateRun.bytes(merged, "arr_0");

        Path single = tmp.resolve("sample.npz");
        sample(0, "sample", "--weights", GenerateRun.WEIGHTS.toString(), "--config", GenerateRun.CONFIG.toString(),
                "--labels", "0,1,2,3,4,5,6,7", "--seed", Long.toString(seed), "--steps", "10", "--out",
                tmp.resolve("sample.safetensors").toString(), "--vae", vae, "--vae-config", vaeConfig, "--npz",
                single.toString(), "-q");
        byte[] ref = GenerateRun.bytes(single, "arr_0");
        assertEquals(ref.length, images.length);
        int maxDiff = 0, distinct = 0;
        for (int i = 0; i < ref.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs((images[i] & 0xFF) - (ref[i] & 0xFF)));
            distinct += images[i] != images[0] ? 1 : 0;
        }
        assertTrue(maxDiff <= 1, "largest pixel difference to sample --vae: " + maxDiff);
        assertTrue(distinct > ref.length / 2, "the images are not flat");
    }

    /** `dyndit sample` of {@code labels} (indices from 0) with {@code more} options; its latents. */
    private float[] sampleOf(String labels, long seed, String name, String... more) throws IOException {
        Path npz = tmp.resolve("sample-" + name + ".npz");
        List<String> a = new java.util.ArrayList<>(List.of("sample", "--weights", GenerateRun.WEIGHTS.toString(),
                "--config", GenerateRun.CONFIG.toString(), "--labels", labels, "--seed", Long.toString(seed),
                "--steps", "10", "--out", tmp.resolve("sample-" + name + ".safetensors").toString(), "--npz",
                npz.toString(), "-q"));
        a.addAll(List.of(more));
        sample(0, a.toArray(String[]::new));
        return GenerateRun.floats(npz, "arr_0");
    }

    @Test
    void aFailedTaskIsRetriedAndTheResultIsIdentical() throws IOException {
        long seed = Seeds.fresh();
        Path clean = tmp.resolve("clean"), failing = tmp.resolve("failing");
        generate(0, GenerateRun.tinyRun(GenerateRun.WEIGHTS, clean, seed));
        String stdout = generate(0, GenerateRun.tinyRun(GenerateRun.WEIGHTS, failing, seed, "--test-fail-shard-once",
                "2")).out();
        assertTrue(stdout.contains("shard 2: task attempt 0 failed") && stdout.contains("injected failure (test switch)")
                && stdout.contains("4/4 shards"), "the failure happened and was retried: " + stdout);
        assertArrayEquals(GenerateRun.floats(clean.resolve("samples.npz"), "arr_0"),
                GenerateRun.floats(failing.resolve("samples.npz"), "arr_0"));
        assertArrayEquals(GenerateRun.longs(clean.resolve("samples.npz"), "arr_1"),
                GenerateRun.longs(failing.resolve("samples.npz"), "arr_1"));
        try (Stream<Path> files = Files.list(failing)) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no partial file is left");
        }
    }

    @Test
    void failingEveryTryFailsTheRunAndKeepsTheCompletedShards() throws IOException {
        Path out = tmp.resolve("run");
        // local[2,1]: one try per task, so the injected failure of shard 1 ends the job
        String[] args = GenerateRun.tinyRun(GenerateRun.WEIGHTS, out, Seeds.fresh(), "--test-fail-shard-once", "1",
                "--master", "local[2,1]");
        String err = generate(1, args).err();
        assertTrue(err.contains("injected failure") && err.contains("rerun the same command to resume"), err);
        assertFalse(err.contains("Exception"), "no Java class names: " + err);
        assertFalse(Files.exists(out.resolve(ShardFile.name(1))));
        assertFalse(Files.exists(out.resolve("samples.npz")));
        try (Stream<Path> files = Files.list(out)) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no partial file is left");
        }
    }

    @Test
    void deletingOneShardAndRerunningRegeneratesOnlyThatShard() throws IOException {
        long seed = Seeds.fresh();
        Path out = tmp.resolve("run");
        String[] args = GenerateRun.tinyRun(GenerateRun.WEIGHTS, out, seed);
        generate(0, args);
        float[] before = GenerateRun.floats(out.resolve("samples.npz"), "arr_0");
        FileTime[] times = new FileTime[4];
        String[] sums = new String[4];
        for (int k = 0; k < 4; k++) {
            times[k] = Files.getLastModifiedTime(out.resolve(ShardFile.name(k)));
            sums[k] = ShardFile.sha256(out.resolve(ShardFile.name(k)));
        }
        Files.delete(out.resolve(ShardFile.name(1)));
        String stdout = generate(0, args).out();
        assertTrue(stdout.contains("shard 1: shard-00001.npz missing") && stdout.contains("16 samples in 1 shard(s)"),
                stdout);
        for (int k = 0; k < 4; k++) {
            Path f = out.resolve(ShardFile.name(k));
            assertEquals(sums[k], ShardFile.sha256(f), "shard " + k + " content");
            if (k != 1) {
                assertEquals(times[k], Files.getLastModifiedTime(f), "shard " + k + " was not rewritten");
            }
        }
        assertArrayEquals(before, GenerateRun.floats(out.resolve("samples.npz"), "arr_0"));
        assertTrue(generate(0, args).out().contains("all 4 shards are complete"));
    }

    @Test
    void aCorruptShardIsRegeneratedNotMerged() throws IOException {
        long seed = Seeds.fresh();
        Path out = tmp.resolve("run");
        String[] args = GenerateRun.tinyRun(GenerateRun.WEIGHTS, out, seed);
        generate(0, args);
        float[] before = GenerateRun.floats(out.resolve("samples.npz"), "arr_0");
        Path shard = out.resolve(ShardFile.name(2));
        String sum = ShardFile.sha256(shard);
        try (RandomAccessFile f = new RandomAccessFile(shard.toFile(), "rw")) { // one bit of a sample value
            f.seek(f.length() / 3);
            int b = f.read();
            f.seek(f.length() / 3);
            f.write(b ^ 0x10);
        }
        Files.delete(out.resolve("samples.npz"));
        String[] merge = Arrays.copyOf(args, args.length + 1);
        merge[args.length] = "--merge";
        String err = generate(1, merge).err();
        assertTrue(err.contains("shard 2") && err.contains("corrupt"), err);
        assertFalse(Files.exists(out.resolve("samples.npz")), "nothing merged from a corrupt shard");

        String stdout = generate(0, args).out();
        assertTrue(stdout.contains("shard 2: shard-00002.npz corrupt (checksum mismatch), regenerating it"), stdout);
        assertTrue(stdout.contains("16 samples in 1 shard(s)"), stdout);
        assertEquals(sum, ShardFile.sha256(shard));
        assertArrayEquals(before, GenerateRun.floats(out.resolve("samples.npz"), "arr_0"));
    }
}
