package io.dyndit.spark;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;

/**
 * Failures in plain words for the command line: the message without Java class names, the cause's when the
 * exception itself says nothing.
 *
 * <p>Thread-safety: stateless, safe from any thread.
 */
final class Words {
    private Words() {}

    static String of(Throwable t) {
        if (t instanceof NoSuchFileException f) {
            return f.getFile() + ": no such file or directory";
        }
        if (t instanceof AccessDeniedException f) {
            return f.getFile() + ": permission denied";
        }
        if (t instanceof FileSystemException f && f.getReason() != null) {
            return f.getFile() + ": " + f.getReason();
        }
        String m = t.getMessage();
        if (m != null && !m.isBlank()) {
            return m;
        }
        if (t.getCause() != null && t.getCause() != t) {
            return of(t.getCause());
        }
        if (t instanceof OutOfMemoryError) {
            return "out of Java heap memory (raise -Xmx)";
        }
        return t instanceof IOException ? "input/output error" : "unexpected failure (run with --verbose for details)";
    }
}
