package io.dyndit.cli;

import io.dyndit.core.Device;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorFiles;
import io.dyndit.model.DiTConfig;
import io.dyndit.model.DiTModel;
import io.dyndit.model.ModelOptions;
import io.dyndit.vae.VaeConfig;
import io.dyndit.vae.VaeDecoder;
import java.nio.file.Path;

/** Every model and decoder the commands load goes through here, so a change of the loading API touches one file. */
final class ModelLoading {
    private ModelLoading() {}

    /** A checkpoint file; config from JSON when given, else inferred; DyDiT/DiffCR dynamic unless staticModel. */
    static DiTModel dit(Path weights, Path configJson, Device device, boolean staticModel) {
        return DiTModel.load(weights, ModelOptions.builder().config(configJson).device(device).staticModel(staticModel)
                .build());
    }

    /** In-memory weights (the random-weight presets of demo and bench). */
    static DiTModel dit(TensorFile weights, DiTConfig config, Device device, boolean staticModel) {
        return DiTModel.load(weights, config, ModelOptions.builder().device(device).staticModel(staticModel).build());
    }

    /** An SD-VAE checkpoint; config from JSON, else the config.json beside it, else inferred. */
    static VaeDecoder vae(Path weights, Path configJson, Device device) {
        return VaeDecoder.load(weights, configJson, device);
    }

    /** Reads the header of an SD-VAE checkpoint and resolves its config, as {@link #vae} will; loads no weights. */
    static void checkVae(Path weights, Path configJson) {
        try (TensorFile f = TensorFiles.open(weights)) {
            VaeDecoder.configFor(weights, configJson, f);
        }
    }

    /** In-memory decoder weights (demo, bench). */
    static VaeDecoder vae(TensorFile weights, VaeConfig config, Device device) {
        return VaeDecoder.load(weights, config, device);
    }
}
