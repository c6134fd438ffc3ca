// dd_set_gemm_precision: routes the setting to the backend of a device type.
#include "backend.h"
#include "device_plugin.h"
#include "error.h"
#include "tensor.h"

extern "C" dd_status dd_set_gemm_precision(int device_type, int precision) {
    return dd::guard("dd_set_gemm_precision", [&]() -> dd_status {
        if (precision < DD_PRECISION_FP32 || precision > DD_PRECISION_BF16)
            return dd::fail(DD_ERR_INVALID_ARGUMENT,
                            dd::format("dd_set_gemm_precision: unknown precision %d (fp32 = 0, tf32 = 1, bf16 = 2)",
                                       precision));
        const dd::Backend* b = nullptr;
        switch (device_type) {
            case DD_DEVICE_CPU: return DD_OK;  // always fp32
            case DD_DEVICE_CUDA: b = dd::cuda_backend(); break;
            case DD_DEVICE_CUDA_EMU: b = dd::cuda_emu_plugin().backend; break;
            default:
                return dd::fail(DD_ERR_INVALID_ARGUMENT,
                                dd::format("dd_set_gemm_precision: unknown device type %d", device_type));
        }
        if (!b)
            return dd::fail(DD_ERR_CUDA_UNAVAILABLE, "dd_set_gemm_precision: this dyndit library was built without CUDA");
        return b->set_gemm_precision ? b->set_gemm_precision(precision) : DD_OK;
    });
}
