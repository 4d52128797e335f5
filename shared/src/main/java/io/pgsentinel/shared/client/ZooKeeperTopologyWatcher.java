package io.pgsentinel.shared.client;

import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.shared.zk.ClusterPaths;
import java.time.Duration;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows {@code <root>/<cluster>/topology} in ZooKeeper with a Curator cache (a persistent
 * watch, re-established and re-read after a reconnection or a session expiry, so a change made
 * while the client was away is picked up). Keeps the last good topology meanwhile.
 *
 * <pre>{@code
 * try (ZooKeeperTopologyWatcher topology = ZooKeeperTopologyWatcher.connect("zk1:2181,zk2:2181", "/pg-sentinel", "revenue-engine")) {
 *     topology.addPrimaryListener((before, now) -> log.info("primary is now {}", now.primary().id()));
 * }
 * }</pre>
 */
public final class ZooKeeperTopologyWatcher extends TrackedTopologySource {
    private static final Logger LOG = LoggerFactory.getLogger(ZooKeeperTopologyWatcher.class);

    private final CuratorCache cache;
    private final CuratorFramework ownedClient;
    private final String path;

    private ZooKeeperTopologyWatcher(CuratorFramework client, ClusterPaths paths, boolean ownsClient) {
        super(paths.cluster());
        this.path = paths.topology();
        this.ownedClient = ownsClient ? client : null;
        this.cache = CuratorCache.build(client, path, CuratorCache.Options.SINGLE_NODE_CACHE);
        cache.listenable().addListener(CuratorCacheListener.builder()
                .forCreatesAndChanges((before, now) -> offer(now))
                .forDeletes(gone -> LOG.warn("topology node {} was deleted; keeping epoch {}", path,
                        tracker.current().map(Topology::epoch).map(String::valueOf).orElse("none")))
                .build());
    }

    /** Watches the topology through an application's started Curator client (not closed by {@link #close()}). */
    public static ZooKeeperTopologyWatcher start(CuratorFramework client, ClusterPaths paths) {
        ZooKeeperTopologyWatcher watcher = new ZooKeeperTopologyWatcher(client, paths, false);
        watcher.cache.start();
        return watcher;
    }

    /** Connects to {@code connectString} with a client of its own and watches the topology. */
    public static ZooKeeperTopologyWatcher connect(String connectString, String root, String cluster) {
        return connect(connectString, new ClusterPaths(root, cluster), Duration.ofSeconds(10));
    }

    public static ZooKeeperTopologyWatcher connect(String connectString, ClusterPaths paths, Duration sessionTimeout) {
        return connect(connectString, paths, sessionTimeout, null, null);
    }

    /**
     * With the read-only client identity of {@code zookeeper.auth.clientUser} (digest scheme), when
     * the sentinels restrict reading the topology to it.
     */
    public static ZooKeeperTopologyWatcher connect(String connectString, ClusterPaths paths, Duration sessionTimeout,
                                                   String digestUser, String digestPassword) {
        CuratorFrameworkFactory.Builder builder = CuratorFrameworkFactory.builder()
                .connectString(connectString)
                .sessionTimeoutMs((int) sessionTimeout.toMillis())
                .connectionTimeoutMs((int) Math.min(sessionTimeout.toMillis(), 5000))
                .retryPolicy(new ExponentialBackoffRetry(100, 29, 2000))
                .ensembleTracker(false);
        if (digestUser != null) {
            builder.authorization("digest", (digestUser + ":" + digestPassword)
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        CuratorFramework client = builder.build();
        client.start();
        ZooKeeperTopologyWatcher watcher = new ZooKeeperTopologyWatcher(client, paths, true);
        watcher.cache.start();
        return watcher;
    }

    private void offer(ChildData data) {
        if (data.getData() == null) {
            return;
        }
        tracker.offer(data.getData(), "ZooKeeper " + path + " version " + data.getStat().getVersion());
    }

    @Override
    public void close() {
        cache.close();
        if (ownedClient != null) {
            ownedClient.close();
        }
    }
}
