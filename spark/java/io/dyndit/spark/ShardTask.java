package io.dyndit.spark;

import java.io.Serializable;
import java.nio.file.Path;
import org.apache.spark.TaskContext;
import scala.collection.Iterator;
import scala.runtime.AbstractFunction2;

/**
 * The Spark task: each partition holds one shard number; the task makes that shard on its executor and returns the
 * manifest entry to the driver. Serialized to the executors with the run's settings.
 *
 * <p>Thread-safety: immutable; Spark runs one call per task thread.
 */
final class ShardTask extends AbstractFunction2<TaskContext, Iterator<Integer>, Manifest.Entry>
        implements Serializable {
    private static final long serialVersionUID = 1L;
    private final GenerationSettings settings;
    private final String outDir;

    ShardTask(GenerationSettings settings, Path outDir) {
        this.settings = settings;
        this.outDir = outDir.toAbsolutePath().toString();
    }

    @Override
    public Manifest.Entry apply(TaskContext context, Iterator<Integer> shards) {
        int shard = shards.next();
        if (shards.hasNext()) {
            throw new IllegalStateException("a partition holds more than one shard"); // the driver makes one each
        }
        return ShardGenerator.generate(settings, shard, Path.of(outDir), context.attemptNumber(),
                context::killTaskIfInterrupted);
    }
}
