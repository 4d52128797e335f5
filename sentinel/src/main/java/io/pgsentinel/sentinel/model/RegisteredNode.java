package io.pgsentinel.sentinel.model;

import io.pgsentinel.shared.zk.Names;

/**
 * A node as registered in {@code nodes/<id>} (persistent, so a dead node is still known): its
 * PostgreSQL address, its tags, and where its sentinel's API is.
 */
public record RegisteredNode(String id, String host, int port, int priority, boolean noFailover, String apiUrl) {
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
