package io.pgsentinel.sentinel.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.PgNode;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.localcluster.ChildJvm;
import io.pgsentinel.localcluster.KitRun;
import io.pgsentinel.sentinel.SentinelApplication;
import io.pgsentinel.sentinel.demo.Http;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The node lifecycle on real processes: a new host joins a running cluster from an empty data directory. */
class NodeLifecycleIT extends ClusterTest {

    @Test
    void aNodeWithAnEmptyDataDirectoryJoinsDuringWritesAndCanBePromoted() throws Exception {
        // node2 and node3 never take over: after the primary's host is lost, only the node that joined can
        cluster = SentinelCluster.start(2, y -> y.contains("  id: node2\n") || y.contains("  id: node3\n")
                ? y.replaceFirst("node:\n", "node:\n  tags:\n    nofailover: true\n") : y);
        cluster.awaitTopology("a healthy topology", t -> t.primary().id().equals("node1")
                && states(t).equals("node2=streaming,node3=streaming"));
        sampler = new WriteSampler(cluster);
        PgNode primary = cluster.pg().primary();
        primary.execute("CREATE TABLE joined (id int PRIMARY KEY)");
        List<Integer> acked = new CopyOnWriteArrayList<>();
        Thread writer = new Thread(() -> {
            for (int i = 0; !Thread.currentThread().isInterrupted(); i++) {
                try (Connection c = DriverManager.getConnection(primary.jdbcUrl(Duration.ofSeconds(2)));
                     Statement s = c.createStatement()) {
                    s.execute("INSERT INTO joined VALUES (" + i + ")");
                    acked.add(i);
                } catch (Exception e) {
                    return; // the primary is gone: the writer's part is over
                }
            }
        });
        writer.start();
        Await.until("some writes", Duration.ofSeconds(20), () -> acked.size() > 50);

        // a new host: a configuration and an empty data directory, nothing else
        PgNode node4 = cluster.pg().addEmptyNode("node4");
        assertThat(Files.exists(node4.dataDirectory())).isFalse();
        int before = acked.size();
        cluster.addSentinel(node4);
        cluster.awaitTopology("node4 published streaming", t -> t.replica("node4")
                .map(r -> r.state().json().equals("streaming")).orElse(false));
        assertThat(cluster.sentinel("node4").log()).contains("the data directory is empty: joining the cluster as a clone "
                + "of node1").contains("fresh clone done");
        assertThat(Files.exists(node4.dataDirectory().resolveSibling("node4.pg-sentinel-old")))
                .as("an empty directory is not kept aside").isFalse();
        assertThat(primary.query("SELECT active FROM pg_replication_slots WHERE slot_name = 'node4'")).isEqualTo("t");
        Await.until("writes during the join", Duration.ofSeconds(20), () -> acked.size() > before + 100);
        writer.interrupt();
        writer.join();
        Await.until("node4 to hold every acknowledged write", SentinelCluster.WAIT, () ->
                Integer.parseInt(node4.query("SELECT count(*) FROM joined")) == acked.size());

        // the primary's host is lost: node4, the only candidate, takes over with everything
        cluster.sentinel("node1").process().kill9();
        primary.kill9();
        Topology after = cluster.awaitTopology("node4 promoted", t -> t.primary().id().equals("node4"));
        assertThat(after.epoch()).isEqualTo(2);
        Await.until("node4 to accept writes", SentinelCluster.WAIT, () -> !node4.isInRecovery());
        assertThat(node4.queryColumn("SELECT id FROM joined").stream().map(Integer::parseInt).toList())
                .containsAll(acked);
        sampler.assertNeverTwoWritable();
    }

