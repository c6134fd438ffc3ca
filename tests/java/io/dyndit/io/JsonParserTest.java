package io.dyndit.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonParserTest {
    @Test
    void parsesEveryValueKind() {
        Object value = JsonParser.parse(" {\"a\": [1, -2, 3.5, 1e3, true, false, null], \"b\": {\"c\": \"d\"}} ");
        Map<?, ?> object = (Map<?, ?>) value;
        assertEquals(List.of("a", "b"), List.copyOf(object.keySet()));
        assertEquals(Arrays.asList(1L, -2L, 3.5, 1000.0, true, false, null), object.get("a"));
        assertEquals(Map.of("c", "d"), object.get("b"));
    }

    @Test
    void keepsKeyOrder() {
        Map<String, Object> object = JsonParser.parseObject("{\"z\":1,\"a\":2,\"m\":3}");
        assertEquals(List.of("z", "a", "m"), List.copyOf(object.keySet()));
    }

    @Test
    void decodesEscapes() {
        assertEquals("q\" b\\ s/ \b\f\n\r\t", JsonParser.parse("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\""));
        assertEquals("é€", JsonParser.parse("\"\\u00e9\\u20AC\""));
        assertEquals("\uD83D\uDE00", JsonParser.parse("\"\\ud83d\\ude00\""));
        assertEquals("ünïcode", JsonParser.parse("\"ünïcode\""));
    }

    @Test
    void integersThatOverflowBecomeDoubles() {
        assertEquals(Long.MAX_VALUE, JsonParser.parse("9223372036854775807"));
        assertEquals(9.223372036854775808E18, JsonParser.parse("9223372036854775808"));
        assertEquals(-0.0, JsonParser.parse("-0.0"));
        assertEquals(0L, JsonParser.parse("0"));
        assertEquals(1.5e-7, JsonParser.parse("1.5E-7"));
    }

    @Test
    void errorsGiveTheCharacterOffset() {
        assertOffset("{\"a\":}", 5);
        assertOffset("[1,]", 3);
        assertOffset("{\"a\":1,}", 7);
        assertOffset("[1 2]", 3);
        assertOffset("01", 1);
        assertOffset("\"abc", 0);
        assertOffset("\"a\\x\"", 2);
        assertOffset("\"\\u12G4\"", 5);
        assertOffset("tru", 0);
        assertOffset("", 0);
        assertOffset("1.", 2);
        assertOffset("-", 1);
        assertOffset("\"a\u0001\"", 2);
        assertOffset("{\"k\":1,\"k\":2}", 7);
        assertOffset("1e999", 0);
        assertOffset("{1:2}", 1);
    }

    @Test
    void errorMessagesNameTheProblem() {
        JsonParseException e = assertThrows(JsonParseException.class, () -> JsonParser.parse("{\"k\":1,\"k\":2}"));
        assertTrue(e.getMessage().contains("duplicate key \"k\""), e.getMessage());
        assertTrue(e.getMessage().contains("character 7"), e.getMessage());
    }

    @Test
    void deepNestingIsRefusedNotAStackOverflow() {
        String deep = "[".repeat(100_000) + "]".repeat(100_000);
        JsonParseException e = assertThrows(JsonParseException.class, () -> JsonParser.parse(deep));
        assertTrue(e.getMessage().contains("nesting deeper than 64"), e.getMessage());
        String fine = "[".repeat(64) + "]".repeat(64);
        assertTrue(JsonParser.parse(fine) instanceof List);
        assertThrows(JsonParseException.class, () -> JsonParser.parse("[".repeat(65) + "]".repeat(65)));
    }

    /** The cap must hold on a small thread stack too (the recursion depth, not the default stack, is the limit). */
    @Test
    void deepNestingOnA256KiBStack() throws InterruptedException {
        String[] outcome = new String[2];
        Thread small = new Thread(null, () -> {
            try {
                JsonParser.parse("{\"a\":".repeat(100_000) + "1" + "}".repeat(100_000));
                outcome[0] = "parsed";
            } catch (JsonParseException e) {
                outcome[0] = e.getMessage();
            } catch (StackOverflowError e) {
                outcome[0] = "stack overflow";
            }
            Object nested = JsonParser.parse("{\"a\":[".repeat(32) + "1" + "]}".repeat(32));
            outcome[1] = nested instanceof Map ? "ok" : "wrong";
        }, "json-small-stack", 256 * 1024);
        small.start();
        small.join();
        assertTrue(outcome[0] != null && outcome[0].contains("nesting deeper than 64"), outcome[0]);
        assertEquals("ok", outcome[1]);
    }

    @Test
    void configFileThatIsNotUtf8NamesTheFileAndTheByte(@TempDir Path dir)
            throws IOException {
        Path latin1 = dir.resolve("config.json");
        Files.write(latin1, "{\"name\": \"caf\u00e9\"}".getBytes(StandardCharsets.ISO_8859_1));
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> JsonParser.parseObjectFile(latin1));
        assertTrue(e.getMessage().contains(latin1.toString()) && e.getMessage().contains("not valid UTF-8")
                && e.getMessage().contains("byte 0xe9 at offset 13"), e.getMessage());
        Path good = Files.writeString(dir.resolve("good.json"), "{\"name\": \"caf\u00e9\"}");
        assertEquals(Map.of("name", "caf\u00e9"), JsonParser.parseObjectFile(good));
        Path bad = Files.writeString(dir.resolve("bad.json"), "{\"a\": }");
        CheckpointFormatException json = assertThrows(CheckpointFormatException.class,
                () -> JsonParser.parseObjectFile(bad));
        assertTrue(json.getMessage().startsWith(bad + ": invalid JSON at character 6"), json.getMessage());
    }

    @Test
    void nullLiteralAndTopLevelObjectCheck() {
        assertNull(JsonParser.parse("null"));
        assertThrows(JsonParseException.class, () -> JsonParser.parseObject("[1]"));
    }

    private static void assertOffset(String text, int offset) {
        JsonParseException e = assertThrows(JsonParseException.class, () -> JsonParser.parse(text), text);
        assertEquals(offset, e.offset(), text + " -> " + e.getMessage());
    }
}
