package io.pgsentinel.sentinel.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsentinel.sentinel.demo.Http;
import io.pgsentinel.shared.client.RoutingDataSource;
import io.pgsentinel.shared.client.ZooKeeperTopologyWatcher;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.KitRun;
import io.pgsentinel.localcluster.PgNode;
import io.pgsentinel.localcluster.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.Tag;
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
        Result r = run(true, Integer.getInteger("zeroloss.rounds", 2));
        System.out.printf("synchronous quorum mode: %d acknowledged writes over %d rounds, %d lost%n", r.acked(), r.rounds(),
                r.lost());
        assertThat(r.lost()).isZero();
    }

    /** A figure, not a rule (asynchronous mode may lose writes): run with the benchmarks (bin/bench). */
    @Test
    @Tag("benchmark")
    void asynchronousModeForComparison() throws Exception {
        Result r = run(false, Integer.getInteger("zeroloss.asyncRounds", 2));
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
            io.pgsentinel.localcluster.Processes.freeze(receiver);
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
                io.pgsentinel.localcluster.Processes.signal("CONT", receiver);
            }
        }
    }

    /** Synchronous quorum mode, ANY k, failover without cooldown, on primary + {@code replicas} replicas. */
    private static SentinelCluster synchronousCluster(int replicas, int k) {
        SentinelCluster cluster = SentinelCluster.start(replicas, y -> y + "failover:\n  minInterval: 0s\n"
                + "replication:\n  synchronous: quorum\n  synchronousCount: " + k + "\n");
        cluster.awaitTopology("a settled cluster", t -> t.replicas().stream()
                .allMatch(r -> r.state().json().equals("streaming")) && t.synchronous() != null
                && t.synchronous().active() && t.synchronous().standbys().size() == replicas
                && t.synchronous().minPosition() == null);
        return cluster;
    }

    /** Writers through the routing DataSource, closed with it. */
    private record Clients(CuratorFramework zk, ZooKeeperTopologyWatcher watcher, RoutingDataSource db,
                           AckedWriters writers) implements AutoCloseable {
        static Clients start(SentinelCluster cluster, String table) {
            cluster.pg().primary().execute("CREATE TABLE " + table + " (id bigint PRIMARY KEY)");
            CuratorFramework zk = cluster.zk().newClient(Duration.ofSeconds(10));
            ZooKeeperTopologyWatcher watcher = ZooKeeperTopologyWatcher.start(zk, cluster.paths());
            RoutingDataSource db = RoutingDataSource.builder(watcher).user("postgres")
                    .poolCustomizer(h -> h.setConnectionTimeout(1000)).build();
            return new Clients(zk, watcher, db, new AckedWriters(db, table, 3));
        }

        /** Stops writing; the acknowledged ids missing from {@code primary}. */
        int stopAndCountLost(PgNode primary) throws InterruptedException {
            writers.stop();
            return writers.lostOn(primary);
        }

        @Override
        public void close() {
            db.close();
            watcher.close();
            zk.close();
        }
    }

    /** The pid of a replica's WAL receiver: SIGSTOP makes the replica fall behind while its server answers. */
    private static long walReceiver(PgNode replica) {
        return Long.parseLong(replica.query("SELECT pid FROM pg_stat_wal_receiver"));
    }

    /** The pid of the primary's walsender to {@code standby}: SIGSTOP holds the standby back from the primary's end. */
    private static long walSender(PgNode primary, String standby) {
        return Long.parseLong(primary.query("SELECT pid FROM pg_stat_replication WHERE application_name = '" + standby + "'"));
    }

    private static void killHost(SentinelCluster cluster, String id) {
        cluster.sentinel(id).process().kill9();
        cluster.pg().node(id).kill9();
    }

    /**
     * ANY 1 (node2, node3). node3 falls behind for a moment, then the primary's host and node2's
     * die together, and node2 comes back as the standby it is within a second: its received
     * position reads NULL, then the start of a segment, though it holds every acknowledged
     * commit. It must be judged by what it holds, and promoted.
     *
     * <p>node3 is held back at the primary's end (its walsender stopped), not at its own: a stopped
     * WAL receiver still gets what the kernel's socket buffers hold (up to tcp_rmem's maximum, 32 MB
     * on some hosts), so it could end up with every acknowledged commit after all.
     */
    @Test
    void aStandbyRestartedRightAfterItAndThePrimaryDiedIsJudgedByWhatItHolds() throws Exception {
        try (SentinelCluster cluster = synchronousCluster(2, 1); Clients clients = Clients.start(cluster, "restarted")) {
            PgNode node2 = cluster.pg().node("node2");
            PgNode node3 = cluster.pg().node("node3");
            // node3 stops early in a fresh WAL segment, past its start: the start of the segment is
            // what node2 asks for when it restarts, so node3's position reads as further
            PgNode primary = cluster.pg().primary();
            primary.execute("SELECT pg_switch_wal()");
            primary.execute("CREATE TABLE early AS SELECT generate_series(1, 1000) AS id");
            node3.awaitReplayed(primary.currentFlushLsn(), SentinelCluster.WAIT);
            Processes.freeze(walSender(primary, "node3"));
            primary.execute("CREATE TABLE pad AS SELECT g AS id, repeat('x', 1000) AS pad FROM generate_series(1, 10000) g");
            int before = clients.writers().acknowledged();
            Await.until("writes acknowledged by node2 alone", SentinelCluster.WAIT,
                    () -> clients.writers().acknowledged() > before + 200);
            killHost(cluster, "node1"); // its stopped walsender dies with it
            killHost(cluster, "node2");
            node2.start(); // as the standby it is
            cluster.sentinel("node2").start();
            Topology after = cluster.awaitTopology("a new primary", t -> t.epoch() > 1);
            int lost = clients.stopAndCountLost(cluster.pg().node(after.primary().id()));
            assertThat(lost).as("acknowledged writes lost, " + after.primary().id() + " promoted").isZero();
            assertThat(after.primary().id()).isEqualTo("node2");
            assertThat(node3.isInRecovery()).isTrue();
        }
    }

    /**
     * ANY 1 (node2, node3, node4). node4 acknowledges alone (node2 and node3 lag), then its host
     * dies: the primary stops waiting for it, but commits it acknowledged alone are on no other
     * member, so it must stay in the published set until one of them holds them. The primary dies
     * next: nothing acknowledged may be lost (the failover waits for node4, which comes back).
     */
    @Test
    void aStandbyLeavesTheSetOnlyOnceWhatItAcknowledgedIsOnTheOthers() throws Exception {
        try (SentinelCluster cluster = synchronousCluster(3, 1); Clients clients = Clients.start(cluster, "shrink")) {
            // held back at the primary's end: a stopped receiver could still get it all from its socket buffers
            PgNode primary = cluster.pg().primary();
            long r2 = walSender(primary, "node2");
            long r3 = walSender(primary, "node3");
            Processes.freeze(List.of(r2, r3));
            try {
                primary.execute("CREATE TABLE pad AS SELECT g AS id, repeat('x', 1000) AS pad FROM generate_series(1, 10000) g");
                int before = clients.writers().acknowledged();
                Await.until("writes acknowledged by node4 alone", SentinelCluster.WAIT,
                        () -> clients.writers().acknowledged() > before + 200);
                killHost(cluster, "node4");
                Await.until("the primary to stop waiting for node4", SentinelCluster.WAIT, () -> cluster.pg().primary()
                        .query("SHOW synchronous_standby_names").equals("ANY 1 (node2, node3)"));
                Await.until("the leader to unpublish node4, or to say why not", SentinelCluster.WAIT, () ->
                        !cluster.topologyInZooKeeper().synchronous().standbys().contains("node4")
                                || cluster.sentinels().stream().anyMatch(s -> s.log()
                                .contains("before unpublishing [node4]")));
                killHost(cluster, "node1");
            } finally {
                Processes.signal("CONT", List.of(r2, r3));
            }
            cluster.sentinel("node4").start(); // its host comes back
            Topology after = cluster.awaitTopology("a new primary", t -> t.epoch() > 1);
            int lost = clients.stopAndCountLost(cluster.pg().node(after.primary().id()));
            assertThat(lost).as("acknowledged writes lost, " + after.primary().id() + " promoted").isZero();
        }
    }

    /**
     * ANY 1 (node2, node3), node3 lagging (its WAL receiver stopped). The primary's host dies and
     * node2 is promoted; node3 still lags, and half a second after the publication node2's host
     * dies too. node2 must never have acknowledged a commit alone: nothing it acknowledged may be
     * lost (node3 is not promoted without it: the next failover waits for node2, which comes back).
     */
    @Test
    void theNewPrimaryDyingRightAfterTheFailoverLosesNothing() throws Exception {
        try (SentinelCluster cluster = synchronousCluster(2, 1); Clients clients = Clients.start(cluster, "second")) {
            long receiver = walReceiver(cluster.pg().node("node3"));
            Processes.freeze(receiver);
            try {
                int before = clients.writers().acknowledged();
                Await.until("writes acknowledged by node2 alone", SentinelCluster.WAIT,
                        () -> clients.writers().acknowledged() > before + 100);
                killHost(cluster, "node1");
                cluster.awaitTopology("node2 promoted", t -> t.epoch() == 2 && t.primary().id().equals("node2"));
                int atPublication = clients.writers().acknowledged();
                long deadline = System.nanoTime() + Duration.ofMillis(500).toNanos();
                while (clients.writers().acknowledged() < atPublication + 50 && System.nanoTime() < deadline) {
                    Thread.sleep(10); // the fault comes within half a second of the publication, after writes if any
                }
                killHost(cluster, "node2");
            } finally {
                Processes.signal("CONT", receiver);
            }
            cluster.sentinel("node1").start(); // the first host comes back
            try {
                Await.until("a second failover", Duration.ofSeconds(25), () -> cluster.topologyInZooKeeper().epoch() > 2);
            } catch (AssertionError waited) {
                // no standby held what node2 acknowledged: the decision waits for it; it comes back
                cluster.sentinel("node2").start();
            }
            Topology end = cluster.awaitTopology("a primary serving", t -> t.replicas().stream()
                    .anyMatch(r -> r.state().json().equals("streaming")));
            int lost = clients.stopAndCountLost(cluster.pg().node(end.primary().id()));
            assertThat(lost).as("acknowledged writes lost, ending on " + end.primary().id()).isZero();
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
            sampler.assertNeverTwoWritable();
            sampler.close();
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
