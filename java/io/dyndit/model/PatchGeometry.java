package io.dyndit.model;

import io.dyndit.core.Tensor;

/**
 * The model at one patch size: tokenizer and de-tokenizer weights, position embedding (with the
 * patch-size embedding folded in) and the token grid. Blocks are shared across patch sizes.
 */
record PatchGeometry(int patch, int grid, Tensor patchW, Tensor patchB, Tensor pos, Tensor finalW, Tensor finalB) {
    int tokens() {
        return grid * grid;
    }
}
