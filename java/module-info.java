/**
 * dyndit: dynamic Diffusion Transformers (DiT, DyDiT, FlexiDiT, DiffCR) on CPU and CUDA.
 *
 * <p>The API is the exported packages: {@code io.dyndit.model} (load a checkpoint, run forwards and generations),
 * {@code io.dyndit.sampling} (requests, results, schedules, progress), {@code io.dyndit.vae} (decode latents to
 * images), {@code io.dyndit.core} (devices, tensors, ops, exceptions), {@code io.dyndit.io} (checkpoint readers and
 * writers) and {@code io.dyndit.plan} (per-step compute plans). The JNI mapping ({@code io.dyndit.nativelib}),
 * internals ({@code io.dyndit.internal}) and the command line ({@code io.dyndit.cli}) are not exported and may change
 * in any release.
 */
module io.dyndit {
    requires java.desktop; // PNG output through ImageIO
    requires jdk.management; // free memory for the model's memory check (and java.management with it)
    requires org.bytedeco.javacpp;
    requires org.bytedeco.dnnl;
    requires info.picocli; // the command line (io.dyndit.cli)

    exports io.dyndit.core;
    exports io.dyndit.io;
    exports io.dyndit.model;
    exports io.dyndit.plan;
    exports io.dyndit.sampling;
    exports io.dyndit.vae;

    // JavaCPP's Loader reads the mapping classes' annotations and resources and binds their native methods.
    opens io.dyndit.nativelib to org.bytedeco.javacpp;
    // picocli fills the commands' annotated (private) fields and creates them by reflection.
    opens io.dyndit.cli to info.picocli;
}
