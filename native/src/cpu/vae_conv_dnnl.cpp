// The VAE's k x k convolutions (k > 1) as oneDNN convolution primitives. oneDNN picks the layouts (format_tag::any):
// the weights are reordered into theirs once (kept with the bf16 weight copies, dropped when their memory is freed
// or rewritten), x is reordered into the primitive's source layout on each call (in bf16 this reorder is the
// rounding) and its output back into y, the residual added by that reorder (a sum post-op); the bias is the
// convolution's own. Primitives are created once per shape, precision and thread count and shared by all threads;
// each thread runs them on its own stream with its own buffers, which only grow.
#include <omp.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "../core/error.h"
#include "../core/vae_backend.h"
#include "dnnl_util.h"
#include "gemm.h"

namespace dd::cpu {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

struct ConvKey {
    int64_t N, Ci, H, W, Co, kh, kw;
    bool bias, bf16;
    int threads;
    bool operator==(const ConvKey& o) const { return std::memcmp(this, &o, sizeof(ConvKey)) == 0; }
};

struct ConvKeyHash {
    size_t operator()(const ConvKey& k) const {
        size_t h = 1469598103934665603ull;
        const unsigned char* b = reinterpret_cast<const unsigned char*>(&k);
        for (size_t i = 0; i < sizeof(ConvKey); ++i) h = (h ^ b[i]) * 1099511628211ull;
        return h;
    }
};

struct ConvPrim {
    dnnl::convolution_forward conv;
    dnnl::memory::desc x, src, w, wei, bias, dst, y;  // x, w, y: the caller's plain f32 NCHW / OIHW
    bool reorder_src = false, reorder_dst = false;
    dnnl::reorder to_src, to_y, add_to_y;  // x -> src; dst -> y; y += dst
    size_t scratch = 0;                    // the largest of the primitives' scratchpads
    uint64_t wei_layout = 0;               // names the weight layout in the weight cache
};

std::shared_ptr<const ConvPrim> create(const ConvKey& k) {
    auto p = std::make_shared<ConvPrim>();
    const dt in = k.bf16 ? dt::bf16 : dt::f32;
    p->x = dnnl::memory::desc({k.N, k.Ci, k.H, k.W}, dt::f32, tag::nchw);
    p->w = dnnl::memory::desc({k.Co, k.Ci, k.kh, k.kw}, dt::f32, tag::oihw);
    p->y = dnnl::memory::desc({k.N, k.Co, k.H, k.W}, dt::f32, tag::nchw);
    p->bias = dnnl::memory::desc({k.Co}, dt::f32, tag::a);
    const dnnl::memory::desc src_any({k.N, k.Ci, k.H, k.W}, in, tag::any), wei_any({k.Co, k.Ci, k.kh, k.kw}, in, tag::any),
        dst_any({k.N, k.Co, k.H, k.W}, dt::f32, tag::any);
    const dnnl::memory::dims strides{1, 1}, pad{(k.kh - 1) / 2, (k.kw - 1) / 2};
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    auto pd = k.bias ? dnnl::convolution_forward::primitive_desc(dnnl_engine(), dnnl::prop_kind::forward_inference,
                                                                 dnnl::algorithm::convolution_direct, src_any, wei_any,
                                                                 p->bias, dst_any, strides, pad, pad, attr)
                     : dnnl::convolution_forward::primitive_desc(dnnl_engine(), dnnl::prop_kind::forward_inference,
                                                                 dnnl::algorithm::convolution_direct, src_any, wei_any,
                                                                 dst_any, strides, pad, pad, attr);
    p->src = pd.src_desc(), p->wei = pd.weights_desc(), p->dst = pd.dst_desc();
    p->conv = dnnl::convolution_forward(pd);
    p->scratch = pd.scratchpad_desc().get_size();
    p->wei_layout = layout_id(p->wei);
    auto reorder = [&](const dnnl::memory::desc& from, const dnnl::memory::desc& to, bool sum) {
        dnnl::primitive_attr ra;
        ra.set_scratchpad_mode(dnnl::scratchpad_mode::user);
        if (sum) {
            dnnl::post_ops po;
            po.append_sum(1.0f);
            ra.set_post_ops(po);
        }
        dnnl::reorder::primitive_desc rpd(dnnl_engine(), from, dnnl_engine(), to, ra);
        p->scratch = std::max(p->scratch, rpd.scratchpad_desc().get_size());
        return dnnl::reorder(rpd);
    };
    p->reorder_src = p->src != p->x;
    if (p->reorder_src) p->to_src = reorder(p->x, p->src, false);
    p->reorder_dst = p->dst != p->y;
    if (p->reorder_dst) p->to_y = reorder(p->dst, p->y, false);
    p->add_to_y = reorder(p->dst, p->y, true);
    return p;
}

constexpr size_t kMaxPrimitives = 1024;  // shapes of a run are few; the cap guards against unbounded variety
std::shared_mutex g_mutex;
std::unordered_map<ConvKey, std::shared_ptr<const ConvPrim>, ConvKeyHash> g_prims;

std::shared_ptr<const ConvPrim> lookup(const ConvKey& k) {
    {
        std::shared_lock lock(g_mutex);
        auto it = g_prims.find(k);
        if (it != g_prims.end()) return it->second;
    }
    auto p = create(k);  // outside the lock: creation may take milliseconds
    std::unique_lock lock(g_mutex);
    if (g_prims.size() >= kMaxPrimitives) g_prims.clear();
    return g_prims.emplace(k, std::move(p)).first->second;
}

// The weights in the primitive's layout (and precision), reordered once per weight tensor and layout.
const void* packed_weights(const Conv2dParams& p, const ConvPrim& c) {
    const int64_t cols = p.Ci * p.kh * p.kw;
    return cached_weights(p.w, p.Co, cols, cols, c.wei_layout, c.wei.get_size(), [&](void* out) {
        dnnl::reorder r(dnnl::reorder::primitive_desc(dnnl_engine(), c.w, dnnl_engine(), c.wei));
        dnnl::memory from = dnnl_mem(c.w, p.w), to = dnnl_mem(c.wei, out);
        dnnl::stream& s = thread_stream();
        r.execute(s, from, to);
        s.wait();
    });
}

void run(const Conv2dParams& p, const ConvPrim& c) {
    thread_local GrowBuffer src_buf, dst_buf, scratch;
    dnnl::stream& s = thread_stream();
    const void* wei = packed_weights(p, c);
    // The residual lands in y before anything runs, so that the output reorder adds onto it.
    const bool residual = p.residual != nullptr;
    if (residual && p.residual != p.y) std::memcpy(p.y, p.residual, c.y.get_size());
    const void* src = p.x;
    if (c.reorder_src) {
        void* buf = src_buf.get(c.src.get_size());
        DnnlArgs args{{DNNL_ARG_FROM, dnnl_mem(c.x, p.x)}, {DNNL_ARG_TO, dnnl_mem(c.src, buf)}};
        add_scratchpad(args, c.scratch, scratch);
        c.to_src.execute(s, args);
        src = buf;
    }
    const bool direct = !c.reorder_dst && !residual;  // the convolution writes y itself
    void* dst = direct ? static_cast<void*>(p.y) : dst_buf.get(c.dst.get_size());
    DnnlArgs args{{DNNL_ARG_SRC, dnnl_mem(c.src, src)},
                  {DNNL_ARG_WEIGHTS, dnnl_mem(c.wei, wei)},
                  {DNNL_ARG_DST, dnnl_mem(c.dst, dst)}};
    if (p.bias) args.emplace(DNNL_ARG_BIAS, dnnl_mem(c.bias, p.bias));
    add_scratchpad(args, c.scratch, scratch);
    c.conv.execute(s, args);
    if (!direct) {
        DnnlArgs out{{DNNL_ARG_FROM, dnnl_mem(c.dst, dst)}, {DNNL_ARG_TO, dnnl_mem(c.y, p.y)}};
        add_scratchpad(out, c.scratch, scratch);
        (residual ? c.add_to_y : c.to_y).execute(s, out);
    }
    s.wait();
}

}  // namespace

