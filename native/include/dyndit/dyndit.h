/*
 * dyndit: flat C API of the native kernel library.
 *
 * Conventions
 *  - Every fallible call returns a dd_status. On failure the calling thread's last-error message
 *    (dd_last_error) names what was wrong: the op, the tensor, expected vs actual.
 *  - Nothing in this library calls exit/abort or lets a C++ exception escape through this API.
 *  - Tensors are opaque handles. A handle is either an owner of fresh storage or a strided view of
 *    another tensor's storage; storage lives until the last handle on it is freed.
 *  - Shapes and strides are in elements; row-major; strides may be larger than dense (views of
 *    chunks) but ops document which dimensions must be contiguous.
 */
#ifndef DYNDIT_H
#define DYNDIT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define DD_API __declspec(dllexport)
#else
#define DD_API __attribute__((visibility("default")))
#endif

#define DD_MAX_DIMS 6

typedef enum dd_status {
    DD_OK = 0,
    DD_ERR_INVALID_ARGUMENT = 1, /* null handle, bad value, bad index */
    DD_ERR_SHAPE = 2,            /* a tensor's shape does not fit the op */
    DD_ERR_DTYPE = 3,            /* a tensor's dtype does not fit the op */
    DD_ERR_DEVICE = 4,           /* tensors on different devices, or not on the device the op needs */
    DD_ERR_CUDA_UNAVAILABLE = 5, /* CUDA asked for, none usable: message carries CUDA's reason */
    DD_ERR_OUT_OF_MEMORY = 6,
    DD_ERR_UNSUPPORTED = 7,      /* op or dtype not implemented on that backend */
    DD_ERR_CUDA = 8,             /* a CUDA call failed: message carries kernel and CUDA's words */
    DD_ERR_INTERNAL = 9
} dd_status;

typedef enum dd_dtype { DD_F32 = 0, DD_BF16 = 1, DD_F16 = 2, DD_I32 = 3, DD_I64 = 4 } dd_dtype;

typedef enum dd_device_type { DD_DEVICE_CPU = 0, DD_DEVICE_CUDA = 1, DD_DEVICE_CUDA_EMU = 2 } dd_device_type;

/* Arithmetic of the matrix products (linear, conv) on CUDA devices, and of the linears on the CPU. tf32: inputs
 * rounded to TF32 on tensor cores (as PyTorch runs DiT's official sampler; fp32 on the CPU); bf16: inputs rounded
 * to bf16 with fp32 accumulation (CPU: oneDNN on AVX512_BF16/AMX, refused elsewhere; the CPU convolutions stay
 * fp32); fp32: plain fp32 FMAs. */
typedef enum dd_precision { DD_PRECISION_FP32 = 0, DD_PRECISION_TF32 = 1, DD_PRECISION_BF16 = 2 } dd_precision;

typedef struct dd_tensor dd_tensor;

/* ---- errors and library information ---- */
DD_API const char* dd_last_error(void);           /* this thread's last message; "" when none */
DD_API void dd_clear_error(void);
DD_API const char* dd_status_name(int status);
DD_API const char* dd_version(void);
DD_API const char* dd_cpu_name(void);              /* CPU brand string */
DD_API const char* dd_cpu_isa(void);               /* kernel set the dispatcher chose: avx512, avx2, sse2 */
DD_API const char* dd_cpu_features(void);          /* detected features, space separated */
DD_API const char* dd_blas_info(void);             /* GEMM engine (oneDNN): version, bf16 support, threads */
/* Writes into buf (cap bytes, NUL-terminated, truncated to fit) the oneDNN kernel (impl_info) an M x N x K linear
 * runs on the CPU in `precision` on the calling thread's thread count (tf32: fp32). DD_ERR_UNSUPPORTED for bf16 on
 * a CPU without bf16 arithmetic. */
