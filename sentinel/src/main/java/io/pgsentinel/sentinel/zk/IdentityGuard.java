package io.pgsentinel.sentinel.zk;

import io.dropwizard.lifecycle.Managed;
import io.pgsentinel.sentinel.model.RegisteredNode;

/**
 * At startup, after the first read of ZooKeeper: refuses to run with a node id that a live
 * sentinel elsewhere already uses (a copied configuration). Nothing has been touched yet.
 */
public final class IdentityGuard implements Managed {
    private final ClusterCache cache;
    private final ZkSession session;
    private final RegisteredNode self;

    public IdentityGuard(ClusterCache cache, ZkSession session, RegisteredNode self) {
        this.cache = cache;
        this.session = session;
        this.self = self;
    }

    @Override
    public void start() throws Exception {
        if (!session.isConnected() || !cache.awaitInitialized(session.negotiatedSessionTimeoutMillis())) {
            return; // ZooKeeper unreachable: the sentinel waits and touches nothing anyway
        }
        RegisteredNode registered = cache.nodes().get(self.id());
        boolean live = cache.members().containsKey(self.id());
        if (registered != null && live && (!registered.host().equals(self.host()) || registered.port() != self.port())) {
            throw new IllegalStateException("node.id " + self.id() + " is already used by a live sentinel for "
                    + registered.host() + ":" + registered.port() + " (this one is for " + self.host() + ":" + self.port()
                    + "): every node needs its own node.id");
        }
    }
}
