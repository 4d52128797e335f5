package io.pgsentinel.sentinel.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsentinel.sentinel.demo.LocalSentinel;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.KitRun;
import io.pgsentinel.localcluster.PgNode;
import io.pgsentinel.testkit.TcpProxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Failsafe (issue "Resilience"): a ZooKeeper outage does not take down a healthy primary when a
 * quorum of sentinels confirm they are cut off too; without failsafe, or when the other sentinels
 * still reach ZooKeeper, the primary fences itself as before. Never two writable primaries.
 */
class FailsafeIT extends ClusterTest {


    private void start(boolean failsafe) throws Exception {
        start(failsafe, java.util.function.UnaryOperator.identity());
    }

    private void start(boolean failsafe, java.util.function.UnaryOperator<String> tweak) throws Exception {
        Path token = KitRun.get().newDirectory("token").resolve("api.token");
        Files.writeString(token, "failsafe-token\n");
        cluster = SentinelCluster.start(2, y -> tweak.apply(y) + "api:\n  tokenFile: " + token + "\nfailsafe: "
                + (failsafe ? "on" : "off") + "\n");
        cluster.awaitTopology("healthy", t -> t.primary().id().equals("node1") && t.replicas().stream()
                .allMatch(r -> r.state().json().equals("streaming")));
        sampler = new WriteSampler(cluster);
    }

    /**
     * Whether the primary's server ran, the same postmaster, and acknowledged the sampler's writes
     * all through {@code window}: every check waits for the next acknowledged write (at most 1 s).
     */
    private boolean primaryServesThroughout(PgNode primary, Duration window) {
        long until = System.nanoTime() + window.toNanos();
        long pid = primary.requirePostmasterPid();
        while (System.nanoTime() < until) {
            if (!primary.isRunning() || primary.requirePostmasterPid() != pid) {
                return false;
            }
            long acked = sampler.accepted().getOrDefault(primary.name(), 0L);
            try {
                Await.until(primary.name() + " to acknowledge the next write", Duration.ofSeconds(1), Duration.ofMillis(20),
                        () -> sampler.accepted().getOrDefault(primary.name(), 0L) > acked);
            } catch (AssertionError e) {
                return false;
            }
        }
        return true;
    }

    @Test
    void withFailsafeAZooKeeperOutageLeavesTheHealthyPrimaryServing() throws Exception {
        start(true);
        long pid = cluster.pg().primary().requirePostmasterPid();
        cluster.zk().loseQuorum();
        // well past half the session timeout (when it would fence) and past the session expiry
        assertThat(primaryServesThroughout(cluster.pg().primary(), Duration.ofSeconds(12))).as("the primary kept serving")
                .isTrue();
        assertThat(cluster.sentinel("node1").log()).contains("failsafe: quorum of leases");
        assertThat(cluster.sentinel("node2").log() + cluster.sentinel("node3").log()).contains("lease granted to node1");
        cluster.zk().restoreAll();
        Topology after = cluster.awaitTopology("the cluster back, all streaming", t -> t.replicas().stream()
                .allMatch(r -> r.state().json().equals("streaming")));
        assertThat(after.epoch()).isEqualTo(1);
        assertThat(after.primary().id()).isEqualTo("node1");
        assertThat(cluster.pg().primary().requirePostmasterPid()).as("never restarted").isEqualTo(pid);
        sampler.assertNeverTwoWritable();
    }

    /**
     * The ZooKeeper quorum is lost right after a host-loss failover, once the old primary has
     * rejoined: every sentinel must know the new primary's epoch and grant its leases; the new
     * primary keeps serving and no failover happens (the chaos suite once failed it over).
     */
    @Test
    void aZooKeeperOutageRightAfterAFailoverLeavesTheNewPrimaryServing() throws Exception {
        start(true);
        cluster.sentinel("node1").process().kill9();
        cluster.pg().primary().kill9();
        Topology failedOver = cluster.awaitTopology("a failover", t -> t.epoch() == 2);
        PgNode primary = cluster.pg().node(failedOver.primary().id());
        cluster.sentinel("node1").start(); // the old primary's host comes back and rejoins
        cluster.awaitTopology("node1 rejoined", t -> t.replicas().stream()
                .allMatch(r -> r.state().json().equals("streaming")));
        long pid = primary.requirePostmasterPid();
        cluster.zk().loseQuorum();
        assertThat(primaryServesThroughout(primary, Duration.ofSeconds(12))).as(primary.name() + " kept serving")
                .isTrue();
        cluster.zk().restoreAll();
        Topology after = cluster.awaitTopology("the cluster back, all streaming", t -> t.replicas().stream()
                .allMatch(r -> r.state().json().equals("streaming")));
        assertThat(after.epoch()).isEqualTo(2);
        assertThat(after.primary().id()).isEqualTo(primary.name());
        assertThat(primary.requirePostmasterPid()).as("never restarted").isEqualTo(pid);
        sampler.assertNeverTwoWritable();
    }

