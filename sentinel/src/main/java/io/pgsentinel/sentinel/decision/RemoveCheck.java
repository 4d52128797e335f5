package io.pgsentinel.sentinel.decision;

import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.sentinel.model.RegisteredNode;
import io.pgsentinel.sentinel.model.Standby;
import io.pgsentinel.shared.topology.Topology;
import java.util.Map;

/**
 * Whether a node may be taken out of the cluster for good ({@code pg-sentinel remove NODE},
 * {@code POST /remove}): pure, used by the API and the CLI when the request is made, and by the
 * leader, which carries it out only when it is safe: never the primary, never a node whose
 * sentinel or server still runs (it would register again, or hold its slot), and never while
 * it is in the published synchronous set (the synchronous manager takes it out first, by the
 * safe order of rule 4).
 */
public final class RemoveCheck {
    private RemoveCheck() {
    }

    /** What to do with a request now. */
    public enum Kind { REMOVE, WAIT, REFUSE }

    /** The verdict, with the HTTP status of a refusal. */
    public record Verdict(Kind kind, int status, String reason) {
    }

    public static Verdict check(Topology topology, Map<String, RegisteredNode> nodes, Map<String, MemberReport> reports,
                                String node) {
        if (node == null || node.isBlank()) {
            return new Verdict(Kind.REFUSE, 400, "node: required, the id of the node to remove");
        }
        if (!nodes.containsKey(node)) {
            return new Verdict(Kind.REFUSE, 404, "unknown node '" + (node.length() > 64 ? node.substring(0, 64) + "..."
                    : node) + "': registered nodes are " + String.join(", ", nodes.keySet().stream().sorted().toList()));
        }
        if (topology == null) {
            return new Verdict(Kind.WAIT, 0, "no topology is published yet");
        }
        String primary = topology.primary().id();
        if (primary.equals(node)) {
            return new Verdict(Kind.REFUSE, 409, node + " is the primary: switch over to another node first");
        }
        if (reports.containsKey(node)) {
            return new Verdict(Kind.REFUSE, 409, node + "'s sentinel is running (it would register the node again): "
                    + "stop pg-sentinel and PostgreSQL on " + node + " first");
        }
        MemberReport pr = reports.get(primary);
        if (pr != null && pr.standbys().stream().map(Standby::name).anyMatch(node::equals)) {
            return new Verdict(Kind.REFUSE, 409, node + "'s server still replicates from the primary: stop PostgreSQL on "
                    + node + " first");
        }
        Topology.Synchronous sync = topology.synchronous();
        if (sync != null && sync.standbys().contains(node)) {
            return new Verdict(Kind.WAIT, 0, node + " is in the synchronous set " + sync.standbys()
                    + ": it leaves it first, once what it acknowledged is on the others");
        }
        return new Verdict(Kind.REMOVE, 0, "removing " + node + ": deregistered, its replication slot dropped");
    }
}
