package io.dyndit.io;

/** Stand-in for a legacy storage class global such as torch.FloatStorage; it only names an element type. */
record TorchStorageType(String className, DType dtype) {
}
