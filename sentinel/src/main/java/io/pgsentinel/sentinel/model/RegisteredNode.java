package io.pgsentinel.sentinel.model;

import io.pgsentinel.shared.zk.Names;

/**
 * A node as registered in {@code nodes/<id>} (persistent, so a dead node is still known): its
 * PostgreSQL address, its tags, where its sentinel's API is, and what its absence proves.
 *
 * @param sessionTimeoutMillis the session timeout its sentinel negotiated, -1 when unknown
 * @param selfFenceMillis      its sentinel's self-fence budget, -1 when unknown
 * @param guarded              its sentinel runs its guard process and the timing rule holds for
 *                             that session: its absence proves its server is fenced
 * @param noSync               tag {@code nosync}: never in the synchronous set
 * @param noLoadBalance        tag {@code noloadbalance}: no reads routed to it ({@code /replica} 503,
 *                             the client library skips it)
 * @param replicateFrom        tag {@code replicatefrom}: the replica it streams from while that one
 *                             streams (cascading), "" to stream from the primary
 * @param cloneFrom            tag {@code clonefrom}: a new or re-cloned node copies this replica
 *                             (while it streams) rather than the primary
 */
public record RegisteredNode(String id, String host, int port, int priority, boolean noFailover, String apiUrl,
                             long sessionTimeoutMillis, long selfFenceMillis, boolean guarded, boolean noSync,
                             boolean noLoadBalance, String replicateFrom, boolean cloneFrom) {
    /** A node that did not register its fencing: its absence proves nothing. */
    public RegisteredNode(String id, String host, int port, int priority, boolean noFailover, String apiUrl) {
        this(id, host, port, priority, noFailover, apiUrl, -1, -1, false, false, false, "", false);
    }

    /** The same registration with the negotiated session timeout, the self-fence budget, and whether it is guarded. */
    public RegisteredNode withFencing(long sessionTimeout, long selfFence, boolean isGuarded) {
        return new RegisteredNode(id, host, port, priority, noFailover, apiUrl, sessionTimeout, selfFence, isGuarded,
                noSync, noLoadBalance, replicateFrom, cloneFrom);
    }

    /** The value of tag {@code key} as text ("100", "true"), or null for a tag this node cannot have. */
    public String tag(String key) {
        return switch (key) {
            case "priority" -> Integer.toString(priority);
            case "nofailover" -> Boolean.toString(noFailover);
            case "nosync" -> Boolean.toString(noSync);
            case "noloadbalance" -> Boolean.toString(noLoadBalance);
            case "replicatefrom" -> replicateFrom;
            case "clonefrom" -> Boolean.toString(cloneFrom);
            default -> null;
        };
    }

    /** The same registration with the routing and replication tags {@code nosync} and {@code noloadbalance}. */
    public RegisteredNode withTags(boolean isNoSync, boolean isNoLoadBalance) {
        return new RegisteredNode(id, host, port, priority, noFailover, apiUrl, sessionTimeoutMillis, selfFenceMillis,
                guarded, isNoSync, isNoLoadBalance, replicateFrom, cloneFrom);
    }

    /** The same registration with the tag {@code replicatefrom} ("" for none). */
    public RegisteredNode withReplicateFrom(String node) {
        return new RegisteredNode(id, host, port, priority, noFailover, apiUrl, sessionTimeoutMillis, selfFenceMillis,
                guarded, noSync, noLoadBalance, node, cloneFrom);
    }

    /** The same registration with the tag {@code clonefrom}. */
    public RegisteredNode withCloneFrom(boolean isCloneFrom) {
        return new RegisteredNode(id, host, port, priority, noFailover, apiUrl, sessionTimeoutMillis, selfFenceMillis,
                guarded, noSync, noLoadBalance, replicateFrom, isCloneFrom);
    }

    /** Tagged {@code replicatefrom}: it cascades from another replica, and is never a synchronous standby. */
    public boolean cascades() {
        return !replicateFrom.isEmpty();
    }

    /**
     * Whether this node's sentinel being gone (its session ended, its heartbeat silent long
     * enough) proves its server fenced: only for a guarded sentinel whose timings are known.
     */
    public boolean absenceProvesFence() {
        return guarded && sessionTimeoutMillis > 0 && selfFenceMillis > 0;
    }

    /**
     * How long after its sentinel's last heartbeat this node's server is certainly fenced if
     * that sentinel lost ZooKeeper (or stopped running: its guard keeps the same deadline): it
     * starts fencing at half its session timeout and needs at most its self-fence budget, plus
     * the watchdog's tick and a margin for one-way latency. -1 when its absence proves nothing.
     */
    public long fencedAfterSilenceMillis() {
        return absenceProvesFence() ? sessionTimeoutMillis / 2 + selfFenceMillis + 100 + 500 : -1;
    }

    public RegisteredNode {
        Names.requireValid("node id", id);
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("host must not be empty");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be between 1 and 65535, got " + port);
        }
        apiUrl = apiUrl == null ? "" : apiUrl;
        replicateFrom = replicateFrom == null ? "" : replicateFrom;
        if (!replicateFrom.isEmpty()) {
            Names.requireValid("replicatefrom", replicateFrom);
            if (replicateFrom.equals(id)) {
                throw new IllegalArgumentException("replicatefrom must name another node than " + id);
            }
        }
    }
}
