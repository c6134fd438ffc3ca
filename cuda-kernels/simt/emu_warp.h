// Warp intrinsics for emulated kernels, all on the one warp_collective primitive (emu_core.h):
// __shfl*_sync (with width), __ballot/__any/__all_sync, __reduce_*_sync, __syncwarp.
#pragma once
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <type_traits>

#include "emu_core.h"

namespace dd::simt::emu {

enum ShflMode { kShflIdx, kShflUp, kShflDown, kShflXor };

template <class T>
struct ShflIn {
    T value;
    unsigned b;  // source lane, delta or lane mask
    int width;
};

// Lane selection exactly as the PTX ISA defines shfl.sync (section "shfl.sync"), with the c operand
// CUDA's __shfl*_sync pass: c = ((32 - width) << 8) | (up ? 0 : 0x1f). A source outside the segment
// bound reads the own value; a source lane outside the mask is undefined in CUDA: reported here.
template <class T, int MODE>
const char* shfl_fn(const WarpCall& c, char* err, size_t n) {
    int width = -1;
    for (unsigned l = 0; l < 32; ++l) {
        if (!((c.mask >> l) & 1)) continue;
        const int w = static_cast<const ShflIn<T>*>(c.in[l])->width;
        if (w < 1 || w > 32 || (w & (w - 1)))
            return snprintf(err, n, "lane %u: width %d is not a power of two in [1,32]", l, w), err;
        if (width >= 0 && w != width)
            return snprintf(err, n, "lanes pass different widths (%d and %d)", width, w), err;
        width = w;
    }
    const int segmask = 32 - width;                    // c[12:8]
    const int cval = MODE == kShflUp ? 0 : 0x1f;       // c[4:0]
    for (unsigned l = 0; l < 32; ++l) {
        if (!((c.mask >> l) & 1)) continue;
        const auto& in = *static_cast<const ShflIn<T>*>(c.in[l]);
        const int lane = (int)l, bval = (int)(in.b & 31);
        const int max_lane = (lane & segmask) | (cval & ~segmask);
        const int min_lane = lane & segmask;
        int j = lane;
        bool ok = false;
        switch (MODE) {
            case kShflUp: j = lane - bval; ok = j >= max_lane; break;
            case kShflDown: j = lane + bval; ok = j <= max_lane; break;
            case kShflXor: j = lane ^ bval; ok = j <= max_lane; break;
            default: j = min_lane | (bval & ~segmask); ok = j <= max_lane; break;
        }
        if (!ok) j = lane;
        if (!((c.mask >> j) & 1))
            return snprintf(err, n, "lane %d reads lane %d, which is not in the mask", lane, j), err;
        memcpy(c.out[l], &static_cast<const ShflIn<T>*>(c.in[j])->value, sizeof(T));
    }
    return nullptr;
}

template <int MODE>
constexpr const char* shfl_name() {
    return MODE == kShflIdx ? "__shfl_sync"
         : MODE == kShflUp  ? "__shfl_up_sync"
         : MODE == kShflDown ? "__shfl_down_sync"
                             : "__shfl_xor_sync";
}
template <class T, int MODE>
inline const WarpOp kShflOp{shfl_name<MODE>(), &shfl_fn<T, MODE>};

template <int MODE, class T>
T shfl(unsigned mask, T v, unsigned b, int width, const char* file, int line) {
    static_assert(std::is_trivially_copyable<T>::value && sizeof(T) <= 16, "shuffle of a non-register type");
    ShflIn<T> in{v, b, width};
    T out = v;
    warp_collective(kShflOp<T, MODE>, mask, &in, &out, file, line);
    return out;
}

// Votes and reductions: input one 32-bit value per lane, output one per lane (all lanes get the same).
enum VoteMode { kBallot, kAny, kAll, kRedAdd, kRedMinU, kRedMaxU, kRedMinI, kRedMaxI, kRedAnd, kRedOr, kRedXor,
                kSyncwarp };

template <int MODE>
const char* vote_fn(const WarpCall& c, char*, size_t) {
    unsigned r = 0;
    bool first = true;
    for (unsigned l = 0; l < 32; ++l) {
        if (!((c.mask >> l) & 1)) continue;
        const unsigned v = *static_cast<const unsigned*>(c.in[l]);
        switch (MODE) {
            case kBallot: r |= (v != 0u) << l; break;
            case kAny: r |= v != 0u; break;
            case kAll: r = first ? (v != 0u) : (r & (v != 0u)); break;
            case kRedAdd: r += v; break;
            case kRedMinU: r = first ? v : std::min(r, v); break;
            case kRedMaxU: r = first ? v : std::max(r, v); break;
            case kRedMinI: r = first ? v : (unsigned)std::min((int)r, (int)v); break;
            case kRedMaxI: r = first ? v : (unsigned)std::max((int)r, (int)v); break;
            case kRedAnd: r = first ? v : (r & v); break;
            case kRedOr: r |= v; break;
            case kRedXor: r ^= v; break;
            default: break;
        }
        first = false;
    }
    for (unsigned l = 0; l < 32; ++l)
        if ((c.mask >> l) & 1) *static_cast<unsigned*>(c.out[l]) = r;
    return nullptr;
}

template <int MODE>
constexpr const char* vote_name() {
    constexpr const char* names[] = {"__ballot_sync",     "__any_sync",        "__all_sync",
                                     "__reduce_add_sync", "__reduce_min_sync", "__reduce_max_sync",
                                     "__reduce_min_sync", "__reduce_max_sync", "__reduce_and_sync",
                                     "__reduce_or_sync",  "__reduce_xor_sync", "__syncwarp"};
    return names[MODE];
}
template <int MODE>
inline const WarpOp kVoteOp{vote_name<MODE>(), &vote_fn<MODE>};

template <int MODE>
unsigned vote(unsigned mask, unsigned v, const char* file, int line) {
    unsigned out = 0;
    warp_collective(kVoteOp<MODE>, mask, &v, &out, file, line);
    return out;
}

}  // namespace dd::simt::emu

