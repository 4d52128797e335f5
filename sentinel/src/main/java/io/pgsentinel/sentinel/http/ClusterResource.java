package io.pgsentinel.sentinel.http;

import io.pgsentinel.sentinel.loop.LatestDecision;
import io.pgsentinel.sentinel.model.Lsn;
import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.sentinel.model.RegisteredNode;
import io.pgsentinel.shared.topology.Topology;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code GET /cluster}: every registered member with its sentinel's latest report, the votes,
 * the leader, and the leader's latest decision with its reason ("why not promoted"). Nothing
 * secret is in any of it: reports carry no connection strings.
 */
@Path("/cluster")
@Produces(MediaType.APPLICATION_JSON)
public final class ClusterResource {
    private final SentinelView view;

    public ClusterResource(SentinelView view) {
        this.view = view;
    }

    @GET
    public Map<String, Object> cluster() {
        Topology t = view.cache().topology().map(v -> v.topology()).orElse(null);
        Map<String, MemberReport> reports = view.cache().members();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("cluster", view.cluster());
        body.put("leader", view.leadership().leaderId());
        body.put("epoch", t == null ? 0 : t.epoch());
        body.put("paused", view.cache().maintenance());
        List<Map<String, Object>> members = new ArrayList<>();
        for (RegisteredNode n : view.cache().nodes().values().stream().sorted(Comparator.comparing(RegisteredNode::id))
                .toList()) {
            members.add(member(n, t, reports.get(n.id())));
        }
        body.put("members", members);
        Map<String, Object> votes = new TreeMap<>();
        view.cache().votes().forEach((voter, seen) -> {
            Map<String, Object> views = new TreeMap<>();
            seen.vote().views().forEach((node, v) -> views.put(node, Map.of("up", v.up(), "forMs", v.forMillis())));
            votes.put(voter, views);
        });
        body.put("votes", votes);
        LatestDecision d = view.decision();
        Map<String, Object> decision = new LinkedHashMap<>();
        if (d != null) {
            decision.put("action", d.action());
            decision.put("summary", d.summary());
            decision.put("reason", d.reason());
            decision.put("at", d.at().toString());
            decision.put("by", d.leader());
        }
        body.put("decision", decision);
        return body;
    }

    private static Map<String, Object> member(RegisteredNode n, Topology t, MemberReport r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", n.id());
        m.put("host", n.host());
        m.put("port", n.port());
        boolean published = t != null && t.primary().id().equals(n.id());
        Topology.Replica replica = t == null ? null : t.replica(n.id()).orElse(null);
        m.put("role", published ? "primary" : replica != null ? "replica" : r == null ? "unknown" : r.role().json());
        String state = published ? (r == null ? "unknown" : r.running() ? "running" : "down")
                : replica != null ? replica.state().json() : r == null ? "unknown" : r.running() ? "running" : "down";
        m.put("state", state);
        m.put("sentinel", r == null ? "down" : "up");
        m.put("timeline", r == null ? null : r.timeline());
        m.put("flushLsn", r == null || r.flushLsn() < 0 ? null : Lsn.format(r.flushLsn()));
        m.put("receiveLsn", r == null || r.receiveLsn() < 0 ? null : Lsn.format(r.receiveLsn()));
        m.put("replayLsn", r == null || r.replayLsn() < 0 ? null : Lsn.format(r.replayLsn()));
        m.put("lagBytes", replica == null ? null : replica.lagBytes());
        m.put("server", r == null ? null : r.role().json());
        m.put("sentinelState", r == null ? null : r.state());
        m.put("error", r == null || r.error().isEmpty() ? null : r.error());
        m.put("tags", Map.of("priority", n.priority(), "nofailover", n.noFailover()));
        m.put("api", n.apiUrl());
        return m;
    }
}
