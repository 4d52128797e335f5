package io.pgsentinel.shared.json;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Strict, field-naming reading of JSON documents. Every accessor names the dotted path of the
 * field in its error, so a rejected ZooKeeper node or HTTP body is logged with a reason a
 * person can act on. Unknown fields are ignored (documents may grow by addition).
 */
public final class Fields {
    /** The largest document accepted; ZooKeeper's own node limit is 1 MiB. */
    public static final int MAX_DOCUMENT_BYTES = 1 << 20;

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    static {
        MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(32).maxStringLength(64 * 1024).maxNumberLength(40).build());
    }

    private Fields() {
    }

    /** The shared mapper, for writing documents. */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    /** Parses {@code bytes} as one JSON object, with size and nesting limits. */
    public static JsonNode parseObject(byte[] bytes) throws DocumentException {
        if (bytes == null || bytes.length == 0) {
            throw new DocumentException("", "empty document");
        }
        if (bytes.length > MAX_DOCUMENT_BYTES) {
            throw new DocumentException("", "document of " + bytes.length + " bytes exceeds the limit of "
                    + MAX_DOCUMENT_BYTES);
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(bytes);
        } catch (IOException | RuntimeException e) {
            throw new DocumentException("", "not valid JSON (" + firstLine(e.getMessage()) + ")");
        }
        if (root == null || !root.isObject()) {
            throw new DocumentException("", "expected a JSON object");
        }
        return root;
    }

    public static String text(JsonNode parent, String name, String path) throws DocumentException {
        JsonNode node = required(parent, name, path);
        if (!node.isTextual() || node.asText().isEmpty()) {
            throw new DocumentException(join(path, name), "must be a non-empty string");
        }
        return node.asText();
    }

    public static Optional<String> optionalText(JsonNode parent, String name, String path) throws DocumentException {
        JsonNode node = parent.get(name);
        if (node == null || node.isNull()) {
            return Optional.empty();
        }
        if (!node.isTextual()) {
            throw new DocumentException(join(path, name), "must be a string");
        }
        return Optional.of(node.asText());
    }

    public static long integer(JsonNode parent, String name, String path, long min, long max) throws DocumentException {
        JsonNode node = required(parent, name, path);
        return checkInteger(node, join(path, name), min, max);
    }

    public static Optional<Long> optionalInteger(JsonNode parent, String name, String path, long min, long max)
            throws DocumentException {
        JsonNode node = parent.get(name);
        if (node == null || node.isNull()) {
            return Optional.empty();
        }
        return Optional.of(checkInteger(node, join(path, name), min, max));
    }

    public static boolean bool(JsonNode parent, String name, String path, boolean defaultValue) throws DocumentException {
        JsonNode node = parent.get(name);
        if (node == null || node.isNull()) {
            return defaultValue;
        }
        if (!node.isBoolean()) {
            throw new DocumentException(join(path, name), "must be true or false");
        }
        return node.asBoolean();
    }

    public static Instant instant(JsonNode parent, String name, String path) throws DocumentException {
        String text = text(parent, name, path);
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw new DocumentException(join(path, name), "must be an ISO-8601 UTC timestamp like 2026-11-29T10:00:00Z");
        }
    }

    public static Optional<Instant> optionalInstant(JsonNode parent, String name, String path) throws DocumentException {
        if (parent.get(name) == null || parent.get(name).isNull()) {
            return Optional.empty();
        }
        return Optional.of(instant(parent, name, path));
    }

    public static JsonNode object(JsonNode parent, String name, String path) throws DocumentException {
        JsonNode node = required(parent, name, path);
        if (!node.isObject()) {
            throw new DocumentException(join(path, name), "must be an object");
        }
        return node;
    }

    public static List<JsonNode> array(JsonNode parent, String name, String path, int maxItems) throws DocumentException {
        JsonNode node = parent.get(name);
        if (node == null || node.isNull()) {
            return List.of();
        }
        if (!node.isArray()) {
            throw new DocumentException(join(path, name), "must be an array");
        }
        if (node.size() > maxItems) {
            throw new DocumentException(join(path, name), "has " + node.size() + " items, more than " + maxItems);
        }
        List<JsonNode> items = new ArrayList<>();
        node.forEach(items::add);
        return items;
    }

    /** {@code path.name}, or {@code name} at the top. */
    public static String join(String path, String name) {
        return path.isEmpty() ? name : path + "." + name;
    }

    public static String index(String path, String name, int i) {
        return join(path, name) + "[" + i + "]";
    }

    private static JsonNode required(JsonNode parent, String name, String path) throws DocumentException {
        JsonNode node = parent.get(name);
        if (node == null || node.isNull()) {
            throw new DocumentException(join(path, name), "is missing");
        }
        return node;
    }

    private static long checkInteger(JsonNode node, String field, long min, long max) throws DocumentException {
        if (!node.isIntegralNumber() || !node.canConvertToLong()) {
            throw new DocumentException(field, "must be an integer");
        }
        long value = node.asLong();
        if (value < min || value > max) {
            throw new DocumentException(field, "must be between " + min + " and " + max + ", got " + value);
        }
        return value;
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        String line = message.lines().findFirst().orElse(message);
        return line.length() > 200 ? line.substring(0, 200) + "..." : line;
    }
}
