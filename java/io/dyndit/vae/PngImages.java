package io.dyndit.vae;

import io.dyndit.core.DynditException;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * PNG files from uint8 NHWC RGB batches (the form {@link Uint8Images} produces).
 *
 * <p>Thread-safety: stateless static functions, safe to call from any thread.
 */
public final class PngImages {
    private PngImages() {}

    /** Writes image i of the batch as {@code dir/%06d.png} (DiT's sample_ddp.py naming); returns the paths. */
    public static List<Path> writeEach(Path dir, byte[] nhwc, int n, int h, int w) {
        checkSize(nhwc, n, h, w);
        createDirs(dir);
        List<Path> paths = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Path p = dir.resolve(String.format(Locale.ROOT, "%06d.png", i));
            write(p, toImage(nhwc, i, h, w));
            paths.add(p);
        }
        return paths;
    }

    /**
     * The whole batch as one grid image, {@code columns} per row with 2 black pixels between and around images
     * (torchvision save_image's layout, as DiT's sample.py writes sample.png).
     */
    public static void writeGrid(Path file, byte[] nhwc, int n, int h, int w, int columns) {
        checkSize(nhwc, n, h, w);
        if (columns < 1) {
            throw new IllegalArgumentException("grid needs at least one column, got " + columns);
        }
        int cols = Math.min(columns, Math.max(n, 1)), rows = (n + cols - 1) / cols, pad = 2;
        BufferedImage grid = new BufferedImage(cols * (w + pad) + pad, Math.max(rows, 1) * (h + pad) + pad,
                BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < n; i++) {
            int x0 = pad + (i % cols) * (w + pad), y0 = pad + (i / cols) * (h + pad);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    grid.setRGB(x0 + x, y0 + y, rgb(nhwc, ((i * h + y) * w + x) * 3));
                }
            }
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            createDirs(parent);
        }
        write(file, grid);
    }

    private static BufferedImage toImage(byte[] nhwc, int index, int h, int w) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, rgb(nhwc, ((index * h + y) * w + x) * 3));
            }
        }
        return img;
    }

    private static int rgb(byte[] px, int at) {
        return (px[at] & 0xFF) << 16 | (px[at + 1] & 0xFF) << 8 | (px[at + 2] & 0xFF);
    }

    private static void checkSize(byte[] nhwc, int n, int h, int w) {
        if ((long) n * h * w * 3 != nhwc.length) {
            throw new IllegalArgumentException(nhwc.length + " bytes do not hold " + n + " RGB images of " + h + "x" + w);
        }
    }

    private static void createDirs(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new DynditException("cannot create directory " + dir + ": " + e, e);
        }
    }

    private static void write(Path file, BufferedImage img) {
        try {
            if (!ImageIO.write(img, "png", file.toFile())) {
                throw new DynditException("no PNG writer available in this Java runtime");
            }
        } catch (IOException e) {
            throw new DynditException("cannot write " + file + ": " + e, e);
        }
    }
}
