package io.dyndit.cli;

import io.dyndit.model.DiTConfig;
import io.dyndit.model.DiTMacs;
import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** `dyndit flops`: multiply-accumulates of one forward (one sample), by part. */
final class FlopsCommand implements Main.Command {
    private static final String USAGE = "dyndit flops --model DiT-XL/2 [--input-size 32] [--json]";

    @Override
    public String summary() {
        return "multiply-accumulates of one forward per sample, by part (papers' convention)";
    }

    @Override
    public int run(String[] argv, PrintStream out, PrintStream err) throws UsageException {
        Args a = new Args(argv, Set.of("--model", "--input-size"), Set.of("--json"), USAGE);
        DiTConfig c = DiTConfig.preset(a.required("--model"), a.integer("--input-size", 32));
        Map<String, Double> parts = DiTMacs.breakdown(c);
        double total = DiTMacs.total(c);
        String model = a.required("--model");
        if (a.flag("--json")) {
            StringBuilder s = new StringBuilder("{\"model\":\"").append(model).append("\",\"input_size\":")
                    .append(c.inputSize()).append(",\"tokens\":").append(c.tokens()).append(",\"macs\":")
                    .append(String.format(Locale.ROOT, "%.0f", total)).append(",\"parts\":{");
            int i = 0;
            for (Map.Entry<String, Double> e : parts.entrySet()) {
                s.append(i++ > 0 ? "," : "").append('"').append(e.getKey()).append("\":")
                        .append(String.format(Locale.ROOT, "%.0f", e.getValue()));
            }
            out.println(s.append("}}"));
            return 0;
        }
        out.printf(Locale.ROOT, "%s at %dx%d latent (%d tokens): %.2f GMACs per forward per sample%n", model,
                c.inputSize(), c.inputSize(), c.tokens(), total / 1e9);
        for (Map.Entry<String, Double> e : parts.entrySet()) {
            out.printf(Locale.ROOT, "  %-14s %10.4f G  %5.1f%%%n", e.getKey(), e.getValue() / 1e9,
                    100 * e.getValue() / total);
        }
        return 0;
    }
}
