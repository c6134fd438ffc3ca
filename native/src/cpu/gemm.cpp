// oneDNN matmuls for the CPU backend (see gemm.h). Primitives are created once per shape, thread count and
// precision and shared by all threads (oneDNN primitives may run concurrently when the caller supplies the
// scratchpad, which each thread does from a buffer that only grows); each thread executes on its own stream.
#include "gemm.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "../core/error.h"
#include "../core/half.h"
#include "cpu_threads.h"
#include "dnnl_util.h"

namespace dd::cpu {
namespace {

using dt = dnnl::memory::data_type;

// What fixes a primitive: kind (matmul, the f32 -> bf16 activation reorder, or a one-thread bf16 x bf16 matmul),
// shape, strides, options, threads.
struct Key {
    int kind;
    int64_t M, N, K, a_m, a_k, b_k, b_n, c_m;
    int64_t batch, a_b, b_b, c_b;  // serial bf16 products: batch and its strides (1, 0, 0, 0: one product)
    bool bias, accumulate, bf16, a_bf16, c_bf16, pack;
    int threads;
    bool operator==(const Key& o) const { return std::memcmp(this, &o, sizeof(Key)) == 0; }
};

struct KeyHash {
    size_t operator()(const Key& k) const {
        size_t h = 1469598103934665603ull;
        const unsigned char* b = reinterpret_cast<const unsigned char*>(&k);
        for (size_t i = 0; i < sizeof(Key); ++i) h = (h ^ b[i]) * 1099511628211ull;
        return h;
    }
};

constexpr int kMatmul = 0, kToBf16 = 1, kSerialBf16 = 2;

Key make_key(int kind, const Gemm& g, int threads) {
    Key k;
    std::memset(&k, 0, sizeof k);  // padding too: keys compare and hash as bytes
    k.kind = kind;
    k.M = g.M, k.N = g.N, k.K = g.K, k.a_m = g.a_m, k.a_k = g.a_k, k.b_k = g.b_k, k.b_n = g.b_n, k.c_m = g.c_m;
    k.bias = g.bias != nullptr, k.accumulate = g.accumulate, k.bf16 = g.b_bf16;
    if (kind == kMatmul) k.a_bf16 = g.a_bf16, k.c_bf16 = g.c_bf16, k.pack = g.b_pack;
    k.threads = threads;
    return k;
}

struct Prim {
    dnnl::primitive prim;
    dnnl::memory::desc a, b, bias, c;  // a: bf16 contiguous when the product is bf16
    dnnl::memory::desc a_f32;          // reorders: the f32 source
    dnnl::memory::desc b_f32;          // packed weights: the f32 source they are reordered from
    uint64_t b_layout = 0;             // packed weights: their key in the weight cache
    size_t scratch = 0;
    std::string impl;
};

// Shapes seen in a run are few (layers x token counts); the cap only guards against unbounded variety.
constexpr size_t kMaxPrimitives = 4096;

std::shared_mutex g_prims_mutex;
std::unordered_map<Key, std::shared_ptr<const Prim>, KeyHash> g_prims;

// oneDNN plans a primitive for the calling thread's OpenMP team size: a serial one is created with it set to 1.
struct OneThreadPlan {
    int saved = omp_get_max_threads();
    OneThreadPlan() { omp_set_num_threads(1); }
    ~OneThreadPlan() { omp_set_num_threads(saved); }
};

std::shared_ptr<const Prim> create(const Key& k) {
    auto p = std::make_shared<Prim>();
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    if (k.kind == kSerialBf16) {  // a [B,M,K] bf16 (strides a_b, a_m, 1), b [B,K,N] bf16 (b_b, b_k, b_n), c f32 (c_b, c_m, 1)
        OneThreadPlan one;
        p->a = dnnl::memory::desc({k.batch, k.M, k.K}, dt::bf16, {k.a_b, k.a_m, 1});
        p->b = dnnl::memory::desc({k.batch, k.K, k.N}, dt::bf16, {k.b_b, k.b_k, k.b_n});
        p->c = dnnl::memory::desc({k.batch, k.M, k.N}, dt::f32, {k.c_b, k.c_m, 1});
        dnnl::matmul::primitive_desc pd(dnnl_engine(), p->a, p->b, p->c, attr);
        p->scratch = pd.scratchpad_desc().get_size();
        p->impl = pd.impl_info_str();
        p->prim = dnnl::matmul(pd);
        return p;
    }
    if (k.kind == kToBf16) {  // A [M,K] f32 at its strides -> bf16 contiguous
        p->a_f32 = dnnl::memory::desc({k.M, k.K}, dt::f32, {k.a_m, k.a_k});
        p->a = dnnl::memory::desc({k.M, k.K}, dt::bf16, {k.K, 1});
        dnnl::reorder::primitive_desc pd(dnnl_engine(), p->a_f32, dnnl_engine(), p->a, attr);
        p->scratch = pd.scratchpad_desc().get_size();
        p->impl = pd.impl_info_str();
        p->prim = dnnl::reorder(pd);
        return p;
    }
    const dt in = k.bf16 ? dt::bf16 : dt::f32;
    p->a = k.a_bf16 ? dnnl::memory::desc({k.M, k.K}, dt::bf16, {k.a_m, 1})
           : k.bf16 ? dnnl::memory::desc({k.M, k.K}, dt::bf16, {k.K, 1})
                    : dnnl::memory::desc({k.M, k.K}, dt::f32, {k.a_m, k.a_k});
    p->b = k.pack ? dnnl::memory::desc({k.K, k.N}, in, dnnl::memory::format_tag::any)
                  : dnnl::memory::desc({k.K, k.N}, in, {k.b_k, k.b_n});
    if (k.pack) p->b_f32 = dnnl::memory::desc({k.K, k.N}, dt::f32, {k.b_k, k.b_n});
    p->c = dnnl::memory::desc({k.M, k.N}, k.c_bf16 ? dt::bf16 : dt::f32, {k.c_m, 1});
    if (k.bias) p->bias = dnnl::memory::desc({1, k.N}, dt::f32, {k.N, 1});
    if (k.accumulate) {
        dnnl::post_ops po;
        po.append_sum(1.0f);
        attr.set_post_ops(po);
    }
    dnnl::matmul::primitive_desc pd = k.bias ? dnnl::matmul::primitive_desc(dnnl_engine(), p->a, p->b, p->bias, p->c, attr)
                                             : dnnl::matmul::primitive_desc(dnnl_engine(), p->a, p->b, p->c, attr);
    p->scratch = pd.scratchpad_desc().get_size();
    p->impl = pd.impl_info_str();
    p->prim = dnnl::matmul(pd);
    if (k.pack) p->b = pd.weights_desc(), p->b_layout = layout_id(p->b);
    return p;
}

std::shared_ptr<const Prim> lookup(const Key& k) {
    {
        std::shared_lock lock(g_prims_mutex);
        auto it = g_prims.find(k);
        if (it != g_prims.end()) return it->second;
    }
    auto p = create(k);  // outside the lock: creation may take milliseconds
    std::unique_lock lock(g_prims_mutex);
    if (g_prims.size() >= kMaxPrimitives) g_prims.clear();  // users keep theirs alive through shared_ptr
    return g_prims.emplace(k, std::move(p)).first->second;
}

// The calling thread's scratchpad, shared by all its primitives (one runs at a time on a thread).
GrowBuffer& thread_scratch() {
    thread_local GrowBuffer scratch;
    return scratch;
}

// One argument of a primitive: its oneDNN id, descriptor and buffer.
struct Arg {
    int id;
    const dnnl::memory::desc* desc;
    const void* ptr;
};

// A primitive's argument memories, made once per thread and primitive and re-pointed on each call (creating memory
// objects and argument maps cost the attention's many small products ~10% of their time).
struct BoundArgs {
    std::shared_ptr<const Prim> prim;  // keeps the descriptors alive while bound
    DnnlArgs args;
};

// Runs prim on the calling thread's stream with args (the same ids on every call of a primitive) and its scratchpad.
void run_bound(const std::shared_ptr<const Prim>& prim, std::initializer_list<Arg> args) {
    thread_local std::unordered_map<const Prim*, BoundArgs> bound;
    void* sp = prim->scratch > 0 ? thread_scratch().get(prim->scratch) : nullptr;
    auto it = bound.find(prim.get());
    if (it == bound.end()) {
        if (bound.size() >= 1024) bound.clear();  // shapes are few; the cap only bounds variety
        BoundArgs x{prim, {}};
        for (const Arg& a : args) x.args.emplace(a.id, dnnl_mem(*a.desc, a.ptr));
        if (sp) x.args.emplace(DNNL_ARG_SCRATCHPAD,
                               dnnl_mem(dnnl::memory::desc({(int64_t)prim->scratch}, dt::u8, {1}), sp));
        it = bound.emplace(prim.get(), std::move(x)).first;
    } else {
        DnnlArgs& m = it->second.args;
        for (const Arg& a : args) m.at(a.id).set_data_handle(const_cast<void*>(a.ptr));
        if (sp) m.at(DNNL_ARG_SCRATCHPAD).set_data_handle(sp);
    }
    dnnl::stream& s = thread_stream();
    prim->prim.execute(s, it->second.args);
    s.wait();
}

void run_gemm(const Gemm& g) {
    const int threads = omp_get_max_threads();
    auto prim = lookup(make_key(kMatmul, g, threads));
    thread_local GrowBuffer a_bf16;
    const void* a = g.a;
    if (g.b_bf16 && !g.a_bf16) {
        auto conv = lookup(make_key(kToBf16, g, threads));
        void* dst = a_bf16.get(size_t(g.M) * size_t(g.K) * 2);
        run_bound(conv, {{DNNL_ARG_FROM, &conv->a_f32, g.a}, {DNNL_ARG_TO, &conv->a, dst}});
        a = dst;
    }
    const void* b = g.b;
    if (g.b_pack)  // the weight in the primitive's layout, reordered from f32 once per weight and layout
        b = cached_weights(static_cast<const float*>(g.b), g.N, g.K, g.b_n, prim->b_layout, prim->b.get_size(),
                           [&](void* out) {
                               dnnl::reorder r(dnnl::reorder::primitive_desc(dnnl_engine(), prim->b_f32,
                                                                             dnnl_engine(), prim->b));
                               dnnl::memory from = dnnl_mem(prim->b_f32, g.b), to = dnnl_mem(prim->b, out);
                               dnnl::stream& s = thread_stream();
                               r.execute(s, from, to);
                               s.wait();
                           });
    if (g.bias)
        run_bound(prim, {{DNNL_ARG_SRC, &prim->a, a}, {DNNL_ARG_WEIGHTS, &prim->b, b}, {DNNL_ARG_DST, &prim->c, g.c},
                         {DNNL_ARG_BIAS, &prim->bias, g.bias}});
    else
        run_bound(prim, {{DNNL_ARG_SRC, &prim->a, a}, {DNNL_ARG_WEIGHTS, &prim->b, b}, {DNNL_ARG_DST, &prim->c, g.c}});
}

// K = 0: the product is zero; C becomes bias (or 0), or gains bias when accumulating.
void empty_product(const Gemm& g) {
    for (int64_t m = 0; m < g.M; ++m)
        for (int64_t n = 0; n < g.N; ++n) {
            const float r = g.bias ? g.bias[n] : 0.f;
            if (g.c_bf16) {
                static_cast<uint16_t*>(g.c)[m * g.c_m + n] = f32_to_bf16(r);
            } else {
                float& c = static_cast<float*>(g.c)[m * g.c_m + n];
                c = (g.accumulate ? c : 0.f) + r;
            }
        }
}

// ---- bf16 weight copies ----

struct WeightKey {
    const float* w;
    int64_t rows, cols, ld;
    uint64_t layout;
    bool operator==(const WeightKey& o) const {
        return w == o.w && rows == o.rows && cols == o.cols && ld == o.ld && layout == o.layout;
    }
};

struct WeightKeyHash {
    size_t operator()(const WeightKey& k) const {
        return std::hash<const void*>()(k.w) ^ (std::hash<int64_t>()(k.rows * 31 + k.cols) << 1) ^ (k.ld << 7) ^
               std::hash<uint64_t>()(k.layout);
    }
};

struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
};

std::shared_mutex g_weights_mutex;
std::unordered_map<WeightKey, std::unique_ptr<void, FreeDeleter>, WeightKeyHash> g_weights;
std::atomic<size_t> g_weight_count{0};

thread_local bool t_bf16 = false;

}  // namespace

