package io.pgsentinel.sentinel.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsentinel.sentinel.demo.LocalSentinel;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.Fault;
import io.pgsentinel.localcluster.Hosts;
import io.pgsentinel.localcluster.PgNode;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Rule 2 under compound faults, on real hosts: each database server and its sentinel on a host of
 * its own, three ZooKeeper servers on three more, and network partitions cut with nftables. The
 * write sampler reaches every server from outside every partition (like a client on the old
 * primary's side), so a superseded primary that still commits is seen.
 */
class PartitionIT extends ClusterTest {
    private static final List<String> DB = List.of("db1", "db2", "db3");
    private static final List<String> ZK = List.of("zk1", "zk2", "zk3");
    private Hosts hosts;

    @BeforeEach
    void hosts() {
        Assumptions.assumeTrue(Hosts.available(), Hosts.unavailableReason());
        hosts = Hosts.create("db1", "db2", "db3", "zk1", "zk2", "zk3");
    }

    @AfterEach
    void closeHosts() {
        stopCluster();
        cluster = null;
        sampler = null;
        if (hosts != null) {
            hosts.close();
        }
    }

    private void startHealthy(UnaryOperator<String> tweak) {
        cluster = SentinelCluster.onHosts(hosts, DB, ZK, tweak);
        cluster.awaitTopology("a healthy topology", t -> t.primary().id().equals("db1")
                && states(t).equals("db2=streaming,db3=streaming"));
        sampler = new WriteSampler(cluster);
    }

    /** db1's host cut from its peers and from ZooKeeper; clients (the sampler) still reach it. */
    private Fault cutPrimaryFromEverything() {
        return hosts.partition(List.of("db1"), List.of("db2", "db3", "zk1", "zk2", "zk3"));
    }

    /** Waits for another primary, and for the old one to be stopped; prints how long each took. */
    private void awaitReplacedAndStopped(long cutAt) {
        Topology t = cluster.awaitTopology("a new primary", x -> !x.primary().id().equals("db1"));
        double published = (System.nanoTime() - cutAt) / 1e9;
        PgNode old = cluster.pg().node("db1");
        Await.until("the old primary to be stopped", SentinelCluster.WAIT, () -> !old.isRunning());
        System.out.printf("cut to %s published: %.1f s; cut to db1 stopped: %.1f s%n", t.primary().id(), published,
                (System.nanoTime() - cutAt) / 1e9);
    }

    /**
     * The primary's host is cut from its peers and from ZooKeeper, and its sentinel pauses for a
     * second during the cut (a GC, CPU starvation): the watchdog still fences before the leader
     * may take the sentinel's silence for a fence.
     */
    @Test
    void aPrimaryCutOffWhoseSentinelPausesDuringTheCutIsFencedBeforeItIsReplaced() throws InterruptedException {
        startHealthy(y -> y);
        LocalSentinel s1 = cluster.sentinel("db1");
        long cutAt = System.nanoTime();
        Fault cut = cutPrimaryFromEverything();
        Thread.sleep(500); // the moment of the pause within the cut is part of the fault
        s1.process().freeze();
        Thread.sleep(1300); // the length of the pause is the fault
        s1.process().thaw();
        awaitReplacedAndStopped(cutAt);
        cut.heal();
        sampler.assertNeverTwoWritable();
        cluster.awaitTopology("db1 back as a replica", t -> t.replicas().stream()
                .allMatch(r -> r.state().json().equals("streaming")));
    }

    /**
     * The primary's sentinel is stopped (systemctl stop: its server keeps running), then the
     * primary's host is cut off: its absence must not count as a fence unless the server is
     * fenced for certain first.
     */
    @Test
    void aStoppedSentinelThenACutNeverLeavesTheOldPrimaryWritableAfterItIsReplaced() {
        startHealthy(y -> y);
        cluster.sentinel("db1").process().stop(Duration.ofSeconds(30));
        assertThat(cluster.pg().node("db1").isRunning()).as("the server outlives its stopped sentinel").isTrue();
        cluster.awaitTopology("db1 still the primary", t -> t.primary().id().equals("db1"));
        long cutAt = System.nanoTime();
        cutPrimaryFromEverything();
        awaitReplacedAndStopped(cutAt);
        sampler.assertNeverTwoWritable();
    }

    /** The same with a crashed sentinel (kill -9, an OOM kill). */
    @Test
    void aCrashedSentinelThenACutNeverLeavesTheOldPrimaryWritableAfterItIsReplaced() {
        startHealthy(y -> y);
        cluster.sentinel("db1").process().kill9();
        long cutAt = System.nanoTime();
        cutPrimaryFromEverything();
        awaitReplacedAndStopped(cutAt);
        sampler.assertNeverTwoWritable();
    }

    /**
     * fencing.selfFence: readonly. The primary is cut from its peers only (its sentinel still
     * reaches ZooKeeper and is told to fence): a read-only server still commits BEGIN READ WRITE,
     * so it must not count as fenced.
     */
    @Test
    void aReadOnlyFenceIsNeverCountedAsAFence() {
        startHealthy(y -> y.contains("id: db1") ? y + "fencing:\n  selfFence: readonly\n" : y);
        long cutAt = System.nanoTime();
        hosts.partition(List.of("db1"), List.of("db2", "db3"));
        awaitReplacedAndStopped(cutAt);
        sampler.assertNeverTwoWritable();
    }
}
