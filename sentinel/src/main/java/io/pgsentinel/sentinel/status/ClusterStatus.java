package io.pgsentinel.sentinel.status;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgsentinel.sentinel.model.Lsn;
import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.sentinel.model.RegisteredNode;
import io.pgsentinel.sentinel.zk.ClusterCache;
import io.pgsentinel.shared.json.DocumentException;
import io.pgsentinel.shared.json.Fields;
import io.pgsentinel.shared.topology.Topology;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The cluster as one document: members with their reports, votes, leader and the leader's
 * latest decision. {@code GET /cluster} returns it; {@code status} prints it as a table. Nothing
 * secret is in it: reports carry no connection strings or passwords.
 */
public final class ClusterStatus {
    private ClusterStatus() {
    }

    /** One member's line, also the rows of {@code status}. */
    public record Member(String id, String host, int port, String role, String state, boolean sentinelUp, Long timeline,
                         String flushLsn, String receiveLsn, String replayLsn, Long lagBytes, String server,
                         String sentinelState, String error, int priority, boolean noFailover, String api,
                         boolean pendingRestart, boolean noSync, boolean noLoadBalance, String replicateFrom,
                         boolean cloneFrom, String upstream) {
        /** The tags that differ from their defaults, as {@code status} shows them: "nofailover,nosync". */
        public String tagsShown() {
            List<String> shown = new ArrayList<>();
            if (priority != 100) {
                shown.add("priority=" + priority);
            }
            if (noFailover) {
                shown.add("nofailover");
            }
            if (noSync) {
                shown.add("nosync");
            }
            if (noLoadBalance) {
                shown.add("noloadbalance");
            }
            if (replicateFrom != null && !replicateFrom.isEmpty()) {
                shown.add("replicatefrom=" + replicateFrom);
            }
            if (cloneFrom) {
                shown.add("clonefrom");
            }
            return String.join(",", shown);
        }
    }

    /** The leader's latest decision, as written to ZooKeeper (or held by the leader itself). */
    public record Decision(String leader, String action, String summary, String reason, String at) {
        public static Decision parse(byte[] bytes) throws DocumentException {
            JsonNode o = Fields.parseObject(bytes);
            return new Decision(Fields.text(o, "leader", ""), Fields.text(o, "action", ""),
                    Fields.text(o, "summary", ""), Fields.text(o, "reason", ""), Fields.instant(o, "at", "").toString());
        }
    }

    public static List<Member> members(ClusterCache cache) {
        Topology t = cache.topology().map(ClusterCache.VersionedTopology::topology).orElse(null);
        Map<String, MemberReport> reports = cache.members();
        List<Member> members = new ArrayList<>();
        for (RegisteredNode n : cache.nodes().values().stream().sorted(Comparator.comparing(RegisteredNode::id)).toList()) {
            MemberReport r = reports.get(n.id());
            boolean published = t != null && t.primary().id().equals(n.id());
            Topology.Replica replica = t == null ? null : t.replica(n.id()).orElse(null);
            String role = published ? "primary" : replica != null ? "replica" : r == null ? "unknown" : r.role().json();
            String state = published ? (r == null ? "unknown" : r.running() ? "running" : "down")
                    : replica != null ? replica.state().json() : r == null ? "unknown" : r.running() ? "running" : "down";
            members.add(new Member(n.id(), n.host(), n.port(), role, state, r != null,
                    r == null ? null : r.timeline(), lsn(r == null ? -1 : r.flushLsn()),
                    lsn(r == null ? -1 : r.receiveLsn()), lsn(r == null ? -1 : r.replayLsn()),
                    replica == null ? null : replica.lagBytes(), r == null ? null : r.role().json(),
                    r == null ? null : r.state(), r == null || r.error().isEmpty() ? null : r.error(), n.priority(),
                    n.noFailover(), n.apiUrl(), r != null && r.pendingRestart(), n.noSync(), n.noLoadBalance(),
                    n.replicateFrom(), n.cloneFrom(), replica == null ? null : replica.upstream()));
        }
        return members;
    }

