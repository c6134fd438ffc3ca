package io.dyndit.cli;

import io.dyndit.model.DiTConfig;
import io.dyndit.model.DiTMacs;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `dyndit flops`: multiply-accumulates of one forward (one sample), by part. */
@Command(name = "flops", sortOptions = false,
        description = "Multiply-accumulates of one forward per sample, by part (papers' convention).")
final class FlopsCommand extends CliCommand {
    @Option(names = "--model", required = true, paramLabel = "NAME", description = "preset, e.g. DiT-XL/2, DiT-S/2")
    String model;

    @Option(names = "--input-size", paramLabel = "I", defaultValue = "32",
            description = "latent size (256x256 images: 32; default: ${DEFAULT-VALUE})")
    int inputSize;

    @Option(names = "--json", description = "one JSON object instead of the table")
    boolean json;

    @Override
    public Integer call() {
        DiTConfig c = DiTConfig.preset(model, inputSize);
        Map<String, Double> parts = DiTMacs.breakdown(c);
        double total = DiTMacs.total(c);
        if (json) {
            StringBuilder s = new StringBuilder("{\"model\":\"").append(model).append("\",\"input_size\":")
                    .append(c.inputSize()).append(",\"tokens\":").append(c.tokens()).append(",\"macs\":")
                    .append(String.format(Locale.ROOT, "%.0f", total)).append(",\"parts\":{");
            int i = 0;
            for (Map.Entry<String, Double> e : parts.entrySet()) {
                s.append(i++ > 0 ? "," : "").append('"').append(e.getKey()).append("\":")
                        .append(String.format(Locale.ROOT, "%.0f", e.getValue()));
            }
            console.out.println(s.append("}}"));
            return Main.OK;
        }
        console.out.printf(Locale.ROOT, "%s at %dx%d latent (%d tokens): %.2f GMACs per forward per sample%n", model,
                c.inputSize(), c.inputSize(), c.tokens(), total / 1e9);
        for (Map.Entry<String, Double> e : parts.entrySet()) {
            console.out.printf(Locale.ROOT, "  %-14s %10.4f G  %5.1f%%%n", e.getKey(), e.getValue() / 1e9,
                    100 * e.getValue() / total);
        }
        return Main.OK;
    }
}
