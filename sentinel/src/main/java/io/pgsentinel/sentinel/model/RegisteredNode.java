package io.pgsentinel.sentinel.model;

import io.pgsentinel.shared.zk.Names;

/**
 * A node as registered in {@code nodes/<id>} (persistent, so a dead node is still known): its
 * PostgreSQL address, its tags, and where its sentinel's API is.
 */
public record RegisteredNode(String id, String host, int port, int priority, boolean noFailover, String apiUrl,
                             long sessionTimeoutMillis, long selfFenceMillis) {
    /** A node that did not register its fencing timings (the leader then relies on session expiry). */
    public RegisteredNode(String id, String host, int port, int priority, boolean noFailover, String apiUrl) {
        this(id, host, port, priority, noFailover, apiUrl, -1, -1);
    }

    /** The same registration with the negotiated session timeout and the self-fence budget. */
    public RegisteredNode withFencing(long sessionTimeout, long selfFence) {
        return new RegisteredNode(id, host, port, priority, noFailover, apiUrl, sessionTimeout, selfFence);
    }

    /**
     * How long after its sentinel's last heartbeat this node's server is certainly fenced if
     * that sentinel lost ZooKeeper: it starts fencing at half its session timeout and needs at
     * most its self-fence budget, plus the watchdog's tick and a margin for one-way latency.
     * -1 when unknown.
     */
    public long fencedAfterSilenceMillis() {
        return sessionTimeoutMillis > 0 && selfFenceMillis > 0 ? sessionTimeoutMillis / 2 + selfFenceMillis + 100 + 500 : -1;
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
    }
}
