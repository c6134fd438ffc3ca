package io.dyndit.core;

import io.dyndit.nativelib.DynditNative;
import io.dyndit.nativelib.DynditNative.dd_tensor;
import java.util.Arrays;
import org.bytedeco.javacpp.PointerPointer;

/**
 * An n-dimensional array in native memory (host or device), or a strided view of another tensor's
 * memory. Owns its native handle: close it, or create it through a {@link Scope}. A view keeps the
 * underlying memory alive until the view itself is closed. Closing twice is a no-op; any other use
 * after close throws {@link TensorClosedException}. A tensor that becomes unreachable without close() is
 * freed after garbage collection (a {@link java.lang.ref.Cleaner} safety net); close() frees at once.
 *
 * <p>Thread-safety: the object is safe to share. Reads from several threads may run at once; writes to
 * the same elements from several threads race as they would on any array (the caller orders them).
 * close() while another thread's op is using the tensor is safe: the memory is freed when that op is done,
 * and later uses throw {@link TensorClosedException}.
 */
public final class Tensor implements AutoCloseable {
    private final TensorHandle handle;
    private final boolean contiguous;
    private final long[] shape;
    private final long[] strides;
    private final long offset;
    private final DType dtype;
    private final Device device;

    private Tensor(dd_tensor handle, boolean owning) {
        int nd = DynditNative.dd_tensor_ndim(handle);
        this.shape = new long[nd];
        this.strides = new long[nd];
        for (int i = 0; i < nd; i++) {
            shape[i] = DynditNative.dd_tensor_dim(handle, i);
            strides[i] = DynditNative.dd_tensor_stride(handle, i);
        }
        this.offset = DynditNative.dd_tensor_offset(handle);
        this.dtype = DType.ofCode(DynditNative.dd_tensor_dtype(handle));
        int type = DynditNative.dd_tensor_device_type(handle);
        int index = DynditNative.dd_tensor_device_index(handle);
        this.device = type == 0 ? Device.cpu() : type == 1 ? Device.cuda(index) : Device.cudaEmulated();
        this.contiguous = DynditNative.dd_tensor_is_contiguous(handle) != 0;
        this.handle = TensorHandle.register(this, handle, owning ? numel() * dtype.size() : 0);
    }

    // ---- creation ----

    /** Uninitialised tensor of the given shape. */
    public static Tensor empty(Device device, DType dtype, long... shape) {
        NativeLoader.ensureLoaded();
        checkShape(shape);
        try (PointerPointer<dd_tensor> out = new PointerPointer<>(1)) {
            NativeErrors.check(DynditNative.dd_tensor_new(device.type().code(), device.index(), dtype.code(), shape.length,
                    shape, out), "cannot create " + dtype + " tensor " + Arrays.toString(shape) + " on " + device);
            return new Tensor(new dd_tensor(out.get(0)), true);
        }
    }

    public static Tensor zeros(Device device, DType dtype, long... shape) {
        Tensor t = empty(device, dtype, shape);
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_tensor_zero(l.of(t)));
            return t;
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    /** An f32 tensor holding {@code data} (row-major) with the given shape. */
    public static Tensor of(Device device, float[] data, long... shape) {
        Tensor t = empty(device, DType.F32, shape);
        return fill(t, data.length, () -> t.copyFrom(data));
    }

    public static Tensor of(float[] data, long... shape) {
        return of(Device.cpu(), data, shape);
    }

    public static Tensor ofInts(Device device, int[] data, long... shape) {
        Tensor t = empty(device, DType.I32, shape);
        return fill(t, data.length, () -> t.copyFrom(data));
    }

    public static Tensor ofLongs(Device device, long[] data, long... shape) {
        Tensor t = empty(device, DType.I64, shape);
        return fill(t, data.length, () -> t.copyFrom(data));
    }

