package io.dyndit.io;

/** Shared pieces of copying checkpoint bytes out of a file that may change underneath. */
final class SafeCopy {
    /** Small enough to stay in cache between a read and the checksum that follows it. */
    static final int CHUNK = 1 << 20;

    private SafeCopy() {
    }

    static CheckpointChangedException changed(ByteSource source, String what, Throwable cause) {
        return new CheckpointChangedException(source.name() + " changed or was truncated while reading " + what
                + " (" + source.sizeChange() + "); reopen it once it is complete", cause);
    }
}
