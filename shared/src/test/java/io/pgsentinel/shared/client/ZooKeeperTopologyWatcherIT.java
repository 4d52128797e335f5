package io.pgsentinel.shared.client;

import static io.pgsentinel.shared.client.TopologyTrackerTest.topology;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgsentinel.testkit.InJvmZkEnsemble;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.shared.zk.ClusterPaths;
import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.ZkEnsemble;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryForever;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ZooKeeperTopologyWatcherIT {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static ZkEnsemble ensemble;
    private static CuratorFramework writerClient;
    private static int clusterCounter;

    @BeforeAll
    static void start() {
        ensemble = InJvmZkEnsemble.start(3);
        writerClient = ensemble.newClient(Duration.ofSeconds(10));
    }

    @AfterAll
    static void stop() {
        writerClient.close();
        ensemble.close();
    }

    private static ClusterPaths newCluster() {
        return new ClusterPaths("/pg-sentinel", "c" + (++clusterCounter));
    }

    private static Topology topo(ClusterPaths paths, long epoch, String primary) {
        Topology t = topology(epoch, primary, Instant.now());
        return new Topology(paths.cluster(), t.epoch(), t.primary(), t.replicas(), t.leader(), t.paused(), t.updatedAt());
    }

    @Test
    void theWatcherSeesEveryPublishedTopologyAndEveryChangeOfPrimary() throws Exception {
        ClusterPaths paths = newCluster();
        TestPublisher writer = new TestPublisher(writerClient, paths);
        writer.publish(topo(paths, 1, "node1"));
        try (ZooKeeperTopologyWatcher watcher = ZooKeeperTopologyWatcher.connect(ensemble.connectString(), paths,
                Duration.ofSeconds(10))) {
            List<String> primaries = new CopyOnWriteArrayList<>();
            watcher.addPrimaryListener((before, now) -> primaries.add(now.primary().id() + "@" + now.epoch()));
            assertThat(watcher.awaitFirst(WAIT).epoch()).isEqualTo(1);
            for (int epoch = 2; epoch <= 6; epoch++) {
                Topology next = topo(paths, epoch, "node" + (epoch % 3 + 1));
                writer.publish(next);
                Await.until("the watcher to see epoch " + epoch, WAIT,
                        () -> watcher.current().orElseThrow().sameContentAs(next));
            }
            assertThat(primaries).containsExactly("node1@1", "node3@2", "node1@3", "node2@4", "node3@5", "node1@6");
        }
    }

    @Test
    void aLowerEpochAndAMalformedNodeAreIgnoredAndTheLastGoodTopologyStays() throws Exception {
        ClusterPaths paths = newCluster();
        TestPublisher writer = new TestPublisher(writerClient, paths);
        writer.publish(topo(paths, 5, "node2"));
        try (ZooKeeperTopologyWatcher watcher = ZooKeeperTopologyWatcher.start(writerClient, paths)) {
            watcher.awaitFirst(WAIT);
            writer.publish(topo(paths, 4, "node3"));
            Await.until("the lower epoch to be rejected", WAIT, () -> watcher.rejectedCount() == 1);
            writer.writeRaw("{\"formatVersion\": 1, \"cluster\": ".getBytes(StandardCharsets.UTF_8));
            Await.until("the malformed node to be rejected", WAIT, () -> watcher.rejectedCount() == 2);
            writer.writeRaw("{\"formatVersion\": 2}".getBytes(StandardCharsets.UTF_8));
            Await.until("the unknown version to be rejected", WAIT, () -> watcher.rejectedCount() == 3);
            assertThat(watcher.current()).get().extracting(Topology::epoch, t -> t.primary().id())
                    .containsExactly(5L, "node2");
            writer.publish(topo(paths, 6, "node1"));
            Await.until("a good document to be taken again", WAIT, () -> watcher.current().orElseThrow().epoch() == 6);
        }
    }

    @Test
    void theWatcherSurvivesAServerLossAndASessionExpiryAndEndsOnTheLatest() throws Exception {
        ClusterPaths paths = newCluster();
        TestPublisher writer = new TestPublisher(writerClient, paths);
        writer.publish(topo(paths, 1, "node1"));
        // the watcher's client is pinned to server 0 so that killing it really disconnects it (without
        // the ensemble tracker, Curator would learn the other servers from /zookeeper/config and move)
        CuratorFramework watcherClient = CuratorFrameworkFactory.builder().connectString(ensemble.connectString(0))
                .ensembleTracker(false)
                .sessionTimeoutMs(4000).connectionTimeoutMs(2000).retryPolicy(new RetryForever(100)).build();
        watcherClient.start();
        try (ZooKeeperTopologyWatcher watcher = ZooKeeperTopologyWatcher.start(watcherClient, paths)) {
            watcher.awaitFirst(WAIT);

            ensemble.kill(0);
            writer.publish(topo(paths, 2, "node2"));
            writer.publish(topo(paths, 3, "node3"));
            Await.until("the watcher to be disconnected", WAIT, () -> !watcherClient.getZookeeperClient().isConnected());
            assertThat(watcher.current()).get().extracting(Topology::epoch).isEqualTo(1L);
            ensemble.restart(0);
            Await.until("the watcher to catch up after the server came back", WAIT,
                    () -> watcher.current().orElseThrow().epoch() == 3);

            ensemble.expireSession(watcherClient);
            writer.publish(topo(paths, 4, "node1"));
            writer.publish(topo(paths, 5, "node2"));
            Await.until("the watcher to catch up after its session expired", WAIT,
                    () -> watcher.current().orElseThrow().epoch() == 5);
            assertThat(watcher.current().orElseThrow().primary().id()).isEqualTo("node2");
        } finally {
            watcherClient.close();
        }
    }
}
