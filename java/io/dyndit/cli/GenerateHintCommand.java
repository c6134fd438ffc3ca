package io.dyndit.cli;

import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/**
 * `generate` in this jar's command list: the command itself lives in the Spark module (spark/target/
 * dyndit-spark-all.jar, so that library users inherit no Spark); the ./dyndit launcher runs it from there. Run from
 * this jar, it says where to find it (exit code 2).
 *
 * <p>Thread-safety: as every command, one call per instance.
 */
@Command(name = "generate", description = {"N class-conditional samples in shards on Apache Spark (local mode or "
        + "a cluster), merged into one .npz for the ADM evaluator (FID-50K).",
    "Runs from spark/target/dyndit-spark-all.jar: use the ./dyndit launcher ('./dyndit generate --help') or "
        + "spark-submit that jar."})
final class GenerateHintCommand extends CliCommand {
    static final String WHERE = "generate runs on Apache Spark from spark/target/dyndit-spark-all.jar, not from this "
            + "jar: use the ./dyndit launcher ('./dyndit generate --help') or spark-submit that jar (README: "
            + "\"Generate 50K samples on a cluster\")";

    /** The generate options, whatever they are: the hint is the same. */
    @Unmatched
    List<String> ignored;

    @Override
    public Integer call() throws UsageException {
        throw new UsageException(WHERE);
    }
}
