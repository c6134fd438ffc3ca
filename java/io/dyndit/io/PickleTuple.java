package io.dyndit.io;

import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * An unpickled Python tuple. Tuples are immutable and built only from values that already exist, so their nesting
 * depth and their size counted as a tree (shared sub-tuples counted each time they occur) are known at construction.
 * Both are capped, which keeps hashing and equality (tuples can be dict keys) cheap and shallow on hostile input:
 * without the tree-size cap, 64 tuples that each hold the previous one twice would take 2^64 steps to compare.
 */
final class PickleTuple {
    static final int MAX_DEPTH = 64;
    static final long MAX_TREE_SIZE = 1 << 20;

    private final List<Object> items;
    private final int depth;
    private final long treeSize;
    private final boolean hashable;

    private PickleTuple(List<Object> items, int depth, long treeSize, boolean hashable) {
        this.items = items;
        this.depth = depth;
        this.treeSize = treeSize;
        this.hashable = hashable;
    }

    /** Builds a tuple, or returns null when it would exceed {@link #MAX_DEPTH} or {@link #MAX_TREE_SIZE}. */
    static PickleTuple of(List<Object> items) {
        int depth = 1;
        long treeSize = 1;
        boolean hashable = true;
        for (Object item : items) {
            if (item instanceof PickleTuple tuple) {
                depth = Math.max(depth, 1 + tuple.depth);
                treeSize += tuple.treeSize;
                hashable &= tuple.hashable;
            } else {
                treeSize += 1;
                hashable &= isHashable(item);
            }
            if (depth > MAX_DEPTH || treeSize > MAX_TREE_SIZE) {
                return null;
            }
        }
        return new PickleTuple(Collections.unmodifiableList(items), depth, treeSize, hashable);
    }

    /** Python's rule, restricted to what an unpickler can build: mutable containers cannot be dict keys. */
    static boolean isHashable(Object value) {
        if (value instanceof PickleTuple tuple) {
            return tuple.hashable;
        }
        return !(value instanceof Map) && !(value instanceof List);
    }

    List<Object> items() {
        return items;
    }

    int size() {
        return items.size();
    }

    Object get(int index) {
        return items.get(index);
    }

    @Override
    public boolean equals(Object other) {
        return this == other || (other instanceof PickleTuple tuple && items.equals(tuple.items));
    }

    @Override
    public int hashCode() {
        return items.hashCode();
    }

    @Override
    public String toString() {
        return "tuple of " + items.size();
    }
}
