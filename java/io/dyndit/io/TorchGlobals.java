package io.dyndit.io;

import io.dyndit.core.DType;
import java.math.BigInteger;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The allow-list of Python globals a PyTorch checkpoint may reference, each mapped to a Java stand-in: the
 * OrderedDict constructor, the tensor/parameter rebuild functions, and the legacy storage classes (which only name
 * an element type). Everything else is refused by the unpickler.
 */
final class TorchGlobals {
    private final String source;
    private final Map<String, Object> allowed = new HashMap<>();

    TorchGlobals(String source) {
        this.source = source;
        allowed.put("collections.OrderedDict", (PickleCallable) this::orderedDict);
        allowed.put("torch._utils._rebuild_tensor_v2", (PickleCallable) this::rebuildTensor);
        allowed.put("torch._utils._rebuild_parameter", (PickleCallable) this::rebuildParameter);
        allowed.put("torch._utils._rebuild_parameter_with_state", (PickleCallable) this::rebuildParameter);
        // Plain attribute bags that training checkpoints carry next to the weights (train.py's "args").
        allowed.put("argparse.Namespace", new InertObject.Kind("argparse.Namespace"));
        storageType("FloatStorage", DType.F32);
        storageType("DoubleStorage", DType.F64);
        storageType("HalfStorage", DType.F16);
        storageType("BFloat16Storage", DType.BF16);
        storageType("LongStorage", DType.I64);
        storageType("IntStorage", DType.I32);
        storageType("ShortStorage", DType.I16);
        storageType("CharStorage", DType.I8);
        storageType("ByteStorage", DType.U8);
        storageType("BoolStorage", DType.BOOL);
    }

    private void storageType(String className, DType dtype) {
        allowed.put("torch." + className, new TorchStorageType(className, dtype));
    }

    /** The stand-in for "module.name", or null when the global is not allowed. */
    Object resolve(String qualifiedName) {
        return allowed.get(qualifiedName);
    }

    /** OrderedDict() as pickled by its __reduce__: no arguments, items follow through SETITEMS. */
    private Object orderedDict(PickleTuple args) {
        if (args.size() != 0) {
            throw bad("collections.OrderedDict", "expected no arguments, got " + args.size());
        }
        return new LinkedHashMap<Object, Object>();
    }

    /** _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]). */
    private Object rebuildTensor(PickleTuple args) {
        String function = "torch._utils._rebuild_tensor_v2";
        if (args.size() != 6 && args.size() != 7) {
            throw bad(function, "expected 6 or 7 arguments, got " + args.size());
        }
        if (!(args.get(0) instanceof TorchStorage storage)) {
            throw bad(function, "argument 1 must be a storage, found " + RestrictedUnpickler.describe(args.get(0)));
        }
        long offset = integer(args.get(1), function, "storage_offset");
        long[] size = integers(args.get(2), function, "size");
        long[] stride = integers(args.get(3), function, "stride");
        if (!(args.get(4) instanceof Boolean)) {
            throw bad(function, "requires_grad must be a bool, found " + RestrictedUnpickler.describe(args.get(4)));
        }
        // backward_hooks (an OrderedDict, empty in saved tensors) and metadata carry nothing a reader needs.
        return TorchTensorView.of(storage, offset, size, stride, source + ": " + function);
    }

    /** _rebuild_parameter(data, requires_grad, backward_hooks[, state]): a Parameter is just its tensor here. */
    private Object rebuildParameter(PickleTuple args) {
        String function = "torch._utils._rebuild_parameter";
        if (args.size() != 3 && args.size() != 4) {
            throw bad(function, "expected 3 or 4 arguments, got " + args.size());
        }
        if (!(args.get(0) instanceof TorchTensorView)) {
            throw bad(function, "argument 1 must be a tensor, found " + RestrictedUnpickler.describe(args.get(0)));
        }
        if (args.size() == 4) {
            Object state = args.get(3);
            boolean trivial = state == null || (state instanceof Map<?, ?> map && map.isEmpty());
            if (!trivial) {
                throw bad(function, "parameters with extra Python state are not supported");
            }
        }
        return args.get(0);
    }

    private long integer(Object value, String function, String what) {
        if (value instanceof Long number) {
            return number;
        }
        if (value instanceof BigInteger) {
            throw bad(function, what + " " + value + " is out of range: it must lie in [" + Long.MIN_VALUE + ", "
                    + Long.MAX_VALUE + "]");
        }
        throw bad(function, what + " must be an int, found " + RestrictedUnpickler.describe(value));
    }

    private long[] integers(Object value, String function, String what) {
        if (!(value instanceof PickleTuple tuple)) {
            throw bad(function, what + " must be a tuple of ints, found " + RestrictedUnpickler.describe(value));
        }
        long[] out = new long[tuple.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = integer(tuple.get(i), function, what + "[" + i + "]");
        }
        return out;
    }

    private CheckpointFormatException bad(String function, String problem) {
        return new CheckpointFormatException(source + ": " + function + ": " + problem);
    }
}