DD_API dd_status dd_cpu_matmul_kernel(int64_t m, int64_t n, int64_t k, int precision, char* buf, int64_t cap);
DD_API int dd_num_threads(void);
DD_API void dd_set_num_threads(int n);             /* kernels and oneDNN (one OpenMP pool); n <= 0: all cores */
DD_API int dd_cuda_compiled(void);                 /* 1 if CUDA code is in this build */
DD_API const char* dd_cuda_archs(void);            /* e.g. "sm_80 sm_90 compute_90", "" without CUDA */
/* Whether device `index` of CUDA is usable. On failure: DD_ERR_CUDA_UNAVAILABLE and the message carries
 * CUDA's own words (no driver, no device) or that the library was built without CUDA. */
DD_API dd_status dd_cuda_probe(int index);
/* Loads the emulated CUDA device (libdyndit_cuda_emu.so: the CUDA backend built against the SIMT emulator)
 * from `path`, or from beside libdyndit when path is NULL. Idempotent. DD_ERR_CUDA_UNAVAILABLE with the
 * loader's reason when it cannot be loaded. */
DD_API dd_status dd_cuda_emu_load(const char* path);
/* GEMM arithmetic of the calling thread's later ops on devices of `device_type` (a dd_precision; per thread, so
 * models of different precision on different threads do not interfere). bf16 (CPU; CUDA for linears with enough
 * rows for its wide tiles): each weight (w of a linear) is rounded to bf16 once and the copy reused until that
 * memory is freed or written through dd_tensor_write, dd_tensor_zero or dd_copy (so w must not be rewritten by
 * ops; on CUDA such a write rounds the copy again in place, for graphs that read it); on CUDA a copy is not made
 * while the thread captures a graph (that capture reads the fp32 weights);
 * DD_ERR_UNSUPPORTED naming the CPU's features where the CPU has no bf16 arithmetic. */
DD_API dd_status dd_set_gemm_precision(int device_type, int precision);
/* ---- sampler steps: the official p_sample / ddim_sample arithmetic in float32, bit for bit as the Java sampler,
 * so the sampling loop can keep its latents on the device ----
 * x, noise, pred_xstart, next: [B,C,H,W]; model_out: [B,Co,H,W] (learned sigma: Co = 2C, channels C..2C-1 hold
 * the variance interpolation v); all dense. noise NULL: no noise term (the last step); pred_xstart may be NULL.
 * next may be neither x nor model_out. coefs are the float32 values of the float64 tables at the step:
 *   ddpm (7): sqrt_recip_alphas_cumprod, sqrt_recipm1_alphas_cumprod, posterior_mean_coef1, posterior_mean_coef2,
 *             log(beta) (learned range max), posterior_log_variance_clipped (min), fixed-large log variance;
 *             learned_range 1: log variance interpolated by v, 0: the fixed one;
 *   ddim (5): sqrt_recip_alphas_cumprod, sqrt_recipm1_alphas_cumprod, sqrt(ab_prev), sqrt(1 - ab_prev - sigma^2),
 *             sigma. */
DD_API dd_status dd_ddpm_update(const dd_tensor* x, const dd_tensor* model_out, const dd_tensor* noise,
                                dd_tensor* pred_xstart, dd_tensor* next, const float* coefs, int learned_range);
DD_API dd_status dd_ddim_update(const dd_tensor* x, const dd_tensor* model_out, const dd_tensor* noise,
                                dd_tensor* pred_xstart, dd_tensor* next, const float* coefs);
/* One DPM-Solver++ multistep step (diffusers' dpmsolver++, float32 in its order) on x [B,C,H,W] from model_out
 * [B,Co,H,W] (eps = channels 0..C-1, Co >= C): x0 = (x - coefs[0] eps) / coefs[1] is written to x0 (the next steps'
 * history) and the update of `order` (1, 2 or 3) to next, reading the previous steps' x0 from m1 (order >= 2) and m2
 * (order 3); all [B,C,H,W] dense, next and x0 distinct from every input. coefs[2..]: order 1 {ratio, alpha_t phi};
 * 2 {ratio, alpha_t phi, 0.5 alpha_t phi, 1/r0}; 3 {ratio, alpha_t phi, alpha_t (phi/h + 1), alpha_t ((phi + h)/h^2 - 0.5),
 * 1/r0, 1/r1, r0/(r0 + r1), 1/(r0 + r1)}. */
