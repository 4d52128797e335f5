package io.pgsentinel.sentinel.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgsentinel.sentinel.SentinelApplication;
import io.pgsentinel.sentinel.demo.Http;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.ChildJvm;
import io.pgsentinel.localcluster.KitRun;
import io.pgsentinel.localcluster.PgNode;
import io.pgsentinel.localcluster.StopMode;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Planned switchover and maintenance mode, on real processes. */
class SwitchoverIT extends ClusterTest {
    private static final String TOKEN = "s3cret-api-token";


    private void start(String extraYaml) throws Exception {
        Path token = KitRun.get().newDirectory("token").resolve("api.token");
        Files.writeString(token, TOKEN + "\n");
        cluster = SentinelCluster.start(2, y -> y + "api:\n  tokenFile: " + token + "\n" + extraYaml);
        cluster.awaitTopology("healthy", t -> t.primary().id().equals("node1") && states(t)
                .equals("node2=streaming,node3=streaming"));
        sampler = new WriteSampler(cluster);
    }


    private Http.Reply post(String path, String body, String token) {
        return Http.post(cluster.sentinel("node2").url(path), body, token);
    }

    private Topology awaitPrimaryWithAllStreaming(String primary) {
        return cluster.awaitTopology(primary + " primary, every other node streaming", t -> t.primary().id().equals(primary)
                && t.replicas().stream().allMatch(r -> r.state().json().equals("streaming")));
    }

    @Test
    void aSwitchoverToANamedCandidateLosesNothingAndTheOldPrimaryRejoinsWithoutRewind() throws Exception {
        start("");
        PgNode old = cluster.pg().primary();
        old.execute("CREATE TABLE acked (id int PRIMARY KEY)");
        // a writer that records which inserts were acknowledged
        List<Integer> acked = new java.util.concurrent.CopyOnWriteArrayList<>();
        Thread writer = new Thread(() -> {
            for (int i = 0; i < 100_000 && !Thread.currentThread().isInterrupted(); i++) {
                for (PgNode n : cluster.pg().nodes()) {
                    try (var c = java.sql.DriverManager.getConnection(n.jdbcUrl(Duration.ofSeconds(1)));
                         var s = c.createStatement()) {
                        s.execute("INSERT INTO acked VALUES (" + i + ")");
                        acked.add(i);
                        break;
                    } catch (Exception e) {
                        // not the primary, or none right now: try the next
                    }
                }
            }
        });
        writer.start();
        Await.until("some writes", Duration.ofSeconds(20), () -> acked.size() > 50);

        Http.Reply r = post("/switchover", "{\"candidate\": \"node3\"}", TOKEN);
        assertThat(r.status()).as(r.body()).isEqualTo(202);
        assertThat(r.json().get("candidate").asText()).isEqualTo("node3");
        Topology after = awaitPrimaryWithAllStreaming("node3");
        assertThat(after.epoch()).isEqualTo(2);
        Await.until("more writes on the new primary", Duration.ofSeconds(20), () -> acked.size() > 200
                && "f".equals(cluster.pg().node("node3").query("SELECT pg_is_in_recovery()")));
        writer.interrupt();
        writer.join();

        PgNode node3 = cluster.pg().node("node3");
        List<String> present = node3.queryColumn("SELECT id FROM acked");
        assertThat(present.stream().map(Integer::parseInt).toList()).containsAll(acked);
        JsonNode history = Http.get(cluster.sentinel("node3").url("/history")).json();
        assertThat(history.get(0).get("kind").asText()).isEqualTo("switchover");
        assertThat(history.get(0).get("from").asText()).isEqualTo("node1");
        assertThat(cluster.sentinel("node1").log()).contains("no rewind required");
        assertThat(old.isInRecovery()).isTrue();
        sampler.assertNeverTwoWritable();
        System.out.printf("switchover: %d acknowledged writes, 0 lost%n", acked.size());
    }

    @Test
    void theCliSwitchesOverToTheBestCandidate() throws Exception {
        start("");
        ChildJvm cli = ChildJvm.builder("cli", SentinelApplication.class.getName())
                .args("switchover", cluster.sentinel("node2").config().toString(), "--wait", "60").start();
        assertThat(cli.awaitExit(Duration.ofSeconds(90))).as(cli.logText()).isEqualTo(0);
        assertThat(cli.logText()).containsPattern("Switchover from node1 to node[23] requested")
                .containsPattern("Done: node[23] is the primary \\(epoch 2\\)");
        String primary = cluster.topologyInZooKeeper().primary().id();
        awaitPrimaryWithAllStreaming(primary);
        sampler.assertNeverTwoWritable();
    }

