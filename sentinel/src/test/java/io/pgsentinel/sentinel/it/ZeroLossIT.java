package io.pgsentinel.sentinel.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsentinel.sentinel.demo.Http;
import io.pgsentinel.shared.client.RoutingDataSource;
import io.pgsentinel.shared.client.ZooKeeperTopologyWatcher;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.testkit.Await;
import io.pgsentinel.testkit.KitRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.Test;

/**
 * Rule 4 for real: client threads insert unique ids through the routing DataSource and record
 * which inserts were acknowledged, across rounds alternating kill -9 of the primary's host and
 * planned switchovers. In synchronous quorum mode every acknowledged id must be on the final
 * primary; in asynchronous mode the losses are counted, for comparison.
 */
class ZeroLossIT {
    private static final String TOKEN = "zero-loss-token";

    @Test
    void synchronousQuorumModeLosesNoAcknowledgedWrite() throws Exception {
        Result r = run(true, Integer.getInteger("zeroloss.rounds", 10));
        System.out.printf("synchronous quorum mode: %d acknowledged writes over %d rounds, %d lost%n", r.acked(), r.rounds(),
                r.lost());
        assertThat(r.lost()).isZero();
    }

    @Test
    void asynchronousModeForComparison() throws Exception {
        Result r = run(false, Integer.getInteger("zeroloss.asyncRounds", 4));
        System.out.printf("asynchronous mode: %d acknowledged writes over %d rounds, %d lost%n", r.acked(), r.rounds(),
                r.lost());
        assertThat(r.acked()).isPositive();
    }

    @Test
    void whenThePrimaryAndTheMostAdvancedStandbyDieTogetherTheLaggingOneIsNotPromoted() throws Exception {
        // quorum 1: the one surviving sentinel may decide, so the synchronous rule is what holds it back
        String extra = "failureDetection:\n  checkInterval: 500ms\n  checkTimeout: 1s\n  downAfter: 3s\n  quorum: 1\n"
                + "replication:\n  synchronous: quorum\n  synchronousCount: 1\n";
        try (SentinelCluster cluster = SentinelCluster.start(2, y -> y.replaceAll("(?s)failureDetection:.*?downAfter: 3s\n", "")
                + extra)) {
            awaitSettled(cluster, true);
            var node3 = cluster.pg().node("node3");
            long receiver = Long.parseLong(node3.query("SELECT pid FROM pg_stat_wal_receiver"));
            io.pgsentinel.testkit.Processes.signal("STOP", receiver);
            try {
                // acknowledged by node2 alone (ANY 1): node3 does not have these
                cluster.pg().primary().execute("CREATE TABLE only_on_node2 AS SELECT generate_series(1, 100) AS id");
                for (String host : List.of("node1", "node2")) {
                    cluster.sentinel(host).process().kill9();
                    cluster.pg().node(host).kill9();
                }
                var decision = Await.value("the leader to refuse", SentinelCluster.WAIT, () -> {
                    var d = cluster.cluster(cluster.sentinel("node3")).get("decision");
                    return d.path("reason").asText().contains("synchronous quorum mode") ? d : null;
                });
                assertThat(decision.get("action").asText()).isEqualTo("wait");
                assertThat(decision.get("reason").asText()).contains("1 of them can be heard (node3), 2 are needed");
                assertThat(cluster.topologyInZooKeeper().primary().id()).isEqualTo("node1");
                assertThat(node3.isInRecovery()).isTrue();
            } finally {
                io.pgsentinel.testkit.Processes.signal("CONT", receiver);
            }
        }
    }

    record Result(int acked, int lost, int rounds) {
    }

    private static String states(Topology t) {
        return t.replicas().stream().map(x -> x.id() + "=" + x.state().json()).collect(Collectors.joining(","));
    }

    private Result run(boolean synchronous, int rounds) throws Exception {
        Path token = KitRun.get().newDirectory("token").resolve("api.token");
        Files.writeString(token, TOKEN + "\n");
        String extra = "api:\n  tokenFile: " + token + "\nfailover:\n  minInterval: 0s\n"
                + (synchronous ? "replication:\n  synchronous: quorum\n  synchronousCount: 1\n" : "");
        try (SentinelCluster cluster = SentinelCluster.start(2, y -> y + extra);
             CuratorFramework zk = cluster.zk().newClient(Duration.ofSeconds(10));
             ZooKeeperTopologyWatcher watcher = ZooKeeperTopologyWatcher.start(zk, cluster.paths());
             RoutingDataSource db = RoutingDataSource.builder(watcher).user("postgres")
                     .poolCustomizer(h -> h.setConnectionTimeout(1000)).build()) {
            awaitSettled(cluster, synchronous);
            cluster.pg().primary().execute("CREATE TABLE zl (id bigint PRIMARY KEY)");
            WriteSampler sampler = new WriteSampler(cluster);
            AckedWriters writers = new AckedWriters(db, "zl", 3);
            for (int round = 1; round <= rounds; round++) {
                Topology before = cluster.topologyInZooKeeper();
                String primary = before.primary().id();
                Await.until("writes before round " + round, SentinelCluster.WAIT, () -> writers.acknowledged() > 0);
                if (round % 2 == 1) {
                    cluster.sentinel(primary).process().kill9();
                    cluster.pg().node(primary).kill9();
                    cluster.awaitTopology("round " + round + ": failover", t -> t.epoch() > before.epoch());
                    cluster.sentinel(primary).start(); // the host comes back and rejoins
                } else {
                    Http.Reply r = Http.post(cluster.sentinel(otherThan(primary)).url("/switchover"), "{}", TOKEN);
                    assertThat(r.status()).as(r.body()).isEqualTo(202);
                    cluster.awaitTopology("round " + round + ": switchover", t -> t.epoch() > before.epoch());
                }
                awaitSettled(cluster, synchronous);
            }
            writers.stop();
            sampler.close();
            sampler.assertNeverTwoWritable();
            String finalPrimary = cluster.topologyInZooKeeper().primary().id();
            return new Result(writers.acknowledged(), writers.lostOn(cluster.pg().node(finalPrimary)), rounds);
        }
    }

    private static String otherThan(String id) {
        return id.equals("node2") ? "node3" : "node2";
    }

    /** Every node streaming from the primary and, in synchronous mode, the set active with both standbys. */
    private static void awaitSettled(SentinelCluster cluster, boolean synchronous) {
        cluster.awaitTopology("a settled cluster", t -> t.replicas().stream().allMatch(r -> r.state().json().equals("streaming"))
                && (!synchronous || (t.synchronous() != null && t.synchronous().active()
                && t.synchronous().standbys().size() == 2)));
    }
}