DD_API dd_status dd_dpm_update(const dd_tensor* x, const dd_tensor* model_out, const dd_tensor* m1, const dd_tensor* m2,
                               dd_tensor* x0, dd_tensor* next, const float* coefs, int order);
/* forward_with_cfg's combine in place on model_out [2n,Co,H,W] (first half conditional, second unconditional):
 * channels below `guided` of both halves become u + scale (c - u); the others keep their values. */
DD_API dd_status dd_cfg_combine(dd_tensor* model_out, int64_t guided, float scale);
/* FlexiDiT's weak guidance in place on cond [n,Co,H,W]: channels below `guided` become g + scale (cond - g) with g
 * from guide [n,Co,H,W] (the guidance branch); the others keep the conditional branch's values. */
DD_API dd_status dd_weak_guidance(dd_tensor* cond, const dd_tensor* guide, int64_t guided, float scale);

/* CUDA graphs: between dd_graph_begin and dd_graph_end, this thread's ops on device `device_index` of `device_type` are
 * checked and recorded, not run (no tensor reads, writes or zeroing in between: those fail the capture);
 * dd_graph_launch replays them on the same tensors, whatever their contents are then. Launch gaps vanish
 * for a forward whose shapes the step plan fixes. DD_ERR_UNSUPPORTED on the CPU. */
typedef struct dd_graph dd_graph;
DD_API dd_status dd_graph_begin(int device_type, int device_index);
DD_API dd_status dd_graph_end(int device_type, dd_graph** out);
DD_API dd_status dd_graph_launch(dd_graph* graph);
DD_API void dd_graph_free(dd_graph* graph);  /* NULL is a no-op */
/* Profiler ranges (NVTX on CUDA builds, visible in Nsight Systems) around stages of the forward and the
 * sampler. With dd_range_record(1) they are also counted in-process (tests, traces). */
DD_API void dd_range_push(const char* name);
DD_API void dd_range_pop(void);
DD_API void dd_range_record(int on);
DD_API int64_t dd_range_count(void);          /* ranges pushed while recording */
DD_API int dd_range_max_depth(void);          /* deepest nesting seen while recording */
DD_API int dd_range_depth(void);              /* open ranges of this thread now */
DD_API int dd_dtype_size(int dtype);               /* bytes per element, 0 for an unknown dtype */
DD_API const char* dd_dtype_name(int dtype);

/* ---- tensors ---- */
DD_API dd_status dd_tensor_new(int device_type, int device_index, int dtype, int ndim, const int64_t* shape,
                               dd_tensor** out);
/* A view of `base`'s storage: element offset (relative to base's first element) plus shape and strides.
 * Every addressed element must lie inside base's storage. */
DD_API dd_status dd_tensor_view(const dd_tensor* base, int ndim, const int64_t* shape, const int64_t* strides,
                                int64_t offset, dd_tensor** out);
DD_API void dd_tensor_free(dd_tensor* t); /* NULL is a no-op */
DD_API int dd_tensor_ndim(const dd_tensor* t);
DD_API int64_t dd_tensor_dim(const dd_tensor* t, int i);
DD_API int64_t dd_tensor_stride(const dd_tensor* t, int i);
DD_API int64_t dd_tensor_offset(const dd_tensor* t);
DD_API int dd_tensor_dtype(const dd_tensor* t);
DD_API int dd_tensor_device_type(const dd_tensor* t);
DD_API int dd_tensor_device_index(const dd_tensor* t);
DD_API int64_t dd_tensor_numel(const dd_tensor* t);
DD_API int dd_tensor_is_contiguous(const dd_tensor* t);
/* Host pointer to the first element of a CPU tensor; NULL for device memory. */
DD_API void* dd_tensor_data(const dd_tensor* t);
/* Copy between host memory and a CONTIGUOUS tensor (any device): bytes [offset, offset+nbytes). */
DD_API dd_status dd_tensor_write(dd_tensor* t, const void* src, int64_t nbytes, int64_t offset_bytes);
DD_API dd_status dd_tensor_read(const dd_tensor* t, void* dst, int64_t nbytes, int64_t offset_bytes);
/* Sets every byte of a CONTIGUOUS tensor to zero (any device). */
DD_API dd_status dd_tensor_zero(dd_tensor* t);
/* dst = src converted element-wise (f32 <-> bf16/f16, i32 <-> i64, same dtype = copy); same shape,
 * any strides. */
