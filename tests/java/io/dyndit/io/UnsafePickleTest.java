package io.dyndit.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Loading a checkpoint must never execute code: any global beyond the tensor-rebuilding allow-list is refused. */
class UnsafePickleTest {
    @TempDir
    Path dir;

    @Test
    void osSystemInsideAValidCheckpointIsRefusedAndNothingRuns() throws IOException {
        Path marker = dir.resolve("pwned");
        byte[] pickle = new PickleBuilder().proto().emptyDict().mark()
                .string("w").tensor("FloatStorage", "0", 1, 0, new long[] {1}, new long[] {1})
                .string("evil").global("os", "system").string("touch " + marker).op(0x85).reduce()
                .setItems().stop().bytes();
        Path file = Files.write(dir.resolve("malicious.pt"),
                TestZipWriter.torchCheckpoint(pickle, Map.of("0", TorchCheckpointReaderTest.floats(1))));

        UnsafePickleException e = assertThrows(UnsafePickleException.class, () -> TensorFiles.open(file));
        assertEquals("os.system", e.global());
        assertTrue(e.getMessage().contains("'os.system'"), e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertFalse(Files.exists(marker), "the pickled command must not have run");
    }

    @ParameterizedTest
    @CsvSource({
        "posix, system",
        "builtins, eval",
        "builtins, exec",
        "__builtin__, eval",
        "subprocess, Popen",
        "torch, load",
        "torch.nn.modules.linear, Linear",
        "shutil, rmtree",
        "torch._utils, _rebuild_device_tensor_from_numpy",
        "numpy.core.multiarray, _reconstruct",
    })
    void otherGlobalsAreRefusedAtTheGlobalOpcode(String module, String name) {
        // Only GLOBAL then POP: a standard unpickler would already have imported the module here.
        byte[] pickle = new PickleBuilder().proto().global(module, name).op('0').emptyDict().stop().bytes();
        UnsafePickleException e = assertThrows(UnsafePickleException.class, () -> load(pickle));
        assertEquals(module + "." + name, e.global());
    }

    @Test
    void stackGlobalIsCheckedToo() {
        byte[] pickle = new PickleBuilder().proto().string("builtins").string("eval").op(0x93)
                .string("print(1)").op(0x85).reduce().stop().bytes();
        UnsafePickleException e = assertThrows(UnsafePickleException.class, () -> load(pickle));
        assertEquals("builtins.eval", e.global());
    }

    @Test
    void allowedNamesCannotBeCalledInUnintendedWays() {
        // A storage class is only a type tag; calling it is refused rather than interpreted.
        byte[] callStorage = new PickleBuilder().proto().global("torch", "FloatStorage").emptyTuple().reduce()
                .stop().bytes();
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> load(callStorage));
        assertTrue(e.getMessage().contains("not callable"), e.getMessage());
        // Object-construction opcodes that would instantiate classes are not interpreted at all.
        byte[] newObj = new PickleBuilder().proto().global("collections", "OrderedDict").emptyTuple().op(0x81)
                .stop().bytes();
        assertThrows(CheckpointFormatException.class, () -> load(newObj));
    }

    private static TensorFile load(byte[] pickle) {
        return TorchCheckpointReader.read(java.nio.ByteBuffer.wrap(TestZipWriter.torchCheckpoint(pickle, Map.of())),
                "hostile.pt");
    }
}
