package io.pgsentinel.sentinel.zk;

import io.dropwizard.lifecycle.Managed;
import io.pgsentinel.sentinel.time.MonotonicClock;
import io.pgsentinel.shared.zk.ClusterPaths;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.BackgroundCallback;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sentinel's ZooKeeper session: the Curator client, its connection state in one place
 * (CONNECTED, RECONNECTED, SUSPENDED, LOST), the session timeout the ensemble actually
 * negotiated, and background operations waited on with a monotonic timeout of our own.
 */
public final class ZkSession implements Managed {
    private static final Logger LOG = LoggerFactory.getLogger(ZkSession.class);

    private final CuratorFramework client;
    private final ClusterPaths paths;
    private final MonotonicClock clock;
    private final List<Consumer<ConnectionState>> listeners = new CopyOnWriteArrayList<>();
    private volatile ConnectionState state = ConnectionState.LOST;
    private volatile long lastConnectedAtMillis;
    private volatile long sessionId;

    public ZkSession(String connect, Duration sessionTimeout, ClusterPaths paths, MonotonicClock clock) {
        this(connect, sessionTimeout, paths, clock, null);
    }

    /** @param auth digest credentials and ACLs, or null for none */
    public ZkSession(String connect, Duration sessionTimeout, ClusterPaths paths, MonotonicClock clock, ZkAuth auth) {
        this.paths = paths;
        this.clock = clock;
        CuratorFrameworkFactory.Builder builder = CuratorFrameworkFactory.builder()
                .connectString(connect)
                .sessionTimeoutMs((int) sessionTimeout.toMillis())
                .connectionTimeoutMs((int) Math.max(1000, sessionTimeout.toMillis() / 2))
                .retryPolicy(new ExponentialBackoffRetry(100, 10, 1000))
                // the configured servers are the truth: no silent switch to addresses read from the ensemble
                .ensembleTracker(false);
        if (auth != null) {
            builder.authorization("digest", auth.credentials()).aclProvider(auth.aclProvider(paths));
        }
        this.client = builder.build();
        client.getConnectionStateListenable().addListener((c, newState) -> onStateChange(newState));
    }

    public CuratorFramework client() {
        return client;
    }

    public ClusterPaths paths() {
        return paths;
    }

    @Override
    public void start() throws Exception {
        client.start();
        if (!client.blockUntilConnected((int) Math.max(5, client.getZookeeperClient().getConnectionTimeoutMs() / 100),
                TimeUnit.SECONDS)) {
            LOG.warn("ZooKeeper not reachable yet at {}; the sentinel keeps trying and leaves its server alone meanwhile",
                    client.getZookeeperClient().getCurrentConnectionString());
        } else {
            try {
                ensureBasePaths();
            } catch (Exception e) {
                LOG.warn("could not create the cluster's base nodes yet: {}", e.toString());
            }
        }
    }

    /** Creates the persistent parents of the layout (idempotent). */
    public void ensureBasePaths() throws Exception {
        for (String path : List.of(paths.nodes(), paths.members(), paths.votes(), paths.fences(), paths.history(),
                paths.leader(), paths.heartbeats(), paths.settingsHistory())) {
            try {
                client.create().creatingParentContainersIfNeeded().forPath(path);
            } catch (KeeperException.NodeExistsException ignored) {
                // already there
            }
        }
    }

    private void onStateChange(ConnectionState newState) {
        state = newState;
        if (newState.isConnected()) {
            lastConnectedAtMillis = clock.nowMillis();
            try {
                sessionId = client.getZookeeperClient().getZooKeeper().getSessionId();
            } catch (Exception e) {
                sessionId = 0;
            }
        }
        LOG.info("ZooKeeper connection {} (session 0x{}, negotiated timeout {} ms)", newState, Long.toHexString(sessionId),
                negotiatedSessionTimeoutMillis());
        for (Consumer<ConnectionState> l : listeners) {
            try {
                l.accept(newState);
            } catch (RuntimeException e) {
                LOG.error("connection state listener failed", e);
            }
        }
    }

    public void addStateListener(Consumer<ConnectionState> listener) {
        listeners.add(listener);
    }

    public ConnectionState state() {
        return state;
    }

    public boolean isConnected() {
        return state.isConnected() && client.getZookeeperClient().isConnected();
    }

    public long sessionId() {
        return sessionId;
    }

    /** Monotonic time of the last CONNECTED or RECONNECTED. */
    public long lastConnectedAtMillis() {
        return lastConnectedAtMillis;
    }

    /** The session timeout the ensemble granted (its tickTime bounds it), or the requested one before that. */
    public long negotiatedSessionTimeoutMillis() {
        try {
            int negotiated = client.getZookeeperClient().getZooKeeper().getSessionTimeout();
            if (negotiated > 0) {
                return negotiated;
            }
        } catch (Exception e) {
            // not connected yet
        }
        return client.getZookeeperClient().getConnectionTimeoutMs() * 2L;
    }

    /** An operation started in the background; its callback completes the future. */
    @FunctionalInterface
    public interface Background {
        void start(BackgroundCallback callback) throws Exception;
    }

    /**
     * Runs a background operation and waits for its result up to {@code timeout} on our own
     * monotonic timer: the caller never blocks inside a ZooKeeper call.
     */
    public CuratorEvent await(Background operation, Duration timeout) throws Exception {
        CompletableFuture<CuratorEvent> result = new CompletableFuture<>();
        operation.start((c, event) -> result.complete(event));
        try {
            return result.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            throw (Exception) e.getCause();
        } catch (TimeoutException e) {
            throw new TimeoutException("ZooKeeper did not answer within " + timeout.toMillis() + " ms");
        }
    }

    /**
     * Whether ZooKeeper answers a sync (a round trip through the ensemble's leader, which needs a
     * quorum) within {@code timeout}: a connected session may still sit on a server that has
     * just lost its quorum and not yet noticed.
     */
    public boolean answers(Duration timeout) {
        if (!isConnected()) {
            return false;
        }
        try {
            return await(cb -> client.sync().inBackground(cb).forPath(paths.base()), timeout).getResultCode()
                    == KeeperException.Code.OK.intValue();
        } catch (Exception e) {
            return false;
        }
    }

    @Override
    public void stop() {
        client.close();
    }
}
