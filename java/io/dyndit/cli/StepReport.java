package io.dyndit.cli;

import io.dyndit.io.AtomicOutput;
import io.dyndit.io.CheckpointException;
import io.dyndit.sampling.GenerationResult;
import io.dyndit.sampling.StepStats;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * `sample --report DIR`: compute per step as a plot (compute.png) and a table (steps.csv). The plot has no text (a
 * headless machine may have no fonts): top panel, executed GMACs per step as blue bars under the static forward's
 * level (grey line); bottom panel, seconds per step as orange bars; both scaled to their panel's maximum.
 */
final class StepReport {
    private static final int W = 800, H = 480, PAD = 30;

    private StepReport() {}

    static void write(Path dir, GenerationResult g) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new CheckpointException("cannot create directory " + dir + ": " + e.getMessage(), e);
        }
        List<StepStats> steps = g.steps();
        double staticPerStep = g.staticMacs() / Math.max(1, steps.size());
        StringBuilder csv = new StringBuilder("step,timestep,seconds,executed_gmacs,static_gmacs\n");
        for (StepStats s : steps) {
            csv.append(String.format(Locale.ROOT, "%d,%d,%.6f,%.6f,%.6f%n", s.step(), s.timestep(), s.seconds(),
                    s.macs() / 1e9, staticPerStep / 1e9));
        }
        AtomicOutput.write(dir.resolve("steps.csv"), tmp -> {
            try {
                Files.writeString(tmp, csv, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new CheckpointException("cannot write " + dir.resolve("steps.csv") + ": " + e.getMessage(), e);
            }
        });
        BufferedImage img = plot(steps, staticPerStep);
        AtomicOutput.write(dir.resolve("compute.png"), tmp -> {
            try {
                if (!javax.imageio.ImageIO.write(img, "png", tmp.toFile())) {
                    throw new CheckpointException("no PNG writer available for " + dir.resolve("compute.png"));
                }
            } catch (IOException e) {
                throw new CheckpointException("cannot write " + dir.resolve("compute.png") + ": " + e.getMessage(), e);
            }
        });
    }

    static BufferedImage plot(List<StepStats> steps, double staticPerStep) {
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D gr = img.createGraphics();
        try {
            gr.setColor(Color.WHITE);
            gr.fillRect(0, 0, W, H);
            int n = Math.max(1, steps.size()), panel = (H - 3 * PAD) / 2, barW = Math.max(1, (W - 2 * PAD) / n - 2);
            double maxMacs = staticPerStep, maxSec = 0;
            for (StepStats s : steps) {
                maxMacs = Math.max(maxMacs, s.macs());
                maxSec = Math.max(maxSec, s.seconds());
            }
            for (int i = 0; i < steps.size(); i++) {
                StepStats s = steps.get(i);
                int x = PAD + i * (W - 2 * PAD) / n;
                int hm = (int) Math.round(panel * s.macs() / Math.max(1e-30, maxMacs));
                gr.setColor(new Color(0x1f77b4));
                gr.fillRect(x, PAD + panel - hm, barW, hm);
                int hs = (int) Math.round(panel * s.seconds() / Math.max(1e-30, maxSec));
                gr.setColor(new Color(0xff7f0e));
                gr.fillRect(x, 2 * PAD + 2 * panel - hs, barW, hs);
            }
            gr.setColor(Color.GRAY);
            gr.setStroke(new BasicStroke(2));
            int ys = PAD + panel - (int) Math.round(panel * staticPerStep / Math.max(1e-30, maxMacs));
            gr.drawLine(PAD, ys, W - PAD, ys);
            gr.setColor(Color.BLACK);
            gr.setStroke(new BasicStroke(1));
            gr.drawLine(PAD, PAD + panel, W - PAD, PAD + panel);
            gr.drawLine(PAD, 2 * PAD + 2 * panel, W - PAD, 2 * PAD + 2 * panel);
            gr.drawLine(PAD, PAD, PAD, PAD + panel);
            gr.drawLine(PAD, 2 * PAD + panel, PAD, 2 * PAD + 2 * panel);
        } finally {
            gr.dispose();
        }
        return img;
    }
}