DD_API dd_status dd_copy(const dd_tensor* src, dd_tensor* dst);

/* ---- ops (all f32 activations unless stated) ----
 * Every op checks all inputs up front; nothing is written on failure. Outputs must not alias inputs
 * unless the op says in-place is allowed. */

/* y[m, :] = x[m, :] @ w^T + bias  (PyTorch Linear). x: [..., K] with the leading dims collapsing to M rows
 * (last dim contiguous, rows at a uniform stride); w: [N, K] contiguous rows; bias: [N] or NULL;
 * y: [..., N] same leading dims as x.
 * bf16 activations: in the bf16 GEMM precision x and y may be DD_BF16 tensors (x is used as it is, y is the fp32
 * result rounded to nearest even once); the same for dd_linear_gelu's x and y and dd_linear_gated_residual's x (h
 * stays f32). Elsewhere DD_ERR_DTYPE naming the tensor (another precision; CPU and CUDA alike). On the CPU the bf16
 * weights are then packed once into oneDNN's preferred layout; on CUDA bf16 x is copied straight into the GEMM's
 * bf16 tiles. */
DD_API dd_status dd_linear(const dd_tensor* x, const dd_tensor* w, const dd_tensor* bias, dd_tensor* y);
/* dd_linear whose rows do not depend on each other: y[m,j] = x[m,:] . w[j,:] + bias[j], each by the same operations
 * whatever the number of rows, the other rows and the thread count (dd_linear's GEMM may reduce in another order for
 * another M). f32 x, w, bias, y at every GEMM precision (x, w, bias, y as dd_linear; bf16 x: DD_ERR_DTYPE). The
 * conditioning's linears: the adaLN of several sampling steps made at once, one read of the weights, equal bit for bit
 * to each step's own. CPU only (DD_ERR_UNSUPPORTED on CUDA devices). */
DD_API dd_status dd_linear_row_invariant(const dd_tensor* x, const dd_tensor* w, const dd_tensor* bias, dd_tensor* y);
/* dd_linear with the op that follows it in a DiT block fused into the GEMM (CUDA: the GEMM's epilogue, no pass
 * over y of its own; the CPU: dd_linear then the separate op, bit for bit). x, w, bias as in dd_linear.
 *   dd_linear_gelu:           y = gelu_tanh(x @ w^T + bias), y as in dd_linear (dd_gelu_tanh's function; on CUDA
 *                             the tanh form, within fp32 rounding of it). A bf16 y on the CPU: the product rounded
 *                             to bf16 into y, then the GELU of those values in fp32, rounded again (half the bytes
 *                             of an f32 pre-activation; one more rounding, through |gelu'| <= 1.13); CUDA rounds
 *                             once.
 *   dd_linear_gated_residual: h[n,t,:] += gate[n,:] * (x[n,t,:] @ w^T + bias); x [N,T,K], h [N,T,D] (D = rows of
 *                             w, rows at a uniform stride), gate [N,D] (last dim contiguous) or NULL (1). */
DD_API dd_status dd_linear_gelu(const dd_tensor* x, const dd_tensor* w, const dd_tensor* bias, dd_tensor* y);
DD_API dd_status dd_linear_gated_residual(const dd_tensor* x, const dd_tensor* w, const dd_tensor* bias,
                                          const dd_tensor* gate, dd_tensor* h);

