package io.pgsentinel.sentinel.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.PgNode;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The other half of what DBAs judge: a busy primary that still serves is never failed over. Each
 * test holds the situation for longer than a failover takes (downAfter 3 s plus fencing), and
 * checks the primary stayed and no failover was decided.
 */
class AvailabilityIT extends ClusterTest {
    /** Longer than a failover takes with the defaults (downAfter 3 s, the fence, the promotion). */
    private static final Duration HOLD = Duration.ofSeconds(10);

    private Topology startHealthy() {
        cluster = SentinelCluster.start(2);
        return cluster.awaitTopology("a healthy topology", t -> t.primary().id().equals("node1")
                && states(t).equals("node2=streaming,node3=streaming"));
    }

    /** The topology stays {@code before} (same epoch and primary) for {@link #HOLD}, checked as it changes. */
    private void assertNoFailoverFor(Topology before, String why) throws Exception {
        try (var watcher = io.pgsentinel.shared.client.ZooKeeperTopologyWatcher.start(cluster.zkClient(),
                cluster.paths())) {
            List<Topology> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
            watcher.addListener((previous, now) -> seen.add(now));
            Thread.sleep(HOLD.toMillis()); // the length of the situation is the test
            assertThat(seen).as(why).allSatisfy(t -> assertThat(t.epoch()).isEqualTo(before.epoch()));
        }
        assertThat(cluster.sentinels().stream().map(s -> s.log()).filter(l -> l.contains("decision: promote")))
                .as("no failover decided: " + why).isEmpty();
    }

    /**
     * Every connection slot of the primary is taken by busy sessions: the sentinels' probes get
     * "too many clients" (53300). A server that answers with an error is up.
     */
    @Test
    void aPrimaryAtMaxConnectionsIsNotFailedOver() throws Exception {
        Topology before = startHealthy();
        PgNode primary = cluster.pg().primary();
        List<Connection> held = new ArrayList<>();
        try {
            while (true) {
                try {
                    held.add(primary.connect(Duration.ofSeconds(2)));
                } catch (SQLException e) {
                    assertThat(e.getSQLState()).as(e.getMessage()).isEqualTo("53300");
                    break;
                }
            }
            assertNoFailoverFor(before, held.size() + " sessions hold every connection slot of node1");
        } finally {
            for (Connection c : held) {
                c.close();
            }
        }
        assertThat(primary.isInRecovery()).isFalse();
    }

    /**
     * Every new connection to the primary takes over a second before it is served (a saturated
     * host; here the server's pre_auth_delay): the probes' 1 s check timeout passes, but a server
     * that answers late is there.
     */
    @Test
    void aPrimaryWhoseNewConnectionsTakeOverASecondIsNotFailedOver() throws Exception {
        Topology before = startHealthy();
        PgNode primary = cluster.pg().primary();
        primary.execute("ALTER SYSTEM SET pre_auth_delay = 1");
        primary.execute("SELECT pg_reload_conf()");
        try {
            Await.until("a new connection to take over a second", Duration.ofSeconds(10), () -> {
                long start = System.nanoTime();
                primary.query("SELECT 1");
                return System.nanoTime() - start > 1_000_000_000L;
            });
            assertNoFailoverFor(before, "every new connection to node1 takes over a second");
        } finally {
            if (primary.isRunning()) {
                primary.execute("ALTER SYSTEM RESET pre_auth_delay");
                primary.execute("SELECT pg_reload_conf()");
            }
        }
    }
}
