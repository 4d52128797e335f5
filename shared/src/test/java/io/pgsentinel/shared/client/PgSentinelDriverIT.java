package io.pgsentinel.shared.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.PgCluster;
import io.pgsentinel.localcluster.PgNode;
import io.pgsentinel.localcluster.ZkEnsemble;
import io.pgsentinel.shared.topology.ReplicaState;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.shared.zk.ClusterPaths;
import io.pgsentinel.testkit.InJvmZkEnsemble;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The jdbc:pgsentinel driver against a real primary with two streaming replicas and a topology
 * published in a real ZooKeeper: found by DriverManager and HikariCP from the URL alone, routing
 * by role, and revoking a connection whose server stopped being the published primary.
 */
class PgSentinelDriverIT {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static ZkEnsemble ensemble;
    private static CuratorFramework zk;
    private static PgCluster pg;
    private static ClusterPaths paths;
    private static TestPublisher publisher;

    @BeforeAll
    static void start() throws Exception {
        ensemble = InJvmZkEnsemble.start(3);
        zk = ensemble.newClient(Duration.ofSeconds(10));
        pg = PgCluster.builder().replicas(2).start();
        pg.primary().execute("CREATE TABLE t (id int)");
        paths = new ClusterPaths("/pg-sentinel", "driver");
        publisher = new TestPublisher(zk, paths);
        publish(1, pg.node("node1"), List.of(pg.node("node2"), pg.node("node3")));
    }

    @AfterAll
    static void stop() {
        pg.close();
        zk.close();
        ensemble.close();
    }

    private static void publish(long epoch, PgNode primary, List<PgNode> replicas) throws Exception {
        Topology t = new Topology(paths.cluster(), epoch,
                new Topology.Primary(primary.name(), primary.host(), primary.port(), epoch),
                replicas.stream().map(r -> new Topology.Replica(r.name(), r.host(), r.port(), ReplicaState.STREAMING, 0L))
                        .toList(), "node1", false, Instant.now());
        publisher.publish(t);
    }

    private static String url(String role) {
        return "jdbc:pgsentinel://" + ensemble.testConnectString() + "/driver/postgres?role=" + role + "&user=postgres";
    }


    @Test
    void hikariCpWithTheUrlAloneWritesToThePrimaryAndReadsFromTheReplicas() throws Exception {
        HikariConfig writes = new HikariConfig();
        writes.setJdbcUrl(url("primary"));
        HikariConfig reads = new HikariConfig();
        reads.setJdbcUrl(url("replica"));
        reads.setMaximumPoolSize(4);
        reads.setMinimumIdle(4);
        try (HikariDataSource primary = new HikariDataSource(writes); HikariDataSource replicas = new HikariDataSource(reads)) {
            try (Connection c = primary.getConnection()) {
                assertThat(Landing.of(c)).isEqualTo(new Landing(pg.node("node1").port(), false));
                c.createStatement().execute("INSERT INTO t VALUES (1)");
            }
            // four connections held at once: four physical ones, made round-robin over the replicas
            Set<Integer> ports = new HashSet<>();
            List<Connection> held = new java.util.ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    Connection c = replicas.getConnection();
                    held.add(c);
                    Landing l = Landing.of(c);
                    assertThat(l.inRecovery()).as("a replica URL never reaches the primary").isTrue();
                    ports.add(l.port());
                }
            } finally {
                for (Connection c : held) {
                    c.close();
                }
            }
            assertThat(ports).containsExactlyInAnyOrder(pg.node("node2").port(), pg.node("node3").port());
        }
        try (Connection c = DriverManager.getConnection(url("any"))) {
            assertThat(Landing.of(c).port()).isIn(pg.node("node1").port(), pg.node("node2").port(), pg.node("node3").port());
        }
    }

    @Test
    void aConnectionToASupersededPrimaryFailsItsNextStatementAndAStaleTopologyGivesNoConnection() throws Exception {
        PgNode node1 = pg.node("node1");
        try (Connection c = DriverManager.getConnection(url("primary"))) {
            c.createStatement().execute("INSERT INTO t VALUES (2)");
            try (Statement prepared = c.createStatement()) {
                // node2 is published as the primary (node1's server still accepts writes: a partition)
                publish(2, pg.node("node2"), List.of(node1, pg.node("node3")));
                SQLException refused = Await.value("the old primary's connection to be revoked", WAIT, () -> {
                    try {
                        prepared.execute("INSERT INTO t VALUES (3)");
                        node1.execute("DELETE FROM t WHERE id = 3"); // not yet revoked: undo, try again
                        return null;
                    } catch (SQLException e) {
                        return e;
                    }
                });
                assertThat(refused.getSQLState()).isEqualTo("08006");
                assertThat(refused.getMessage()).contains("the primary is now node2 (epoch 2), not node1");
            }
            assertThat(node1.query("SELECT count(*) FROM t WHERE id = 3")).isEqualTo("0");
            // node2 is in recovery: the driver asks before it hands a "primary" connection out
            assertThatThrownBy(() -> DriverManager.getConnection(url("primary") + "&primaryWait=0"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("node2").hasMessageContaining("is in recovery, not the primary")
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("08001"));
            // with primaryWait (default 5 s) a connect waits for the next topology and takes its primary
            java.util.concurrent.CountDownLatch connecting = new java.util.concurrent.CountDownLatch(1);
            var waiting = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                connecting.countDown();
                try (Connection fresh = DriverManager.getConnection(url("primary"))) {
                    return Landing.of(fresh).port();
                } catch (SQLException e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
            assertThat(connecting.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            publish(3, node1, List.of(pg.node("node2"), pg.node("node3")));
            assertThat(waiting.get(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(node1.port());
        } finally {
            publish(4, node1, List.of(pg.node("node2"), pg.node("node3")));
        }
    }

    @Test
    void noTopologyInTimeIsAClearErrorWithoutTheUrlsSecrets() {
        String url = "jdbc:pgsentinel://" + ensemble.testConnectString() + "/no-such-cluster/postgres?topologyTimeout=1"
                + "&user=postgres&password=topsecret";
        assertThatThrownBy(() -> DriverManager.getConnection(url)).isInstanceOf(SQLException.class)
                .hasMessageContaining("no topology from ZooKeeper").hasMessageContaining("no-such-cluster")
                .hasMessageContaining("within 1 s").hasMessageNotContaining("topsecret");
    }
}