/* y[n,t,:] = LN(x[n,t,:]) * (1 + scale[n,:]) + shift[n,:], LN without affine, biased variance.
 * x, y: [N,T,D] (last dim contiguous); shift, scale: [N,D] (last dim contiguous, any row stride) or NULL
 * (both NULL = plain LayerNorm). In-place (y == x) allowed. y may be DD_BF16 on the CPU (the f32 result rounded
 * once, nearest even: what a bf16 linear's own rounding of an f32 y gives; not in place); DD_ERR_UNSUPPORTED naming
 * 'y' on CUDA today. */
DD_API dd_status dd_layernorm_modulate(const dd_tensor* x, const dd_tensor* shift, const dd_tensor* scale,
                                       float eps, dd_tensor* y);

/* Element-wise, same shape, contiguous; in-place allowed. GELU uses the tanh approximation. dd_gelu_tanh also takes
 * bf16 x and y (both) on the CPU in the bf16 GEMM precision (DD_ERR_DTYPE in the others, DD_ERR_UNSUPPORTED on CUDA
 * devices): computed in fp32 within 1.2e-4 relative, rounded to bf16 once (DyDiT's width-sliced MLP hidden). */
DD_API dd_status dd_gelu_tanh(const dd_tensor* x, dd_tensor* y);
DD_API dd_status dd_silu(const dd_tensor* x, dd_tensor* y);

/* h[n,t,:] += gate[n,:] * x[n,t,:]; gate [N,D] (any row stride) or NULL (= plain residual add).
 * h, x: [N,T,D], last dim contiguous. */
DD_API dd_status dd_gated_residual_add(dd_tensor* h, const dd_tensor* gate, const dd_tensor* x);

/* Softmax attention per batch entry and head: out = softmax(q k^T * scale) v.
 * q, out: [N,Tq,H,Dh]; k, v: [N,Tk,H,Dh]; views with any strides on N,T,H and a contiguous last dim (q, k, v may
 * be views into one packed qkv tensor [N,T,3,H,Dh]). Tq = Tk is self-attention; Tq != Tk (some queries against
 * all keys: token caching) runs a plain kernel on CUDA devices, head dims up to 128. On the CPU in bf16 GEMM precision
 * Q K^T and P V are bf16 matmuls (q, k, v and the fp32 softmax's probabilities rounded to bf16, fp32 accumulation).
 * q, k, v and out are all f32, or all DD_BF16 in the bf16 GEMM precision (DD_ERR_DTYPE in the others), read and
 * written without a conversion pass. On CUDA devices bf16 operands need self-attention, head dims up to 128, q / k / v
 * 16-byte aligned with strides in multiples of 8 values, out 4-byte aligned with even strides (DD_ERR_UNSUPPORTED
 * naming the kernel otherwise); the CPU takes any shape. The fp32 softmax's probabilities are rounded to bf16 for
 * P V, and out is the fp32 result rounded to bf16 once (nearest even): on the CPU the values f32 operands holding the
 * same values give, rounded. */
DD_API dd_status dd_attention(const dd_tensor* q, const dd_tensor* k, const dd_tensor* v, float scale,
                              dd_tensor* out);

/* Attention mass each key receives: out[n,j] = (1/H) sum_h sum_i softmax_j(scale q[n,i,h,:] . k[n,j,h,:]),
 * i.e. the column sums of the attention probabilities averaged over heads (each row of out sums to T).
 * q, k: [N,T,H,Dh] views as in dd_attention; out [N,T] contiguous. Token caching's importance score. */
DD_API dd_status dd_attention_key_mass(const dd_tensor* q, const dd_tensor* k, float scale, dd_tensor* out);

/* dd_attention (self-attention: Tq = Tk) and dd_attention_key_mass of the same q, k in one call: out as
 * dd_attention, mass [N,T] contiguous as dd_attention_key_mass's out. Where the backend takes the mass from the
 * attention's own probabilities (the CPU, in fp32 at every GEMM precision) both equal the separate ops in fp32 bit for
 * bit and *scores_recomputed (if not NULL) is set to 0; elsewhere the two ops run in turn (Q K^T twice) and it is set
 * to 1. */
