package io.pgsentinel.shared.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.pgsentinel.testkit.InJvmZkEnsemble;
import io.pgsentinel.shared.client.RoutingDataSource;
import io.pgsentinel.shared.client.ZooKeeperTopologyWatcher;
import io.pgsentinel.shared.topology.ReplicaState;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.shared.topology.TopologyCodec;
import io.pgsentinel.shared.zk.ClusterPaths;
import io.pgsentinel.localcluster.PgCluster;
import io.pgsentinel.testkit.Stats;
import io.pgsentinel.localcluster.ZkEnsemble;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The client library's benchmarks (docs/benchmarks.md). Run with {@code bin/bench}; not part of
 * the default test run, and no timing is asserted: the figures are printed and recorded.
 */
@Tag("benchmark")
class ClientBenchmarkIT {
    private static final String RESULTS = "client.txt";

    private static Topology topology(String cluster, long epoch) {
        return new Topology(cluster, epoch, new Topology.Primary("node1", "127.0.0.1", 5432, 1),
                List.of(new Topology.Replica("node2", "127.0.0.1", 5433, ReplicaState.STREAMING, epoch)),
                "node1", false, Instant.now());
    }

    /** From setData on the topology node to the watcher's listener, 1,000 updates one after another. */
    @Test
    void propagationFromZooKeeperToTheListener() throws Exception {
        try (ZkEnsemble ensemble = InJvmZkEnsemble.start(3);
             CuratorFramework writer = ensemble.newClient(Duration.ofSeconds(10))) {
            ClusterPaths paths = new ClusterPaths("/pg-sentinel", "bench");
            writer.create().creatingParentsIfNeeded().forPath(paths.topology(), TopologyCodec.encode(topology("bench", 1)));
            ConcurrentHashMap<Long, Long> arrivedAt = new ConcurrentHashMap<>();
            try (ZooKeeperTopologyWatcher watcher = ZooKeeperTopologyWatcher.connect(ensemble.connectString(), paths,
                    Duration.ofSeconds(10))) {
                watcher.addListener((before, now) -> arrivedAt.put(now.replicas().get(0).lagBytes(), System.nanoTime()));
                watcher.awaitFirst(Duration.ofSeconds(10));
                List<Double> millis = new ArrayList<>();
                int warmup = 100;
                for (long i = 2; i < 2 + warmup + 1000; i++) {
                    byte[] doc = TopologyCodec.encode(topology("bench", i));
                    long sent = System.nanoTime();
                    writer.setData().forPath(paths.topology(), doc);
                    long deadline = sent + TimeUnit.SECONDS.toNanos(10);
                    while (!arrivedAt.containsKey(i)) {
                        assertThat(System.nanoTime() - deadline).as("update %d arrived", i).isNegative();
                        Thread.onSpinWait();
                    }
                    if (i >= 2 + warmup) {
                        millis.add((arrivedAt.get(i) - sent) / 1e6);
                    }
                }
                Stats s = new Stats(millis);
                Stats.record(RESULTS, String.format("%s propagation setData->listener over %d updates: p50 %.2f ms, "
                        + "p99 %.2f ms, max %.2f ms", LocalDate.now(), s.count(), s.median(), s.percentile(99), s.max()));
            }
        }
    }

    /** getConnection()/close() through the routing DataSource versus the same HikariCP pool used directly. */
    @Test
    void routingOverheadPerBorrow() throws Exception {
        try (ZkEnsemble ensemble = InJvmZkEnsemble.start(1);
             CuratorFramework writer = ensemble.newClient(Duration.ofSeconds(10));
             PgCluster pg = PgCluster.builder().replicas(0).start()) {
            ClusterPaths paths = new ClusterPaths("/pg-sentinel", "bench2");
            Topology t = new Topology("bench2", 1, new Topology.Primary("node1", pg.primary().host(),
                    pg.primary().port(), 1), List.of(), "node1", false, Instant.now());
            writer.create().creatingParentsIfNeeded().forPath(paths.topology(), TopologyCodec.encode(t));
            HikariConfig direct = new HikariConfig();
            direct.setJdbcUrl("jdbc:postgresql://" + pg.primary().host() + ":" + pg.primary().port() + "/postgres");
            direct.setUsername("postgres");
            direct.setMaximumPoolSize(2);
            try (ZooKeeperTopologyWatcher watcher = ZooKeeperTopologyWatcher.start(writer, paths);
                 HikariDataSource plain = new HikariDataSource(direct);
                 RoutingDataSource routing = RoutingDataSource.builder(watcher)
                         .poolCustomizer(c -> c.setMaximumPoolSize(2)).build()) {
                watcher.awaitFirst(Duration.ofSeconds(10));
                int n = 200_000;
                List<Double> plainNs = new ArrayList<>();
                List<Double> routedNs = new ArrayList<>();
                for (int round = 0; round < 7; round++) {
                    plainNs.add(borrowLoop(plain::getConnection, n));
                    routedNs.add(borrowLoop(routing::getConnection, n));
                }
                // the first two rounds warm the JIT up
                Stats p = new Stats(plainNs.subList(2, plainNs.size()));
                Stats r = new Stats(routedNs.subList(2, routedNs.size()));
                Stats.record(RESULTS, String.format("%s borrow+close, median of 5 rounds of %d: HikariCP direct %.0f ns, "
                        + "routing DataSource %.0f ns, added %.0f ns", LocalDate.now(), n, p.median(), r.median(),
                        r.median() - p.median()));
            }
        }
    }

    private interface Borrow {
        Connection get() throws Exception;
    }

    private static double borrowLoop(Borrow borrow, int n) throws Exception {
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            try (Connection c = borrow.get()) {
                if (c == null) {
                    throw new AssertionError("no connection");
                }
            }
        }
        return (System.nanoTime() - start) / (double) n;
    }
}
