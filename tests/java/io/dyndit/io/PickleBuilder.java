package io.dyndit.io;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Hand-assembles pickle bytes opcode by opcode, the way torch.save (protocol 2) lays them out. */
final class PickleBuilder {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    PickleBuilder proto() {
        return op(0x80).op(2);
    }

    PickleBuilder op(int opcode) {
        out.write(opcode);
        return this;
    }

    PickleBuilder raw(byte[] bytes) {
        out.writeBytes(bytes);
        return this;
    }

    PickleBuilder mark() {
        return op('(');
    }

    PickleBuilder emptyDict() {
        return op('}');
    }

    PickleBuilder emptyTuple() {
        return op(')');
    }

    PickleBuilder tuple() {
        return op('t');
    }

    PickleBuilder setItem() {
        return op('s');
    }

    PickleBuilder setItems() {
        return op('u');
    }

    PickleBuilder reduce() {
        return op('R');
    }

    PickleBuilder build() {
        return op('b');
    }

    PickleBuilder stop() {
        return op('.');
    }

    PickleBuilder bool(boolean value) {
        return op(value ? 0x88 : 0x89);
    }

    PickleBuilder none() {
        return op('N');
    }

    /** BININT1 / BININT2 / BININT, or LONG1 for larger values, as pickle chooses. */
    PickleBuilder integer(long value) {
        if (value >= 0 && value < 256) {
            return op('K').op((int) value);
        }
        if (value >= 0 && value < 65536) {
            return op('M').op((int) (value & 0xFF)).op((int) (value >>> 8));
        }
        if (value >= Integer.MIN_VALUE && value <= Integer.MAX_VALUE) {
            op('J');
            for (int i = 0; i < 4; i++) {
                op((int) (value >>> (8 * i)) & 0xFF);
            }
            return this;
        }
        op(0x8a).op(8);
        for (int i = 0; i < 8; i++) {
            op((int) (value >>> (8 * i)) & 0xFF);
        }
        return this;
    }

    PickleBuilder binFloat(double value) {
        long bits = Double.doubleToLongBits(value);
        op('G');
        for (int i = 7; i >= 0; i--) {
            op((int) (bits >>> (8 * i)) & 0xFF);
        }
        return this;
    }

    PickleBuilder string(String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        op('X');
        for (int i = 0; i < 4; i++) {
            op((bytes.length >>> (8 * i)) & 0xFF);
        }
        return raw(bytes);
    }

    PickleBuilder global(String module, String name) {
        return op('c').raw((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
    }

    PickleBuilder binPut(int index) {
        return op('q').op(index);
    }

    PickleBuilder binGet(int index) {
        return op('h').op(index);
    }

    PickleBuilder ints(long... values) {
        mark();
        for (long value : values) {
            integer(value);
        }
        return tuple();
    }

    /** The persistent id torch.save writes for a storage, followed by BINPERSID. */
    PickleBuilder storage(String storageClass, String key, long numel) {
        return mark().string("storage").global("torch", storageClass).string(key).string("cpu").integer(numel)
                .tuple().op('Q');
    }

    /** torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()). */
    PickleBuilder tensor(String storageClass, String key, long numel, long offset, long[] size, long[] stride) {
        global("torch._utils", "_rebuild_tensor_v2").mark();
        storage(storageClass, key, numel).integer(offset).ints(size).ints(stride).bool(false);
        return global("collections", "OrderedDict").emptyTuple().reduce().tuple().reduce();
    }

    byte[] bytes() {
        return out.toByteArray();
    }
}
