package io.dyndit.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict RFC 8259 JSON parser for safetensors headers and config files. Values map to LinkedHashMap (key order
 * kept), ArrayList, String, Long (integers that fit) or Double, Boolean and null. Errors carry the character offset.
 * Nesting is capped so hostile input cannot overflow the stack, even a small thread stack (real headers and configs
 * nest three or four levels); duplicate object keys are rejected as ambiguous.
 *
 * <p>Thread-safety: the static methods are safe from any thread (each call parses with its own state).
 */
public final class JsonParser {
    static final int MAX_DEPTH = 64;
    /** Config files are kilobytes; refuse to read anything absurd into memory. */
    static final long MAX_FILE_BYTES = 64L << 20;

    private final String text;
    private int pos;
    private int depth;

    private JsonParser(String text) {
        this.text = text;
    }

    /** Parses one JSON value; only whitespace may surround it. */
    public static Object parse(String text) {
        JsonParser parser = new JsonParser(text);
        parser.skipWhitespace();
        Object value = parser.readValue();
        parser.skipWhitespace();
        if (parser.pos != text.length()) {
            throw parser.error("unexpected " + parser.describeCurrent() + " after the value");
        }
        return value;
    }

    /** Parses text whose top-level value must be an object. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) {
        Object value = parse(text);
        if (!(value instanceof Map)) {
            throw new JsonParseException("expected an object at the top level, found " + typeName(value), 0);
        }
        return (Map<String, Object>) value;
    }

    /**
     * Reads a JSON file whose top level is an object. Text that is not UTF-8 is reported as such, with the byte
     * offset, rather than as a decoder's "Input length = 1"; every error names the file.
     */
    public static Map<String, Object> parseObjectFile(Path file) {
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw new CheckpointFormatException(file + ": " + size + " bytes is too large for a JSON config (limit "
                        + MAX_FILE_BYTES + ")");
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new CheckpointException("cannot read " + file + ": " + io.dyndit.internal.IoWords.of(e), e);
        }
        String text = decodeUtf8(bytes, file.toString());
        try {
            return parseObject(text);
        } catch (JsonParseException e) {
            throw new CheckpointFormatException(file + ": " + e.getMessage(), e);
        }
    }

    /** Strict UTF-8 decoding; names the first byte that is not part of a valid sequence. */
    static String decodeUtf8(byte[] bytes, String source) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (!result.isError()) {
            result = decoder.flush(out);
        }
        if (result.isError()) {
            throw new CheckpointFormatException(String.format("%s: not valid UTF-8 (byte 0x%02x at offset %d does "
                    + "not start a valid sequence); save it as UTF-8 text", source, bytes[in.position()] & 0xFF,
                    in.position()));
        }
        return out.flip().toString();
    }

    /** Short JSON type name of a parsed value, for error messages. */
    public static String typeName(Object value) {
        if (value == null) {
            return "null";
        } else if (value instanceof Map) {
            return "object";
        } else if (value instanceof List) {
            return "array";
        } else if (value instanceof String) {
            return "string";
        } else if (value instanceof Boolean) {
            return "boolean";
        } else if (value instanceof Long) {
            return "integer";
        } else {
            return "number";
        }
    }

    private Object readValue() {
        if (pos >= text.length()) {
            throw error("unexpected end of input, expected a value");
        }
        char c = text.charAt(pos);
        switch (c) {
            case '{':
                return readObject();
            case '[':
                return readArray();
            case '"':
                return readString();
            case 't':
                return readLiteral("true", Boolean.TRUE);
            case 'f':
                return readLiteral("false", Boolean.FALSE);
            case 'n':
                return readLiteral("null", null);
            default:
                if (c == '-' || (c >= '0' && c <= '9')) {
                    return readNumber();
                }
                throw error("unexpected " + describeCurrent() + ", expected a value");
        }
    }

    private Map<String, Object> readObject() {
        enterContainer();
        Map<String, Object> object = new LinkedHashMap<>();
        pos++; // '{'
        skipWhitespace();
        if (peek() == '}') {
            pos++;
            depth--;
            return object;
        }
        while (true) {
            skipWhitespace();
            if (peek() != '"') {
                throw error("expected a string key, found " + describeCurrent());
            }
            int keyStart = pos;
            String key = readString();
            skipWhitespace();
            expect(':');
            skipWhitespace();
            Object value = readValue();
            if (object.containsKey(key)) {
                throw new JsonParseException("duplicate key \"" + key + "\"", keyStart);
            }
            object.put(key, value);
            skipWhitespace();
            char c = peek();
            if (c == ',') {
                pos++;
            } else if (c == '}') {
                pos++;
                depth--;
                return object;
            } else {
                throw error("expected ',' or '}' in object, found " + describeCurrent());
            }
        }
    }

    private List<Object> readArray() {
        enterContainer();
        List<Object> array = new ArrayList<>();
        pos++; // '['
        skipWhitespace();
        if (peek() == ']') {
            pos++;
            depth--;
            return array;
        }
        while (true) {
            skipWhitespace();
            array.add(readValue());
            skipWhitespace();
            char c = peek();
            if (c == ',') {
                pos++;
            } else if (c == ']') {
                pos++;
                depth--;
                return array;
            } else {
                throw error("expected ',' or ']' in array, found " + describeCurrent());
            }
        }
    }

    private void enterContainer() {
        if (++depth > MAX_DEPTH) {
            throw error("nesting deeper than " + MAX_DEPTH + " levels");
        }
    }

    private String readString() {
        int start = pos;
        pos++; // opening quote
        StringBuilder out = new StringBuilder();
        while (true) {
            if (pos >= text.length()) {
                throw new JsonParseException("unterminated string starting here", start);
            }
            char c = text.charAt(pos);
            if (c == '"') {
                pos++;
                return out.toString();
            }
            if (c < 0x20) {
                throw error("unescaped control character U+" + String.format("%04X", (int) c) + " in string");
            }
            if (c != '\\') {
                out.append(c);
                pos++;
                continue;
            }
            if (pos + 1 >= text.length()) {
                throw new JsonParseException("unterminated string starting here", start);
            }
            char escape = text.charAt(pos + 1);
            switch (escape) {
                case '"' -> out.append('"');
                case '\\' -> out.append('\\');
                case '/' -> out.append('/');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'u' -> {
                    out.append(readHex4(pos + 2));
                    pos += 4;
                }
                default -> throw error("invalid escape sequence '\\" + printable(escape) + "'");
            }
            pos += 2;
        }
    }

    private char readHex4(int at) {
        if (at + 4 > text.length()) {
            throw new JsonParseException("truncated \\u escape", at - 2);
        }
        int value = 0;
        for (int i = 0; i < 4; i++) {
            int digit = Character.digit(text.charAt(at + i), 16);
            if (digit < 0) {
                throw new JsonParseException("invalid hex digit '" + printable(text.charAt(at + i))
                        + "' in \\u escape", at + i);
            }
            value = value * 16 + digit;
        }
        return (char) value;
    }

    private Object readNumber() {
        int start = pos;
        if (peek() == '-') {
            pos++;
        }
        if (peek() == '0') {
            pos++;
        } else if (isDigit(peek())) {
            skipDigits();
        } else {
            throw error("expected a digit in number");
        }
        boolean integral = true;
        if (peek() == '.') {
            integral = false;
            pos++;
            if (!isDigit(peek())) {
                throw error("expected a digit after the decimal point");
            }
            skipDigits();
        }
        if (peek() == 'e' || peek() == 'E') {
            integral = false;
            pos++;
            if (peek() == '+' || peek() == '-') {
                pos++;
            }
            if (!isDigit(peek())) {
                throw error("expected a digit in the exponent");
            }
            skipDigits();
        }
        String literal = text.substring(start, pos);
        if (integral) {
            try {
                return Long.parseLong(literal);
            } catch (NumberFormatException tooLarge) {
                // Falls through to a double, as most JSON readers do for integers beyond 64 bits.
            }
        }
        double value = Double.parseDouble(literal);
        if (Double.isInfinite(value)) {
            throw new JsonParseException("number " + literal + " is out of the double range", start);
        }
        return value;
    }

    private Object readLiteral(String word, Object value) {
        if (!text.startsWith(word, pos)) {
            throw error("unexpected " + describeCurrent() + ", expected a value");
        }
        pos += word.length();
        return value;
    }

    private void skipDigits() {
        while (isDigit(peek())) {
            pos++;
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private void skipWhitespace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    private void expect(char c) {
        if (peek() != c) {
            throw error("expected '" + c + "', found " + describeCurrent());
        }
        pos++;
    }

    /** The current character, or NUL at the end (NUL never matches anything the grammar expects). */
    private char peek() {
        return pos < text.length() ? text.charAt(pos) : '\0';
    }

    private String describeCurrent() {
        return pos < text.length() ? "'" + printable(text.charAt(pos)) + "'" : "end of input";
    }

    private static String printable(char c) {
        return c >= 0x20 && c < 0x7F ? String.valueOf(c) : String.format("\\u%04x", (int) c);
    }

    private JsonParseException error(String problem) {
        return new JsonParseException(problem, pos);
    }
}
