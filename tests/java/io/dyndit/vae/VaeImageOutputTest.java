package io.dyndit.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The uint8 conversion's rounding, clamping and layout, and PNGs that read back pixel for pixel. */
class VaeImageOutputTest {
    @TempDir
    Path dir;

    @Test
    void uint8AddsOneTwentyEightClampsAndTruncates() {
        // 127.5*x + 128: x = 0 -> 128; -1 -> 0.5 -> 0; 1 -> 255.5 -> clamp 255; -1.004 -> <0 -> 0
        // 0.5 -> 191.75 -> 191 and -0.5 -> 64.25 -> 64 (truncation, not rounding)
        float[] x = {0f, -1f, 1f, -1.004f, 0.5f, -0.5f, 3.5f, -0.9999f, Float.NaN};
        int[] want = {128, 0, 255, 0, 191, 64, 255, 0, 0};
        for (int i = 0; i < x.length; i++) {
            assertEquals(want[i], Uint8Images.toByte(x[i]) & 0xFF, "x = " + x[i]);
        }
    }

    @Test
    void uint8IsNhwc() {
        // n=1, c=3, h=1, w=2: channel planes [r0 r1][g0 g1][b0 b1]
        float[] img = {0f, 1f, -1f, 0f, 1f, -1f};
        byte[] out = Uint8Images.toNhwc(img, 1, 3, 1, 2);
        assertArrayEquals(new byte[] {(byte) 128, 0, (byte) 255, (byte) 255, (byte) 128, 0}, out);
    }

    @Test
    void pngsReadBackExactly() throws Exception {
        int n = 3, h = 5, w = 7;
        byte[] px = new byte[n * h * w * 3];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (i * 37);
        }
        List<Path> files = PngImages.writeEach(dir.resolve("png"), px, n, h, w);
        assertEquals(3, files.size());
        assertEquals("000002.png", files.get(2).getFileName().toString());
        for (int i = 0; i < n; i++) {
            BufferedImage img = ImageIO.read(files.get(i).toFile());
            assertEquals(w, img.getWidth());
            assertEquals(h, img.getHeight());
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int at = ((i * h + y) * w + x) * 3;
                    int want = (px[at] & 0xFF) << 16 | (px[at + 1] & 0xFF) << 8 | (px[at + 2] & 0xFF);
                    assertEquals(want, img.getRGB(x, y) & 0xFFFFFF, "image " + i + " at " + x + "," + y);
                }
            }
        }
        Path grid = dir.resolve("grid.png");
        PngImages.writeGrid(grid, px, n, h, w, 2);
        BufferedImage g = ImageIO.read(grid.toFile());
        assertEquals(2 * (w + 2) + 2, g.getWidth());
        assertEquals(2 * (h + 2) + 2, g.getHeight());
        int at = ((2 * h + 1) * w + 3) * 3;  // image 2 (row 1, col 0), pixel (3, 1)
        assertEquals((px[at] & 0xFF) << 16 | (px[at + 1] & 0xFF) << 8 | (px[at + 2] & 0xFF),
                g.getRGB(2 + 3, 2 + h + 2 + 1) & 0xFFFFFF);
        assertEquals(0, g.getRGB(0, 0) & 0xFFFFFF);
    }
}
