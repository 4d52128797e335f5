package io.pgsentinel.sentinel.cli;

import io.pgsentinel.sentinel.config.SentinelConfiguration;
import io.pgsentinel.sentinel.status.ClusterStatus;
import io.pgsentinel.sentinel.time.MonotonicClock;
import io.pgsentinel.sentinel.zk.ClusterCache;
import io.pgsentinel.sentinel.zk.ZkSession;
import io.pgsentinel.shared.zk.ClusterPaths;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.shared.topology.TopologyCodec;
import java.time.Duration;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.zookeeper.KeeperException;
import java.util.concurrent.TimeUnit;

/**
 * A short-lived read of the cluster from ZooKeeper for the CLI, with a bound on how long it
 * waits: a clear error, never a hang, when ZooKeeper is unreachable.
 */
final class ClusterReader implements AutoCloseable {
    /** Exit code when ZooKeeper cannot be reached (1 is a usage or configuration error). */
    static final int EXIT_ZOOKEEPER_UNREACHABLE = 2;

    final ZkSession session;
    final ClusterCache cache;

    private ClusterReader(ZkSession session, ClusterCache cache) {
        this.session = session;
        this.cache = cache;
    }

    static ClusterReader open(SentinelConfiguration c, Duration timeout) throws Exception {
        ClusterPaths paths = new ClusterPaths(c.zookeeper.root, c.cluster);
        ZkSession session = new ZkSession(c.zookeeper.connect, c.zookeeper.sessionTimeout.toJavaDuration(), paths,
                MonotonicClock.SYSTEM, c.zookeeper.readAuth());
        session.client().start();
        if (!session.client().blockUntilConnected((int) timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            session.stop();
            throw new CliFailure(EXIT_ZOOKEEPER_UNREACHABLE, "cannot reach ZooKeeper at " + c.zookeeper.connect
                    + " within " + timeout.toSeconds() + " s");
        }
        ClusterCache cache = new ClusterCache(session, MonotonicClock.SYSTEM);
        cache.start();
        if (!cache.awaitInitialized(timeout.toMillis())) {
            cache.stop();
            session.stop();
            throw new CliFailure(EXIT_ZOOKEEPER_UNREACHABLE, "ZooKeeper at " + c.zookeeper.connect
                    + " did not answer within " + timeout.toSeconds() + " s");
        }
        return new ClusterReader(session, cache);
    }

    ClusterStatus.Decision decision() {
        return cache.document("decision").map(bytes -> {
            try {
                return ClusterStatus.Decision.parse(bytes);
            } catch (Exception e) {
                return null;
            }
        }).orElse(null);
    }

    /**
     * The topology as ZooKeeper holds it now, read directly rather than from the cache: the cache
     * applies a deletion at once but re-reads a changed node, so after a multi-op that changes
     * the topology and deletes a request, it can show the deletion before the new topology.
     * This session saw the deletion, so its read returns the topology written with it.
     */
    Topology topologyNow(Duration timeout) throws Exception {
        CuratorEvent e = session.await(cb -> session.client().getData().inBackground(cb)
                .forPath(session.paths().topology()), timeout);
        if (e.getResultCode() != KeeperException.Code.OK.intValue()) {
            throw KeeperException.create(KeeperException.Code.get(e.getResultCode()), e.getPath());
        }
        return TopologyCodec.decode(e.getData());
    }

    /**
     * Waits, until {@code deadlineNanos} (System.nanoTime), for this reader's copy of ZooKeeper to
     * show the document at {@code relative} that the command itself just wrote, or for
     * {@code settled} to hold (the request already carried out and gone).
     */
    void awaitSeen(String relative, long deadlineNanos, java.util.function.BooleanSupplier settled)
            throws InterruptedException {
        while (!cache.document(relative).isPresent() && !settled.getAsBoolean() && System.nanoTime() < deadlineNanos) {
            Thread.sleep(50);
        }
    }

    @Override
    public void close() {
        cache.stop();
        session.stop();
    }
}