// bf16 products with a long K into an f32 C (DiT's fc2: K = 4 D) run as up to three K-chunks accumulated in C:
// oneDNN streams the whole packed weight for every block of rows, and a chunk's weights stay nearer (the whole is
// 4.7 MB at B/2, 10.6 MB at XL/2, beside 2 MB of L2). Measured interleaved, 3 runs (ms, whole / 2 / 3 / 4 chunks):
// B/2 b8 fc2 5.2-6.0 / 4.9-5.2 / 4.3-5.2 / 4.5-5.0; XL/2 b2 fc2 3.0-3.2 / 3.0-3.4 / 2.5-2.9 / 2.8-4.0. DyDiT's
// half-width fc2 (K = 1536, per thread 1024 rows) in two chunks: 2.30 -> 1.94-2.03 ms.
// C holds the fp32 partial sums (no rounding beyond fp32's, in another order than one product's).
namespace {
int64_t k_chunk(const Gemm& g) {
    if (!g.b_bf16 || !g.b_pack || g.c_bf16 || g.K < 1536) return g.K;
    const int64_t chunks = g.K < 2048 ? 2 : std::min<int64_t>(3, g.K / 1024);
    return ((g.K + chunks - 1) / chunks + 31) & ~int64_t(31);  // whole AMX bf16 tiles (32 values of K)
}

void run_gemm_in_k_chunks(const Gemm& g) {
    const int64_t kc = k_chunk(g);
    const size_t a_elem = g.a_bf16 ? 2 : 4;
    for (int64_t k0 = 0; k0 < g.K; k0 += kc) {
        Gemm c = g;
        c.K = std::min(kc, g.K - k0);
        c.a = static_cast<const char*>(g.a) + size_t(k0 * g.a_k) * a_elem;
        c.b = static_cast<const float*>(g.b) + k0 * g.b_k;
        if (k0 > 0) c.bias = nullptr, c.accumulate = true;
        run_gemm(c);
    }
}
}  // namespace