    @Test
    void refusalsAreClear4xxAndTheApiNeedsTheToken() throws Exception {
        start("");
        cluster.rewriteConfig("node3", y -> y);
        assertThat(post("/switchover", "{\"candidate\": \"node3\"}", null).status()).isEqualTo(401);
        assertThat(post("/switchover", "{\"candidate\": \"node3\"}", "wrong").status()).isEqualTo(403);
        assertThat(post("/maintenance", "{\"paused\": true}", "wrong").status()).isEqualTo(403);
        Http.Reply unknown = post("/switchover", "{\"candidate\": \"node9\"}", TOKEN);
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.body()).contains("unknown candidate 'node9'");
        assertThat(post("/switchover", "{\"candidate\": \"node1\"}", TOKEN).body()).contains("already the primary");
        assertThat(post("/switchover", "{\"candidate\": 3}", TOKEN).status()).isEqualTo(400);
        assertThat(post("/switchover", "{\"candidate\": ", TOKEN).status()).isEqualTo(400);
        assertThat(post("/switchover", "x".repeat(100_000), TOKEN).status()).isEqualTo(413);
        assertThat(post("/maintenance", "{\"paused\": \"yes\"}", TOKEN).body()).contains("paused: must be true or false");
        // a replica that does not stream
        cluster.sentinel("node2").process().kill9();
        cluster.pg().node("node2").stop(StopMode.FAST);
        cluster.awaitTopology("node2 down", t -> t.replica("node2").map(x -> x.state().json()).orElse("").equals("down"));
        Http.Reply notStreaming = Http.post(cluster.sentinel("node3").url("/switchover"), "{\"candidate\": \"node2\"}", TOKEN);
        assertThat(notStreaming.status()).isEqualTo(409);
        assertThat(notStreaming.body()).contains("node2 is not streaming (it is down)");
        // GET on a POST endpoint
        Http.Reply wrongMethod = Http.send(HttpRequest.newBuilder(URI.create(cluster.sentinel("node3").url("/switchover")))
                .GET().build());
        assertThat(wrongMethod.status()).isEqualTo(405);
    }

    @Test
    void aSwitchoverWhoseCandidateDiesMidwayIsRolledBackToTheOldPrimary() throws Exception {
        start("failover:\n  switchoverTimeout: 8s\n");
        // the candidate's server dies as soon as the primary is stopped: it can never catch up
        Http.Reply r = post("/switchover", "{\"candidate\": \"node3\"}", TOKEN);
        assertThat(r.status()).isEqualTo(202);
        Await.until("node1 to be stopped for the switchover", SentinelCluster.WAIT, () -> !cluster.pg().primary().isRunning());
        cluster.sentinel("node3").process().kill9();
        cluster.pg().node("node3").kill9();
        Await.until("node1 to be the running primary again", SentinelCluster.WAIT,
                () -> cluster.pg().primary().isRunning() && !cluster.pg().primary().isInRecovery());
        Topology t = cluster.topologyInZooKeeper();
        assertThat(t.primary().id()).isEqualTo("node1");
        assertThat(t.epoch()).isEqualTo(1);
        Await.until("the rollback to be reported", SentinelCluster.WAIT, () -> cluster.cluster(cluster.sentinel("node2"))
                .get("decision").get("reason").asText().contains("aborted"));
        sampler.assertNeverTwoWritable();
    }

    @Test
    void aSwitchoverWhoseLeaderDiesMidwayEndsWithAPrimary() throws Exception {
        start("");
        String leader = cluster.topologyInZooKeeper().leader();
        String candidate = leader.equals("node2") ? "node3" : "node2";
        Http.Reply r = Http.post(cluster.sentinel(candidate).url("/switchover"), "{\"candidate\": \"" + candidate + "\"}",
                TOKEN);
        assertThat(r.status()).isEqualTo(202);
        cluster.sentinel(leader).process().kill9();
        Topology end = Await.value("a primary, the switchover completed or rolled back", SentinelCluster.WAIT, () -> {
            Topology t = cluster.topologyInZooKeeper();
            boolean pending = cluster.zkClient().checkExists().forPath(cluster.paths().switchover()) != null;
            PgNode p = cluster.pg().node(t.primary().id());
            return !pending && p.isRunning() && "f".equals(p.query("SELECT pg_is_in_recovery()")) ? t : null;
        });
        assertThat(end.primary().id()).isIn("node1", candidate);
        sampler.assertNeverTwoWritable();
    }

    @Test
    void pauseHoldsThroughAPrimaryKillAndResumeLetsTheFailoverHappen() throws Exception {
        start("");
        assertThat(post("/maintenance", "{\"paused\": true}", TOKEN).status()).isEqualTo(200);
        cluster.awaitTopology("paused in the topology", Topology::paused);
        cluster.sentinel("node1").process().kill9();
        cluster.pg().primary().kill9();
        JsonNode held = Await.value("the leader to hold back", SentinelCluster.WAIT, () -> {
            JsonNode d = cluster.cluster(cluster.sentinel("node2")).get("decision");
            return d.path("reason").asText().contains("automatic failover is paused (maintenance)") ? d : null;
        });
        assertThat(held.get("action").asText()).isEqualTo("wait");
        assertThat(cluster.topologyInZooKeeper().primary().id()).isEqualTo("node1");

        ChildJvm resume = ChildJvm.builder("cli", SentinelApplication.class.getName())
                .args("resume", cluster.sentinel("node2").config().toString()).start();
        assertThat(resume.awaitExit(Duration.ofSeconds(60))).as(resume.logText()).isEqualTo(0);
        Topology after = cluster.awaitTopology("the failover after resume", t -> t.epoch() == 2);
        assertThat(after.paused()).isFalse();
        assertThat(after.primary().id()).isIn("node2", "node3");
        sampler.assertNeverTwoWritable();
    }
}