    /**
     * A bin directory like the real one whose pg_ctl takes {@code seconds} longer to start a server:
     * a crash recovery that takes a while (the self-fence stops immediately), without the WAL to replay.
     */
    private static Path slowStartingBinDirectory(int seconds) throws Exception {
        Path real = io.pgsentinel.localcluster.PgInstall.find().binDir();
        Path dir = KitRun.get().newDirectory("slow-bin");
        try (var programs = Files.list(real)) {
            for (Path p : programs.toList()) {
                if (!p.getFileName().toString().equals("pg_ctl")) {
                    Files.createSymbolicLink(dir.resolve(p.getFileName()), p);
                }
            }
        }
        Path pgCtl = dir.resolve("pg_ctl");
        Files.writeString(pgCtl, "#!/bin/sh\ncase \"$*\" in *\" start\"*) sleep " + seconds + " ;; esac\nexec "
                + real.resolve("pg_ctl") + " \"$@\"\n");
        Files.setPosixFilePermissions(pgCtl, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        return dir;
    }

    @Test
    void withoutFailsafeAZooKeeperOutageFencesThePrimaryWhichComesBackAfterwards() throws Exception {
        // node1's server takes 5 s to start (longer than downAfter): a crash recovery after its self-fence
        Path slow = slowStartingBinDirectory(5);
        String real = io.pgsentinel.localcluster.PgInstall.find().binDir().toString();
        start(false, y -> y.contains("  id: node1\n") ? y.replace("binDirectory: " + real, "binDirectory: " + slow) : y);
        cluster.zk().loseQuorum();
        Await.until("the primary to fence itself", SentinelCluster.WAIT, () -> !cluster.pg().primary().isRunning());
        Await.until("node1's sentinel to say why", SentinelCluster.WAIT,
                () -> cluster.sentinel("node1").log().contains("no answer from ZooKeeper"));
        cluster.zk().restoreAll();
        // no failover could happen (nobody could vote): ZooKeeper confirms node1, which restarts;
        // the leader waits for it (its sentinel says "starting"), though that takes longer than downAfter
        Await.until("node1 to serve again", SentinelCluster.WAIT, () -> cluster.pg().primary().isRunning()
                && !cluster.pg().primary().isInRecovery());
        assertThat(cluster.sentinel("node1").log()).contains("starting the server");
        Await.until("the leader to see node1 up", SentinelCluster.WAIT, () -> cluster.cluster(cluster.sentinel("node2"))
                .at("/decision/reason").asText().startsWith("primary node1 is up"));
        assertThat(cluster.zkClient().checkExists().forPath(cluster.paths().fence("node1"))).as("never fenced").isNull();
        assertThat(cluster.topologyInZooKeeper().epoch()).isEqualTo(1);
        sampler.assertNeverTwoWritable();
    }

    @Test
    void withFailsafeAPrimaryCutOffAloneGetsNoLeasesFencesItselfAndTheClusterFailsOver() throws Exception {
        start(true);
        List<TcpProxy> proxies = cluster.proxyZooKeeper("node1");
        LocalSentinel s1 = cluster.sentinel("node1");
        cluster.awaitTopology("node1 back", t -> t.replicas().stream().allMatch(r -> r.state().json().equals("streaming")));
        proxies.forEach(TcpProxy::cut);
        Await.until("node1 to fence itself", SentinelCluster.WAIT, () -> !cluster.pg().primary().isRunning());
        Await.until("node1's sentinel to say why", SentinelCluster.WAIT, () -> s1.log().contains(
                "failsafe: no quorum of leases") && s1.log().contains("this sentinel is connected to ZooKeeper"));
        cluster.awaitTopology("a failover", t -> t.epoch() == 2);
        proxies.forEach(TcpProxy::restore);
        sampler.assertNeverTwoWritable();
    }
}
