package io.dyndit.sampling;

/**
 * Shape of the batch the loop carries: latents [batch, channels, plane] and model outputs [batch, outChannels, plane]
 * (plane = I·I), both row-major. Model output channels [0, C) are ε, [C, 2C) the variance values when learned.
 */
record BatchLayout(int batch, int channels, int outChannels, int plane) {
    int latentValues() {
        return batch * channels * plane;
    }

    int outputValues() {
        return batch * outChannels * plane;
    }

    /** Offset of latent element (b, ch, 0). */
    int latent(int b, int ch) {
        return (b * channels + ch) * plane;
    }

    /** Offset of model output element (b, ch, 0). */
    int output(int b, int ch) {
        return (b * outChannels + ch) * plane;
    }
}
