package io.pgsentinel.sentinel.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.pgsentinel.localcluster.Await;
import io.pgsentinel.shared.topology.Topology;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * An application that knows nothing of pg-sentinel but a JDBC URL: HikariCP configured with
 * {@code jdbc:pgsentinel://...} only keeps writing through a host-loss failover in synchronous
 * quorum mode and loses no acknowledged write; a {@code role=replica} URL never lands on the
 * primary, before or after the failover; the HTTP form (no ZooKeeper) reaches the primary and
 * follows the failover through the sentinels' event streams.
 */
class JdbcUrlIT extends ClusterTest {

    @Test
    void hikariCpWithTheUrlAloneFollowsAHostLossFailoverLosingNothingAndReplicaReadsNeverReachThePrimary()
            throws Exception {
        cluster = SentinelCluster.start(2, y -> y + "failover:\n  minInterval: 0s\n"
                + "replication:\n  synchronous: quorum\n  synchronousCount: 1\n");
        Topology settled = cluster.awaitTopology("a settled synchronous cluster", t -> states(t)
                .equals("node2=streaming,node3=streaming") && t.synchronous() != null && t.synchronous().active()
                && t.synchronous().standbys().size() == 2 && t.synchronous().minPosition() == null);
        String primaryId = settled.primary().id();
        cluster.pg().primary().execute("CREATE TABLE jdbc_url (id bigint PRIMARY KEY)");
        String base = "jdbc:pgsentinel://" + cluster.zk().testConnectString() + "/" + cluster.paths().cluster()
                + "/postgres?zkRoot=" + cluster.paths().root() + "&user=postgres";

        // the HTTP form, for zones without ZooKeeper access
        String sentinels = cluster.sentinels().stream().map(s -> s.url("").replaceFirst("^http://", ""))
                .reduce((a, b) -> a + "," + b).orElseThrow();
        // polled once at start and then every 10 minutes: only the sentinels' event streams can tell it of the failover
        String httpUrl = "jdbc:pgsentinel:http://" + sentinels + "/" + cluster.paths().cluster()
                + "/postgres?user=postgres&pollInterval=600000";
        try (Connection c = DriverManager.getConnection(httpUrl)) {
            assertThat(port(c)).isEqualTo(cluster.pg().node(primaryId).port());
        }

        HikariConfig writes = new HikariConfig();
        writes.setJdbcUrl(base + "&role=primary");
        writes.setConnectionTimeout(1000);
        HikariConfig reads = new HikariConfig();
        reads.setJdbcUrl(base + "&role=replica");
        reads.setConnectionTimeout(1000);
        reads.setMaximumPoolSize(4);
        try (HikariDataSource primary = new HikariDataSource(writes); HikariDataSource replicas = new HikariDataSource(reads)) {
            AckedWriters writers = new AckedWriters(primary, "jdbc_url", 3);
            ReplicaReaders readers = new ReplicaReaders(replicas, 2);
            try {
                Await.until("writes and replica reads", SentinelCluster.WAIT,
                        () -> writers.acknowledged() > 100 && readers.reads.get() > 100);
                assertThat(readers.onPrimary).as("replica-URL reads that landed on the primary, before the fault")
                        .isEmpty();
                cluster.sentinel(primaryId).process().kill9();
                cluster.pg().node(primaryId).kill9();
                Topology after = cluster.awaitTopology("a new primary", t -> t.epoch() > settled.epoch());
                // the replica being promoted answers as a primary from pg_promote() until the publication
                // revokes its replica connections: reads on it in that window are a failover's, not a routing
                // fault; once the new topology is out, none may land on a primary
                cluster.awaitTopology("the remaining replica streaming", t -> t.epoch() == after.epoch()
                        && t.replicas().stream().anyMatch(r -> r.state().json().equals("streaming")));
                List<String> duringFailover = List.copyOf(readers.onPrimary);
                readers.onPrimary.clear();
                assertThat(duringFailover).as("replica-URL reads during the failover on a primary other than the one "
                        + "being promoted").allMatch(l -> l.equals("port " + cluster.pg().node(after.primary().id()).port()));
                int atPublication = writers.acknowledged();
                int readsAtPublication = readers.reads.get();
                Await.until("writes acknowledged by the new primary through the same pool", SentinelCluster.WAIT,
                        () -> writers.acknowledged() > atPublication + 100);
                Await.until("replica reads after the failover", SentinelCluster.WAIT,
                        () -> readers.reads.get() > readsAtPublication + 50);
                writers.stop();
                readers.stop();
                int lost = writers.lostOn(cluster.pg().node(after.primary().id()));
                assertThat(lost).as("acknowledged writes lost, " + after.primary().id() + " promoted").isZero();
                assertThat(readers.onPrimary).as("replica-URL reads that landed on a primary after the failover").isEmpty();
                assertThat(readers.reads.get()).isPositive();
                int newPrimaryPort = cluster.pg().node(after.primary().id()).port();
                Await.until("the HTTP form to follow the failover through GET /events", SentinelCluster.WAIT, () -> {
                    try (Connection c = DriverManager.getConnection(httpUrl)) {
                        return port(c) == newPrimaryPort;
                    } catch (SQLException e) {
                        return false;
                    }
                });
            } finally {
                writers.stop();
                readers.stop();
            }
        }
    }

    private static int port(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT inet_server_port()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** Threads reading through the replica pool, recording every read that a server out of recovery answered. */
    private static final class ReplicaReaders {
        final AtomicInteger reads = new AtomicInteger();
        final ConcurrentLinkedQueue<String> onPrimary = new ConcurrentLinkedQueue<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final List<Thread> threads;

        ReplicaReaders(HikariDataSource pool, int count) {
            threads = java.util.stream.IntStream.range(0, count).mapToObj(i -> new Thread(() -> {
                while (running.get()) {
                    try (Connection c = pool.getConnection(); Statement s = c.createStatement();
                         ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery(), inet_server_port()")) {
                        rs.next();
                        if (!rs.getBoolean(1)) {
                            onPrimary.add("port " + rs.getInt(2));
                        }
                        reads.incrementAndGet();
                    } catch (SQLException e) {
                        // a replica gone or revoked: the pool gets another
                    }
                }
            }, "replica-reader-" + i)).toList();
            threads.forEach(Thread::start);
        }

        void stop() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.join();
            }
        }
    }
}
