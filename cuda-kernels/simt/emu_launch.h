// dd_launch for the emulator: packs the kernel arguments (converted to the kernel's parameter types,
// as <<<>>> would) and hands a type-erased entry to the scheduler. Every emulated thread runs the
// kernel on its own copy of the arguments, because CUDA kernels may modify their parameters.
#pragma once
#include <tuple>
#include <type_traits>
#include <utility>

#include "emu_api.h"

namespace dd::simt::emu {

template <class Kernel, class Tuple>
struct KernelThunk {
    Kernel kernel;
    Tuple params;
    static void run(void* self) {
        const auto* t = static_cast<const KernelThunk*>(self);
        Tuple mine(t->params);
        std::apply(t->kernel, mine);
    }
};

template <typename... P, typename... A>
cudaError_t launch_named(const char* text, void (*kernel)(P...), dim3 grid, dim3 block, size_t dyn_smem,
                         cudaStream_t stream, A&&... args) {
    static_assert(sizeof...(P) == sizeof...(A), "dd_launch: argument count differs from the kernel's parameters");
    (void)stream;  // launches are synchronous: stream order holds trivially
    using Tuple = std::tuple<std::decay_t<P>...>;
    KernelThunk<void (*)(P...), Tuple> thunk{kernel, Tuple(static_cast<std::decay_t<P>>(std::forward<A>(args))...)};
    LaunchSpec spec{text, grid, block, dyn_smem, &KernelThunk<void (*)(P...), Tuple>::run, &thunk,
                    reinterpret_cast<const void*>(kernel)};
    return launch(spec);
}

}  // namespace dd::simt::emu
