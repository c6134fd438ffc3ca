// Per-thread last-error message and the guard that keeps C++ exceptions from crossing the C API.
#pragma once
#include <new>
#include <stdexcept>
#include <string>

#include "dyndit/dyndit.h"

namespace dd {

// Records `msg` as this thread's last error and returns `status` (so callers can `return fail(...)`).
dd_status fail(dd_status status, const std::string& msg);

// Inside a device plugin (a separate shared library) fail() hands messages to libdyndit's last error
// instead of the plugin's own copy of it.
void forward_errors_to(dd_status (*sink)(dd_status status, const char* message));

// printf-style formatting into a std::string (used for error messages).
std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// Thrown inside the library only; converted to a status at the API boundary by guard().
struct Error : std::runtime_error {
    dd_status status;
    Error(dd_status s, const std::string& m) : std::runtime_error(m), status(s) {}
};

// Runs `body` (returning dd_status); any exception becomes a status plus message.
template <class F>
dd_status guard(const char* where, F&& body) noexcept {
    try {
        return body();
    } catch (const Error& e) {
        return fail(e.status, e.what());
    } catch (const std::bad_alloc&) {
        return fail(DD_ERR_OUT_OF_MEMORY, std::string(where) + ": out of host memory");
    } catch (const std::exception& e) {
        return fail(DD_ERR_INTERNAL, std::string(where) + ": internal error: " + e.what());
    } catch (...) {
        return fail(DD_ERR_INTERNAL, std::string(where) + ": unknown internal error");
    }
}

}  // namespace dd
