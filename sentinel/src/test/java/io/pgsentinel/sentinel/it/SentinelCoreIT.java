package io.pgsentinel.sentinel.it;

import io.pgsentinel.sentinel.demo.Http;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgsentinel.sentinel.demo.LocalSentinel;
import io.pgsentinel.shared.topology.ReplicaState;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.shared.topology.TopologyCodec;
import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.PgNode;
import io.pgsentinel.localcluster.Processes;
import io.pgsentinel.localcluster.StopMode;
import java.time.Duration;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The sentinel daemon for real: three sentinel processes, PostgreSQL primary + 2 replicas, 3 ZooKeeper servers. */
class SentinelCoreIT extends ClusterTest {



    private Topology awaitHealthyTopology() {
        return cluster.awaitTopology("node1 primary with node2 and node3 streaming", t -> t.primary().id().equals("node1")
                && states(t).equals("node2=streaming,node3=streaming"));
    }

    @Test
    void theTopologyIsPublishedAndTheSameOnEverySentinelAndInZooKeeper() throws Exception {
        cluster = SentinelCluster.start(2);
        Topology t = awaitHealthyTopology();
        assertThat(t.epoch()).isEqualTo(1);
        assertThat(t.primary().port()).isEqualTo(cluster.pg().primary().port());
        assertThat(t.primary().timeline()).isEqualTo(1);
        assertThat(t.leader()).isIn("node1", "node2", "node3");
        for (LocalSentinel s : cluster.sentinels()) {
            Await.until(s.id() + " to serve the same topology", SentinelCluster.WAIT, () -> {
                Http.Reply r = Http.get(s.url("/topology"));
                return r.status() == 200 && TopologyCodec.decode(r.body().getBytes()).primary().equals(t.primary());
            });
        }

        // role checks, GET and HEAD, as HAProxy uses them
        Await.until("role checks to settle", SentinelCluster.WAIT, () ->
                Http.get(cluster.sentinel("node1").url("/primary")).status() == 200
                        && Http.get(cluster.sentinel("node2").url("/replica")).status() == 200
                        && Http.get(cluster.sentinel("node3").url("/replica")).status() == 200);
        assertThat(Http.head(cluster.sentinel("node1").url("/primary")).status()).isEqualTo(200);
        assertThat(Http.get(cluster.sentinel("node1").url("/replica")).status()).isEqualTo(503);
        for (String replica : new String[] {"node2", "node3"}) {
            LocalSentinel s = cluster.sentinel(replica);
            assertThat(Http.get(s.url("/primary")).status()).as(replica + " /primary").isEqualTo(503);
            assertThat(Http.head(s.url("/primary")).status()).isEqualTo(503);
            assertThat(Http.get(s.url("/replica?lag=16MB")).status()).isEqualTo(200);
            assertThat(Http.get(s.url("/replica?lag=abc")).status()).isEqualTo(400);
            assertThat(Http.get(s.url("/read-only")).status()).isEqualTo(200);
        }
        for (LocalSentinel s : cluster.sentinels()) {
            assertThat(Http.get(s.url("/health")).status()).isEqualTo(200);
            assertThat(Http.get(s.adminUrl("/healthcheck")).status()).isEqualTo(200);
            assertThat(Http.get(s.adminUrl("/metrics")).body()).contains("pgsentinel.leader");
            String prometheus = Http.get(s.adminUrl("/metrics/prometheus")).body();
            assertThat(prometheus).contains("pgsentinel_topology_epoch 1.0").contains("pgsentinel_zookeeper_connected 1.0")
                    .containsPattern("pgsentinel_probe_local_seconds\\{quantile=\"0.5\"\\}|pgsentinel_probe_local");
        }

        JsonNode c = cluster.cluster(cluster.sentinel("node3"));
        assertThat(c.get("epoch").asLong()).isEqualTo(1);
        assertThat(c.get("members")).hasSize(3);
        assertThat(c.get("members").get(0).get("role").asText()).isEqualTo("primary");
        assertThat(c.get("members").get(1).get("state").asText()).isEqualTo("streaming");
        assertThat(c.get("members").get(1).get("sentinel").asText()).isEqualTo("up");
        Await.until("the leader's decision to reach every sentinel", SentinelCluster.WAIT,
                () -> cluster.cluster(cluster.sentinel("node3")).get("decision").path("reason").asText()
                        .contains("primary node1 is up"));
    }

    @Test
    void whenTheLeadersSentinelIsKilledAnotherLeadsAndTheEpochStays() {
        cluster = SentinelCluster.start(2);
        Topology before = awaitHealthyTopology();
        LocalSentinel leader = cluster.sentinel(before.leader());
        leader.process().kill9();

        Topology after = cluster.awaitTopology("another sentinel to lead", t -> t.leader() != null
                && !t.leader().equals(leader.id()));
        assertThat(after.epoch()).isEqualTo(before.epoch());
        assertThat(after.primary()).isEqualTo(before.primary());
        if (!leader.id().equals("node1")) {
            // the dead sentinel's server still streams: the primary sees it
            assertThat(after.replica(leader.id()).orElseThrow().state()).isEqualTo(ReplicaState.STREAMING);
        }
    }

