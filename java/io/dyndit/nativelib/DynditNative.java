package io.dyndit.nativelib;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Opaque;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JavaCPP mapping of the flat C API in native/include/dyndit/dyndit.h (one Java method per C
 * function). Only io.dyndit.core calls these; everyone else uses Tensor, Ops and Device.
 * Loading it first loads oneDNN and the libgomp it ships (the process's one OpenMP runtime) from the JavaCPP dnnl
 * jar, which libdyndit links against (preload: the libraries only, not the dnnl preset's Java binding).
 */
@Platform(include = "dyndit/dyndit.h", link = "dyndit", preload = {"gomp@.1", "dnnl@.3"},
        preloadresource = "/org/bytedeco/dnnl/")
public final class DynditNative {
    static {
        Loader.load();
    }

    private DynditNative() {}

    /** Forces the native libraries to load (the static initializer does the work). */
    public static void ensureLoaded() {}

    /** Opaque tensor handle. */
    @Opaque
    public static final class dd_tensor extends Pointer {
        public dd_tensor() {
            super((Pointer) null);
        }

        public dd_tensor(Pointer p) {
            super(p);
        }
    }

    /** Opaque CUDA graph handle. */
    @Opaque
    public static final class dd_graph extends Pointer {
        public dd_graph() {
            super((Pointer) null);
        }

        public dd_graph(Pointer p) {
            super(p);
        }
    }

    // ---- errors and library information ----
    public static native @Cast("const char*") String dd_last_error();
    public static native void dd_clear_error();
    public static native @Cast("const char*") String dd_status_name(int status);
    public static native @Cast("const char*") String dd_version();
    public static native @Cast("const char*") String dd_cpu_name();
    public static native @Cast("const char*") String dd_cpu_isa();
    public static native @Cast("const char*") String dd_cpu_features();
    public static native @Cast("const char*") String dd_blas_info();

    public static native int dd_cpu_matmul_kernel(long m, long n, long k, int precision, @Cast("char*") byte[] buf,
            long cap);
    public static native int dd_num_threads();
    public static native void dd_set_num_threads(int n);
    public static native int dd_cuda_compiled();
    public static native @Cast("const char*") String dd_cuda_archs();
    public static native int dd_cuda_probe(int index);
    public static native int dd_cuda_emu_load(@Cast("const char*") String path);
    public static native int dd_set_gemm_precision(int deviceType, int precision);
    public static native int dd_dtype_size(int dtype);

    // ---- CUDA graphs ----
    public static native int dd_graph_begin(int deviceType, int deviceIndex);
    public static native int dd_graph_end(int deviceType, @Cast("dd_graph**") PointerPointer<?> out);
    public static native int dd_graph_launch(dd_graph graph);
    public static native void dd_graph_free(dd_graph graph);

    // ---- profiler ranges (NVTX) ----
    public static native void dd_range_push(@Cast("const char*") String name);
    public static native void dd_range_pop();
    public static native void dd_range_record(int on);
    public static native @Cast("int64_t") long dd_range_count();
    public static native int dd_range_max_depth();
    public static native int dd_range_depth();

    // ---- tensors ----
    public static native int dd_tensor_new(int deviceType, int deviceIndex, int dtype, int ndim,
            @Cast("const int64_t*") long[] shape, @Cast("dd_tensor**") PointerPointer<?> out);
    public static native int dd_tensor_view(@Const dd_tensor base, int ndim, @Cast("const int64_t*") long[] shape,
            @Cast("const int64_t*") long[] strides, @Cast("int64_t") long offset,
            @Cast("dd_tensor**") PointerPointer<?> out);
    public static native void dd_tensor_free(dd_tensor t);
    public static native int dd_tensor_ndim(@Const dd_tensor t);
    public static native @Cast("int64_t") long dd_tensor_dim(@Const dd_tensor t, int i);
    public static native @Cast("int64_t") long dd_tensor_stride(@Const dd_tensor t, int i);
    public static native @Cast("int64_t") long dd_tensor_offset(@Const dd_tensor t);
    public static native int dd_tensor_dtype(@Const dd_tensor t);
    public static native int dd_tensor_device_type(@Const dd_tensor t);
    public static native int dd_tensor_device_index(@Const dd_tensor t);
    public static native int dd_tensor_is_contiguous(@Const dd_tensor t);
    public static native Pointer dd_tensor_data(@Const dd_tensor t);

    public static native int dd_tensor_write(dd_tensor t, @Cast("const void*") Pointer src, @Cast("int64_t") long nbytes,
            @Cast("int64_t") long offsetBytes);
    public static native int dd_tensor_write(dd_tensor t, @Cast("const void*") float[] src, @Cast("int64_t") long nbytes,
            @Cast("int64_t") long offsetBytes);
    public static native int dd_tensor_write(dd_tensor t, @Cast("const void*") short[] src, @Cast("int64_t") long nbytes,
            @Cast("int64_t") long offsetBytes);
    public static native int dd_tensor_write(dd_tensor t, @Cast("const void*") int[] src, @Cast("int64_t") long nbytes,
            @Cast("int64_t") long offsetBytes);
    public static native int dd_tensor_write(dd_tensor t, @Cast("const void*") long[] src, @Cast("int64_t") long nbytes,
            @Cast("int64_t") long offsetBytes);
    public static native int dd_tensor_read(@Const dd_tensor t, @Cast("void*") Pointer dst, @Cast("int64_t") long nbytes,
            @Cast("int64_t") long offsetBytes);
    public static native int dd_tensor_read(@Const dd_tensor t, @Cast("void*") float[] dst, @Cast("int64_t") long nbytes,
            @Cast("int64_t") long offsetBytes);
    public static native int dd_tensor_read(@Const dd_tensor t, @Cast("void*") short[] dst, @Cast("int64_t") long nbytes,
            @Cast("int64_t") long offsetBytes);
    public static native int dd_tensor_read(@Const dd_tensor t, @Cast("void*") int[] dst, @Cast("int64_t") long nbytes,
            @Cast("int64_t") long offsetBytes);
    public static native int dd_tensor_read(@Const dd_tensor t, @Cast("void*") long[] dst, @Cast("int64_t") long nbytes,
            @Cast("int64_t") long offsetBytes);
    public static native int dd_tensor_zero(dd_tensor t);
    public static native int dd_copy(@Const dd_tensor src, dd_tensor dst);

    // ---- ops ----
    public static native int dd_linear(@Const dd_tensor x, @Const dd_tensor w, @Const dd_tensor bias, dd_tensor y);
    public static native int dd_linear_row_invariant(@Const dd_tensor x, @Const dd_tensor w, @Const dd_tensor bias,
            dd_tensor y);
    public static native int dd_layernorm_modulate(@Const dd_tensor x, @Const dd_tensor shift, @Const dd_tensor scale,
            float eps, dd_tensor y);
    public static native int dd_linear_gelu(@Const dd_tensor x, @Const dd_tensor w, @Const dd_tensor bias, dd_tensor y);
    public static native int dd_linear_gated_residual(@Const dd_tensor x, @Const dd_tensor w, @Const dd_tensor bias,
            @Const dd_tensor gate, dd_tensor h);
    public static native int dd_gelu_tanh(@Const dd_tensor x, dd_tensor y);
    public static native int dd_silu(@Const dd_tensor x, dd_tensor y);
    public static native int dd_gated_residual_add(dd_tensor h, @Const dd_tensor gate, @Const dd_tensor x);
    public static native int dd_attention(@Const dd_tensor q, @Const dd_tensor k, @Const dd_tensor v, float scale,
            dd_tensor out);
    public static native int dd_gather_rows(@Const dd_tensor src, @Const dd_tensor index, dd_tensor dst);
    public static native int dd_scatter_add_rows(dd_tensor dst, @Const dd_tensor index, @Const dd_tensor src,
            @Const dd_tensor gate, @Const dd_tensor rowSample);
    public static native int dd_patchify(@Const dd_tensor x, int p, dd_tensor out);
    public static native int dd_unpatchify(@Const dd_tensor tokens, int p, dd_tensor out);
    public static native int dd_timestep_embedding(@Const dd_tensor t, float maxPeriod, dd_tensor out);
    public static native int dd_add_broadcast(dd_tensor y, @Const dd_tensor b);
    public static native int dd_linear_out_blocks(@Const dd_tensor x, @Const dd_tensor w, @Const dd_tensor bias,
            @Cast("const int64_t*") long[] blocks, int nblocks, dd_tensor y);
    public static native int dd_linear_in_blocks(@Const dd_tensor x, @Const dd_tensor w, @Const dd_tensor bias,
            @Cast("const int64_t*") long[] blocks, int nblocks, dd_tensor y);
    public static native int dd_linear_out_blocks_gelu(@Const dd_tensor x, @Const dd_tensor w, @Const dd_tensor bias,
            @Cast("const int64_t*") long[] blocks, int nblocks, dd_tensor y);
    public static native int dd_linear_in_blocks_gated_residual(@Const dd_tensor x, @Const dd_tensor w,
            @Const dd_tensor bias, @Cast("const int64_t*") long[] blocks, int nblocks, @Const dd_tensor gate,
            dd_tensor h);
    public static native int dd_layernorm_modulate_rows(@Const dd_tensor x, @Const dd_tensor shift,
            @Const dd_tensor scale, @Const dd_tensor rowSample, float eps, dd_tensor y);
    public static native int dd_select_tokens(@Const dd_tensor logits, dd_tensor index, dd_tensor rowSample,
            dd_tensor counts);
    public static native int dd_relu(@Const dd_tensor x, dd_tensor y);
    public static native int dd_topk_rows(@Const dd_tensor scores, int k, dd_tensor index);
    public static native int dd_scatter_rows(dd_tensor dst, @Const dd_tensor index, @Const dd_tensor src);
    public static native int dd_scale_rows(dd_tensor x, @Const dd_tensor s);
    public static native int dd_sigmoid(@Const dd_tensor x, dd_tensor y);
    public static native int dd_ddpm_update(@Const dd_tensor x, @Const dd_tensor modelOut, @Const dd_tensor noise,
            dd_tensor predXstart, dd_tensor next, @Cast("const float*") float[] coefs, int learnedRange);
    public static native int dd_ddim_update(@Const dd_tensor x, @Const dd_tensor modelOut, @Const dd_tensor noise,
            dd_tensor predXstart, dd_tensor next, @Cast("const float*") float[] coefs);
    public static native int dd_cfg_combine(dd_tensor modelOut, @Cast("int64_t") long guided, float scale);
    public static native int dd_dpm_update(@Const dd_tensor x, @Const dd_tensor modelOut, @Const dd_tensor m1,
            @Const dd_tensor m2, dd_tensor x0, dd_tensor next, @Cast("const float*") float[] coefs, int order);

    public static native int dd_weak_guidance(dd_tensor cond, @Const dd_tensor guide, @Cast("int64_t") long guided,
            float scale);
    public static native int dd_attention_varlen(@Const dd_tensor q, @Const dd_tensor k, @Const dd_tensor v,
            @Const dd_tensor cuSeqlens, float scale, dd_tensor out);
    public static native int dd_attention_key_mass(@Const dd_tensor q, @Const dd_tensor k, float scale, dd_tensor out);
    public static native int dd_attention_with_key_mass(@Const dd_tensor q, @Const dd_tensor k, @Const dd_tensor v,
            float scale, dd_tensor out, dd_tensor mass, int[] scoresRecomputed);
}
