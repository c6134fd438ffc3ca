package io.dyndit.spark;

import io.dyndit.core.Device;
import io.dyndit.core.LibraryInfo;
import io.dyndit.core.Precision;
import io.dyndit.model.DiTModel;
import io.dyndit.model.ModelOptions;
import io.dyndit.vae.VaeDecoder;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model (and decoder) of this JVM: loaded by the first task of a run that an executor gets and reused by all its
 * later tasks, concurrent ones included (the model is safe to share; each call leases its own execution context).
 * Loading here also loads the native library, which JavaCPP extracts from the job's jar: workers need no install.
 *
 * Each load is logged at INFO (an executor's stderr under Spark's default logging), so "once per JVM" can be checked
 * on a cluster.
 *
 * <p>Thread-safety: {@link #get} is synchronized; the models it hands out are safe to share.
 */
final class ExecutorModels {
    static final String LOADED = "dyndit: loaded the model";
    private static final Logger LOG = LoggerFactory.getLogger(ExecutorModels.class);
    private static final AtomicInteger LOADS = new AtomicInteger();
    private static String key;
    private static Loaded loaded;

    /** What a task generates with. */
    record Loaded(DiTModel model, VaeDecoder vae) {}

    private ExecutorModels() {}

    /** The loaded model of {@code s}'s run; loads it (and closes another run's) on first use in this JVM. */
    static synchronized Loaded get(GenerationSettings s) {
        String k = String.join("|", s.weights(), String.valueOf(s.config()), String.valueOf(s.vae()),
                String.valueOf(s.vaeConfig()), s.device(), s.precision(), Boolean.toString(s.staticModel()),
                Integer.toString(s.threads()));
        if (!k.equals(key)) {
            close();
            LibraryInfo.setThreads(s.threads()); // process-wide: every task thread's native team has this size
            Device device = Device.parse(s.device());
            Precision precision = Precision.parse(s.precision());
            DiTModel model = DiTModel.load(Path.of(s.weights()), ModelOptions.builder()
                    .config(s.config() != null ? Path.of(s.config()) : null).device(device)
                    .staticModel(s.staticModel()).build());
            model.precision(precision);
            VaeDecoder vae = null;
            try {
                if (s.vae() != null) {
                    vae = VaeDecoder.load(Path.of(s.vae()), s.vaeConfig() != null ? Path.of(s.vaeConfig()) : null,
                            device);
                }
            } catch (RuntimeException e) {
                model.close();
                throw e;
            }
            loaded = new Loaded(model, vae);
            key = k;
            LOG.info("{} {} on {} in this JVM (load {} of this JVM, {} native thread(s) per task; native library "
                    + "{} from {})", LOADED, s.weights(), device, LOADS.incrementAndGet(), s.threads(),
                    LibraryInfo.query().version(), nativeLibraryFile());
        }
        return loaded;
    }

    /** Where JavaCPP loaded libdyndit from: its cache, where it extracted the file from the job's jar. */
    private static String nativeLibraryFile() {
        for (java.util.Map.Entry<String, String> e : org.bytedeco.javacpp.Loader.getLoadedLibraries().entrySet()) {
            if (e.getValue() != null && e.getValue().matches(".*/libdyndit\\.so[.0-9]*")) {
                return e.getValue();
            }
        }
        return "an unknown file";
    }

    /** How many times this JVM has loaded a model (tests check that tasks reuse it). */
    static int loads() {
        return LOADS.get();
    }

    private static void close() {
        if (loaded != null) {
            loaded.model().close();
            if (loaded.vae() != null) {
                loaded.vae().close();
            }
            loaded = null;
            key = null;
        }
    }
}