    @Test
    void aReplicasSentinelKilledWithItsServerRunningChangesNothing() {
        cluster = SentinelCluster.start(2);
        Topology before = awaitHealthyTopology();
        cluster.sentinel("node3").process().kill9();
        // the ephemeral report goes when the session expires; wait past that
        Await.until("node3's report to vanish", SentinelCluster.WAIT,
                () -> cluster.cluster(cluster.sentinel("node2")).get("members").get(2).get("sentinel").asText().equals("down"));
        Topology after = cluster.topologyInZooKeeper();
        assertThat(after.epoch()).isEqualTo(before.epoch());
        assertThat(after.primary().id()).isEqualTo("node1");
        assertThat(after.replica("node3").orElseThrow().state()).isEqualTo(ReplicaState.STREAMING);
        // node3's sentinel may have been the leader: wait for a live one to decide
        JsonNode decision = Await.value("a live leader's decision", SentinelCluster.WAIT, () -> {
            JsonNode d = cluster.cluster(cluster.sentinel("node2")).get("decision");
            return d.path("by").asText().equals("node3") || d.path("by").asText().isEmpty() ? null : d;
        });
        assertThat(decision.get("action").asText()).isEqualTo("none");
        assertThat(decision.get("reason").asText()).contains("primary node1 is up", "node3 streaming");
    }

    @Test
    void aStoppedReplicaShowsAsDownAndStreamingAgainWhenStarted() {
        cluster = SentinelCluster.start(2);
        awaitHealthyTopology();
        // without its sentinel nobody restarts it: the topology must show it down
        cluster.sentinel("node2").process().kill9();
        cluster.pg().node("node2").stop(StopMode.FAST);
        Topology down = cluster.awaitTopology("node2 down", t -> states(t).equals("node2=down,node3=streaming"));
        assertThat(down.primary().id()).isEqualTo("node1");
        cluster.pg().node("node2").start();
        cluster.awaitTopology("node2 streaming again", t -> states(t).equals("node2=streaming,node3=streaming"));
    }

    @Test
    void aSentinelStartsItsStoppedReplicaAgain() {
        cluster = SentinelCluster.start(2);
        awaitHealthyTopology();
        cluster.pg().node("node3").stop(StopMode.FAST);
        Await.until("node3's sentinel to start its server again", SentinelCluster.WAIT,
                () -> cluster.pg().node("node3").isRunning());
        cluster.awaitTopology("node3 streaming again", t -> states(t).equals("node2=streaming,node3=streaming"));
        assertThat(cluster.topologyInZooKeeper().epoch()).isEqualTo(1);
    }

    @Test
    void whenThePrimaryHostIsLostTheLeaderPromotesTheMostAdvancedReplica() throws Exception {
        cluster = SentinelCluster.start(2);
        awaitHealthyTopology();
        // node2's WAL receiver is frozen, so node3 receives more WAL than node2 before the primary dies
        PgNode node2 = cluster.pg().node("node2");
        long receiver = Long.parseLong(node2.query("SELECT pid FROM pg_stat_wal_receiver"));
        Processes.freeze(receiver);
        cluster.pg().primary().execute("CREATE TABLE t AS SELECT generate_series(1, 1000) AS id");
        cluster.pg().node("node3").awaitReplayed(cluster.pg().primary().currentFlushLsn(), Duration.ofSeconds(20));
        Await.until("node3's report to show it ahead of node2", SentinelCluster.WAIT, () -> {
            JsonNode m = cluster.cluster(cluster.sentinel("node3")).get("members");
            return !m.get(2).path("receiveLsn").asText().equals(m.get(1).path("receiveLsn").asText());
        });
        // host loss: the primary's server and its sentinel die together
        cluster.sentinel("node1").process().kill9();
        cluster.pg().primary().kill9();

        Topology after;
        try {
            after = cluster.awaitTopology("node3 promoted", t -> t.primary().id().equals("node3"));
        } finally {
            Processes.signal("CONT", receiver);
        }
        assertThat(after.epoch()).isEqualTo(2);
        assertThat(after.primary().timeline()).isEqualTo(2);
        JsonNode history = Http.get(cluster.sentinel("node3").url("/history")).json();
        assertThat(history).hasSize(1);
        assertThat(history.get(0).get("kind").asText()).isEqualTo("failover");
        assertThat(history.get(0).get("from").asText()).isEqualTo("node1");
        assertThat(history.get(0).get("to").asText()).isEqualTo("node3");
        // node1's stale vote may still count among the voters until its session expires
        assertThat(history.get(0).get("reason").asText())
                .containsPattern("primary node1 is down: 2 of [23] sentinels have seen it unreachable for at least 3.0 s")
                .contains("promote node3, the most advanced replica");
        assertThat(history.get(0).get("stages").fieldNames()).toIterable()
                .containsExactly("detected", "decided", "fenced", "promoted", "published");
    }
}
