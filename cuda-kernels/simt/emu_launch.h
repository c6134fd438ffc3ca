// dd_launch for the emulator: packs the kernel arguments (converted to the kernel's parameter types,
// as <<<>>> would) and hands a type-erased entry to the scheduler. Every emulated thread runs the
// kernel on its own copy of the arguments, because CUDA kernels may modify their parameters.
#pragma once
#include <memory>
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
    using Thunk = KernelThunk<void (*)(P...), Tuple>;
    Thunk thunk{kernel, Tuple(static_cast<std::decay_t<P>>(std::forward<A>(args))...)};
    LaunchSpec spec{text, grid, block, dyn_smem, &Thunk::run, &thunk, reinterpret_cast<const void*>(kernel)};
    if (capturing()) {  // record: the arguments move to the heap and live as long as the graph
        if (cudaError_t e = check_launch(spec)) return e;
        auto held = std::make_shared<Thunk>(std::move(thunk));
        spec.arg = held.get();
        record([held, spec] { return launch(spec); });
        return cudaSuccess;
    }
    return launch(spec);
}

}  // namespace dd::simt::emu