    private static Tensor fill(Tensor t, int length, Runnable write) {
        try {
            if (length != t.numel()) {
                throw new ShapeMismatchException("data has " + length + " elements but shape " + Arrays.toString(t.shape)
                        + " needs " + t.numel());
            }
            write.run();
            return t;
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    // ---- views ----

    /** A view of this tensor's memory with explicit shape, strides and element offset (relative to this view). */
    public Tensor view(long[] shape, long[] strides, long offset) {
        checkShape(shape);
        if (strides.length != shape.length) {
            throw new InvalidArgumentException("view: " + shape.length + " dims but " + strides.length + " strides");
        }
        try (PointerPointer<dd_tensor> out = new PointerPointer<>(1); Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_tensor_view(l.of(this), shape.length, shape, strides, offset, out));
            return new Tensor(new dd_tensor(out.get(0)), false);
        }
    }

    /** Elements [start, start+length) along {@code dim}, as a view. */
    public Tensor narrow(int dim, long start, long length) {
        checkDim(dim);
        if (start < 0 || length < 0 || start + length > shape[dim]) {
            throw new InvalidArgumentException("narrow: range [" + start + ", " + (start + length) + ") outside dim " + dim
                    + " of size " + shape[dim] + " in " + Arrays.toString(shape));
        }
        long[] s = shape.clone();
        s[dim] = length;
        return view(s, strides, start * strides[dim]);
    }

    /** Same elements with another shape (one entry may be -1); this tensor must be contiguous. */
    public Tensor reshape(long... newShape) {
        if (!isContiguous()) {
            throw new InvalidArgumentException("reshape: tensor " + Arrays.toString(shape) + " is a non-contiguous view");
        }
        long[] s = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1 && infer < 0) {
                infer = i;
            } else {
                known *= s[i];
            }
        }
        if (infer >= 0 && known > 0 && numel() % known == 0) {
            s[infer] = numel() / known;
        }
        long n = 1;
        for (long d : s) {
            n *= d;
        }
        if (n != numel() || (infer >= 0 && s[infer] < 0)) {
            throw new ShapeMismatchException("reshape: cannot view " + Arrays.toString(shape) + " (" + numel()
                    + " elements) as " + Arrays.toString(newShape));
        }
        return view(s, denseStrides(s), 0);
    }

    // ---- transfers ----

    public void copyFrom(float[] data) {
        requireHostTransfer(DType.F32, data.length);
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_tensor_write(l.of(this), data, 4L * data.length, 0));
        }
    }

    public void copyFrom(int[] data) {
        requireHostTransfer(DType.I32, data.length);
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_tensor_write(l.of(this), data, 4L * data.length, 0));
        }
    }

    public void copyFrom(long[] data) {
        requireHostTransfer(DType.I64, data.length);
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_tensor_write(l.of(this), data, 8L * data.length, 0));
        }
    }

    /**
     * Copies raw little-endian element bytes (position to limit) into this contiguous tensor. Direct
     * buffers (memory-mapped files) are copied straight from their memory, without a Java array.
     */
    public void copyFrom(java.nio.ByteBuffer bytes) {
        long n = bytes.remaining();
        if (n != numel() * dtype.size()) {
            throw new ShapeMismatchException("copyFrom: " + n + " bytes given, tensor " + Arrays.toString(shape) + " "
                    + dtype + " holds " + numel() * dtype.size());
        }
        if (!isContiguous()) {
            throw new InvalidArgumentException("copyFrom: tensor " + Arrays.toString(shape) + " is a non-contiguous view");
        }
        if (bytes.isDirect()) {
            try (org.bytedeco.javacpp.BytePointer p = new org.bytedeco.javacpp.BytePointer(bytes); Leases l = new Leases()) {
                NativeErrors.check(DynditNative.dd_tensor_write(l.of(this), p, n, 0));
            }
            return;
        }
        java.nio.ByteBuffer dup = bytes.duplicate();
        byte[] chunk = new byte[(int) Math.min(n, 1 << 20)];
        try (org.bytedeco.javacpp.BytePointer p = new org.bytedeco.javacpp.BytePointer(chunk.length); Leases l = new Leases()) {
            dd_tensor dst = l.of(this);
            for (long off = 0; off < n; off += chunk.length) {
                int len = (int) Math.min(chunk.length, n - off);
                dup.get(chunk, 0, len);
                p.put(chunk, 0, len);
                NativeErrors.check(DynditNative.dd_tensor_write(dst, p, len, off));
            }
        }
    }

    /** The elements as floats (row-major); bf16/f16 are widened exactly; views are copied first. */
    public float[] toFloatArray() {
        if (!dtype.isFloatingPoint()) {
            throw new DTypeMismatchException("toFloatArray: tensor has dtype " + dtype);
        }
        if (dtype != DType.F32 || !isContiguous()) {
            try (Tensor t = hostCopyAs(DType.F32)) {
                return t.toFloatArray();
            }
        }
        float[] out = new float[checkedLength()];
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_tensor_read(l.of(this), out, 4L * out.length, 0));
        }
        return out;
    }

    public long[] toLongArray() {
        if (dtype.isFloatingPoint()) {
            throw new DTypeMismatchException("toLongArray: tensor has dtype " + dtype);
        }
        if (dtype != DType.I64 || !isContiguous()) {
            try (Tensor t = hostCopyAs(DType.I64)) {
                return t.toLongArray();
            }
        }
        long[] out = new long[checkedLength()];
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_tensor_read(l.of(this), out, 8L * out.length, 0));
        }
        return out;
    }

    public int[] toIntArray() {
        if (dtype.isFloatingPoint()) {
            throw new DTypeMismatchException("toIntArray: tensor has dtype " + dtype);
        }
        if (dtype != DType.I32 || !isContiguous()) {
            try (Tensor t = hostCopyAs(DType.I32)) {
                return t.toIntArray();
            }
        }
        int[] out = new int[checkedLength()];
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_tensor_read(l.of(this), out, 4L * out.length, 0));
        }
        return out;
    }

    /** A contiguous CPU copy in {@code target} dtype (device tensors come to the host first). */
    private Tensor hostCopyAs(DType target) {
        if (device.type() == Device.Type.CPU) {
            return convert(target);
        }
        try (Tensor host = to(Device.cpu())) {
            return host.convert(target);
        }
    }

    /** A new contiguous CPU tensor of {@code target} dtype (f32/bf16/f16 among themselves, i32/i64 likewise). */
    public Tensor convert(DType target) {
        Tensor out = empty(Device.cpu(), target, shape);
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_copy(l.of(this), l.of(out)));
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    /** A new contiguous tensor with the same values on {@code target} (a copy even if already there). */
    public Tensor to(Device target) {
        Tensor src = isContiguous() ? this : null;
        if (src == null) {
            if (device.type() != Device.Type.CPU) {
                return viaHostSpan(target);
            }
            src = convert(dtype);
        }
        try {
            Tensor out = empty(target, dtype, shape);
            try {
                long bytes = numel() * dtype.size();
                try (org.bytedeco.javacpp.BytePointer staging = new org.bytedeco.javacpp.BytePointer(Math.max(bytes, 1));
                        Leases l = new Leases()) {
                    NativeErrors.check(DynditNative.dd_tensor_read(l.of(src), staging, bytes, 0));
                    NativeErrors.check(DynditNative.dd_tensor_write(l.of(out), staging, bytes, 0));
                }
                return out;
            } catch (RuntimeException e) {
                out.close();
                throw e;
            }
        } finally {
            if (src != this) {
                src.close();
            }
        }
    }

    /**
     * A non-contiguous device view to {@code target}: the contiguous element span it covers comes to the host once
     * (e.g. one block's [N, 6D] adaLN columns of the forward's [N, depth * 6D] buffer), the view is applied there.
     */
    private Tensor viaHostSpan(Device target) {
        long span = 1;
        for (int i = 0; i < shape.length; i++) {
            if (strides[i] < 0) {
                throw new UnsupportedOnDeviceException("to(" + target + "): views with negative strides on " + device
                        + " cannot be copied");
            }
            span += (shape[i] - 1) * strides[i];
        }
        if (numel() == 0) {
            return empty(target, dtype, shape);
        }
        try (Tensor flat = view(new long[] {span}, new long[] {1}, 0); Tensor host = flat.to(Device.cpu());
                Tensor hostView = host.view(shape, strides, 0)) {
            Tensor dense = hostView.convert(dtype);
            if (target.type() == Device.Type.CPU) {
                return dense;
            }
            try (dense) {
                return dense.to(target);
            }
        }
    }

    // ---- facts ----

    public long[] shape() {
        return shape.clone();
    }

    public long dim(int i) {
        checkDim(i);
        return shape[i];
    }

    public int rank() {
        return shape.length;
    }

    public long[] strides() {
        return strides.clone();
    }

    public long offset() {
        return offset;
    }

    public DType dtype() {
        return dtype;
    }

    public Device device() {
        return device;
    }

    public long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    public boolean isContiguous() {
        return contiguous;
    }

    public boolean isClosed() {
        return handle.isClosed();
    }

    /** Frees the native memory (once any op still using it from another thread is done); idempotent. */
    @Override
    public void close() {
        handle.close();
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape) + " " + dtype + " on " + device + (isClosed() ? " (closed)" : "");
    }

    /** The shared native handle; native calls lease it through {@link Leases}. For io.dyndit.core only. */
    TensorHandle nativeHandle() {
        return handle;
    }

    TensorClosedException closedError() {
        return new TensorClosedException("tensor " + Arrays.toString(shape) + " " + dtype + " on " + device
                + " was used after close()");
    }

    /** Native bytes of tensors neither closed nor garbage-collected yet (views count zero); diagnostics. */
    public static long liveNativeBytes() {
        return TensorHandle.liveBytes();
    }

    // ---- helpers ----

    private void requireHostTransfer(DType expected, long length) {
        if (dtype != expected) {
            throw new DTypeMismatchException("copyFrom: tensor has dtype " + dtype + ", data is " + expected);
        }
        if (length != numel()) {
            throw new ShapeMismatchException("copyFrom: data has " + length + " elements, tensor " + Arrays.toString(shape)
                    + " has " + numel());
        }
        if (!isContiguous()) {
            throw new InvalidArgumentException("copyFrom: tensor " + Arrays.toString(shape) + " is a non-contiguous view");
        }
    }

    private int checkedLength() {
        long n = numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new InvalidArgumentException("tensor " + Arrays.toString(shape) + " is too large for a Java array");
        }
        return (int) n;
    }

    private void checkDim(int dim) {
        if (dim < 0 || dim >= shape.length) {
            throw new InvalidArgumentException("dimension " + dim + " outside rank " + shape.length + " of "
                    + Arrays.toString(shape));
        }
    }

    private static void checkShape(long[] shape) {
        if (shape.length > 6) {
            throw new ShapeMismatchException("rank " + shape.length + " exceeds the maximum of 6");
        }
        for (long d : shape) {
            if (d < 0) {
                throw new ShapeMismatchException("negative dimension in shape " + Arrays.toString(shape));
            }
        }
    }

    static long[] denseStrides(long[] shape) {
        long[] s = new long[shape.length];
        long n = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = n;
            n *= shape[i];
        }
        return s;
    }
}
