package io.dyndit.io;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads PyTorch checkpoints in torch.save's zip format: {@code <root>/data.pkl} (the pickled object) and one
 * uncompressed {@code <root>/data/<key>} entry per storage. The pickle is interpreted by a restricted unpickler that
 * only knows the tensor-rebuilding globals, so a checkpoint can never run code. Contiguous tensors stay in the file
 * until read, when their storage's CRC-32 is checked on the way; the local zip headers must agree with the central
 * directory, and data.pkl is bounded in size and in what the unpickler may build from it.
 *
 * <p>The top level may be a state_dict (dict of name to tensor) or a training checkpoint holding one under "ema"
 * (preferred) or "model". Plain numbers inside a state_dict are skipped; any other non-tensor value is an error.
 *
 * <p>Thread-safety: static, safe from any thread; the TensorFile it returns is read-only after open and safe to share.
 */
public final class TorchCheckpointReader {
    /** data.pkl holds only structure (a few hundred bytes per tensor); larger claims are corruption. */
    static final int MAX_PICKLE_BYTES = 64 << 20;
    /**
     * torch.save stores data.pkl uncompressed; a deflated one (re-zipped) compresses maybe 10:1. A higher claimed
     * ratio is a decompression bomb, refused before inflating.
     */
    static final long MAX_PICKLE_RATIO = 64;
    private static final int MAX_SMALL_ENTRY_BYTES = 4096;

    private TorchCheckpointReader() {
    }

    /** Memory-maps and reads a .pt/.pth checkpoint. */
    public static TensorFile open(Path path) {
        try (ByteSource source = MappedFileSource.open(path)) {
            try {
                return read(source);
            } catch (InternalError e) {
                throw SafeCopy.changed(source, "its zip directory or pickle", e);
            }
        }
    }

    /** Reads checkpoint bytes already in memory; {@code name} is used in error messages. */
    public static TensorFile read(ByteBuffer bytes, String name) {
        return read(new HeapByteSource(name, bytes));
    }

