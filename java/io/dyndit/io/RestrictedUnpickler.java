package io.dyndit.io;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A pickle reader that interprets data only. It understands the opcodes that torch.save emits (protocol 2, plus the
 * few later ones that carry plain data) and resolves globals through an allow-list: a global that is not on it stops
 * loading with {@link UnsafePickleException} at the GLOBAL opcode, before anything could refer to it. Allowed globals
 * are Java stand-ins, so nothing from the file is ever imported or executed.
 *
 * <p>Python values map to: str - String, int - Long (BigInteger beyond 64 bits), float - Double, bool - Boolean,
 * None - null, bytes - byte[], tuple - {@link PickleTuple}, list - ArrayList, dict - LinkedHashMap.
 *
 * <p>Memory is bounded whatever the pickle says: one-byte opcodes such as DUP, MEMOIZE and EMPTY_DICT could
 * otherwise turn a few MiB into gigabytes of Java objects. Everything that grows is counted against fixed caps (memo
 * entries, stack size, MARK depth, values created plus items stored in containers), each far above what a real
 * checkpoint's data.pkl needs (about twenty per tensor) and each also bounded by the pickle's own length.
 */
final class RestrictedUnpickler {
    static final int MAX_MEMO = 1 << 20;
    static final int MAX_STACK = 1 << 20;
    static final int MAX_MARKS = 1 << 16;
    static final long MAX_VALUES = 8L << 20;

    private final String source;
    private final Function<String, Object> globals;
    private final Function<Object, Object> persistentLoad;

    private ByteBuffer in;
    private int opcodeOffset;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();
    /** Values created and items stored in containers so far, against MAX_VALUES. */
    private long values;

    /**
     * @param source         names the pickle in error messages (e.g. "model.pt (archive/data.pkl)")
     * @param globals        maps "module.name" to its Java stand-in, or to null when the global is not allowed
     * @param persistentLoad resolves BINPERSID ids (PyTorch storages)
     */
    RestrictedUnpickler(String source, Function<String, Object> globals, Function<Object, Object> persistentLoad) {
        this.source = source;
        this.globals = globals;
        this.persistentLoad = persistentLoad;
    }

    /** Interprets the pickle up to STOP and returns the value it builds. */
    Object load(ByteBuffer pickle) {
        in = pickle.slice().order(ByteOrder.LITTLE_ENDIAN);
        while (true) {
            if (!in.hasRemaining()) {
                throw error("pickle ends without a STOP opcode");
            }
            opcodeOffset = in.position();
            int opcode = in.get() & 0xFF;
            if (opcode == '.') {
                if (!marks.isEmpty()) {
                    throw error("STOP inside an unclosed MARK");
                }
                return pop();
            }
            execute(opcode);
        }
    }