dd_status gemm(const char* op, const Gemm& g) {
    if (g.M <= 0 || g.N <= 0) return DD_OK;
    if (g.K <= 0) {
        empty_product(g);
        return DD_OK;
    }
    try {
        run_gemm_in_k_chunks(g);
        return DD_OK;
    } catch (const dnnl::error& e) {
        return fail(DD_ERR_INTERNAL, format("%s: oneDNN matmul %lld x %lld x %lld (M x N x K, %s) failed: %s", op,
                                            (long long)g.M, (long long)g.N, (long long)g.K,
                                            g.b_bf16 ? "bf16" : "fp32", e.what()));
    } catch (const std::bad_alloc&) {
        return fail(DD_ERR_OUT_OF_MEMORY, format("%s: out of host memory for the oneDNN matmul %lld x %lld x %lld", op,
                                                 (long long)g.M, (long long)g.N, (long long)g.K));
    }
}

void bf16_product_serial(const Bf16Product& p) {
    if (p.batch > 1 && std::min({p.M, p.N, p.K}) == 1) {
        // a size-1 dim beside the batch: oneDNN misread such strides (wrong results for one-row sequences); one call
        // per product instead
        for (int64_t i = 0; i < p.batch; ++i)
            bf16_product_serial({p.a + i * p.a_b, p.a_m, p.b + i * p.b_b, p.b_k, p.b_n, p.c + i * p.c_b, p.c_m, p.M, p.N,
                                 p.K});
        return;
    }
    Key k;
    std::memset(&k, 0, sizeof k);
    k.kind = kSerialBf16;
    k.M = p.M, k.N = p.N, k.K = p.K, k.a_m = p.a_m, k.a_k = 1, k.b_k = p.b_k, k.b_n = p.b_n, k.c_m = p.c_m;
    k.batch = p.batch, k.a_b = p.a_b, k.b_b = p.b_b, k.c_b = p.c_b;
    k.bf16 = true;
    k.threads = 1;
    const auto prim = lookup(k);
    run_bound(prim, {{DNNL_ARG_SRC, &prim->a, p.a}, {DNNL_ARG_WEIGHTS, &prim->b, p.b}, {DNNL_ARG_DST, &prim->c, p.c}});
}

