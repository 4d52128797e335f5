package io.pgsentinel.sentinel.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgsentinel.shared.json.DocumentException;
import io.pgsentinel.shared.json.Fields;
import io.pgsentinel.shared.zk.Names;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * JSON of the nodes the sentinels write for each other: {@code nodes/<id>}, {@code members/<id>},
 * {@code votes/<id>}. Reading is strict and names the field at fault; a rejected node is logged
 * and ignored by the caller, never acted on.
 */
public final class ModelCodec {
    private static final int MAX_NODES = 64;

    private ModelCodec() {
    }

    public static byte[] encode(ObjectNode tree) {
        try {
            return Fields.mapper().writeValueAsBytes(tree);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    // nodes/<id>

    public static ObjectNode toTree(RegisteredNode n) {
        ObjectNode o = Fields.mapper().createObjectNode();
        o.put("id", n.id());
        o.put("host", n.host());
        o.put("port", n.port());
        ObjectNode tags = o.putObject("tags");
        tags.put("priority", n.priority());
        tags.put("nofailover", n.noFailover());
        tags.put("nosync", n.noSync());
        tags.put("noloadbalance", n.noLoadBalance());
        if (n.cascades()) {
            tags.put("replicatefrom", n.replicateFrom());
        }
        if (n.cloneFrom()) {
            tags.put("clonefrom", true);
        }
        o.put("apiUrl", n.apiUrl());
        if (n.sessionTimeoutMillis() > 0) {
            ObjectNode fencing = o.putObject("fencing");
            fencing.put("sessionTimeoutMs", n.sessionTimeoutMillis());
            fencing.put("selfFenceMs", n.selfFenceMillis());
            fencing.put("guarded", n.guarded());
        }
        return o;
    }

    public static RegisteredNode registeredNode(byte[] bytes) throws DocumentException {
        JsonNode o = Fields.parseObject(bytes);
        String id = nodeId(o, "id", "");
        String host = Fields.text(o, "host", "");
        int port = (int) Fields.integer(o, "port", "", 1, 65535);
        JsonNode tags = o.has("tags") ? Fields.object(o, "tags", "") : Fields.mapper().createObjectNode();
        int priority = Fields.optionalInteger(tags, "priority", "tags", Integer.MIN_VALUE, Integer.MAX_VALUE).orElse(100L)
                .intValue();
        boolean noFailover = Fields.bool(tags, "nofailover", "tags", false);
        boolean noSync = Fields.bool(tags, "nosync", "tags", false);
        boolean noLoadBalance = Fields.bool(tags, "noloadbalance", "tags", false);
        String replicateFrom = Fields.optionalText(tags, "replicatefrom", "tags").orElse("");
        boolean cloneFrom = Fields.bool(tags, "clonefrom", "tags", false);
        if (!replicateFrom.isEmpty()) {
            nodeId(tags, "replicatefrom", "tags");
        }
        String apiUrl = Fields.optionalText(o, "apiUrl", "").orElse("");
        JsonNode fencing = o.has("fencing") ? Fields.object(o, "fencing", "") : Fields.mapper().createObjectNode();
        long session = Fields.optionalInteger(fencing, "sessionTimeoutMs", "fencing", 1, 3_600_000).orElse(-1L);
        long selfFence = Fields.optionalInteger(fencing, "selfFenceMs", "fencing", 1, 3_600_000).orElse(-1L);
        boolean guarded = Fields.bool(fencing, "guarded", "fencing", false);
        try {
            return new RegisteredNode(id, host, port, priority, noFailover, apiUrl, session, selfFence, guarded, noSync,
                    noLoadBalance, replicateFrom, cloneFrom);
        } catch (IllegalArgumentException e) {
            throw new DocumentException("", e.getMessage());
        }
    }

    // promoting

    public static ObjectNode toTree(PromotionIntent i) {
        ObjectNode o = Fields.mapper().createObjectNode();
        o.put("oldPrimary", i.oldPrimary());
        o.put("candidate", i.candidate());
        o.put("epoch", i.epoch());
        o.put("leader", i.leader());
        return o;
    }

    public static PromotionIntent promotionIntent(byte[] bytes) throws DocumentException {
        JsonNode o = Fields.parseObject(bytes);
        return new PromotionIntent(nodeId(o, "oldPrimary", ""), nodeId(o, "candidate", ""),
                Fields.integer(o, "epoch", "", 1, Long.MAX_VALUE), Fields.text(o, "leader", ""));
    }

    // members/<id>

    public static ObjectNode toTree(MemberReport r) {
        ObjectNode o = Fields.mapper().createObjectNode();
        o.put("id", r.id());
        o.put("at", r.at().toString());
        o.put("running", r.running());
        o.put("role", r.role().json());
        o.put("timeline", r.timeline());
        putLsn(o, "flushLsn", r.flushLsn());
        putLsn(o, "receiveLsn", r.receiveLsn());
        putLsn(o, "replayLsn", r.replayLsn());
        ObjectNode receiver = o.putObject("receiver");
        receiver.put("status", r.receiverStatus());
        receiver.put("host", r.upstreamHost());
        receiver.put("port", r.upstreamPort());
        receiver.put("configured", r.configuredUpstream());
        ArrayNode standbys = o.putArray("standbys");
        for (Standby s : r.standbys()) {
            ObjectNode so = standbys.addObject();
            so.put("name", s.name());
            so.put("state", s.state());
            putLsn(so, "flushLsn", s.flushLsn());
            putLsn(so, "replayLsn", s.replayLsn());
            so.put("sync", s.syncState());
        }
        o.put("state", r.state());
        o.put("error", r.error());
        o.put("pendingRestart", r.pendingRestart());
        return o;
    }

    public static MemberReport memberReport(byte[] bytes) throws DocumentException {
        JsonNode o = Fields.parseObject(bytes);
        String id = nodeId(o, "id", "");
        Role role = switch (Fields.text(o, "role", "")) {
            case "primary" -> Role.PRIMARY;
            case "replica" -> Role.REPLICA;
            case "unknown" -> Role.UNKNOWN;
            default -> throw new DocumentException("role", "must be primary, replica or unknown");
        };
        JsonNode receiver = o.has("receiver") ? Fields.object(o, "receiver", "") : Fields.mapper().createObjectNode();
        List<Standby> standbys = new ArrayList<>();
        List<JsonNode> items = Fields.array(o, "standbys", "", MAX_NODES);
        for (int i = 0; i < items.size(); i++) {
            JsonNode s = items.get(i);
            String path = Fields.index("", "standbys", i);
            if (!s.isObject()) {
                throw new DocumentException(path, "must be an object");
            }
            standbys.add(new Standby(Fields.text(s, "name", path), Fields.optionalText(s, "state", path).orElse(""),
                    lsn(s, "flushLsn", path), lsn(s, "replayLsn", path), Fields.optionalText(s, "sync", path).orElse("")));
        }
        return new MemberReport(id, Fields.instant(o, "at", ""), Fields.bool(o, "running", "", false), role,
                Fields.integer(o, "timeline", "", 0, Integer.MAX_VALUE), lsn(o, "flushLsn", ""), lsn(o, "receiveLsn", ""),
                lsn(o, "replayLsn", ""), Fields.optionalText(receiver, "status", "receiver").orElse(""),
                Fields.optionalText(receiver, "host", "receiver").orElse(""),
                Fields.optionalInteger(receiver, "port", "receiver", 0, 65535).orElse(0L).intValue(), standbys,
                Fields.optionalText(o, "state", "").orElse("ok"), Fields.optionalText(o, "error", "").orElse(""),
                Fields.optionalText(receiver, "configured", "receiver").orElse(""),
                o.has("pendingRestart") && Fields.bool(o, "pendingRestart", "", false));
    }

    // votes/<id>

    public static ObjectNode toTree(Vote v) {
        ObjectNode o = Fields.mapper().createObjectNode();
        o.put("voter", v.voter());
        o.put("at", v.at().toString());
        ObjectNode views = o.putObject("views");
        v.views().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            ObjectNode view = views.putObject(e.getKey());
            view.put("up", e.getValue().up());
            view.put("forMs", e.getValue().forMillis());
        });
        return o;
    }

