#include "error.h"

#include <cstdarg>
#include <cstdio>

namespace {
thread_local std::string t_last_error;
dd_status (*g_sink)(dd_status, const char*) = nullptr;
}

namespace dd {

dd_status fail(dd_status status, const std::string& msg) {
    if (g_sink) return g_sink(status, msg.c_str());
    t_last_error = msg;
    return status;
}

void forward_errors_to(dd_status (*sink)(dd_status, const char*)) { g_sink = sink; }

std::string format(const char* fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < (int)sizeof buf) return std::string(buf, n < 0 ? 0 : n);
    std::string big(n + 1, '\0');
    va_start(ap, fmt);
    vsnprintf(&big[0], big.size(), fmt, ap);
    va_end(ap);
    big.resize(n);
    return big;
}

}  // namespace dd

extern "C" {

const char* dd_last_error(void) { return t_last_error.c_str(); }
void dd_clear_error(void) { t_last_error.clear(); }

const char* dd_status_name(int status) {
    switch (status) {
        case DD_OK: return "OK";
        case DD_ERR_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
        case DD_ERR_SHAPE: return "SHAPE";
        case DD_ERR_DTYPE: return "DTYPE";
        case DD_ERR_DEVICE: return "DEVICE";
        case DD_ERR_CUDA_UNAVAILABLE: return "CUDA_UNAVAILABLE";
        case DD_ERR_OUT_OF_MEMORY: return "OUT_OF_MEMORY";
        case DD_ERR_UNSUPPORTED: return "UNSUPPORTED";
        case DD_ERR_CUDA: return "CUDA";
        case DD_ERR_INTERNAL: return "INTERNAL";
        default: return "UNKNOWN_STATUS";
    }
}

}  // extern "C"