#define DD_EMU_SITE const char *dd_file_ = __builtin_FILE(), int dd_line_ = __builtin_LINE()

template <class T>
inline T __shfl_sync(unsigned mask, T var, int src_lane, int width = 32, DD_EMU_SITE) {
    return ::dd::simt::emu::shfl<::dd::simt::emu::kShflIdx>(mask, var, (unsigned)src_lane, width, dd_file_, dd_line_);
}
template <class T>
inline T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = 32, DD_EMU_SITE) {
    return ::dd::simt::emu::shfl<::dd::simt::emu::kShflUp>(mask, var, delta, width, dd_file_, dd_line_);
}
template <class T>
inline T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = 32, DD_EMU_SITE) {
    return ::dd::simt::emu::shfl<::dd::simt::emu::kShflDown>(mask, var, delta, width, dd_file_, dd_line_);
}
template <class T>
inline T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = 32, DD_EMU_SITE) {
    return ::dd::simt::emu::shfl<::dd::simt::emu::kShflXor>(mask, var, (unsigned)lane_mask, width, dd_file_,
                                                            dd_line_);
}

inline unsigned __ballot_sync(unsigned mask, int pred, DD_EMU_SITE) {
    return ::dd::simt::emu::vote<::dd::simt::emu::kBallot>(mask, pred != 0, dd_file_, dd_line_);
}
inline int __any_sync(unsigned mask, int pred, DD_EMU_SITE) {
    return (int)::dd::simt::emu::vote<::dd::simt::emu::kAny>(mask, pred != 0, dd_file_, dd_line_);
}
inline int __all_sync(unsigned mask, int pred, DD_EMU_SITE) {
    return (int)::dd::simt::emu::vote<::dd::simt::emu::kAll>(mask, pred != 0, dd_file_, dd_line_);
}
inline void __syncwarp(unsigned mask = 0xffffffffu, DD_EMU_SITE) {
    ::dd::simt::emu::vote<::dd::simt::emu::kSyncwarp>(mask, 0, dd_file_, dd_line_);
}
inline unsigned __reduce_add_sync(unsigned mask, unsigned v, DD_EMU_SITE) {
    return ::dd::simt::emu::vote<::dd::simt::emu::kRedAdd>(mask, v, dd_file_, dd_line_);
}
inline int __reduce_add_sync(unsigned mask, int v, DD_EMU_SITE) {
    return (int)::dd::simt::emu::vote<::dd::simt::emu::kRedAdd>(mask, (unsigned)v, dd_file_, dd_line_);
}
inline unsigned __reduce_min_sync(unsigned mask, unsigned v, DD_EMU_SITE) {
    return ::dd::simt::emu::vote<::dd::simt::emu::kRedMinU>(mask, v, dd_file_, dd_line_);
}
inline int __reduce_min_sync(unsigned mask, int v, DD_EMU_SITE) {
    return (int)::dd::simt::emu::vote<::dd::simt::emu::kRedMinI>(mask, (unsigned)v, dd_file_, dd_line_);
}
inline unsigned __reduce_max_sync(unsigned mask, unsigned v, DD_EMU_SITE) {
    return ::dd::simt::emu::vote<::dd::simt::emu::kRedMaxU>(mask, v, dd_file_, dd_line_);
}
inline int __reduce_max_sync(unsigned mask, int v, DD_EMU_SITE) {
    return (int)::dd::simt::emu::vote<::dd::simt::emu::kRedMaxI>(mask, (unsigned)v, dd_file_, dd_line_);
}
inline unsigned __reduce_and_sync(unsigned mask, unsigned v, DD_EMU_SITE) {
    return ::dd::simt::emu::vote<::dd::simt::emu::kRedAnd>(mask, v, dd_file_, dd_line_);
}
inline unsigned __reduce_or_sync(unsigned mask, unsigned v, DD_EMU_SITE) {
    return ::dd::simt::emu::vote<::dd::simt::emu::kRedOr>(mask, v, dd_file_, dd_line_);
}
inline unsigned __reduce_xor_sync(unsigned mask, unsigned v, DD_EMU_SITE) {
    return ::dd::simt::emu::vote<::dd::simt::emu::kRedXor>(mask, v, dd_file_, dd_line_);
}
