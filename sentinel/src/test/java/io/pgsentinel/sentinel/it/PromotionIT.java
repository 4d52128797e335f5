package io.pgsentinel.sentinel.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgsentinel.sentinel.demo.LocalSentinel;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.PgNode;
import io.pgsentinel.testkit.TcpProxy;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Rule 2 around the promotion itself: a leader deposed in the middle of a failover never
 * promotes, and a server promoted by a leader that died before publishing is found and adopted,
 * not joined by a second primary.
 */
class PromotionIT extends ClusterTest {

    /** Restarts every sentinel but {@code id}'s and the primary's, so that {@code id}'s sentinel leads. */
    private void makeLeader(String id) {
        List<LocalSentinel> others = cluster.sentinels().stream()
                .filter(s -> !s.id().equals(id) && !s.id().equals("node1")).toList();
        others.forEach(s -> s.process().kill9());
        cluster.awaitTopology(id + " to lead", t -> id.equals(t.leader()));
        others.forEach(LocalSentinel::start);
        others.forEach(s -> s.awaitUp(SentinelCluster.WAIT));
        cluster.awaitTopology("every replica streaming again", t -> t.replicas().stream()
                .allMatch(r -> r.state().json().equals("streaming")) && id.equals(t.leader()));
    }

    /** The decision a sentinel shows in {@code GET /cluster}, or an empty node when it does not answer. */
    private JsonNode decision(LocalSentinel via) {
        try {
            return cluster.cluster(via).path("decision");
        } catch (AssertionError e) {
            return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
        }
    }

    /**
     * The primary hangs; the leader (node3's sentinel) is frozen while its failover waits for the
     * old primary's fence, until its session is gone and another sentinel leads. Thawed, the
     * deposed leader must neither promote nor publish anything: its successor decides alone.
     */
    @Test
    void aLeaderFrozenInTheMiddleOfAFailoverNeitherPromotesNorPublishesOnceThawed() {
        cluster = SentinelCluster.start(2);
        cluster.awaitTopology("a healthy topology", t -> t.primary().id().equals("node1") && t.replicas().stream()
                .allMatch(r -> r.state().json().equals("streaming")));
        makeLeader("node3");
        sampler = new WriteSampler(cluster);
        LocalSentinel leader = cluster.sentinel("node3");
        List<Topology> publishedByIt = new java.util.concurrent.CopyOnWriteArrayList<>();

        // a hung primary: its sentinel's stop takes a while (fast, immediate, then SIGKILL), the leader waits meanwhile
        cluster.pg().node("node1").freeze();
        JsonNode inProgress = Await.value("node3 to fence node1 before promoting node2", SentinelCluster.WAIT,
                Duration.ofMillis(20), () -> {
                    JsonNode d = decision(leader);
                    return d.path("reason").asText().contains("before promoting node2") ? d : null;
                });
        leader.process().freeze();
        try (var watcher = io.pgsentinel.shared.client.ZooKeeperTopologyWatcher.start(cluster.zkClient(),
                cluster.paths())) {
            watcher.addListener((before, now) -> {
                if (before != null && "node3".equals(now.leader())) {
                    publishedByIt.add(now);
                }
            });
            cluster.awaitTopology("another sentinel to lead", t -> !"node3".equals(t.leader()));
            leader.process().thaw();
            Await.until("the thawed sentinel to learn it no longer leads", SentinelCluster.WAIT,
                    () -> leader.log().contains("no longer the leader"));
            Await.until("the thawed sentinel to report again", SentinelCluster.WAIT, () -> cluster.zkClient()
                    .checkExists().forPath(cluster.paths().member("node3")) != null);
            Topology t = cluster.awaitTopology("one primary serving, the others streaming", x -> x.replicas().stream()
                    .allMatch(r -> r.state().json().equals("streaming")));
            assertThat(publishedByIt).as("topologies published by the deposed leader after its freeze").isEmpty();
            for (PgNode n : cluster.pg().nodes()) {
                assertThat(n.isInRecovery()).as(n.name() + " (" + inProgress + ")")
                        .isEqualTo(!n.name().equals(t.primary().id()));
            }
        }
        String afterThaw = leader.log().substring(leader.log().indexOf("no longer the leader"));
        assertThat(afterThaw).doesNotContain("promoted to timeline").doesNotContain("failover done");
        sampler.assertNeverTwoWritable();
    }