    /**
     * {@code reinit} over the CLI and the API; node3 is cloned by replication.cloneCommand (here a
     * pg_basebackup of its own that leaves a marker), node2's clone command fails and pg_basebackup
     * clones instead.
     */
    @Test
    void reinitReClonesAReplicaKeepsItsOldDirectoryOnceAndIsRefusedForThePrimary() throws Exception {
        Path token = KitRun.get().newDirectory("token").resolve("api.token");
        Files.writeString(token, TOKEN + "\n");
        String basebackup = io.pgsentinel.localcluster.PgInstall.find().bin("pg_basebackup").toString();
        String own = basebackup + " -h {host} -p {port} -U postgres -D {dataDirectory} -X stream -c fast"
                + " && echo {node} > {dataDirectory}/cloned-by-command";
        cluster = SentinelCluster.start(2, y -> y + "api:\n  tokenFile: " + token + "\n" + (y.contains("  id: node3\n")
                ? "replication:\n  cloneCommand: \"" + own + "\"\n"
                : y.contains("  id: node2\n") ? "replication:\n  cloneCommand: \"exit 3\"\n" : ""));
        cluster.awaitTopology("a healthy topology", t -> t.primary().id().equals("node1")
                && states(t).equals("node2=streaming,node3=streaming"));
        sampler = new WriteSampler(cluster);
        PgNode node2 = cluster.pg().node("node2");
        cluster.pg().primary().execute("CREATE TABLE kept (id int)");
        cluster.pg().primary().execute("INSERT INTO kept SELECT generate_series(1, 1000)");
        Path marker = node2.dataDirectory().resolve("pg-sentinel-test-marker");
        Files.writeString(marker, "the directory before the reinit");
        String config = cluster.sentinel("node3").config().toString();

        ChildJvm refused = ChildJvm.builder("cli-reinit-primary", SentinelApplication.class.getName())
                .args("reinit", config, "node1").start();
        assertThat(refused.awaitExit(Duration.ofSeconds(60))).as(refused.logText()).isEqualTo(4);
        assertThat(refused.logText()).contains("reinit refused: node1 is the primary");
        String url = cluster.sentinel("node3").url("/reinit");
        assertThat(Http.post(url, "{\"node\": \"node2\"}", null).status()).isEqualTo(401);
        Http.Reply unknown = Http.post(url, "{\"node\": \"node9\"}", TOKEN);
        assertThat(unknown.status()).as(unknown.body()).isEqualTo(404);
        assertThat(unknown.body()).contains("unknown node 'node9'");
        assertThat(Http.post(url, "{\"node\": 3}", TOKEN).status()).isEqualTo(400);
        assertThat(Http.post(url, "{\"node\": \"node1\"}", TOKEN).status()).isEqualTo(409);

        ChildJvm cli = ChildJvm.builder("cli-reinit", SentinelApplication.class.getName())
                .args("reinit", config, "node2", "--wait", "120").start();
        assertThat(cli.awaitExit(Duration.ofSeconds(150))).as(cli.logText()).isEqualTo(0);
        assertThat(cli.logText()).contains("Reinit of node2 requested").contains("Done: node2 is a fresh clone, streaming.");
        assertThat(marker).doesNotExist();
        Path old = Path.of(node2.dataDirectory() + ".pg-sentinel-old");
        assertThat(old.resolve("pg-sentinel-test-marker")).exists();
        assertThat(node2.query("SELECT count(*) FROM kept")).isEqualTo("1000");
        assertThat(cluster.sentinel("node2").log()).contains("reinit requested: re-cloning node1")
                .contains("reinit of node2 done");

        // again over the API: the old directory is kept once, the one before it is gone
        Http.Reply accepted = Http.post(url, "{\"node\": \"node2\"}", TOKEN);
        assertThat(accepted.status()).as(accepted.body()).isEqualTo(202);
        Await.until("the second reinit to be done", SentinelCluster.WAIT, () -> cluster.sentinel("node2").log()
                .split("reinit of node2 done", -1).length == 3);
        cluster.awaitTopology("node2 streaming again", t -> t.replica("node2")
                .map(r -> r.state().json().equals("streaming")).orElse(false));
        assertThat(old.resolve("pg-sentinel-test-marker")).doesNotExist();
        assertThat(cluster.sentinel("node2").log()).contains("replication.cloneCommand did not make a copy (exit 3");

        // node3: the clone command makes the copy
        ChildJvm byCommand = cli("reinit", config, "node3", "--wait", "120");
        assertThat(byCommand.awaitExit(Duration.ofSeconds(150))).as(byCommand.logText()).isEqualTo(0);
        assertThat(Files.readString(cluster.pg().node("node3").dataDirectory().resolve("cloned-by-command")).strip())
                .isEqualTo("node3");
        assertThat(cluster.sentinel("node3").log()).contains("cloned by replication.cloneCommand");
        assertThat(node2.dataDirectory().resolve("cloned-by-command")).doesNotExist();
        assertThat(cluster.topologyInZooKeeper().epoch()).as("no failover").isEqualTo(1);
        sampler.assertNeverTwoWritable();
    }

