package io.dyndit.cli;

import io.dyndit.core.Device;
import io.dyndit.core.DynditException;
import io.dyndit.core.Precision;
import io.dyndit.sampling.SamplerType;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Option values to types at parse time, so a bad value is a usage error (exit 2) before any file is read. Messages
 * name the accepted values; the library's own parsers decide what is accepted.
 */
final class Converters {
    private Converters() {}

    /** Numbers with messages that say what is wrong ("out of range", "not an integer"). */
    static void register(CommandLine cl) {
        ITypeConverter<Integer> i = Converters::integer;
        ITypeConverter<Long> l = Converters::longInteger;
        ITypeConverter<Double> d = Converters::number;
        cl.registerConverter(Integer.class, i).registerConverter(int.class, i);
        cl.registerConverter(Long.class, l).registerConverter(long.class, l);
        cl.registerConverter(Double.class, d).registerConverter(double.class, d);
    }

    static int integer(String s) {
        long v = longInteger(s);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new TypeConversionException("'" + s + "' is out of range (at most " + Integer.MAX_VALUE + ")");
        }
        return (int) v;
    }

    static long longInteger(String s) {
        String t = s.trim();
        try {
            return Long.parseLong(t);
        } catch (NumberFormatException e) {
            if (t.matches("[+-]?\\d+")) {
                throw new TypeConversionException("'" + s + "' is out of range (at most " + Long.MAX_VALUE + ")");
            }
            throw new TypeConversionException("'" + s + "' is not an integer");
        }
    }

    static double number(String s) {
        try {
            double v = Double.parseDouble(s.trim());
            if (Double.isInfinite(v) && !s.toLowerCase(Locale.ROOT).contains("inf")) { // 1e999
                throw new TypeConversionException("'" + s + "' is out of range");
            }
            return v;
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + s + "' is not a number");
        }
    }

    /** --device: cpu, cuda, cuda:N or cuda-emu (Device.parse). */
    static final class DeviceValue implements ITypeConverter<Device> {
        @Override
        public Device convert(String s) {
            try {
                return Device.parse(s);
            } catch (DynditException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** --precision: tf32, fp32 or bf16 (Precision.parse). */
    static final class PrecisionValue implements ITypeConverter<Precision> {
        @Override
        public Precision convert(String s) {
            try {
                return Precision.parse(s);
            } catch (DynditException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** --sampler: ddpm or ddim (SamplerType.parse). */
    static final class SamplerValue implements ITypeConverter<SamplerType> {
        @Override
        public SamplerType convert(String s) {
            try {
                return SamplerType.parse(s);
            } catch (DynditException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    static final class CacheValue implements ITypeConverter<io.dyndit.model.CacheSpec> {
        @Override
        public io.dyndit.model.CacheSpec convert(String s) {
            try {
                return io.dyndit.model.CacheSpec.parse(s);
            } catch (DynditException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** The --sampler names, as the help lists them (from SamplerType, so new samplers appear by themselves). */
    static final class SamplerNames implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return java.util.Arrays.stream(SamplerType.values()).map(SamplerType::cliName).iterator();
        }
    }

    /** Comma-separated class labels such as 3,7. */
    record Labels(long[] values) {
        @Override
        public String toString() {
            return java.util.Arrays.toString(values);
        }
    }

    static final class LabelsValue implements ITypeConverter<Labels> {
        @Override
        public Labels convert(String s) {
            String[] parts = s.split(",", -1);
            long[] v = new long[parts.length];
            for (int i = 0; i < parts.length; i++) {
                try {
                    v[i] = longInteger(parts[i]);
                } catch (TypeConversionException e) {
                    throw new TypeConversionException("must be comma-separated integers like 3,7, got '" + s + "' ("
                            + (parts[i].isBlank() ? "an empty label" : e.getMessage()) + ")");
                }
            }
            return new Labels(v);
        }
    }
}
