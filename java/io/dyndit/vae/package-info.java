/**
 * The SD-VAE decoder (diffusers AutoencoderKL, decoder half): latents from DiT to images.
 *
 * <p>{@link io.dyndit.vae.VaeDecoder} loads a checkpoint (diffusers safetensors, .pt/.ckpt through the safe reader;
 * diffusers, deprecated-attention or CompVis names) with its {@link io.dyndit.vae.VaeConfig}, and decodes batches in
 * tiles of samples on buffers planned once per tile shape ({@code VaePlan}); the ops are
 * {@link io.dyndit.core.VaeOps} (conv2d, GroupNorm+SiLU, nearest 2x) plus the transformer's linear and attention.
 * {@link io.dyndit.vae.Uint8Images} and {@link io.dyndit.vae.PngImages} turn the result into DiT's uint8 NHWC form
 * and PNG files. Semantics and golden vectors: shared/docs/vae-reference.md, tests/resources/golden-vae.
 */
package io.dyndit.vae;
