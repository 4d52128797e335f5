package io.pgsentinel.shared.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import io.pgsentinel.testkit.InJvmZkEnsemble;
import io.pgsentinel.shared.topology.ReplicaState;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.shared.zk.ClusterPaths;
import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.PgCluster;
import io.pgsentinel.localcluster.PgNode;
import io.pgsentinel.localcluster.ZkEnsemble;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Routing against a real primary with two streaming replicas described by a published topology. */
class RoutingDataSourceIT {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static ZkEnsemble ensemble;
    private static CuratorFramework zk;
    private static int clusters;

    private PgCluster pg;
    private ClusterPaths paths;
    private TestPublisher publisher;
    private ZooKeeperTopologyWatcher watcher;
    private RoutingDataSource routing;
    private MetricRegistry metrics;

    @BeforeAll
    static void startZooKeeper() {
        ensemble = InJvmZkEnsemble.start(3);
        zk = ensemble.newClient(Duration.ofSeconds(10));
    }

    @AfterAll
    static void stopZooKeeper() {
        zk.close();
        ensemble.close();
    }

    @BeforeEach
    void start() throws Exception {
        pg = PgCluster.builder().replicas(2).start();
        pg.primary().execute("CREATE TABLE t (id int)");
        paths = new ClusterPaths("/pg-sentinel", "routing" + (++clusters));
        publisher = new TestPublisher(zk, paths);
        publish(1, pg.primary(), pg.replicas(), ReplicaState.STREAMING, 0L);
        watcher = ZooKeeperTopologyWatcher.start(zk, paths);
        watcher.awaitFirst(WAIT);
        metrics = new MetricRegistry();
    }

    @AfterEach
    void stop() {
        if (routing != null) {
            routing.close();
        }
        watcher.close();
        pg.close();
    }

    private RoutingDataSource.Builder builder() {
        return RoutingDataSource.builder(watcher).user("postgres").database("postgres").metrics(metrics, "client");
    }

    private Topology publish(long epoch, PgNode primary, List<PgNode> replicas, ReplicaState state, Long lag)
            throws Exception {
        List<Topology.Replica> rs = new ArrayList<>();
        for (PgNode r : replicas) {
            rs.add(new Topology.Replica(r.name(), r.host(), r.port(), state, lag));
        }
        Topology t = new Topology(paths.cluster(), epoch,
                new Topology.Primary(primary.name(), primary.host(), primary.port(), epoch), rs, "node1", false,
                Instant.now());
        publisher.publish(t);
        if (watcher != null) {
            Await.until("the watcher to see epoch " + epoch, WAIT, () -> watcher.current().orElseThrow().sameContentAs(t));
        }
        return t;
    }


    @Test
    void writesLandOnThePrimaryAndReadsOnTheReplicasRoundRobin() throws Exception {
        routing = builder().build();
        for (int i = 0; i < 3; i++) {
            try (Connection c = routing.getConnection()) {
                assertThat(Landing.of(c)).isEqualTo(new Landing(pg.primary().port(), false));
                c.createStatement().execute("INSERT INTO t VALUES (" + i + ")");
            }
        }
        Set<Integer> readPorts = new HashSet<>();
        for (int i = 0; i < 6; i++) {
            try (Connection c = routing.readConnection()) {
                Landing l = Landing.of(c);
                assertThat(l.inRecovery()).isTrue();
                readPorts.add(l.port());
            }
        }
        assertThat(readPorts).containsExactlyInAnyOrder(pg.replicas().get(0).port(), pg.replicas().get(1).port());
        assertThat(metrics.counter("client.routed.primary").getCount()).isEqualTo(3);
        assertThat(metrics.counter("client.routed.replica").getCount()).isEqualTo(6);
    }