dd_status conv2d_dnnl(const Conv2dParams& p) {
    const bool bf16 = thread_uses_bf16();
    try {
        ConvKey key;
        std::memset(&key, 0, sizeof key);  // padding too: keys compare and hash as bytes
        key.N = p.N, key.Ci = p.Ci, key.H = p.H, key.W = p.W, key.Co = p.Co, key.kh = p.kh, key.kw = p.kw;
        key.bias = p.bias != nullptr, key.bf16 = bf16, key.threads = omp_get_max_threads();
        run(p, *lookup(key));
        return DD_OK;
    } catch (const dnnl::error& e) {
        return fail(DD_ERR_INTERNAL,
                    format("dd_conv2d: oneDNN convolution of x [%lld,%lld,%lld,%lld] with w [%lld,%lld,%lld,%lld] (%s) "
                           "failed: %s",
                           (long long)p.N, (long long)p.Ci, (long long)p.H, (long long)p.W, (long long)p.Co,
                           (long long)p.Ci, (long long)p.kh, (long long)p.kw, bf16 ? "bf16" : "fp32", e.what()));
    } catch (const std::bad_alloc&) {
        return fail(DD_ERR_OUT_OF_MEMORY,
                    format("dd_conv2d: out of host memory for the oneDNN convolution of x [%lld,%lld,%lld,%lld] with w "
                           "[%lld,%lld,%lld,%lld]",
                           (long long)p.N, (long long)p.Ci, (long long)p.H, (long long)p.W, (long long)p.Co,
                           (long long)p.Ci, (long long)p.kh, (long long)p.kw));
    }
}

}  // namespace dd::cpu
