package io.dyndit.io;

/** Shape text for error messages, capped: a hostile file can claim a rank of millions. */
final class Shapes {
    static final int SHOWN_DIMS = 8;

    private Shapes() {
    }

    /** "[2, 3]" for short shapes; the first dims then "... (N dims)]" for long ones. */
    static String describe(long[] shape) {
        StringBuilder text = new StringBuilder("[");
        int shown = shape.length <= 2 * SHOWN_DIMS ? shape.length : SHOWN_DIMS;
        for (int i = 0; i < shown; i++) {
            text.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        if (shown < shape.length) {
            text.append(", ... (").append(shape.length).append(" dims)");
        }
        return text.append(']').toString();
    }
}