    /** The whole document of {@code GET /cluster}. */
    public static ObjectNode document(String cluster, String leader, ClusterCache cache, Decision decision) {
        Topology t = cache.topology().map(ClusterCache.VersionedTopology::topology).orElse(null);
        ObjectNode body = Fields.mapper().createObjectNode();
        body.put("cluster", cluster);
        body.put("leader", leader);
        body.put("epoch", t == null ? 0 : t.epoch());
        body.put("paused", cache.maintenance());
        ArrayNode members = body.putArray("members");
        for (Member m : members(cache)) {
            ObjectNode o = members.addObject();
            o.put("id", m.id());
            o.put("host", m.host());
            o.put("port", m.port());
            o.put("role", m.role());
            o.put("state", m.state());
            o.put("sentinel", m.sentinelUp() ? "up" : "down");
            putNullable(o, "timeline", m.timeline());
            o.put("flushLsn", m.flushLsn());
            o.put("receiveLsn", m.receiveLsn());
            o.put("replayLsn", m.replayLsn());
            putNullable(o, "lagBytes", m.lagBytes());
            o.put("server", m.server());
            o.put("sentinelState", m.sentinelState());
            o.put("error", m.error());
            o.put("pendingRestart", m.pendingRestart());
            ObjectNode tags = o.putObject("tags");
            tags.put("priority", m.priority());
            tags.put("nofailover", m.noFailover());
            tags.put("nosync", m.noSync());
            tags.put("noloadbalance", m.noLoadBalance());
            if (m.replicateFrom() != null && !m.replicateFrom().isEmpty()) {
                tags.put("replicatefrom", m.replicateFrom());
            }
            if (m.cloneFrom()) {
                tags.put("clonefrom", true);
            }
            if (m.upstream() != null) {
                o.put("upstream", m.upstream()); // cascading: the replica it streams from
            }
            o.put("api", m.api());
        }
        ObjectNode votes = body.putObject("votes");
        cache.votes().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            ObjectNode views = votes.putObject(e.getKey());
            e.getValue().vote().views().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(v -> {
                ObjectNode view = views.putObject(v.getKey());
                view.put("up", v.getValue().up());
                view.put("forMs", v.getValue().forMillis());
            });
        });
        ObjectNode d = body.putObject("decision");
        if (decision != null) {
            d.put("action", decision.action());
            d.put("summary", decision.summary());
            d.put("reason", decision.reason());
            d.put("at", decision.at());
            d.put("by", decision.leader());
        }
        return body;
    }

    /** The members of a {@code GET /cluster} document (the demo reads them over HTTP). */
    public static List<Member> membersOf(JsonNode document) {
        List<Member> members = new ArrayList<>();
        for (JsonNode m : document.path("members")) {
            members.add(new Member(m.path("id").asText(), m.path("host").asText(), m.path("port").asInt(),
                    m.path("role").asText(), m.path("state").asText(), m.path("sentinel").asText().equals("up"),
                    m.path("timeline").isNumber() ? m.path("timeline").asLong() : null, text(m, "flushLsn"),
                    text(m, "receiveLsn"), text(m, "replayLsn"), m.path("lagBytes").isNumber() ? m.path("lagBytes").asLong()
                    : null, text(m, "server"), text(m, "sentinelState"), text(m, "error"),
                    m.path("tags").path("priority").asInt(), m.path("tags").path("nofailover").asBoolean(),
                    text(m, "api"), m.path("pendingRestart").asBoolean(false), m.path("tags").path("nosync").asBoolean(),
                    m.path("tags").path("noloadbalance").asBoolean(), m.path("tags").path("replicatefrom").asText(""),
                    m.path("tags").path("clonefrom").asBoolean(false), text(m, "upstream")));
        }
        return members;
    }

    /** The decision of a {@code GET /cluster} document, or null. */
    public static Decision decisionOf(JsonNode document) {
        JsonNode d = document.path("decision");
        if (!d.has("action")) {
            return null;
        }
        return new Decision(d.path("by").asText(), d.path("action").asText(), d.path("summary").asText(),
                d.path("reason").asText(), d.path("at").asText());
    }

    private static String text(JsonNode o, String name) {
        return o.path(name).isTextual() ? o.path(name).asText() : null;
    }

    private static String lsn(long value) {
        return value < 0 ? null : Lsn.format(value);
    }

    private static void putNullable(ObjectNode o, String name, Long value) {
        if (value == null) {
            o.putNull(name);
        } else {
            o.put(name, value);
        }
    }
}