    @Test
    void aReplicaOverTheLagBoundGetsNoReadsAndNoEligibleReplicaFallsBackOrFails() throws Exception {
        routing = builder().maxReplicaLagBytes(1024).build();
        PgNode node2 = pg.node("node2");
        PgNode node3 = pg.node("node3");
        List<Topology.Replica> replicas = List.of(
                new Topology.Replica("node2", node2.host(), node2.port(), ReplicaState.STREAMING, 4096L),
                new Topology.Replica("node3", node3.host(), node3.port(), ReplicaState.STREAMING, 10L));
        Topology t = new Topology(paths.cluster(), 1, new Topology.Primary("node1", pg.primary().host(),
                pg.primary().port(), 1), replicas, "node1", false, Instant.now());
        publisher.publish(t);
        Await.until("lag figures to arrive", WAIT, () -> watcher.current().orElseThrow().sameContentAs(t));
        for (int i = 0; i < 4; i++) {
            try (Connection c = routing.readConnection()) {
                assertThat(Landing.of(c).port()).isEqualTo(node3.port());
            }
        }

        // a replica tagged noloadbalance (a reporting or backup replica) gets no reads, though streaming and caught up
        Topology tagged = new Topology(paths.cluster(), 1, t.primary(), List.of(
                new Topology.Replica("node2", node2.host(), node2.port(), ReplicaState.STREAMING, 0L, true),
                new Topology.Replica("node3", node3.host(), node3.port(), ReplicaState.STREAMING, 0L)), "node1", false,
                Instant.now());
        publisher.publish(tagged);
        Await.until("the tag to arrive", WAIT, () -> watcher.current().orElseThrow().sameContentAs(tagged));
        for (int i = 0; i < 4; i++) {
            try (Connection c = routing.readConnection()) {
                assertThat(Landing.of(c).port()).isEqualTo(node3.port());
            }
        }

        publish(1, pg.primary(), pg.replicas(), ReplicaState.DOWN, null);
        try (Connection c = routing.readConnection()) {
            assertThat(Landing.of(c)).isEqualTo(new Landing(pg.primary().port(), false));
        }
        assertThat(metrics.counter("client.fallback.primary").getCount()).isEqualTo(1);

        try (RoutingDataSource strict = builder().whenNoReplica(RoutingDataSource.WhenNoReplica.FAIL).build()) {
            assertThatThrownBy(strict::readConnection).isInstanceOf(SQLException.class)
                    .hasMessageContaining("no replica can serve reads").hasMessageContaining("node2 is down")
                    .hasMessageContaining("node3 is down");
        }
    }

    @Test
    void publishingANewPrimaryMovesWritesThereAndRevokesConnectionsToTheOldOne() throws Exception {
        routing = builder().build();
        Connection lentBeforeFailover = routing.getConnection();
        assertThat(Landing.of(lentBeforeFailover).port()).isEqualTo(pg.primary().port());
        Statement statementBefore = lentBeforeFailover.createStatement();

        // a real promotion of node2; the old primary keeps running, as a partitioned one would
        PgNode node2 = pg.node("node2");
        node2.execute("SELECT pg_promote(true, 60)");
        Await.until("node2 to leave recovery", WAIT, () -> !node2.isInRecovery());
        publish(2, node2, List.of(pg.primary(), pg.node("node3")), ReplicaState.DOWN, null);

        try (Connection c = routing.getConnection()) {
            assertThat(Landing.of(c)).isEqualTo(new Landing(node2.port(), false));
            c.createStatement().execute("INSERT INTO t VALUES (42)");
        }
        assertThatThrownBy(() -> statementBefore.execute("INSERT INTO t VALUES (666)"))
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("08006"))
                .hasMessageContaining("node1 is no longer the primary");
        assertThatThrownBy(() -> lentBeforeFailover.createStatement())
                .isInstanceOf(SQLException.class).hasMessageContaining("revoked");
        lentBeforeFailover.close();
        assertThat(pg.primary().query("SELECT count(*) FROM t WHERE id = 666")).isEqualTo("0");
        assertThat(routing.openPools().keySet()).noneMatch(k -> k.startsWith("node1@") && k.endsWith("/write"));
    }
}