    static TensorFile read(ByteSource source) {
        String file = source.name();
        ZipArchive archive = ZipArchive.read(source);
        String root = findRoot(archive);
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pytorch");
        checkByteOrder(archive, root, metadata);
        String version = smallText(archive, root + "version");
        if (version == null) {
            version = smallText(archive, root + ".data/version");
        }
        if (version != null) {
            metadata.put("torch.file_version", version.trim());
        }

        byte[] pickle = archive.readFully(archive.find(root + "data.pkl"), MAX_PICKLE_BYTES, MAX_PICKLE_RATIO);
        TorchGlobals globals = new TorchGlobals(file);
        StorageLoader storages = new StorageLoader(archive, root, file);
        RestrictedUnpickler unpickler = new RestrictedUnpickler(file + " (" + root + "data.pkl)", globals::resolve,
                storages::load);
        Object loaded = unpickler.load(ByteBuffer.wrap(pickle));

        Map<?, ?> stateDict = selectStateDict(loaded, file, metadata);
        Map<String, StoredTensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<?, ?> entry : stateDict.entrySet()) {
            if (!(entry.getKey() instanceof String name)) {
                throw new CheckpointFormatException(file + ": state_dict key of type "
                        + RestrictedUnpickler.describe(entry.getKey()) + " is not a string");
            }
            Object value = entry.getValue();
            if (value instanceof TorchTensorView view) {
                tensors.put(name, view.toStoredTensor(name, source.size(), file));
            } else if (!(value instanceof Long || value instanceof Double || value instanceof BigInteger)) {
                throw new CheckpointFormatException(file + ": state_dict entry '" + name + "' is a "
                        + RestrictedUnpickler.describe(value) + ", not a tensor");
            }
        }
        return new LoadedTensorFile(file, tensors, metadata);
    }

    /** torch.save puts every entry under one folder named after the file (or "archive" in newer versions). */
    private static String findRoot(ZipArchive archive) {
        String root = null;
        for (ZipArchive.Entry entry : archive.entries()) {
            String name = entry.name();
            if (name.endsWith("data.pkl") && name.indexOf('/') == name.length() - "/data.pkl".length()
                    || name.equals("data.pkl")) {
                String candidate = name.substring(0, name.length() - "data.pkl".length());
                if (root != null) {
                    throw new CheckpointFormatException(archive.name() + ": more than one data.pkl ('" + root
                            + "data.pkl' and '" + name + "'); not a single PyTorch checkpoint");
                }
                root = candidate;
            }
        }
        if (root == null) {
            throw new CheckpointFormatException(archive.name()
                    + ": zip archive has no <root>/data.pkl entry; not a PyTorch checkpoint");
        }
        return root;
    }

    private static void checkByteOrder(ZipArchive archive, String root, Map<String, String> metadata) {
        String order = smallText(archive, root + "byteorder");
        if (order == null) {
            return; // written before byteorder existed, always little-endian
        }
        if (!order.trim().equals("little")) {
            throw new CheckpointFormatException(archive.name() + ": byteorder is '" + order.trim()
                    + "'; only little-endian checkpoints are supported");
        }
        metadata.put("torch.byteorder", "little");
    }

    private static String smallText(ZipArchive archive, String name) {
        ZipArchive.Entry entry = archive.find(name);
        if (entry == null) {
            return null;
        }
        return new String(archive.readFully(entry, MAX_SMALL_ENTRY_BYTES), StandardCharsets.UTF_8);
    }

    /**
     * A training checkpoint wraps the state_dict; inference wants the EMA weights when both are present. A top-level
     * "ema" or "model" that is not a dict (say, a tensor of that name) means the top level is the state_dict itself.
     */
    private static Map<?, ?> selectStateDict(Object loaded, String file, Map<String, String> metadata) {
        if (!(loaded instanceof Map<?, ?> top)) {
            throw new CheckpointFormatException(file + ": top-level object is a " + RestrictedUnpickler.describe(loaded)
                    + ", expected a dict (a state_dict or a checkpoint holding one)");
        }
        for (String key : new String[] {"ema", "model"}) {
            if (top.get(key) instanceof Map<?, ?> stateDict) {
                metadata.put("torch.state_dict_key", key);
                return stateDict;
            }
        }
        return top;
    }

    /** Resolves persistent ids ('storage', storage_type, key, location, numel) to mapped storage entries. */
    private static final class StorageLoader {
        private final ZipArchive archive;
        private final String root;
        private final String file;
        private final Map<String, TorchStorage> loaded = new HashMap<>();

        StorageLoader(ZipArchive archive, String root, String file) {
            this.archive = archive;
            this.root = root;
            this.file = file;
        }

        Object load(Object persistentId) {
            if (!(persistentId instanceof PickleTuple id) || id.size() != 5 || !"storage".equals(id.get(0))) {
                throw bad("persistent id must be ('storage', type, key, location, numel), found "
                        + RestrictedUnpickler.describe(persistentId));
            }
            if (!(id.get(1) instanceof TorchStorageType type)) {
                throw bad("storage type must be a torch.*Storage class, found "
                        + RestrictedUnpickler.describe(id.get(1)));
            }
            if (!(id.get(2) instanceof String key)) {
                throw bad("storage key must be a str, found " + RestrictedUnpickler.describe(id.get(2)));
            }
            if (!(id.get(4) instanceof Long numel) || numel < 0) {
                throw bad("storage '" + key + "': element count must be a non-negative int");
            }
            TorchStorage existing = loaded.get(key);
            if (existing != null) {
                if (existing.dtype() != type.dtype() || existing.elementCount() != numel) {
                    throw bad("storage '" + key + "' is referenced both as " + existing.elementCount() + " x "
                            + existing.dtype() + " and as " + numel + " x " + type.dtype());
                }
                return existing;
            }
            String entryName = root + "data/" + key;
            ZipArchive.Entry entry = archive.find(entryName);
            if (entry == null) {
                throw bad("storage '" + key + "' has no zip entry '" + entryName + "'");
            }
            long needed = numel > Long.MAX_VALUE / type.dtype().size() ? Long.MAX_VALUE
                    : numel * type.dtype().size();
            if (needed > entry.size()) {
                throw bad("storage '" + key + "' declares " + numel + " x " + type.dtype() + " = " + needed
                        + " bytes, but its entry holds " + entry.size());
            }
            TorchStorage storage = new TorchStorage(key, type.dtype(), numel, archive.source(),
                    archive.storedDataOffset(entry), entryName, entry.size(), entry.crc());
            loaded.put(key, storage);
            return storage;
        }

        private CheckpointFormatException bad(String problem) {
            return new CheckpointFormatException(file + ": " + problem);
        }
    }
}
