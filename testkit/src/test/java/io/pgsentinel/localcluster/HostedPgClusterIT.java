package io.pgsentinel.localcluster;

import io.pgsentinel.testkit.Stats;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A primary and two replicas, each on its own host, streaming over the host addresses. */
class HostedPgClusterIT {
    private static Hosts hosts;
    private static PgCluster cluster;

    @BeforeAll
    static void start() {
        assumeTrue(Hosts.available(), Hosts.unavailableReason());
        hosts = Hosts.create("db1", "db2", "db3");
        long t0 = System.nanoTime();
        cluster = PgCluster.builder().onHosts(hosts, List.of("db1", "db2", "db3"))
                // a replica cut off is noticed in seconds, not the kit's default 10 s
                .setting("wal_sender_timeout", "3s")
                .setting("wal_receiver_timeout", "3s")
                .start();
        Stats.record("hosts.txt", "PgCluster on 3 hosts (primary + 2 streaming replicas): "
                + (System.nanoTime() - t0) / 1_000_000 + " ms");
        cluster.primary().execute("CREATE TABLE kit_check (id text PRIMARY KEY)");
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
        if (hosts != null) {
            hosts.close();
        }
    }

    @Test
    void eachServerListensOnItsHostsAddressAndReplicasStreamFromThePrimarysAddress() {
        assertThat(cluster.nodes()).extracting(PgNode::name).containsExactly("db1", "db2", "db3");
        for (PgNode node : cluster.nodes()) {
            assertThat(node.host()).isEqualTo(hosts.address(node.name()));
            assertThat(node.port()).isEqualTo(PgCluster.HOST_PORT);
            assertThat(node.runsOn()).isEqualTo(hosts.host(node.name()));
            // the test JVM reaches every server (through the observer), which answers on its own address
            assertThat(node.query("SELECT host(inet_server_addr())")).as(node.name()).isEqualTo(node.host());
            assertThat(node.query("SELECT host(inet_client_addr())")).isEqualTo(hosts.observerAddress());
            assertThat(node.jdbcUrl()).startsWith("jdbc:postgresql://127.0.0.1:");
        }
        assertThat(cluster.primary().queryColumn(
                "SELECT application_name || ' ' || host(client_addr) FROM pg_stat_replication WHERE state = 'streaming' ORDER BY 1"))
                .containsExactly("db2 " + hosts.address("db2"), "db3 " + hosts.address("db3"));
        for (PgNode replica : cluster.replicas()) {
            assertThat(replica.query("SELECT sender_host FROM pg_stat_wal_receiver")).isEqualTo(hosts.address("db1"));
            assertThat(replica.isInRecovery()).isTrue();
        }
    }

    @Test
    void aQueryThroughTheObserverTakesAboutAsLongAsOnLoopback() throws Exception {
        List<Double> millis = new java.util.ArrayList<>();
        try (Connection c = cluster.primary().connect(); Statement s = c.createStatement()) {
            for (int i = 0; i < 300; i++) {
                long t0 = System.nanoTime();
                s.execute("SELECT 1");
                millis.add((System.nanoTime() - t0) / 1e6);
            }
        }
        Stats stats = new Stats(millis.subList(50, millis.size())); // after warm-up
        Stats.record("hosts.txt", String.format(java.util.Locale.ROOT,
                "SELECT 1 round trip through the observer's gateway: median %.2f ms, p99 %.2f ms",
                stats.median(), stats.percentile(99)));
        assertThat(stats.median()).isLessThan(50);
    }

    @Test
    void aRowWrittenOnThePrimaryIsReadOnEveryReplica() {
        String id = UUID.randomUUID().toString();
        cluster.primary().execute("INSERT INTO kit_check VALUES ('" + id + "')");
        String lsn = cluster.primary().currentFlushLsn();
        for (PgNode replica : cluster.replicas()) {
            replica.awaitReplayed(lsn, Duration.ofSeconds(10));
            assertThat(replica.query("SELECT id FROM kit_check WHERE id = '" + id + "'")).isEqualTo(id);
        }
    }

    @Test
    void aReplicaKilledWithSigkillRestartsAndStreamsAgain() {
        PgNode replica = cluster.node("db3");
        long pid = replica.requirePostmasterPid();
        assertThat(Netns.pids(hosts.namespace("db3"))).contains(pid);
        replica.kill9();
        assertThat(Processes.isAlive(pid)).isFalse();
        assertThat(replica.isRunning()).isFalse();
        replica.start();
        assertThat(replica.requirePostmasterPid()).isNotEqualTo(pid);
        cluster.awaitAllStreaming(Duration.ofSeconds(30));
    }

    @Test
    void aFrozenPrimaryDoesNotAnswerAndAnswersAfterThaw() {
        PgNode primary = cluster.primary();
        primary.freeze();
        try {
            assertThat(primary.isFrozen()).isTrue();
            assertThatThrownBy(() -> {
                try (Connection c = primary.connect(Duration.ofSeconds(1)); Statement s = c.createStatement()) {
                    s.execute("SELECT 1");
                }
            }).isInstanceOf(SQLException.class);
        } finally {
            primary.thaw();
        }
        Await.until("the primary to answer after thaw", Duration.ofSeconds(10), () -> "1".equals(primary.query("SELECT 1")));
    }

    @Test
    void anIsolatedReplicaStopsStreamingWhileTheTestStillReachesItAndStreamsAgainAfterHeal() {
        PgNode replica = cluster.node("db2");
        Fault fault = hosts.isolate("db2");
        try {
            Await.until("the primary to lose db2", Duration.ofSeconds(30), () -> !cluster.primary()
                    .queryColumn("SELECT application_name FROM pg_stat_replication").contains("db2"));
            // the observer is never cut: the test still sees the replica, waiting for its primary
            assertThat(replica.isInRecovery()).isTrue();
        } finally {
            fault.heal();
        }
        cluster.awaitAllStreaming(Duration.ofSeconds(30));
    }
}
