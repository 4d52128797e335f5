package io.pgsentinel.sentinel.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.PgNode;
import io.pgsentinel.shared.topology.Topology;
import java.util.Objects;
import org.junit.jupiter.api.Test;

/**
 * Cascading replication on real processes (tag {@code replicatefrom}): node3 streams from node2,
 * falls back to the primary while node2 is down, returns to node2 once it streams again, and
 * follows node2 when a failover promotes it; the topology and {@code /cluster} say where it
 * streams from.
 */
class CascadeIT extends ClusterTest {

    @Test
    void aReplicaTaggedReplicatefromCascadesFallsBackToThePrimaryAndFollowsAFailover() throws Exception {
        // node3 cascades from node2 and is never promoted: the failover below promotes node2
        cluster = SentinelCluster.start(2, y -> y.contains("  id: node3\n")
                ? y.replaceFirst("node:\n", "node:\n  tags:\n    replicatefrom: node2\n    nofailover: true\n") : y);
        PgNode node1 = cluster.pg().node("node1");
        PgNode node2 = cluster.pg().node("node2");
        PgNode node3 = cluster.pg().node("node3");

        awaitStreaming("node3 streaming from node2", "node2");
        awaitWalSenders(node2, "node3");
        awaitWalSenders(node1, "node2");
        node1.execute("CREATE TABLE cascade_test (id int)");
        node1.execute("INSERT INTO cascade_test VALUES (1)");
        node3.awaitReplayed(node1.currentFlushLsn(), SentinelCluster.WAIT);
        assertThat(node3.query("SELECT count(*) FROM cascade_test")).isEqualTo("1");
        JsonNode member3 = member(cluster.cluster(cluster.sentinel("node1")), "node3");
        assertThat(member3.path("tags").path("replicatefrom").asText()).isEqualTo("node2");
        assertThat(member3.path("upstream").asText()).isEqualTo("node2");

        // node2's host is lost: node3 streams from the primary meanwhile
        cluster.sentinel("node2").process().kill9();
        node2.kill9();
        awaitStreaming("node3 back on the primary while node2 is down", null);
        awaitWalSenders(node1, "node3");
        node1.execute("INSERT INTO cascade_test VALUES (2)");
        node3.awaitReplayed(node1.currentFlushLsn(), SentinelCluster.WAIT);

        // node2 comes back and streams: node3 returns to it
        cluster.sentinel("node2").start();
        awaitStreaming("node3 streaming from node2 again", "node2");
        awaitWalSenders(node2, "node3");

        // the primary's host is lost: node2 is promoted, node3 follows it as the primary it now is
        cluster.sentinel("node1").process().kill9();
        node1.kill9();
        Topology after = cluster.awaitTopology("node2 promoted, node3 streaming from it", t -> t.epoch() == 2
                && t.primary().id().equals("node2") && t.replica("node3").map(r -> r.state().json().equals("streaming")
                && r.upstream() == null).orElse(false));
        assertThat(after.primary().id()).isEqualTo("node2");
        node2.execute("INSERT INTO cascade_test VALUES (3)");
        node3.awaitReplayed(node2.currentFlushLsn(), SentinelCluster.WAIT);
        assertThat(node3.query("SELECT count(*) FROM cascade_test")).isEqualTo("3");
        assertThat(node3.isInRecovery()).isTrue();
    }

    /**
     * node2 tagged clonefrom: a reinit of node3 copies node2, not the primary (the clone command
     * records which server it copied), then node3 streams from the primary holding every commit.
     */
    @Test
    void aReplicaTaggedClonefromIsWhatANewCloneCopies() throws Exception {
        String basebackup = io.pgsentinel.localcluster.PgInstall.find().bin("pg_basebackup").toString();
        String recording = basebackup + " -h {host} -p {port} -U postgres -D {dataDirectory} -X stream -c fast"
                + " && echo {port} > {dataDirectory}/copied-from-port";
        cluster = SentinelCluster.start(2, y -> y.contains("  id: node2\n")
                ? y.replaceFirst("node:\n", "node:\n  tags:\n    clonefrom: true\n")
                : y.contains("  id: node3\n") ? y + "replication:\n  cloneCommand: \"" + recording + "\"\n" : y);
        cluster.awaitTopology("a healthy topology", t -> states(t).equals("node2=streaming,node3=streaming"));
        PgNode node1 = cluster.pg().node("node1");
        PgNode node3 = cluster.pg().node("node3");
        node1.execute("CREATE TABLE cloned (id int)");
        node1.execute("INSERT INTO cloned SELECT generate_series(1, 1000)");

        io.pgsentinel.localcluster.ChildJvm cli = io.pgsentinel.localcluster.ChildJvm.builder("cli-reinit",
                        io.pgsentinel.sentinel.SentinelApplication.class.getName())
                .args("reinit", cluster.sentinel("node3").config().toString(), "node3", "--wait", "120").start();
        assertThat(cli.awaitExit(java.time.Duration.ofSeconds(150))).as(cli.logText()).isEqualTo(0);
        assertThat(java.nio.file.Files.readString(node3.dataDirectory().resolve("copied-from-port")).strip())
                .isEqualTo(Integer.toString(cluster.pg().node("node2").port()));
        assertThat(cluster.sentinel("node3").log()).contains("cloning node2 (tagged clonefrom, streaming) rather than "
                + "the primary node1");
        awaitStreaming("node3 streaming from the primary after its clone", null);
        Await.until("node3 to stream from node1", SentinelCluster.WAIT, () -> walSenders(node1).contains("node3"));
        node1.execute("INSERT INTO cloned VALUES (1001)");
        node3.awaitReplayed(node1.currentFlushLsn(), SentinelCluster.WAIT);
        assertThat(node3.query("SELECT count(*) FROM cloned")).isEqualTo("1001");
    }

    private Topology awaitStreaming(String what, String upstream) {
        return cluster.awaitTopology(what, t -> t.replica("node3").map(r -> r.state().json().equals("streaming")
                && Objects.equals(r.upstream(), upstream)).orElse(false));
    }

    /**
     * Waits until the server streams to exactly {@code expected} (a walsender starts in catchup,
     * and the one a re-pointed replica left ends a moment after it went).
     */
    private static void awaitWalSenders(PgNode server, String expected) {
        Await.until(server.name() + " streaming to " + expected, SentinelCluster.WAIT,
                () -> walSenders(server).equals(expected));
    }

    /** The application names the server's walsenders stream to, comma-separated. */
    private static String walSenders(PgNode server) {
        return server.query("SELECT coalesce(string_agg(application_name, ',' ORDER BY application_name), '') "
                + "FROM pg_stat_replication WHERE state = 'streaming'");
    }

    private static JsonNode member(JsonNode clusterDocument, String id) {
        for (JsonNode m : clusterDocument.path("members")) {
            if (m.path("id").asText().equals(id)) {
                return m;
            }
        }
        throw new AssertionError(id + " not in /cluster");
    }
}