const void* cached_weights(const float* w, int64_t rows, int64_t cols, int64_t ld, uint64_t layout, size_t bytes,
                           const std::function<void(void*)>& fill) {
    const WeightKey key{w, rows, cols, ld, layout};
    {
        std::shared_lock lock(g_weights_mutex);
        auto it = g_weights.find(key);
        if (it != g_weights.end()) return it->second.get();
    }
    std::unique_ptr<void, FreeDeleter> copy(std::aligned_alloc(64, (std::max<size_t>(bytes, 1) + 63) / 64 * 64));
    if (!copy) throw std::bad_alloc();
    fill(copy.get());
    std::unique_lock lock(g_weights_mutex);
    auto [it, added] = g_weights.emplace(key, std::move(copy));
    if (added) g_weight_count.fetch_add(1, std::memory_order_relaxed);
    return it->second.get();
}

void forget_weights(const void* p, size_t bytes) {
    if (g_weight_count.load(std::memory_order_relaxed) == 0) return;
    const char* lo = static_cast<const char*>(p);
    const char* hi = lo + bytes;
    std::unique_lock lock(g_weights_mutex);
    for (auto it = g_weights.begin(); it != g_weights.end();) {
        const WeightKey& k = it->first;
        const char* wlo = reinterpret_cast<const char*>(k.w);
        const char* whi = wlo + sizeof(float) * size_t((k.rows - 1) * k.ld + k.cols);
        if (wlo < hi && lo < whi) {
            it = g_weights.erase(it);
            g_weight_count.fetch_sub(1, std::memory_order_relaxed);
        } else {
            ++it;
        }
    }
}