    private void execute(int opcode) {
        switch (opcode) {
            case 0x80 -> { // PROTO
                int protocol = readUnsigned(1);
                if (protocol < 2 || protocol > 5) {
                    throw error("unsupported pickle protocol " + protocol);
                }
            }
            case 0x95 -> readLength(8, "FRAME"); // FRAME: a hint for buffered readers; contents follow inline
            case '(' -> { // MARK
                if (marks.size() >= MAX_MARKS) {
                    throw limit("MARKs open at once", MAX_MARKS);
                }
                marks.add(stack.size());
            }
            case '0' -> pop(); // POP
            case '1' -> popToMark(); // POP_MARK
            case '2' -> push(peek()); // DUP
            case 'N' -> push(null); // NONE
            case 0x88 -> push(Boolean.TRUE); // NEWTRUE
            case 0x89 -> push(Boolean.FALSE); // NEWFALSE
            case 'J' -> push((long) readInt()); // BININT
            case 'K' -> push((long) readUnsigned(1)); // BININT1
            case 'M' -> push((long) readUnsigned(2)); // BININT2
            case 0x8a -> push(readLong(readUnsigned(1))); // LONG1
            case 0x8b -> push(readLong(readLength(4, "LONG4"))); // LONG4
            case 'G' -> push(readBigEndianDouble()); // BINFLOAT
            case 'X' -> push(readString(readLength(4, "BINUNICODE"))); // BINUNICODE
            case 0x8c -> push(readString(readUnsigned(1))); // SHORT_BINUNICODE
            case 0x8d -> push(readString(readLength(8, "BINUNICODE8"))); // BINUNICODE8
            case 'B' -> push(readBytes(readLength(4, "BINBYTES"))); // BINBYTES
            case 'C' -> push(readBytes(readUnsigned(1))); // SHORT_BINBYTES
            case 0x8e -> push(readBytes(readLength(8, "BINBYTES8"))); // BINBYTES8
            case '}' -> push(new LinkedHashMap<Object, Object>()); // EMPTY_DICT
            case ']' -> push(new ArrayList<Object>()); // EMPTY_LIST
            case ')' -> push(tuple(new ArrayList<>())); // EMPTY_TUPLE
            case 't' -> push(tuple(popToMark())); // TUPLE
            case 0x85 -> push(tuple(popN(1))); // TUPLE1
            case 0x86 -> push(tuple(popN(2))); // TUPLE2
            case 0x87 -> push(tuple(popN(3))); // TUPLE3
            case 'l' -> push(new ArrayList<>(popToMark())); // LIST
            case 'd' -> { // DICT
                Map<Object, Object> dict = new LinkedHashMap<>();
                putPairs(dict, popToMark());
                push(dict);
            }
            case 's' -> { // SETITEM
                Object value = pop();
                Object key = pop();
                putPairs(dictAtTop(), pair(key, value));
            }
            case 'u' -> { // SETITEMS
                List<Object> items = popToMark();
                putPairs(dictAtTop(), items);
            }
            case 'a' -> { // APPEND
                Object value = pop();
                count(1);
                listAtTop().add(value);
            }
            case 'e' -> { // APPENDS
                List<Object> items = popToMark();
                count(items.size());
                listAtTop().addAll(items);
            }
            case 'q' -> memoPut((long) readUnsigned(1)); // BINPUT
            case 'r' -> memoPut(readInt() & 0xFFFFFFFFL); // LONG_BINPUT
            case 0x94 -> memoPut((long) memo.size()); // MEMOIZE
            case 'h' -> push(memoGet(readUnsigned(1))); // BINGET
            case 'j' -> push(memoGet(readInt() & 0xFFFFFFFFL)); // LONG_BINGET
            case 'c' -> { // GLOBAL
                String module = readLine();
                String name = readLine();
                push(resolveGlobal(module, name));
            }
            case 0x93 -> { // STACK_GLOBAL
                Object name = pop();
                Object module = pop();
                if (!(module instanceof String) || !(name instanceof String)) {
                    throw error("STACK_GLOBAL needs two strings, found " + describe(module) + " and " + describe(name));
                }
                push(resolveGlobal((String) module, (String) name));
            }
            case 'R' -> { // REDUCE
                Object args = pop();
                Object callable = pop();
                if (!(callable instanceof PickleCallable)) {
                    throw error("REDUCE applies " + describe(callable) + ", which is not callable");
                }
                if (!(args instanceof PickleTuple)) {
                    throw error("REDUCE arguments must be a tuple, found " + describe(args));
                }
                push(((PickleCallable) callable).call((PickleTuple) args));
            }
            case 0x81 -> { // NEWOBJ: cls.__new__(cls, *args), allowed only for inert attribute bags
                Object args = pop();
                Object cls = pop();
                if (!(cls instanceof InertObject.Kind kind)) {
                    throw error("NEWOBJ on " + describe(cls) + " is not supported");
                }
                if (!(args instanceof PickleTuple t) || t.size() != 0) {
                    throw error("NEWOBJ of " + kind.qualifiedName() + " expects no arguments");
                }
                push(new InertObject(kind.qualifiedName()));
            }
            case 'b' -> { // BUILD
                Object state = pop();
                Object target = peek();
                if (target instanceof InertObject inert) {
                    if (!(state instanceof Map<?, ?> map)) {
                        throw error("BUILD of " + inert.className() + " expects a dict of attributes, found "
                                + describe(state));
                    }
                    inert.state().putAll(map);
                    break;
                }
                // OrderedDict state holds attributes such as state_dict's _metadata (module versions): not needed.
                if (!(target instanceof Map)) {
                    throw error("BUILD (setting object state) on " + describe(target) + " is not supported");
                }
            }
            case 'Q' -> push(persistentLoad.apply(pop())); // BINPERSID
            default -> throw error(String.format("opcode 0x%02x is not supported by this restricted unpickler",
                    opcode));
        }
    }