    /**
     * A 4th node taken out for good, in synchronous quorum mode: refused while it is the primary
     * or its sentinel runs; once stopped, it leaves the synchronous set first, is deregistered,
     * its slot dropped; and the quorum counts three nodes again: a host loss then fails over,
     * which with four registered nodes (quorum 3) and one of them stopped it could not.
     */
    @Test
    void removeTakesAStoppedNodeOutForGoodAndTheQuorumCountsOneNodeFewer() throws Exception {
        cluster = SentinelCluster.start(3, y -> y + "failover:\n  minInterval: 0s\n"
                + "replication:\n  synchronous: quorum\n  synchronousCount: 1\n");
        cluster.awaitTopology("a settled synchronous cluster", t -> t.replicas().stream()
                .allMatch(r -> r.state().json().equals("streaming")) && t.synchronous() != null
                && t.synchronous().active() && t.synchronous().standbys().size() == 3);
        sampler = new WriteSampler(cluster);
        String config = cluster.sentinel("node2").config().toString();
        assertThat(removeCli(config, "node1").awaitExit(Duration.ofSeconds(60))).isEqualTo(4);
        ChildJvm running = removeCli(config, "node4");
        assertThat(running.awaitExit(Duration.ofSeconds(60))).isEqualTo(4);
        assertThat(running.logText()).contains("node4's sentinel is running");

        cluster.sentinel("node4").process().stop(Duration.ofSeconds(30));
        cluster.pg().node("node4").stop(io.pgsentinel.localcluster.StopMode.FAST);
        ChildJvm remove = removeCli(config, "node4");
        assertThat(remove.awaitExit(Duration.ofSeconds(90))).as(remove.logText()).isEqualTo(0);
        assertThat(remove.logText()).contains("Done: node4 is out of the cluster (3 nodes remain).");
        Topology t = cluster.awaitTopology("node4 no longer published", x -> x.replica("node4").isEmpty());
        assertThat(t.synchronous().standbys()).containsExactlyInAnyOrder("node2", "node3");
        assertThat(cluster.zkClient().checkExists().forPath(cluster.paths().node("node4"))).isNull();
        Await.until("node4's slot dropped on the primary", SentinelCluster.WAIT, () -> cluster.pg().primary()
                .query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'node4'").equals("0"));
        assertThat(cluster.leader().log()).contains("removed node4 from the cluster");

        cluster.sentinel("node1").process().kill9();
        cluster.pg().primary().kill9();
        Topology after = cluster.awaitTopology("a failover with two of three sentinels", x -> x.epoch() == 2);
        assertThat(after.primary().id()).isIn("node2", "node3");
        sampler.assertNeverTwoWritable();
    }

    private static ChildJvm cli(String... args) {
        return ChildJvm.builder("cli-" + args[0], SentinelApplication.class.getName()).args(args).start();
    }

    private static ChildJvm removeCli(String config, String node) {
        return ChildJvm.builder("cli-remove-" + node, SentinelApplication.class.getName())
                .args("remove", config, node, "--wait", "60").start();
    }

    private static final String TOKEN = "s3cret-api-token";
}
