package io.pgsentinel.shared.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgsentinel.shared.json.DocumentException;
import io.pgsentinel.shared.json.Fields;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class TopologyCodecTest {
    /** The example of ../shared/DESIGN.md, comments removed. */
    static final String CONTRACT_EXAMPLE = """
            {
              "formatVersion": 1,
              "cluster": "revenue-engine",
              "epoch": 7,
              "primary": {"id": "node2", "host": "10.0.0.12", "port": 5432, "timeline": 3},
              "replicas": [
                {"id": "node1", "host": "10.0.0.11", "port": 5432, "state": "streaming",
                 "lagBytes": 0},
                {"id": "node3", "host": "10.0.0.13", "port": 5432, "state": "down"}
              ],
              "leader": "node1",
              "paused": false,
              "updatedAt": "2026-11-29T10:00:00Z"
            }
            """;

    static Topology sample() {
        return new Topology("revenue-engine", 7, new Topology.Primary("node2", "10.0.0.12", 5432, 3),
                List.of(new Topology.Replica("node1", "10.0.0.11", 5432, ReplicaState.STREAMING, 0L),
                        new Topology.Replica("node3", "10.0.0.13", 5432, ReplicaState.DOWN, null)),
                "node1", false, Instant.parse("2026-11-29T10:00:00Z"));
    }

    @Test
    void theContractExampleParsesToTheExpectedTopology() throws Exception {
        Topology t = TopologyCodec.decode(CONTRACT_EXAMPLE.getBytes(StandardCharsets.UTF_8));
        assertThat(t).isEqualTo(sample());
    }

    @Test
    void writingGivesExactlyTheContractDocument() throws Exception {
        JsonNode written = Fields.mapper().readTree(TopologyCodec.encode(sample()));
        JsonNode contract = Fields.mapper().readTree(CONTRACT_EXAMPLE);
        assertThat(written).isEqualTo(contract);
        List<String> order = Stream.of(written.fieldNames()).flatMap(it -> {
            List<String> names = new java.util.ArrayList<>();
            it.forEachRemaining(names::add);
            return names.stream();
        }).toList();
        assertThat(order).containsExactly("formatVersion", "cluster", "epoch", "primary", "replicas", "leader",
                "paused", "updatedAt");
    }

    @Test
    void roundTripKeepsEveryField() throws Exception {
        Topology t = new Topology("c1", 1, new Topology.Primary("a", "db-a.example", 6432, 1),
                List.of(new Topology.Replica("b", "10.1.1.2", 5432, ReplicaState.LAGGING, 123_456_789L),
                        new Topology.Replica("c", "10.1.1.3", 5432, ReplicaState.REJOINING, null)),
                null, true, Instant.parse("2026-01-02T03:04:05.678Z"));
        assertThat(TopologyCodec.decode(TopologyCodec.encode(t))).isEqualTo(t);
    }

    @Test
    void unknownFieldsAreIgnored() throws Exception {
        ObjectNode doc = (ObjectNode) Fields.mapper().readTree(CONTRACT_EXAMPLE);
        doc.put("futureField", "x");
        ((ObjectNode) doc.get("primary")).putObject("futureObject").put("a", 1);
        assertThat(TopologyCodec.decode(Fields.mapper().writeValueAsBytes(doc))).isEqualTo(sample());
    }

    static Stream<Arguments> invalidDocuments() {
        return Stream.of(
                bad("formatVersion", d -> d.put("formatVersion", 2), "unsupported version 2"),
                bad("formatVersion", d -> d.remove("formatVersion"), "is missing"),
                bad("cluster", d -> d.put("cluster", ""), "non-empty"),
                bad("cluster", d -> d.put("cluster", "a/b"), "'/'"),
                bad("epoch", d -> d.put("epoch", -1), "between 1 and"),
                bad("epoch", d -> d.put("epoch", 0), "between 1 and"),
                bad("epoch", d -> d.put("epoch", "7"), "integer"),
                bad("epoch", d -> d.put("epoch", 7.5), "integer"),
                bad("primary", d -> d.remove("primary"), "is missing"),
                bad("primary", d -> d.put("primary", "node2"), "must be an object"),
                bad("primary.id", d -> ((ObjectNode) d.get("primary")).remove("id"), "is missing"),
                bad("primary.host", d -> ((ObjectNode) d.get("primary")).put("host", "a b"), "without spaces"),
                bad("primary.port", d -> ((ObjectNode) d.get("primary")).put("port", 70000), "between 1 and 65535"),
                bad("primary.port", d -> ((ObjectNode) d.get("primary")).put("port", 0), "between 1 and 65535"),
                bad("primary.timeline", d -> ((ObjectNode) d.get("primary")).put("timeline", 0), "between 1"),
                bad("replicas", d -> d.put("replicas", "none"), "must be an array"),
                bad("replicas[0].state", d -> ((ObjectNode) d.get("replicas").get(0)).put("state", "happy"),
                        "must be one of"),
                bad("replicas[1].port", d -> ((ObjectNode) d.get("replicas").get(1)).put("port", -5), "between 1"),
                bad("replicas[0].lagBytes", d -> ((ObjectNode) d.get("replicas").get(0)).put("lagBytes", -1),
                        "between 0"),
                bad("replicas[0].id", d -> ((ObjectNode) d.get("replicas").get(0)).put("id", ""), "non-empty"),
                bad("", d -> ((ObjectNode) d.get("replicas").get(0)).put("id", "node2"), "appears twice"),
                bad("leader", d -> d.put("leader", 3), "must be a string"),
                bad("paused", d -> d.put("paused", "no"), "true or false"),
                bad("updatedAt", d -> d.put("updatedAt", "yesterday"), "ISO-8601"));
    }

    private static Arguments bad(String field, Consumer<ObjectNode> mutation, String problem) {
        return Arguments.of(field, mutation, problem);
    }

    @ParameterizedTest(name = "{0}: {2}")
    @MethodSource("invalidDocuments")
    void everyInvalidFieldIsNamed(String field, Consumer<ObjectNode> mutation, String problem) throws Exception {
        ObjectNode doc = (ObjectNode) Fields.mapper().readTree(CONTRACT_EXAMPLE);
        mutation.accept(doc);
        byte[] bytes = Fields.mapper().writeValueAsBytes(doc);
        assertThatThrownBy(() -> TopologyCodec.decode(bytes))
                .isInstanceOfSatisfying(DocumentException.class, e -> assertThat(e.field()).isEqualTo(field))
                .hasMessageContaining(problem);
    }

    @Test
    void nonJsonEmptyAndOversizedDocumentsAreRejected() {
        assertThatThrownBy(() -> TopologyCodec.decode(new byte[0])).isInstanceOf(DocumentException.class)
                .hasMessageContaining("empty");
        assertThatThrownBy(() -> TopologyCodec.decode("[1,2]".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(DocumentException.class).hasMessageContaining("object");
        assertThatThrownBy(() -> TopologyCodec.decode("{\"formatVersion\":1,".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(DocumentException.class).hasMessageContaining("not valid JSON");
        byte[] huge = new byte[Fields.MAX_DOCUMENT_BYTES + 1];
        java.util.Arrays.fill(huge, (byte) ' ');
        assertThatThrownBy(() -> TopologyCodec.decode(huge)).isInstanceOf(DocumentException.class)
                .hasMessageContaining("exceeds the limit");
        String deep = "{\"a\":".repeat(100) + "1" + "}".repeat(100);
        assertThatThrownBy(() -> TopologyCodec.decode(deep.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(DocumentException.class);
        String duplicate = CONTRACT_EXAMPLE.replace("\"epoch\": 7,", "\"epoch\": 7, \"epoch\": 9,");
        assertThatThrownBy(() -> TopologyCodec.decode(duplicate.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(DocumentException.class);
    }

    /** Random bytes and random mutations of a valid document: the codec's own error, or a valid topology. */
    @Test
    void fuzzedInputNeverThrowsAnythingButTheCodecsError() {
        Random random = new Random(20261129L);
        byte[] valid = CONTRACT_EXAMPLE.getBytes(StandardCharsets.UTF_8);
        int accepted = 0;
        int rejected = 0;
        for (int i = 0; i < 20_000; i++) {
            byte[] input;
            if (i % 4 == 0) {
                input = new byte[random.nextInt(300)];
                random.nextBytes(input);
            } else {
                input = valid.clone();
                int flips = 1 + random.nextInt(4);
                for (int f = 0; f < flips; f++) {
                    int at = random.nextInt(input.length);
                    input[at] = (byte) (i % 4 == 1 ? random.nextInt(256) : "{}[]\",:0123456789-.eE nulltruefalse".charAt(
                            random.nextInt(34)));
                }
                if (i % 4 == 3) {
                    input = java.util.Arrays.copyOf(input, random.nextInt(input.length));
                }
            }
            try {
                Topology t = TopologyCodec.decode(input);
                assertThat(t.epoch()).isPositive();
                accepted++;
            } catch (DocumentException e) {
                assertThat(e.getMessage()).isNotBlank();
                rejected++;
            }
        }
        assertThat(rejected).isGreaterThan(10_000);
        assertThat(accepted + rejected).isEqualTo(20_000);
    }
}
