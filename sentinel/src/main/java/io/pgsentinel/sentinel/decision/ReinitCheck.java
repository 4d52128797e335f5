package io.pgsentinel.sentinel.decision;

import io.pgsentinel.sentinel.model.RegisteredNode;
import io.pgsentinel.shared.topology.Topology;
import java.util.Map;

/**
 * Whether a replica may be re-cloned on an operator's request ({@code pg-sentinel reinit NODE},
 * {@code POST /reinit}): pure, shared by the HTTP API and the CLI; the node's sentinel checks
 * again before it moves anything.
 */
public final class ReinitCheck {
    private ReinitCheck() {
    }

    /** Null when accepted, else the refusal with the HTTP status that fits it. */
    public record Refusal(int status, String reason) {
    }

    public static Refusal check(Topology topology, Map<String, RegisteredNode> nodes, String node, boolean pending) {
        if (node == null || node.isBlank()) {
            return new Refusal(400, "node: required, the id of the replica to re-clone");
        }
        if (!nodes.containsKey(node)) {
            return new Refusal(404, "unknown node '" + (node.length() > 64 ? node.substring(0, 64) + "..." : node)
                    + "': registered nodes are " + String.join(", ", nodes.keySet().stream().sorted().toList()));
        }
        if (topology == null) {
            return new Refusal(409, "no topology is published yet");
        }
        if (topology.primary().id().equals(node)) {
            return new Refusal(409, node + " is the primary: only a replica is re-cloned (switch over first)");
        }
        if (pending) {
            return new Refusal(409, "a reinit of " + node + " is already requested or running");
        }
        return null;
    }
}
