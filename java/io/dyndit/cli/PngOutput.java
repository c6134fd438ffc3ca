package io.dyndit.cli;

import io.dyndit.io.CheckpointException;
import io.dyndit.io.AtomicOutput;
import io.dyndit.vae.DecodedImages;
import io.dyndit.vae.PngImages;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * PNGs written all or nothing per file: the images go to a hidden directory inside the target, then each is
 * renamed into place, so no half-written PNG is ever visible and a failure leaves the existing ones untouched.
 */
final class PngOutput {
    private PngOutput() {}

    /** One PNG per image (000000.png, ...) into {@code dir}; with {@code grid}, also grid.png of the batch. */
    static List<Path> write(Path dir, DecodedImages images, boolean grid) {
        byte[] nhwc = images.uint8Nhwc();
        int n = images.n(), h = images.height(), w = images.width();
        try {
            Files.createDirectories(dir);
            Path staging = Files.createTempDirectory(dir, ".png-");
            List<Path> written = new ArrayList<>();
            try {
                for (Path p : PngImages.writeEach(staging, nhwc, n, h, w)) {
                    Path target = dir.resolve(p.getFileName());
                    move(p, target);
                    written.add(target);
                }
            } finally {
                try (Stream<Path> left = Files.list(staging)) {
                    for (Path p : (Iterable<Path>) left::iterator) {
                        Files.deleteIfExists(p);
                    }
                }
                Files.deleteIfExists(staging);
            }
            if (grid) {
                Path g = dir.resolve("grid.png");
                AtomicOutput.write(g, t -> PngImages.writeGrid(t, nhwc, n, h, w, (int) Math.ceil(Math.sqrt(n))));
                written.add(g);
            }
            return written;
        } catch (IOException e) {
            throw new CheckpointException("cannot write PNGs to " + dir + ": " + ErrorMessages.ioWords(e), e);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
