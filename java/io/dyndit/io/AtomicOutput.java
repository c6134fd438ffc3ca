package io.dyndit.io;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * Writes a file all or nothing: the content goes to a temporary file in the target's directory, which is then moved
 * over the target; on any failure the temporary file is deleted and the target is untouched.
 *
 * <p>Thread-safety: stateless static functions, safe from any thread; two writers of the same target race (the last
 * move wins).
 */
public final class AtomicOutput {
    private AtomicOutput() {}

    /** Checks now, before a long computation, that {@code target} can be written later; throws CheckpointException. */
    public static void checkWritable(Path target) {
        Path dir = directoryOf(target);
        if (Files.isDirectory(target)) {
            throw new CheckpointException("cannot write " + target + ": it is a directory");
        }
        if (!Files.isDirectory(dir)) {
            throw new CheckpointException("cannot write " + target + ": directory " + dir + " does not exist");
        }
        if (!Files.isWritable(dir)) {
            throw new CheckpointException("cannot write " + target + ": directory " + dir + " is not writable");
        }
    }

    /** Calls {@code writer} with a temporary path next to {@code target}, then moves it into place. */
    public static void write(Path target, Consumer<Path> writer) {
        checkWritable(target);
        Path tmp;
        try {
            tmp = newTemporary(target);
        } catch (IOException e) {
            throw new CheckpointException("cannot write " + target + ": " + plain(e), e);
        }
        boolean moved = false;
        try {
            writer.accept(tmp);
            try {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            moved = true;
        } catch (IOException e) {
            throw new CheckpointException("cannot write " + target + ": " + plain(e), e);
        } finally {
            if (!moved) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the original error is the one to report
                }
            }
        }
    }

    /**
     * An empty file beside {@code target}, created with the default permissions (the umask's, as a direct write would
     * get; Files.createTempFile would make it owner-only).
     */
    private static Path newTemporary(Path target) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path tmp = directoryOf(target).resolve("." + target.getFileName() + "."
                    + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + ".tmp");
            try {
                return Files.createFile(tmp);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 100) {
                    throw e;
                }
            }
        }
    }

    /** An I/O failure in words, without the exception's class name. */
    static String plain(IOException e) {
        return io.dyndit.internal.IoWords.of(e);
    }

    private static Path directoryOf(Path target) {
        Path parent = target.toAbsolutePath().getParent();
        return parent != null ? parent : target.toAbsolutePath();
    }
}
