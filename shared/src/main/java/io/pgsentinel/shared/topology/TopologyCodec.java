package io.pgsentinel.shared.topology;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgsentinel.shared.json.DocumentException;
import io.pgsentinel.shared.json.Fields;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads and writes the topology document. Writing gives exactly the contract's fields in the
 * contract's order; reading ignores unknown fields, rejects any {@code formatVersion} but 1,
 * and rejects invalid content with a {@link DocumentException} naming the field.
 */
public final class TopologyCodec {
    /** More replicas than this is not a cluster, it is an attack. */
    public static final int MAX_REPLICAS = 64;

    private TopologyCodec() {
    }

    public static byte[] encode(Topology t) {
        return toJson(t).getBytes(StandardCharsets.UTF_8);
    }

    public static String toJson(Topology t) {
        try {
            return Fields.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(toTree(t));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a topology", e);
        }
    }

    public static ObjectNode toTree(Topology t) {
        ObjectNode root = Fields.mapper().createObjectNode();
        root.put("formatVersion", Topology.FORMAT_VERSION);
        root.put("cluster", t.cluster());
        root.put("epoch", t.epoch());
        ObjectNode primary = root.putObject("primary");
        primary.put("id", t.primary().id());
        primary.put("host", t.primary().host());
        primary.put("port", t.primary().port());
        primary.put("timeline", t.primary().timeline());
        ArrayNode replicas = root.putArray("replicas");
        for (Topology.Replica r : t.replicas()) {
            ObjectNode replica = replicas.addObject();
            replica.put("id", r.id());
            replica.put("host", r.host());
            replica.put("port", r.port());
            replica.put("state", r.state().json());
            if (r.lagBytes() != null) {
                replica.put("lagBytes", r.lagBytes());
            }
            if (r.noLoadBalance()) {
                replica.put("noloadbalance", true);
            }
            if (r.upstream() != null) {
                replica.put("upstream", r.upstream());
            }
        }
        if (t.leader() == null) {
            root.putNull("leader");
        } else {
            root.put("leader", t.leader());
        }
        root.put("paused", t.paused());
        root.put("updatedAt", t.updatedAt().toString());
        if (t.synchronous() != null) {
            ObjectNode sync = root.putObject("synchronous");
            sync.put("mode", "quorum");
            sync.put("count", t.synchronous().count());
            ArrayNode standbys = sync.putArray("standbys");
            t.synchronous().standbys().forEach(standbys::add);
            sync.put("state", t.synchronous().state());
            if (t.synchronous().minPosition() != null) {
                sync.put("minPosition", t.synchronous().minPosition());
            }
        }
        return root;
    }

    public static Topology decode(byte[] bytes) throws DocumentException {
        return fromTree(Fields.parseObject(bytes));
    }

    public static Topology fromTree(JsonNode root) throws DocumentException {
        long version = Fields.integer(root, "formatVersion", "", Integer.MIN_VALUE, Integer.MAX_VALUE);
        if (version != Topology.FORMAT_VERSION) {
            throw new DocumentException("formatVersion", "unsupported version " + version + " (this code reads "
                    + Topology.FORMAT_VERSION + ")");
        }
        String cluster = name(Fields.text(root, "cluster", ""), "cluster");
        long epoch = Fields.integer(root, "epoch", "", 1, Long.MAX_VALUE);
        JsonNode p = Fields.object(root, "primary", "");
        Topology.Primary primary = build("primary", () -> new Topology.Primary(
                name(Fields.text(p, "id", "primary"), "primary.id"),
                host(Fields.text(p, "host", "primary"), "primary.host"),
                (int) Fields.integer(p, "port", "primary", 1, 65535),
                Fields.integer(p, "timeline", "primary", 1, Integer.MAX_VALUE)));
        List<Topology.Replica> replicas = new ArrayList<>();
        List<JsonNode> items = Fields.array(root, "replicas", "", MAX_REPLICAS);
        for (int i = 0; i < items.size(); i++) {
            JsonNode r = items.get(i);
            String path = Fields.index("", "replicas", i);
            if (!r.isObject()) {
                throw new DocumentException(path, "must be an object");
            }
            String stateText = Fields.text(r, "state", path);
            ReplicaState state = ReplicaState.fromJson(stateText).orElseThrow(() -> new DocumentException(
                    Fields.join(path, "state"), "must be one of streaming, lagging, down, rejoining; got '"
                    + shorten(stateText) + "'"));
            Long lag = Fields.optionalInteger(r, "lagBytes", path, 0, Long.MAX_VALUE).orElse(null);
            String upstream = Fields.optionalText(r, "upstream", path).orElse(null);
            if (upstream != null) {
                name(upstream, Fields.join(path, "upstream"));
            }
            replicas.add(build(path, () -> new Topology.Replica(
                    name(Fields.text(r, "id", path), path + ".id"),
                    host(Fields.text(r, "host", path), path + ".host"),
                    (int) Fields.integer(r, "port", path, 1, 65535), state, lag,
                    Fields.bool(r, "noloadbalance", path, false),
                    upstream)));
        }
        String leader = Fields.optionalText(root, "leader", "").orElse(null);
        if (leader != null) {
            name(leader, "leader");
        }
        boolean paused = Fields.bool(root, "paused", "", false);
        Instant updatedAt = Fields.instant(root, "updatedAt", "");
        Topology.Synchronous sync = null;
        if (root.hasNonNull("synchronous")) {
            JsonNode s = Fields.object(root, "synchronous", "");
            int count = (int) Fields.integer(s, "count", "synchronous", 1, MAX_REPLICAS);
            List<String> standbys = new ArrayList<>();
            List<JsonNode> names = Fields.array(s, "standbys", "synchronous", MAX_REPLICAS);
            for (int i = 0; i < names.size(); i++) {
                JsonNode item = names.get(i);
                String path = Fields.index("synchronous", "standbys", i);
                if (!item.isTextual()) {
                    throw new DocumentException(path, "must be a node id");
                }
                standbys.add(name(item.asText(), path));
            }
            String state = Fields.text(s, "state", "synchronous");
            String minPosition = Fields.optionalText(s, "minPosition", "synchronous").orElse(null);
            sync = build("synchronous", () -> new Topology.Synchronous(count, standbys, state, minPosition));
        }
        Topology.Synchronous synchronous = sync;
        return build("", () -> new Topology(cluster, epoch, primary, replicas, leader, paused, updatedAt, synchronous));
    }

    private interface Construction<T> {
        T get() throws DocumentException;
    }

    /** Runs a record constructor, turning its validation error into a field-naming one. */
    private static <T> T build(String field, Construction<T> construction) throws DocumentException {
        try {
            return construction.get();
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new DocumentException(field, e.getMessage() == null ? "invalid" : e.getMessage());
        }
    }

    private static String name(String value, String field) throws DocumentException {
        String problem = io.pgsentinel.shared.zk.Names.problem(value);
        if (problem != null) {
            throw new DocumentException(field, problem);
        }
        return value;
    }

    private static String host(String value, String field) throws DocumentException {
        try {
            Topology.requireHost(value);
            return value;
        } catch (IllegalArgumentException e) {
            throw new DocumentException(field, "must be a host name or address without spaces");
        }
    }

    private static String shorten(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }
}
