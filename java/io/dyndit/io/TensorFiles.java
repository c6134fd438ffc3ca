package io.dyndit.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opens a checkpoint with the right reader, chosen by the file's first bytes rather than its extension.
 *
 * <p>Thread-safety: static, safe from any thread; the TensorFile it returns is read-only after open and safe to share.
 */
public final class TensorFiles {
    private TensorFiles() {
    }

    /** The on-disk formats this package reads. */
    public enum Format {
        SAFETENSORS,
        PYTORCH_ZIP
    }

    public static TensorFile open(Path path) {
        return switch (detect(path)) {
            case SAFETENSORS -> SafetensorsReader.open(path);
            case PYTORCH_ZIP -> TorchCheckpointReader.open(path);
        };
    }

    /** Zip local-header magic means torch.save's format; an 8-byte length followed by '{' means safetensors. */
    public static Format detect(Path path) {
        byte[] head = new byte[9];
        int read;
        try (InputStream in = Files.newInputStream(path)) {
            read = in.readNBytes(head, 0, head.length);
        } catch (IOException e) {
            throw new CheckpointException("cannot read " + path + ": " + e, e);
        }
        if (read >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            return Format.PYTORCH_ZIP;
        }
        if (read == 9 && head[8] == '{') {
            return Format.SAFETENSORS;
        }
        if (read >= 2 && (head[0] & 0xFF) == 0x80 && head[1] >= 2 && head[1] <= 5) {
            throw new CheckpointFormatException(path + " is a bare pickle (PyTorch's legacy pre-1.6 format, or a "
                    + "pickle that is not a checkpoint); re-save it with torch.save, or convert it to safetensors");
        }
        throw new CheckpointFormatException(path + " is neither a safetensors file nor a PyTorch zip checkpoint "
                + "(unrecognised first bytes)");
    }
}
