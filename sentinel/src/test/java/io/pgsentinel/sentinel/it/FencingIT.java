package io.pgsentinel.sentinel.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsentinel.sentinel.demo.LocalSentinel;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.KitRun;
import io.pgsentinel.localcluster.PgNode;
import io.pgsentinel.localcluster.Processes;
import io.pgsentinel.testkit.TcpProxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Rule 2, the fence itself: a fence counts only when it is certain, and it stays certain while it
 * stands. Real servers, sentinels as processes, a 3-server ensemble.
 */
class FencingIT extends ClusterTest {

    /** Whether {@code node} commits a write that a read-only fence does not stop. */
    static boolean commitsAWrite(PgNode node) {
        try (Connection c = node.connect(Duration.ofSeconds(2)); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("SET TRANSACTION READ WRITE");
            s.execute("CREATE TABLE IF NOT EXISTS fencing_probe (at timestamptz DEFAULT now())");
            s.execute("INSERT INTO fencing_probe DEFAULT VALUES");
            c.commit();
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    /**
     * The sentinel knows its data directory by another spelling than the one the postmaster was
     * started with (a symlink): a hung primary must still be seen as running, stopped for certain,
     * and never accept a write once another server was promoted.
     */
    @Test
    void aDataDirectoryReachedThroughASymlinkIsFencedForCertain() throws Exception {
        cluster = SentinelCluster.start(2, y -> y);
        cluster.awaitTopology("a healthy topology", t -> t.primary().id().equals("node1")
                && states(t).equals("node2=streaming,node3=streaming"));
        PgNode old = cluster.pg().primary();
        Path link = KitRun.get().newDirectory("links").resolve("node1-data");
        Files.createSymbolicLink(link, old.dataDirectory());
        LocalSentinel s1 = cluster.sentinel("node1");
        s1.process().kill9();
        s1.rewriteConfig(y -> y.replace("dataDirectory: " + old.dataDirectory(), "dataDirectory: " + link));
        s1.start();
        s1.awaitUp(SentinelCluster.WAIT);
        sampler = new WriteSampler(cluster);

        long pid = old.requirePostmasterPid();
        List<Long> frozen = new ArrayList<>(Processes.descendants(pid));
        frozen.add(pid);
        old.freeze();
        cluster.awaitTopology("node2 or node3 published", t -> !t.primary().id().equals("node1"));
        Processes.signal("CONT", frozen);
        assertThat(commitsAWrite(old)).as("the old primary, thawed after the failover, commits a write").isFalse();
        Await.until("the old primary's processes to be gone", SentinelCluster.WAIT,
                () -> frozen.stream().noneMatch(Processes::isAlive));
        sampler.assertNeverTwoWritable();
    }

    /**
     * A primary's sentinel cut off from ZooKeeper stops its server; someone starts the server again
     * (an operator, a service manager) while the cut lasts and another server is the primary: the
     * sentinel stops it again, for as long as its fence stands.
     */
    @Test
    void aSelfFencedServerStartedAgainBySomeoneElseIsStoppedAgain() {
        cluster = SentinelCluster.start(2, y -> y);
        List<TcpProxy> proxies = cluster.proxyZooKeeper("node1");
        LocalSentinel s1 = cluster.sentinel("node1");
        cluster.awaitTopology("a healthy topology", t -> t.primary().id().equals("node1")
                && states(t).equals("node2=streaming,node3=streaming"));
        proxies.forEach(TcpProxy::cut);
        PgNode old = cluster.pg().primary();
        Await.until("node1 to fence itself", SentinelCluster.WAIT, () -> !old.isRunning());
        Topology after = cluster.awaitTopology("a new primary", t -> !t.primary().id().equals("node1"));
        long started = System.nanoTime();
        try {
            old.start(); // as it was: a primary
        } catch (IllegalStateException e) {
            // pg_ctl -w saw it stop before it reported ready: the sentinel was quick
        }
        Await.until("node1's sentinel to stop it again", SentinelCluster.WAIT,
                () -> s1.log().contains("started again while it is fenced") && !old.isRunning());
        System.out.printf("the restarted old primary was stopped again within %d ms%n",
                (System.nanoTime() - started) / 1_000_000);
        assertThat(cluster.topologyInZooKeeper().primary().id()).isEqualTo(after.primary().id());
    }
}
