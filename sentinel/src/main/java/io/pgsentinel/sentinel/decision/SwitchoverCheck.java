package io.pgsentinel.sentinel.decision;

import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.sentinel.model.RegisteredNode;
import io.pgsentinel.shared.topology.ReplicaState;
import io.pgsentinel.shared.topology.Topology;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;

/**
 * Whether a planned switchover may start, and to which node: pure, shared by the HTTP API, the
 * CLI and the leader (which checks again when it starts).
 */
public final class SwitchoverCheck {
    private SwitchoverCheck() {
    }

    /** Either a candidate or a refusal, with the HTTP status that fits it. */
    public record Verdict(String candidate, int status, String refusal) {
        public boolean accepted() {
            return refusal == null;
        }

        static Verdict refuse(int status, String why) {
            return new Verdict(null, status, why);
        }
    }

    /**
     * @param requested the named candidate, or null for the best one
     * @param pending   a switchover is already requested or running
     * @param failing   a failover is running
     */
    public static Verdict check(Topology topology, Map<String, RegisteredNode> nodes, Map<String, MemberReport> reports,
                                String requested, boolean pending, boolean failing) {
        if (topology == null) {
            return Verdict.refuse(409, "no topology is published yet");
        }
        if (pending) {
            return Verdict.refuse(409, "a switchover is already requested or running");
        }
        if (failing) {
            return Verdict.refuse(409, "a failover is running");
        }
        String primary = topology.primary().id();
        MemberReport pr = reports.get(primary);
        if (pr == null || !Decider.isWritable(pr)) {
            return Verdict.refuse(409, "the primary " + primary + " is not running: this is a case for failover, "
                    + "not a planned switchover");
        }
        if (requested != null) {
            RegisteredNode n = nodes.get(requested);
            if (n == null) {
                return Verdict.refuse(404, "unknown candidate '" + shorten(requested) + "': registered nodes are "
                        + String.join(", ", nodes.keySet().stream().sorted().toList()));
            }
            if (requested.equals(primary)) {
                return Verdict.refuse(400, requested + " is already the primary");
            }
            if (n.noFailover()) {
                return Verdict.refuse(400, requested + " is tagged nofailover");
            }
            Optional<Topology.Replica> r = topology.replica(requested);
            if (r.isEmpty() || r.get().state() != ReplicaState.STREAMING) {
                return Verdict.refuse(409, requested + " is not streaming (it is "
                        + r.map(x -> x.state().json()).orElse("not in the topology") + ")");
            }
            return new Verdict(requested, 202, null);
        }
        // in synchronous mode a member of the synchronous set first (a nosync standby is far away, or for backups)
        java.util.Set<String> synchronous = topology.synchronous() == null ? java.util.Set.of()
                : java.util.Set.copyOf(topology.synchronous().standbys());
        return topology.replicas().stream()
                .filter(r -> r.state() == ReplicaState.STREAMING)
                .filter(r -> nodes.containsKey(r.id()) && !nodes.get(r.id()).noFailover())
                .filter(r -> reports.containsKey(r.id()))
                .min(Comparator.comparing((Topology.Replica r) -> !synchronous.contains(r.id()))
                        .thenComparingLong((Topology.Replica r) -> -reports.get(r.id()).position())
                        .thenComparing(r -> -nodes.get(r.id()).priority())
                        .thenComparing(Topology.Replica::id))
                .map(r -> new Verdict(r.id(), 202, null))
                .orElse(Verdict.refuse(409, "no streaming replica can take over (nofailover, down or lagging)"));
    }

    private static String shorten(String s) {
        String cut = s.length() > 64 ? s.substring(0, 64) + "..." : s;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }
}
