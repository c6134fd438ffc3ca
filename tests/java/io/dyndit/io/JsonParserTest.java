package io.dyndit.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

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
        assertTrue(e.getMessage().contains("nesting"), e.getMessage());
        String fine = "[".repeat(100) + "]".repeat(100);
        assertTrue(JsonParser.parse(fine) instanceof List);
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
