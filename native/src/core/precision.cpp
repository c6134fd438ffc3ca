// dd_set_gemm_precision: routes the setting to the backend of a device type.
#include "backend.h"
#include "error.h"

extern "C" dd_status dd_set_gemm_precision(int device_type, int precision) {
    return dd::guard("dd_set_gemm_precision", [&]() -> dd_status {
        if (precision < DD_PRECISION_FP32 || precision > DD_PRECISION_BF16)
            return dd::fail(DD_ERR_INVALID_ARGUMENT,
                            dd::format("dd_set_gemm_precision: unknown precision %d (fp32 = 0, tf32 = 1, bf16 = 2)",
                                       precision));
        const dd::Backend& b = dd::backend_for(device_type);
        return b.set_gemm_precision ? b.set_gemm_precision(precision) : DD_OK;  // null: the CPU, always fp32
    });
}