    public static Vote vote(byte[] bytes) throws DocumentException {
        JsonNode o = Fields.parseObject(bytes);
        String voter = nodeId(o, "voter", "");
        JsonNode views = Fields.object(o, "views", "");
        if (views.size() > MAX_NODES) {
            throw new DocumentException("views", "has more than " + MAX_NODES + " nodes");
        }
        Map<String, Vote.View> result = new HashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = views.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String path = Fields.join("views", e.getKey());
            String problem = Names.problem(e.getKey());
            if (problem != null) {
                throw new DocumentException(path, "node id " + problem);
            }
            if (!e.getValue().isObject()) {
                throw new DocumentException(path, "must be an object");
            }
            boolean up = Fields.bool(e.getValue(), "up", path, true);
            if (!e.getValue().has("up")) {
                throw new DocumentException(Fields.join(path, "up"), "is missing");
            }
            long forMs = Fields.integer(e.getValue(), "forMs", path, 0, Long.MAX_VALUE / 2);
            result.put(e.getKey(), new Vote.View(up, forMs));
        }
        return new Vote(voter, Fields.instant(o, "at", ""), result);
    }

    private static void putLsn(ObjectNode o, String name, long lsn) {
        if (lsn < 0) {
            o.putNull(name);
        } else {
            o.put(name, Lsn.format(lsn));
        }
    }

    private static long lsn(JsonNode o, String name, String path) throws DocumentException {
        String text = Fields.optionalText(o, name, path).orElse(null);
        if (text == null) {
            return -1;
        }
        try {
            return Lsn.parse(text);
        } catch (IllegalArgumentException e) {
            throw new DocumentException(Fields.join(path, name), "must be a WAL position like 0/3000060");
        }
    }

    private static String nodeId(JsonNode o, String name, String path) throws DocumentException {
        String id = Fields.text(o, name, path);
        String problem = Names.problem(id);
        if (problem != null) {
            throw new DocumentException(Fields.join(path, name), problem);
        }
        return id;
    }
}