DD_API dd_status dd_attention_with_key_mass(const dd_tensor* q, const dd_tensor* k, const dd_tensor* v, float scale,
                                            dd_tensor* out, dd_tensor* mass, int* scores_recomputed);

/* Packed variable-length attention (block-diagonal): sequences of lengths cu_seqlens[b+1] - cu_seqlens[b]
 * lie back to back in q, k, v, out [R,H,Dh] (views with any strides on R and H, contiguous Dh); each token
 * attends only within its sequence. cu_seqlens [B+1] i32 on the host, non-decreasing, from 0 to R. Precision and
 * bf16 operands as dd_attention. */
DD_API dd_status dd_attention_varlen(const dd_tensor* q, const dd_tensor* k, const dd_tensor* v,
                                     const dd_tensor* cu_seqlens, float scale, dd_tensor* out);

/* dst[i,:] = src[index[i],:]. src [R,D], index [K] i32 in [0,R), dst [K,D]. */
DD_API dd_status dd_gather_rows(const dd_tensor* src, const dd_tensor* index, dd_tensor* dst);

/* dst[index[i],:] += g * src[i,:], with g = gate[row_sample[i],:] when gate is given (gate [S,D], any row
 * stride; row_sample [K] i32 in [0,S)), else g = 1. dst [R,D], index [K] i32 in [0,R), src [K,D].
 * Indices may repeat (additions are applied in index order within a row). */
DD_API dd_status dd_scatter_add_rows(dd_tensor* dst, const dd_tensor* index, const dd_tensor* src,
                                     const dd_tensor* gate, const dd_tensor* row_sample);

/* DiT patch embedding input (timm PatchEmbed as a matmul): out[n, i*gw+j, (c*p+a)*p+b] = x[n, c, i*p+a, j*p+b].
 * x [N,C,H,W] contiguous with H, W multiples of p; out [N, (H/p)*(W/p), C*p*p]. */
DD_API dd_status dd_patchify(const dd_tensor* x, int p, dd_tensor* out);

/* DiT unpatchify ('nhwpqc->nchpwq'): out[n, ch, i*p+a, j*p+b] = tokens[n, i*gw+j, (a*p+b)*Co + ch].
 * tokens [N, (H/p)*(W/p), p*p*Co] (last dim contiguous); out [N,Co,H,W] contiguous. */
DD_API dd_status dd_unpatchify(const dd_tensor* tokens, int p, dd_tensor* out);

/* Sinusoidal timestep features as DiT computes them in float32: half = dim/2,
 * f_k = exp(-ln(max_period) * k / half), out[n] = [cos(t_n f_k) (k < half), sin(t_n f_k)], zero column
 * appended when dim is odd. t [N] f32; out [N, dim] contiguous. */
DD_API dd_status dd_timestep_embedding(const dd_tensor* t, float max_period, dd_tensor* out);

/* y[n, ...] += b[...] for every n: y [N, R, D], b [R, D] (last dims contiguous). */
DD_API dd_status dd_add_broadcast(dd_tensor* y, const dd_tensor* b);

/* ---- width-sliced and ragged forms (DyDiT) ---- */

/* Only listed output rows of w: blocks = nblocks pairs (start, length) of rows of w [N,K] (host array);
 * y [..., sum of lengths] receives them back to back: y[m, off_b + j] = x[m,:] . w[start_b + j, :] + bias[start_b + j].
 * Weights are read in place. x as in dd_linear. bf16 activations (the CPU in the bf16 GEMM precision; DD_ERR_DTYPE in
 * the others, DD_ERR_UNSUPPORTED on CUDA devices): x and y may be DD_BF16 as in dd_linear. */
DD_API dd_status dd_linear_out_blocks(const dd_tensor* x, const dd_tensor* w, const dd_tensor* bias,
                                      const int64_t* blocks, int nblocks, dd_tensor* y);

