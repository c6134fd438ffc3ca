package io.dyndit.cli;

import io.dyndit.core.Device;
import io.dyndit.core.LibraryInfo;
import io.dyndit.core.Ops;
import io.dyndit.core.Scope;
import io.dyndit.core.Tensor;
import java.io.PrintStream;
import java.util.Random;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `dyndit info [--check]`: version, CPU and chosen kernels, threads, BLAS, CUDA build and GPU state. */
@Command(name = "info", description = "What this build is and what it found on this machine.")
final class InfoCommand extends CliCommand {
    @Option(names = "--check", description = "also run a tiny self-check on every usable device (exit 1 if it fails)")
    boolean check;

    @Override
    public Integer call() {
        PrintStream out = console.out;
        LibraryInfo i = LibraryInfo.query();
        out.println("dyndit " + i.version());
        out.println("cpu:      " + i.cpuName());
        out.println("features: " + i.cpuFeatures());
        out.println("kernels:  " + i.kernelIsa() + " (chosen at run time; DYNDIT_ISA=sse2|avx2|avx512 overrides)");
        out.println("threads:  " + i.threads());
        out.println("blas:     " + i.blas());
        out.println("cuda:     " + (i.cudaCompiled() ? "compiled in for " + i.cudaArchs() : "not compiled in (no nvcc at build time)"));
        out.println("gpu:      " + (i.gpuUsable() ? "usable: " + i.gpuStatus() : "not usable: " + i.gpuStatus()));
        String emu = emulatorStatus();
        out.println("cuda-emu: " + (emu == null ? "available (the CUDA backend on the SIMT emulator, for checks)" : emu));
        if (check) {
            boolean ok = true;
            for (Device d : new Device[] {Device.cpu(), Device.cudaEmulated(), Device.cuda(0)}) {
                if (d.type() != Device.Type.CPU && !d.isAvailable()) {
                    continue;
                }
                double e = selfCheck(d);
                out.printf("self-check %s: linear 33x65 -> 17 max abs error %.3g vs double reference: %s%n", d, e,
                        e < 1e-4 ? "ok" : "FAILED");
                ok &= e < 1e-4;
            }
            return ok ? 0 : 1;
        }
        return 0;
    }

    private static String emulatorStatus() {
        try {
            Device.cudaEmulated().checkAvailable();
            return null;
        } catch (io.dyndit.core.DynditException e) {
            return "not available: " + e.getMessage();
        }
    }

    /** Runs one Linear (fp32 GEMMs) on the device and compares it with a double-precision loop. */
    private static double selfCheck(Device device) {
        device.setGemmPrecision(io.dyndit.core.Precision.FP32); // fp32 whatever an earlier model left on this thread
        Random r = new Random();
        int m = 33, k = 65, n = 17;
        float[] x = new float[m * k], w = new float[n * k], b = new float[n];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
        for (int i = 0; i < b.length; i++) b[i] = (float) r.nextGaussian();
        try (Scope s = Scope.open()) {
            Tensor tx = s.of(device, x, m, k), tw = s.of(device, w, n, k), tb = s.of(device, b, n);
            Tensor ty = s.empty(device, io.dyndit.core.DType.F32, m, n);
            Ops.linear(tx, tw, tb, ty);
            float[] y = ty.toFloatArray();
            double worst = 0;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double ref = b[j];
                    for (int q = 0; q < k; q++) ref += (double) x[i * k + q] * w[j * k + q];
                    worst = Math.max(worst, Math.abs(ref - y[i * n + j]));
                }
            }
            return worst;
        }
    }
}
