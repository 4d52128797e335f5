package io.pgsentinel.localcluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class PgClusterIT {
    private static final Logger LOG = LoggerFactory.getLogger(PgClusterIT.class);
    private static PgCluster cluster;

    @BeforeAll
    static void start() {
        long t0 = System.nanoTime();
        cluster = PgCluster.builder().replicas(2).start();
        LOG.info("primary + 2 streaming replicas started in {} ms", (System.nanoTime() - t0) / 1_000_000);
        cluster.primary().execute("CREATE TABLE kit_check (id text PRIMARY KEY)");
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    @Test
    void primaryIsWritableAndReplicasAreInRecovery() {
        assertThat(cluster.primary().isInRecovery()).isFalse();
        for (PgNode replica : cluster.replicas()) {
            assertThat(replica.isInRecovery()).as(replica.name()).isTrue();
            assertThatThrownBy(() -> replica.execute("INSERT INTO kit_check VALUES ('x')"))
                    .hasMessageContaining("read-only transaction");
        }
    }

    @Test
    void aRowWrittenOnThePrimaryIsReadBackOnEveryReplica() {
        String id = UUID.randomUUID().toString();
        cluster.primary().execute("INSERT INTO kit_check VALUES ('" + id + "')");
        String lsn = cluster.primary().currentFlushLsn();
        for (PgNode replica : cluster.replicas()) {
            replica.awaitReplayed(lsn, Duration.ofSeconds(10));
            assertThat(replica.query("SELECT id FROM kit_check WHERE id = '" + id + "'")).as(replica.name()).isEqualTo(id);
        }
    }

    @Test
    void pgStatReplicationShowsEveryReplicaStreamingThroughItsSlot() {
        List<String> streaming = cluster.primary().queryColumn(
                "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming' ORDER BY 1");
        assertThat(streaming).containsExactly("node2", "node3");
        List<String> activeSlots = cluster.primary().queryColumn(
                "SELECT slot_name FROM pg_replication_slots WHERE active ORDER BY 1");
        assertThat(activeSlots).containsExactly("node2", "node3");
        assertThat(cluster.install().majorVersion()).isGreaterThanOrEqualTo(13);
    }

    @Test
    void aReplicaKilledWithSigkillAndRestartedStreamsAgain() throws Exception {
        PgNode replica = cluster.node("node3");
        long pid = replica.requirePostmasterPid();
        java.nio.file.Path dataDirectory = replica.dataDirectory().toRealPath();
        // clients connecting all the time: the postmaster forks backends while it is killed, and
        // none may outlive it (every process of a server has its data directory as working directory)
        java.util.concurrent.atomic.AtomicBoolean storm = new java.util.concurrent.atomic.AtomicBoolean(true);
        List<Thread> clients = new java.util.ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Thread t = new Thread(() -> {
                while (storm.get()) {
                    try (Connection c = replica.connect(Duration.ofSeconds(1)); Statement st = c.createStatement()) {
                        st.execute("SELECT 1");
                    } catch (SQLException e) {
                        // the server is being killed
                    }
                }
            });
            t.start();
            clients.add(t);
        }
        Await.until("backends to come and go", Duration.ofSeconds(10),
                () -> Processes.withWorkingDirectory(dataDirectory).size() > 5);
        replica.kill9();
        List<Long> left = Processes.withWorkingDirectory(dataDirectory);
        storm.set(false);
        for (Thread t : clients) {
            t.join();
        }
        assertThat(left).as("processes of the killed server").isEmpty();
        assertThat(Processes.isAlive(pid)).isFalse();
        assertThat(replica.isRunning()).isFalse();
        Await.until("primary to see node3 gone", Duration.ofSeconds(30), () -> cluster.primary()
                .queryColumn("SELECT application_name FROM pg_stat_replication").stream().noneMatch("node3"::equals));

        String id = UUID.randomUUID().toString();
        cluster.primary().execute("INSERT INTO kit_check VALUES ('" + id + "')");
        replica.start();
        assertThat(replica.requirePostmasterPid()).isNotEqualTo(pid);
        cluster.awaitAllStreaming(Duration.ofSeconds(30));
        replica.awaitReplayed(cluster.primary().currentFlushLsn(), Duration.ofSeconds(10));
        assertThat(replica.query("SELECT id FROM kit_check WHERE id = '" + id + "'")).isEqualTo(id);
    }

    @Test
    void aFrozenPrimaryDoesNotAnswerWithinATimeoutAndAnswersAfterThaw() throws Exception {
        PgNode primary = cluster.primary();
        primary.freeze();
        try {
            assertThat(primary.isFrozen()).isTrue();
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> {
                try (Connection c = primary.connect(Duration.ofSeconds(1)); Statement s = c.createStatement()) {
                    s.execute("SELECT 1");
                }
            }).isInstanceOf(SQLException.class);
            // the kernel accepts the TCP connection; the frozen postmaster never answers it
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
        } finally {
            primary.thaw();
        }
        assertThat(primary.isFrozen()).isFalse();
        Await.until("primary to answer after thaw", Duration.ofSeconds(10), () -> "1".equals(primary.query("SELECT 1")));
    }

    @Test
    void stopAndStartKeepTheData() {
        PgNode replica = cluster.node("node2");
        replica.stop(StopMode.FAST);
        assertThat(replica.isRunning()).isFalse();
        replica.start();
        cluster.awaitAllStreaming(Duration.ofSeconds(30));
        assertThat(replica.query("SELECT count(*) FROM kit_check")).isNotNull();
    }
}
