package io.dyndit.cli;

import io.dyndit.core.Device;
import io.dyndit.core.Precision;
import picocli.CommandLine.Option;

/** --device and --precision, shared by the commands that compute on a device (a picocli mixin). */
final class DeviceOptions {
    @Option(names = "--device", paramLabel = "DEV", defaultValue = "cpu", converter = Converters.DeviceValue.class,
            description = "cpu, cuda, cuda:N or cuda-emu (default: ${DEFAULT-VALUE})")
    Device device;

    @Option(names = "--precision", paramLabel = "P", defaultValue = "tf32", converter = Converters.PrecisionValue.class,
            description = "matrix products: tf32, fp32 or bf16 (default: ${DEFAULT-VALUE}; the CPU: tf32 = fp32, bf16 for the linears)")
    Precision precision;
}