/* Only listed input columns of w: x [..., sum of lengths] holds the listed columns back to back;
 * y[m,:] = bias + sum_b x[m, off_b : off_b+len_b] . w[:, start_b : start_b+len_b]^T; w [N,K] read in place.
 * bias [N] or NULL is always added (so zero blocks leaves y = bias). x may be DD_BF16 as dd_linear_out_blocks' (y is
 * f32: the blocks accumulate into it). */
DD_API dd_status dd_linear_in_blocks(const dd_tensor* x, const dd_tensor* w, const dd_tensor* bias,
                                     const int64_t* blocks, int nblocks, dd_tensor* y);

/* The width-sliced MLP's fused forms (CPU; DD_ERR_UNSUPPORTED on CUDA devices, which run the two ops), bit for bit
 * the two ops in turn: dd_linear_out_blocks_gelu is dd_linear_out_blocks then dd_gelu_tanh on y (f32 or bf16);
 * dd_linear_in_blocks_gated_residual is dd_linear_in_blocks into a scratch, then dd_gated_residual_add into
 * h [N,T,rows of w] with gate [N, rows of w] (or NULL: 1); x [N,T,sum of lengths]. Each thread finishes its own rows
 * in pieces that stay in its cache (a DyDiT-B/2 b8 bf16 forward at width 0.5: 156-159 -> 141-145 ms). */
DD_API dd_status dd_linear_out_blocks_gelu(const dd_tensor* x, const dd_tensor* w, const dd_tensor* bias,
                                           const int64_t* blocks, int nblocks, dd_tensor* y);
DD_API dd_status dd_linear_in_blocks_gated_residual(const dd_tensor* x, const dd_tensor* w, const dd_tensor* bias,
                                                    const int64_t* blocks, int nblocks, const dd_tensor* gate,
                                                    dd_tensor* h);

/* Ragged rows: y[i,:] = LN(x[i,:]) * (1 + scale[row_sample[i],:]) + shift[row_sample[i],:].
 * x, y [K,D]; shift, scale [S,D] (any row stride); row_sample [K] i32 in [0,S). In-place allowed. */
DD_API dd_status dd_layernorm_modulate_rows(const dd_tensor* x, const dd_tensor* shift, const dd_tensor* scale,
                                            const dd_tensor* row_sample, float eps, dd_tensor* y);

/* Token selection: logits [N,T] (any row stride); a token is kept when sigmoid(logit) > 0.5 in float32.
 * Writes the kept rows' flat indices n*T + t in ascending order into index [N*T] i32, their sample n into
 * row_sample [N*T] i32, and per-sample counts into counts [N] i32; entries past the total are untouched. */
DD_API dd_status dd_select_tokens(const dd_tensor* logits, dd_tensor* index, dd_tensor* row_sample, dd_tensor* counts);

/* y = max(x, 0), contiguous, in-place allowed. */
DD_API dd_status dd_relu(const dd_tensor* x, dd_tensor* y);

/* ---- top-k token routing (DiffCR) ---- */

/* Per row n of scores [N,T] (any row stride): the k largest (ties: lower index first), written as flat
 * indices n*T + t in ascending t order into index [N,k] i32 (contiguous). 1 <= k <= T. */
DD_API dd_status dd_topk_rows(const dd_tensor* scores, int k, dd_tensor* index);

/* dst[index[i],:] = src[i,:]. dst [R,D], index [K] i32 in [0,R) without repeats, src [K,D]. */
DD_API dd_status dd_scatter_rows(dd_tensor* dst, const dd_tensor* index, const dd_tensor* src);

/* x[r,:] *= s[r] in place. x [R,D] (last dim contiguous), s [R] f32 (contiguous). */
DD_API dd_status dd_scale_rows(dd_tensor* x, const dd_tensor* s);

/* y = 1 / (1 + exp(-x)) in float32, contiguous, in-place allowed. */
DD_API dd_status dd_sigmoid(const dd_tensor* x, dd_tensor* y);

#ifdef __cplusplus
}
#endif
#endif /* DYNDIT_H */