    private static List<Object> pair(Object key, Object value) {
        List<Object> pair = new ArrayList<>(2);
        pair.add(key);
        pair.add(value);
        return pair;
    }

    private Object resolveGlobal(String module, String name) {
        String qualified = module + "." + name;
        Object resolved = globals.apply(qualified);
        if (resolved == null) {
            throw new UnsafePickleException(qualified, source);
        }
        return resolved;
    }

    private void putPairs(Map<Object, Object> dict, List<Object> items) {
        if (items.size() % 2 != 0) {
            throw error("odd number of items (" + items.size() + ") for dict keys and values");
        }
        count(items.size());
        for (int i = 0; i < items.size(); i += 2) {
            Object key = items.get(i);
            if (!PickleTuple.isHashable(key)) {
                throw error("unhashable dict key of type " + describe(key));
            }
            dict.put(key, items.get(i + 1));
        }
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dictAtTop() {
        Object top = peek();
        if (!(top instanceof Map)) {
            throw error("expected a dict to set items on, found " + describe(top));
        }
        return (Map<Object, Object>) top;
    }

    @SuppressWarnings("unchecked")
    private List<Object> listAtTop() {
        Object top = peek();
        if (!(top instanceof ArrayList)) {
            throw error("expected a list to append to, found " + describe(top));
        }
        return (List<Object>) top;
    }

    private PickleTuple tuple(List<Object> items) {
        PickleTuple tuple = PickleTuple.of(items);
        if (tuple == null) {
            throw error("tuples nested deeper than " + PickleTuple.MAX_DEPTH + " levels or larger than "
                    + PickleTuple.MAX_TREE_SIZE + " items");
        }
        return tuple;
    }

    private Object memoGet(long index) {
        if (!memo.containsKey(index)) {
            throw error("memo entry " + index + " is read before it is written");
        }
        return memo.get(index);
    }

    /** Every push is a value created or copied (DUP, BINGET): each costs a stack slot and counts as a value. */
    private void push(Object value) {
        if (stack.size() >= MAX_STACK) {
            throw limit("stack entries", MAX_STACK);
        }
        count(1);
        stack.add(value);
    }

    private void count(long added) {
        values += added;
        if (values > MAX_VALUES) {
            throw limit("values created and stored", MAX_VALUES);
        }
    }

    private void memoPut(long index) {
        Object top = peek();
        if (memo.size() >= MAX_MEMO && !memo.containsKey(index)) {
            throw limit("memo entries", MAX_MEMO);
        }
        memo.put(index, top);
    }

    private CheckpointFormatException limit(String what, long cap) {
        return error("more than " + cap + " " + what + ", the limit for a checkpoint's pickle (a real one needs "
                + "far fewer); refusing a pickle bomb or corrupt file");
    }

    private Object peek() {
        if (stack.size() <= currentMarkFloor()) {
            throw error("stack underflow");
        }
        return stack.get(stack.size() - 1);
    }

    private Object pop() {
        if (stack.size() <= currentMarkFloor()) {
            throw error("stack underflow");
        }
        return stack.remove(stack.size() - 1);
    }

    private List<Object> popN(int count) {
        if (stack.size() - count < currentMarkFloor()) {
            throw error("stack underflow");
        }
        List<Object> top = stack.subList(stack.size() - count, stack.size());
        List<Object> items = new ArrayList<>(top);
        top.clear();
        return items;
    }

    /** Items pushed since the innermost MARK, which is removed. */
    private List<Object> popToMark() {
        if (marks.isEmpty()) {
            throw error("no MARK to pop to");
        }
        int mark = marks.remove(marks.size() - 1);
        List<Object> top = stack.subList(mark, stack.size());
        List<Object> items = new ArrayList<>(top);
        top.clear();
        return items;
    }

    /** Values below the innermost MARK belong to the enclosing context and cannot be popped individually. */
    private int currentMarkFloor() {
        return marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
    }

    private int readUnsigned(int bytes) {
        require(bytes);
        return bytes == 1 ? in.get() & 0xFF : in.getShort() & 0xFFFF;
    }

    private int readInt() {
        require(4);
        return in.getInt();
    }

    /** A length prefix, checked against the bytes that actually remain so hostile lengths allocate nothing. */
    private int readLength(int bytes, String opcode) {
        require(bytes);
        long length = bytes == 4 ? in.getInt() & 0xFFFFFFFFL : in.getLong();
        if (length < 0 || length > in.remaining()) {
            throw error(opcode + " length " + Long.toUnsignedString(length) + " exceeds the " + in.remaining()
                    + " bytes left in the pickle");
        }
        return (int) length;
    }

    private Object readLong(int length) {
        require(length);
        if (length == 0) {
            return 0L;
        }
        byte[] bigEndian = new byte[length];
        for (int i = 0; i < length; i++) {
            bigEndian[length - 1 - i] = in.get();
        }
        BigInteger value = new BigInteger(bigEndian);
        return value.bitLength() < 64 ? (Object) value.longValue() : value;
    }

    /** BINFLOAT is the one big-endian field in a pickle. */
    private double readBigEndianDouble() {
        require(8);
        return Double.longBitsToDouble(Long.reverseBytes(in.getLong()));
    }

    private String readString(int length) {
        require(length);
        ByteBuffer bytes = in.slice(in.position(), length);
        in.position(in.position() + length);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes).toString();
        } catch (CharacterCodingException e) {
            throw error("string is not valid UTF-8");
        }
    }

    private byte[] readBytes(int length) {
        require(length);
        byte[] bytes = new byte[length];
        in.get(bytes);
        return bytes;
    }

    /** A newline-terminated argument of GLOBAL. */
    private String readLine() {
        int start = in.position();
        for (int i = start; i < in.limit(); i++) {
            if (in.get(i) == '\n') {
                String line = readString(i - start);
                in.get(); // the newline
                return line;
            }
        }
        throw error("GLOBAL argument is not terminated by a newline");
    }

    private void require(int bytes) {
        if (bytes < 0 || in.remaining() < bytes) {
            throw error("truncated: needs " + bytes + " more bytes, " + in.remaining() + " left");
        }
    }

    /** Type of a value for messages; never toString(), which could recurse through self-referencing containers. */
    static String describe(Object value) {
        if (value == null) {
            return "None";
        } else if (value instanceof String) {
            return "str";
        } else if (value instanceof Long || value instanceof BigInteger) {
            return "int";
        } else if (value instanceof Double) {
            return "float";
        } else if (value instanceof Boolean) {
            return "bool";
        } else if (value instanceof byte[]) {
            return "bytes";
        } else if (value instanceof PickleTuple tuple) {
            return "tuple of " + tuple.size();
        } else if (value instanceof List) {
            return "list";
        } else if (value instanceof Map) {
            return "dict";
        } else if (value instanceof TorchTensorView) {
            return "tensor";
        } else if (value instanceof TorchStorage) {
            return "storage";
        } else if (value instanceof TorchStorageType type) {
            return "storage class torch." + type.className();
        } else if (value instanceof PickleCallable) {
            return "callable global";
        }
        return value.getClass().getSimpleName();
    }

    private CheckpointFormatException error(String problem) {
        return new CheckpointFormatException(source + ": pickle byte " + opcodeOffset + ": " + problem);
    }
}