bool thread_uses_bf16() { return t_bf16; }

dd_status require_bf16_precision(const char* op, const char* tensor, bool bf16) {
    if (!bf16 || t_bf16) return DD_OK;
    return fail(DD_ERR_DTYPE, format("%s: tensor '%s' is bf16, which needs the bf16 GEMM precision "
                                     "(dd_set_gemm_precision DD_PRECISION_BF16); this thread computes in fp32", op,
                                     tensor));
}

bool bf16_supported() {
    const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    const auto bf16 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
    return (isa & bf16) == bf16;
}

namespace {

// oneDNN's name for the instruction set it runs at (the CPU's, or less where ONEDNN_MAX_CPU_ISA caps it).
const char* dnnl_isa_name() {
    switch (dnnl::get_effective_cpu_isa()) {
        case dnnl::cpu_isa::sse41: return "sse41";
        case dnnl::cpu_isa::avx: return "avx";
        case dnnl::cpu_isa::avx2: return "avx2";
        case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
        case dnnl::cpu_isa::avx2_vnni_2: return "avx2_vnni_2";
        case dnnl::cpu_isa::avx512_core: return "avx512_core";
        case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
        case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
        default: return "a newer one";
    }
}

}  // namespace

dd_status set_thread_precision(int precision) {
    // Refused rather than run on an emulation whose speed nothing here measures (the README says which).
    if (precision == DD_PRECISION_BF16 && !bf16_supported())
        return fail(DD_ERR_UNSUPPORTED,
                    format("bf16 on the CPU needs AVX512_BF16 or AMX (oneDNN ISA avx512_core_bf16 or newer); oneDNN "
                           "runs at ISA %s here (ONEDNN_MAX_CPU_ISA may cap it), and this CPU offers %s: use fp32",
                           dnnl_isa_name(), dd_cpu_features()));
    t_bf16 = precision == DD_PRECISION_BF16;  // tf32 is a tensor-core format: fp32 on the CPU
    return DD_OK;
}

std::string engine_info() {
    const dnnl_version_t* v = dnnl_version();
    return format("oneDNN %d.%d.%d (%s, OpenMP, %d threads)", v->major, v->minor, v->patch,
                  bf16_supported() ? "bf16 native" : "no native bf16", omp_get_max_threads());
}

std::string matmul_impl(int64_t M, int64_t N, int64_t K, bool bf16) {
    Gemm g{nullptr, K, 1, nullptr, 1, K, bf16, nullptr, nullptr, N, M, N, K, false};
    g.b_pack = bf16;  // as dd_linear runs it
    return lookup(make_key(kMatmul, g, omp_get_max_threads()))->impl;
}

}  // namespace dd::cpu
