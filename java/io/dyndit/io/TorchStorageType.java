package io.dyndit.io;

import io.dyndit.core.DType;

/** Stand-in for a legacy storage class global such as torch.FloatStorage; it only names an element type. */
record TorchStorageType(String className, DType dtype) {
}
