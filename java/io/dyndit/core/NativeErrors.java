package io.dyndit.core;

import io.dyndit.nativelib.DynditNative;

/** Turns a native status code plus the thread's last-error message into a typed exception. */
final class NativeErrors {
    static final int OK = 0;

    private NativeErrors() {}

    /** Throws the exception for {@code status} unless it is OK; {@code context} prefixes the message. */
    static void check(int status, String context) {
        if (status == OK) {
            return;
        }
        String message = DynditNative.dd_last_error();
        if (message == null || message.isEmpty()) {
            message = DynditNative.dd_status_name(status);
        }
        String full = context == null || context.isEmpty() ? message : context + ": " + message;
        throw forStatus(status, full);
    }

    static void check(int status) {
        check(status, null);
    }

    static DynditException forStatus(int status, String message) {
        return switch (status) {
            case 1 -> new InvalidArgumentException(message);
            case 2 -> new ShapeMismatchException(message);
            case 3 -> new DTypeMismatchException(message);
            case 4 -> new DeviceMismatchException(message);
            case 5 -> new DeviceUnavailableException(message);
            case 6 -> new NativeOutOfMemoryException(message);
            case 7 -> new UnsupportedOnDeviceException(message);
            case 8 -> new CudaException(message);
            default -> new NativeInternalException(message + " (status " + status + ")");
        };
    }
}
