package io.pgsentinel.sentinel.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsentinel.testkit.InJvmZkEnsemble;
import io.pgsentinel.sentinel.demo.LocalSentinel;
import io.pgsentinel.sentinel.time.MonotonicClock;
import io.pgsentinel.sentinel.zk.LeaderWrites;
import io.pgsentinel.sentinel.zk.Leadership;
import io.pgsentinel.sentinel.zk.ZkSession;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.shared.topology.TopologyCodec;
import io.pgsentinel.shared.zk.ClusterPaths;
import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.ZkEnsemble;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;

/** Rule 5: a leader's writes are conditional; a deposed leader cannot overwrite anything. */
class DeposedLeaderIT {

    @Test
    void aLeaderWhoseSessionExpiredCannotWriteEvenIfItStillBelievesItLeads() throws Exception {
        try (ZkEnsemble zk = InJvmZkEnsemble.start(3); CuratorFramework observer = zk.newClient(Duration.ofSeconds(10))) {
            ClusterPaths paths = new ClusterPaths("/pg-sentinel", "deposed");
            ZkSession a = new ZkSession(zk.connectString(), Duration.ofSeconds(4), paths, MonotonicClock.SYSTEM);
            ZkSession b = new ZkSession(zk.connectString(), Duration.ofSeconds(4), paths, MonotonicClock.SYSTEM);
            a.start();
            b.start();
            Leadership leaderA = new Leadership(a, "node1", MonotonicClock.SYSTEM);
            leaderA.start();
            Leadership.Term termA = Await.value("node1 to lead", Duration.ofSeconds(20), leaderA::current);
            Leadership leaderB = new Leadership(b, "node2", MonotonicClock.SYSTEM);
            leaderB.start();
            LeaderWrites writesA = new LeaderWrites(a, Duration.ofSeconds(5));
            Topology first = new Topology("deposed", 1, new Topology.Primary("node1", "127.0.0.1", 5432, 1), List.of(),
                    "node1", false, Instant.now());
            assertThat(writesA.createTopology(termA, first)).isEqualTo(LeaderWrites.Outcome.OK);

            // node1's session expires (a long freeze, a partition); node2 takes over and writes
            zk.expireSession(a.client());
            Leadership.Term termB = Await.value("node2 to lead", Duration.ofSeconds(20), leaderB::current);
            Stat stat = new Stat();
            observer.getData().storingStatIn(stat).forPath(paths.topology());
            LeaderWrites writesB = new LeaderWrites(b, Duration.ofSeconds(5));
            assertThat(writesB.setTopology(termB, first.withLeader("node2", Instant.now()), stat.getVersion()))
                    .isEqualTo(LeaderWrites.Outcome.OK);

            // node1 comes back with its stale term: its transaction checks a latch node that is gone
            Await.until("node1 to reconnect", Duration.ofSeconds(20), a::isConnected);
            Topology stale = new Topology("deposed", 2, new Topology.Primary("node3", "127.0.0.1", 5433, 2), List.of(),
                    "node1", false, Instant.now());
            observer.getData().storingStatIn(stat).forPath(paths.topology());
            assertThat(writesA.setTopology(termA, stale, stat.getVersion())).isEqualTo(LeaderWrites.Outcome.NOT_LEADER);
            assertThat(writesA.putDocument(termA, paths.decision(), new byte[] {'{', '}'}, false))
                    .isEqualTo(LeaderWrites.Outcome.NOT_LEADER);
            Topology now = TopologyCodec.decode(observer.getData().forPath(paths.topology()));
            assertThat(now.leader()).isEqualTo("node2");
            assertThat(now.primary().id()).isEqualTo("node1");
            assertThat(observer.checkExists().forPath(paths.decision())).isNull();

            // and a write against an outdated version fails even for the real leader
            assertThat(writesB.setTopology(termB, first, stat.getVersion() - 1)).isEqualTo(LeaderWrites.Outcome.CONFLICT);

            leaderA.stop();
            leaderB.stop();
            a.stop();
            b.stop();
        }
    }

    @Test
    void aLeaderSentinelFrozenPastItsSessionDoesNotActOnStaleLeadershipAfterThaw() {
        try (SentinelCluster cluster = SentinelCluster.start(2)) {
            Topology before = cluster.awaitTopology("a healthy topology", t -> t.replicas().stream()
                    .allMatch(r -> r.state().json().equals("streaming")));
            LocalSentinel frozen = cluster.sentinel(before.leader());
            List<Topology> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
            frozen.process().freeze();
            try (var watcher = io.pgsentinel.shared.client.ZooKeeperTopologyWatcher.start(cluster.zkClient(),
                    cluster.paths())) {
                watcher.addListener((previous, current) -> seen.add(current));
                cluster.awaitTopology("another sentinel to lead", t -> !frozen.id().equals(t.leader()));
                frozen.process().thaw();
                Await.until("the thawed sentinel to serve again", SentinelCluster.WAIT, frozen::isUp);
                // it has run its cycles again: its report is back, written in its new session
                Await.until("the thawed sentinel to report again", SentinelCluster.WAIT, () -> cluster.zkClient()
                        .checkExists().forPath(cluster.paths().member(frozen.id())) != null
                        && frozen.log().contains("no longer the leader"));
            }
            // no topology written since the freeze names the thawed sentinel, and the epoch never moved
            assertThat(seen).as("topologies published since the freeze").isNotEmpty()
                    .allSatisfy(t -> assertThat(t.epoch()).isEqualTo(before.epoch()))
                    .filteredOn(t -> t != seen.get(0)).allSatisfy(t -> assertThat(t.leader()).isNotEqualTo(frozen.id()));
            assertThat(cluster.topologyInZooKeeper().leader()).isNotEqualTo(frozen.id());
            String log = frozen.log();
            assertThat(log).contains("no longer the leader");
            // nothing was decided or published by it after it learned it no longer leads
            assertThat(log.substring(log.indexOf("no longer the leader"))).doesNotContain("LeaderDuties");
        }
    }
}
