package io.pgsentinel.sentinel.decision;

import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.sentinel.model.PromotionIntent;
import io.pgsentinel.sentinel.model.RegisteredNode;
import io.pgsentinel.shared.topology.Topology;
import java.time.Instant;
import java.util.Map;

/**
 * Everything the leader knows at one instant, immutable: the input of {@link Decider#decide}.
 *
 * @param cluster               cluster name
 * @param leader                the deciding sentinel's node id
 * @param nodes                 registered nodes by id
 * @param reports               live member reports by node id (a dead sentinel has none)
 * @param votes                 live votes by voter id
 * @param topology              the published topology, or null before the first one
 * @param fences                nodes with a fence node (they must not accept writes)
 * @param maintenance           automatic failover is paused
 * @param lastKnownPrimaryLsn   the primary's last known flushed position, -1 when unknown
 * @param nowMillis             monotonic now
 * @param lastPublishedAtMillis monotonic time of this leader's last publication (or of its election)
 * @param demotedAtMillis       nodes that were the primary until a failover or switchover within
 *                              {@code failover.minInterval}: monotonic time of that change (a
 *                              change seen in an earlier leader's term counts from this term's start)
 * @param wallClock             wall-clock now, only for the {@code updatedAt} of documents
 * @param probedWritable        servers the leader's own probe found out of recovery, with their timelines
 *                              (a server promoted by a leader that died before publishing has no report)
 * @param intent                the promotion a leader announced and did not publish, or null
 * @param primaryRestartingSinceMillis monotonic time since when the primary's own sentinel (alive: its
 *                              report is there) has been reporting its server self-fenced or starting,
 *                              that is, about to restart it in place; -1 when it is not
 */
public record Snapshot(String cluster, String leader, Map<String, RegisteredNode> nodes,
                       Map<String, MemberReport> reports, Map<String, VoteSeen> votes, Topology topology,
                       java.util.Set<String> fences, boolean maintenance, long lastKnownPrimaryLsn, long nowMillis, long lastPublishedAtMillis,
                       Map<String, Long> demotedAtMillis, Instant wallClock, Map<String, Long> probedWritable,
                       PromotionIntent intent, long primaryRestartingSinceMillis) {
    public Snapshot(String cluster, String leader, Map<String, RegisteredNode> nodes, Map<String, MemberReport> reports,
                    Map<String, VoteSeen> votes, Topology topology, java.util.Set<String> fences, boolean maintenance,
                    long lastKnownPrimaryLsn, long nowMillis, long lastPublishedAtMillis, Map<String, Long> demotedAtMillis,
                    Instant wallClock, Map<String, Long> probedWritable, PromotionIntent intent) {
        this(cluster, leader, nodes, reports, votes, topology, fences, maintenance, lastKnownPrimaryLsn, nowMillis,
                lastPublishedAtMillis, demotedAtMillis, wallClock, probedWritable, intent, -1);
    }

    public Snapshot {
        demotedAtMillis = Map.copyOf(demotedAtMillis);
        probedWritable = Map.copyOf(probedWritable);
        nodes = Map.copyOf(nodes);
        reports = Map.copyOf(reports);
        votes = Map.copyOf(votes);
        fences = java.util.Set.copyOf(fences);
    }
}
