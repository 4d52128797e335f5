package io.pgsentinel.sentinel.zk;

import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.sentinel.model.ModelCodec;
import io.pgsentinel.sentinel.model.RegisteredNode;
import io.pgsentinel.sentinel.model.Vote;
import java.time.Duration;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every sentinel writes about itself: its registration ({@code nodes/<id>}, persistent),
 * its report ({@code members/<id>}) and its votes ({@code votes/<id>}), both ephemeral so they
 * vanish with its session. Writes are background operations bounded by our own timeout.
 */
public final class Registry {
    private static final Logger LOG = LoggerFactory.getLogger(Registry.class);

    private final ZkSession session;
    private final ClusterCache cache;
    private final String id;
    private final Duration timeout;

    public Registry(ZkSession session, ClusterCache cache, String id, Duration timeout) {
        this.session = session;
        this.cache = cache;
        this.id = id;
        this.timeout = timeout;
    }

    /** Registers (or updates) this node's address and tags. */
    public boolean register(RegisteredNode node) {
        return write(session.paths().node(id), ModelCodec.encode(ModelCodec.toTree(node)), CreateMode.PERSISTENT);
    }

    public boolean report(MemberReport report) {
        String path = session.paths().member(id);
        replaceIfOwnedByAnotherSession(path);
        return write(path, ModelCodec.encode(ModelCodec.toTree(report)), CreateMode.EPHEMERAL);
    }

    public boolean vote(Vote vote) {
        String path = session.paths().vote(id);
        replaceIfOwnedByAnotherSession(path);
        return write(path, ModelCodec.encode(ModelCodec.toTree(vote)), CreateMode.EPHEMERAL);
    }

    /**
     * After a session expiry, the old session's ephemeral node may linger until the servers
     * expire it; updating it would write into a node about to vanish. Delete it so that ours
     * is created in the current session.
     */
    private void replaceIfOwnedByAnotherSession(String path) {
        long owner = cache.ephemeralOwner(path);
        long current = session.sessionId();
        if (owner != 0 && current != 0 && owner != current) {
            try {
                session.await(cb -> session.client().delete().inBackground(cb).forPath(path), timeout);
                LOG.info("replaced the report node of an earlier session (0x{})", Long.toHexString(owner));
            } catch (Exception e) {
                LOG.debug("could not delete {}: {}", path, e.toString());
            }
        }
    }

    private boolean write(String path, byte[] data, CreateMode mode) {
        try {
            CuratorEvent event = session.await(cb -> session.client().create().orSetData()
                    .creatingParentContainersIfNeeded().withMode(mode).inBackground(cb).forPath(path, data), timeout);
            KeeperException.Code code = KeeperException.Code.get(event.getResultCode());
            if (code != KeeperException.Code.OK) {
                LOG.debug("writing {} failed: {}", path, code);
                return false;
            }
            return true;
        } catch (Exception e) {
            LOG.debug("writing {} failed: {}", path, e.toString());
            return false;
        }
    }
}