    /**
     * The leader runs on the candidate's host (node2) and dies right after promoting its own
     * server, before publishing (its link to ZooKeeper is slow, so the publication lags). Its
     * successor must find node2 accepting writes without any report of it, and publish it: never
     * promote node3 beside it.
     */
    @Test
    void aServerPromotedByALeaderThatDiedBeforePublishingIsAdopted() throws Exception {
        cluster = SentinelCluster.start(2);
        cluster.awaitTopology("a healthy topology", t -> t.primary().id().equals("node1") && t.replicas().stream()
                .allMatch(r -> r.state().json().equals("streaming")));
        List<TcpProxy> slow = cluster.proxyZooKeeper("node2");
        makeLeader("node2");
        sampler = new WriteSampler(cluster);
        slow.forEach(p -> p.delay(Duration.ofMillis(400)));
        PgNode candidate = cluster.pg().node("node2");

        long epochAtKill;
        try (Connection c = candidate.connect(); Statement s = c.createStatement()) {
            cluster.sentinel("node1").process().kill9();
            cluster.pg().node("node1").kill9();
            long deadline = System.nanoTime() + SentinelCluster.WAIT.toNanos();
            while (true) {
                try (ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
                    rs.next();
                    if (!rs.getBoolean(1)) {
                        break;
                    }
                }
                assertThat(System.nanoTime() - deadline).as("node2 promoted in time").isNegative();
            }
            cluster.sentinel("node2").process().kill9(); // the leader's host dies: its sentinel first
            epochAtKill = cluster.topologyInZooKeeper().epoch();
        }
        assertThat(epochAtKill).as("node2 was promoted and not yet published when its sentinel died").isEqualTo(1);
        Topology adopted = cluster.awaitTopology("a new primary", t -> t.epoch() > 1);
        assertThat(adopted.primary().id()).isEqualTo("node2");
        assertThat(cluster.pg().node("node3").isInRecovery()).isTrue();
        assertThat(cluster.sentinel("node3").log()).contains("node2 already accepts writes");
        sampler.assertNeverTwoWritable();
    }

    /**
     * node3 lags (its WAL receiver stopped); the primary's host dies and node2 is promoted to
     * timeline 2; node2's host dies right after, before node3 ever saw timeline 2. node3 must be
     * promoted to a timeline never used before (3): promoted to 2 a second time, it would share a
     * timeline with node2's diverged WAL, which node2 could then never rejoin (or, worse, follow
     * as if it were one history).
     */
    @Test
    void aCandidateThatNeverSawTheNewestTimelineIsPromotedToANewOne() {
        cluster = SentinelCluster.start(2, y -> y + "failover:\n  minInterval: 0s\n");
        cluster.awaitTopology("a healthy topology", t -> t.primary().id().equals("node1") && t.replicas().stream()
                .allMatch(r -> r.state().json().equals("streaming")));
        PgNode node3 = cluster.pg().node("node3");
        long receiver = Long.parseLong(node3.query("SELECT pid FROM pg_stat_wal_receiver"));
        io.pgsentinel.localcluster.Processes.freeze(receiver);
        try {
            cluster.sentinel("node1").process().kill9();
            cluster.pg().node("node1").kill9();
            Topology second = cluster.awaitTopology("node2 promoted", t -> t.epoch() == 2);
            assertThat(second.primary().id()).isEqualTo("node2");
            assertThat(second.primary().timeline()).isEqualTo(2);
            cluster.sentinel("node2").process().kill9();
            cluster.pg().node("node2").kill9();
        } finally {
            io.pgsentinel.localcluster.Processes.signal("CONT", receiver);
        }
        cluster.sentinel("node1").start(); // the first host comes back: its sentinel votes again
        Topology third = cluster.awaitTopology("node3 promoted", t -> t.epoch() == 3);
        assertThat(third.primary().id()).isEqualTo("node3");
        assertThat(third.primary().timeline()).as("a timeline never used before").isEqualTo(3);
        cluster.sentinel("node2").start(); // node2's host comes back: it must rejoin node3
        cluster.awaitTopology("node1 and node2 streaming from node3", t -> t.epoch() == 3 && t.replicas().stream()
                .allMatch(r -> r.state().json().equals("streaming")));
        assertThat(cluster.pg().node("node2").query("SELECT received_tli FROM pg_stat_wal_receiver")).isEqualTo("3");
    }
}
