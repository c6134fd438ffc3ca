package io.dyndit.model;

import io.dyndit.core.Device;
import io.dyndit.core.NativeOutOfMemoryException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Refuses a plan of host buffers larger than the memory the machine has available, before anything is allocated:
 * Linux hands out untouched pages freely and kills the process later, when they are written.
 */
final class MemoryCheck {
    private MemoryCheck() {}

    static void require(Device device, long bytes, Supplier<String> what) {
        if (device.isCuda()) {
            return; // device allocations fail cleanly when they do not fit
        }
        long available = availableBytes();
        if (bytes > available) {
            throw new NativeOutOfMemoryException(String.format(Locale.ROOT,
                    "%s needs %.2f GiB of memory; this machine has %.2f GiB available", what.get(), gib(bytes),
                    gib(available)));
        }
    }

    private static double gib(long b) {
        return b == Long.MAX_VALUE ? Double.POSITIVE_INFINITY : b / (double) (1L << 30);
    }

    /** MemAvailable of /proc/meminfo, or the JVM's view of physical memory where that file is missing. */
    static long availableBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: fall through
        }
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean s ? s.getFreeMemorySize() : Long.MAX_VALUE;
    }
}
