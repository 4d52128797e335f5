package io.pgsentinel.sentinel.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.ChildJvm;
import io.pgsentinel.localcluster.KitRun;
import io.pgsentinel.localcluster.PgNode;
import io.pgsentinel.sentinel.SentinelApplication;
import io.pgsentinel.sentinel.demo.Http;
import io.pgsentinel.sentinel.demo.LocalSentinel;
import io.pgsentinel.shared.topology.Topology;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The cluster's settings changed at run time on real processes (show-config, edit-config,
 * POST /config): bad values refused, two editors racing, PostgreSQL parameters applied to every
 * member, a restart-only one pending until a rolling restart, synchronous mode turned on and off,
 * and downAfter changed while a failover is possible; with node3 tagged nosync and noloadbalance,
 * the health endpoints' status codes.
 */
class ClusterSettingsIT extends ClusterTest {
    private static final String TOKEN = "settings-token-never-logged";

    @Test
    void settingsChangeAtRunTimeCheckedAppliedToEveryMemberAndFollowedByTheFailover() throws Exception {
        Path token = KitRun.get().newDirectory("token").resolve("api.token");
        Files.writeString(token, TOKEN + "\n");
        cluster = SentinelCluster.start(2, y -> {
            String withToken = y + "api:\n  tokenFile: " + token + "\n";
            return y.contains("  id: node3\n")
                    ? withToken.replaceFirst("node:\n", "node:\n  tags:\n    nosync: true\n    noloadbalance: true\n")
                    : withToken;
        });
        cluster.awaitTopology("a healthy topology", t -> t.primary().id().equals("node1")
                && states(t).equals("node2=streaming,node3=streaming"));
        sampler = new WriteSampler(cluster);
        String config = cluster.sentinel("node2").config().toString();
        String api = cluster.sentinel("node3").url("/config");

        // the first leader created the settings from its YAML
        JsonNode shown = Await.value("the cluster's settings", SentinelCluster.WAIT, () -> {
            Http.Reply r = Http.get(api);
            return r.status() == 200 ? r.json() : null;
        });
        assertThat(shown.get("version").asInt()).isZero();
        assertThat(shown.at("/settings/failureDetection/downAfter").asText()).isEqualTo("3s");
        assertThat(shown.at("/history/0/what").asText()).isEqualTo("created");
        ChildJvm show = cli("show-config", config);
        assertThat(show.awaitExit(Duration.ofSeconds(60))).as(show.logText()).isZero();
        assertThat(show.logText()).contains("# cluster settings, version 0").containsPattern("downAfter: \"?3s\"?")
                .containsPattern("synchronous: \"?off\"?");

        // bad values: refused naming the field, nothing changed
        ChildJvm tooShort = cli("edit-config", config, "--set", "failureDetection.downAfter=1s");
        assertThat(tooShort.awaitExit(Duration.ofSeconds(60))).isEqualTo(4);
        assertThat(tooShort.logText()).contains("failureDetection.downAfter: must be at least half the negotiated "
                + "ZooKeeper session timeout").contains("nothing changed");
        String url = cluster.sentinel("node1").url("/config");
        assertThat(Http.post(url, "{\"set\": {\"postgresql.parameters.work_mem\": \"8MB\"}}", null).status())
                .isEqualTo(401);
        Http.Reply badParameter = Http.post(url, "{\"set\": {\"postgresql.parameters.work_mem\": \"lots\"}}", TOKEN);
        assertThat(badParameter.status()).isEqualTo(400);
        assertThat(badParameter.body()).contains("postgresql.parameters.work_mem: work_mem must be a whole number");
        Http.Reply owned = Http.post(url, "{\"set\": {\"postgresql.parameters.primary_conninfo\": \"host=x\"}}", TOKEN);
        assertThat(owned.status()).isEqualTo(400);
        assertThat(owned.body()).contains("the sentinel points each replica at the primary");
        Http.Reply unknown = Http.post(url, "{\"set\": {\"failureDetection.checkInterval\": \"1s\"}}", TOKEN);
        assertThat(unknown.status()).isEqualTo(400);
        assertThat(unknown.body()).contains("unknown setting");
        assertThat(Http.post(url, "{\"set\": [1]}", TOKEN).status()).isEqualTo(400);
        assertThat(Http.get(api).json().get("version").asInt()).as("nothing changed").isZero();

        // two operators at once, both from version 0: one wins, the other is told
        CountDownLatch go = new CountDownLatch(1);
        CompletableFuture<Http.Reply> first = CompletableFuture.supplyAsync(() -> racer(go, url,
                "{\"version\": 0, \"set\": {\"replication.maxLagOnFailover\": \"2MB\"}}"));
        CompletableFuture<Http.Reply> second = CompletableFuture.supplyAsync(() -> racer(go,
                cluster.sentinel("node2").url("/config"),
                "{\"version\": 0, \"set\": {\"replication.maxLagOnFailover\": \"4MB\"}}"));
        go.countDown();
        List<Integer> statuses = List.of(first.get().status(), second.get().status());
        assertThat(statuses).as(first.get().body() + " / " + second.get().body()).containsExactlyInAnyOrder(200, 409);
        Http.Reply loser = statuses.get(0) == 409 ? first.get() : second.get();
        assertThat(loser.body()).contains("changed since version 0 was read").contains("nothing changed");
        assertThat(Http.get(api).json().get("version").asInt()).isEqualTo(1);

        // PostgreSQL parameters: applied to every member; a restart-only one shows pending; a permanent slot
        ChildJvm params = cli("edit-config", config, "--set", "postgresql.parameters.work_mem=8MB",
                "--set", "postgresql.parameters.shared_buffers=48MB", "--set", "slots.backup_tool=physical");
        assertThat(params.awaitExit(Duration.ofSeconds(60))).as(params.logText()).isZero();
        assertThat(params.logText()).contains("+ postgresql.parameters.work_mem: 8MB")
                .contains("settings version 2: 3 changes applied").contains("shared_buffers take effect after a restart");
        String p1 = advanceSlotOn(node("node1"));
        for (PgNode n : cluster.pg().nodes()) {
            Await.until(n.name() + " to run with work_mem 8MB", SentinelCluster.WAIT,
                    () -> "8MB".equals(n.query("SHOW work_mem")));
        }
        Await.until("every member to report a restart pending", SentinelCluster.WAIT, () ->
                countPending(Http.get(cluster.sentinel("node3").url("/cluster")).json()) == 3);
        ChildJvm status = cli("status", config);
        status.awaitExit(Duration.ofSeconds(60));
        assertThat(status.logText()).contains("streaming, restart pending").contains("nosync,noloadbalance");

        for (PgNode n : cluster.pg().nodes()) {
            Await.until(n.name() + " to hold the permanent slot at " + p1 + " or later", SentinelCluster.WAIT,
                    () -> slotAtLeast(n, p1));
        }

        // synchronous mode turned on at run time: node3 is tagged nosync, so node2 alone is in the set
        ChildJvm sync = cli("edit-config", config, "--set", "replication.synchronous=quorum");
        assertThat(sync.awaitExit(Duration.ofSeconds(60))).as(sync.logText()).isZero();
        PgNode node1 = node("node1");
        Await.until("node1 to wait for node2", SentinelCluster.WAIT,
                () -> "ANY 1 (node2)".equals(node1.query("SHOW synchronous_standby_names")));
        Topology syncOn = cluster.awaitTopology("the synchronous set published", t -> t.synchronous() != null
                && t.synchronous().standbys().equals(List.of("node2")));
        assertThat(syncOn.replica("node3").orElseThrow().noLoadBalance()).isTrue();
        assertThat(syncOn.replica("node2").orElseThrow().noLoadBalance()).isFalse();
        Await.until("node2 to be counted in the quorum", SentinelCluster.WAIT,
                () -> Http.get(cluster.sentinel("node2").url("/sync")).status() == 200);

        // the health endpoints, with Patroni's status codes
        assertThat(codes("/primary")).isEqualTo("node1=200,node2=503,node3=503");
        assertThat(codes("/read-write")).isEqualTo("node1=200,node2=503,node3=503");
        assertThat(codes("/leader")).isEqualTo("node1=200,node2=503,node3=503");
        assertThat(codes("/sync")).isEqualTo("node1=503,node2=200,node3=503");
        assertThat(codes("/quorum")).isEqualTo("node1=503,node2=200,node3=503");
        assertThat(codes("/async")).isEqualTo("node1=503,node2=503,node3=200");
        assertThat(codes("/replica")).as("node3 is tagged noloadbalance").isEqualTo("node1=503,node2=200,node3=503");
        assertThat(codes("/replica?tag_nosync=false")).isEqualTo("node1=503,node2=200,node3=503");
        assertThat(codes("/replica?tag_nosync=true")).isEqualTo("node1=503,node2=503,node3=503");
        assertThat(codes("/read-only")).isEqualTo("node1=200,node2=200,node3=200");
        assertThat(codes("/readiness")).isEqualTo("node1=200,node2=200,node3=200");
        assertThat(codes("/readiness?lag=huge")).isEqualTo("node1=400,node2=400,node3=400");
        assertThat(codes("/liveness")).isEqualTo("node1=200,node2=200,node3=200");
        assertThat(Http.head(cluster.sentinel("node2").url("/sync")).status()).isEqualTo(200);

        // the restart-only parameter applied by a rolling restart, one member down at a time
        AtomicInteger mostDown = new AtomicInteger();
        AtomicBoolean watching = new AtomicBoolean(true);
        Thread watcher = new Thread(() -> {
            while (watching.get()) {
                int down = (int) cluster.pg().nodes().stream().filter(n -> !n.isRunning()).count();
                mostDown.accumulateAndGet(down, Math::max);
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        watcher.start();
        ChildJvm reload = cli("reload", config);
        assertThat(reload.awaitExit(Duration.ofSeconds(60))).as(reload.logText()).isZero();
        assertThat(reload.logText()).contains("Reloaded: node1, node2, node3.");
        ChildJvm restart = cli("restart", config, "--all", "--pending", "--wait", "120");
        int exit = restart.awaitExit(Duration.ofSeconds(400));
        watching.set(false);
        watcher.join();
        String out = restart.logText();
        assertThat(exit).as(out).isZero();
        assertThat(out).contains("Rolling restart of node2, node3, node1, one at a time.")
                .contains("node1: the primary, switching over to").contains("Done: 3 member(s) restarted");
        assertThat(mostDown.get()).as("servers down at once").isEqualTo(1);
        Topology afterRestart = cluster.topologyInZooKeeper();
        assertThat(afterRestart.primary().id()).as("the only synchronous standby takes over").isEqualTo("node2");
        for (PgNode n : cluster.pg().nodes()) {
            assertThat(n.query("SHOW shared_buffers")).as(n.name()).isEqualTo("48MB");
            assertThat(n.query("SELECT count(*) FROM pg_settings WHERE pending_restart")).as(n.name()).isEqualTo("0");
        }

        // the permanent slot survived the switchover with its position; moved on the new primary, the replicas follow
        assertThat(slotAtLeast(node("node2"), p1)).isTrue();
        String p2 = advanceSlotOn(node("node2"));
        for (PgNode n : List.of(node("node1"), node("node3"))) {
            Await.until(n.name() + " to follow the slot to " + p2, SentinelCluster.WAIT, () -> slotAtLeast(n, p2));
        }

        // a parameter removed from the cluster's settings is reset on every member
        ChildJvm removed = cli("edit-config", config, "--remove", "postgresql.parameters.work_mem");
        assertThat(removed.awaitExit(Duration.ofSeconds(60))).as(removed.logText()).isZero();
        assertThat(removed.logText()).contains("- postgresql.parameters.work_mem: 8MB");
        for (PgNode n : cluster.pg().nodes()) {
            Await.until(n.name() + " back to the default work_mem", SentinelCluster.WAIT,
                    () -> "4MB".equals(n.query("SHOW work_mem")));
        }

        // downAfter changed over the API while a failover is possible: the next one waits 5 s
        Http.Reply longer = Http.post(url, "{\"set\": {\"failureDetection.downAfter\": \"5s\"}}", TOKEN);
        assertThat(longer.status()).as(longer.body()).isEqualTo(200);
        int version = longer.json().get("version").asInt();
        // a sentinel that read two versions in one cycle logs their changes together
        java.util.regex.Pattern followed = java.util.regex.Pattern.compile("cluster settings version " + version
                + ": \\[[^\\n]*failureDetection\\.downAfter: 3s -> 5s");
        for (LocalSentinel s : cluster.sentinels()) {
            Await.until(s.id() + " to follow version " + version, SentinelCluster.WAIT,
                    () -> followed.matcher(s.log()).find());
        }
        long epoch = afterRestart.epoch();
        cluster.sentinel("node2").process().kill9();
        cluster.pg().node("node2").kill9();
        LocalSentinel witness = cluster.sentinel("node3");
        Await.until("the leader to wait for the new downAfter", SentinelCluster.WAIT, () -> {
            JsonNode decision = Http.get(witness.url("/cluster")).json().get("decision");
            return decision.get("reason").asText().contains("seen it down for 5.0 s");
        });
        Topology failedOver = cluster.awaitTopology("a failover", t -> t.epoch() > epoch);
        assertThat(failedOver.primary().id()).isIn("node1", "node3");
        assertThat(slotAtLeast(node(failedOver.primary().id()), p2)).as("the slot survived a second change of primary")
                .isTrue();

        // synchronous mode turned off at run time: the new primary waits for nobody, the set is unpublished
        Http.Reply off = Http.post(witness.url("/config"), "{\"set\": {\"replication.synchronous\": \"off\"}}", TOKEN);
        assertThat(off.status()).as(off.body()).isEqualTo(200);
        cluster.awaitTopology("the synchronous set unpublished", t -> t.synchronous() == null);
        PgNode newPrimary = cluster.pg().node(failedOver.primary().id());
        assertThat(newPrimary.query("SHOW synchronous_standby_names")).isEmpty();

        JsonNode history = Http.get(witness.url("/config")).json().get("history");
        assertThat(history.get(0).at("/changes/0/key").asText()).isEqualTo("replication.synchronous");
        assertThat(history.get(0).get("by").asText()).isEqualTo("api@node3");
        assertThat(history).hasSize(7);
        sampler.assertNeverTwoWritable();
        for (LocalSentinel s : cluster.sentinels()) {
            assertThat(s.log()).doesNotContain(TOKEN);
        }
    }

    private PgNode node(String id) {
        return cluster.pg().node(id);
    }

    /** Moves the permanent slot forward to the primary's current WAL position, as a backup tool would; returns it. */
    private static String advanceSlotOn(PgNode primary) {
        primary.execute("SELECT pg_switch_wal()"); // some WAL to move over
        return Await.value("the permanent slot on " + primary.name(), SentinelCluster.WAIT, () -> {
            String lsn = primary.query("SELECT pg_current_wal_lsn()::text");
            return "t".equals(primary.query("SELECT count(*) = 1 FROM pg_replication_slots WHERE slot_name = "
                    + "'backup_tool'")) ? primary.query("SELECT end_lsn::text FROM pg_replication_slot_advance("
                    + "'backup_tool', '" + lsn + "')") : null;
        });
    }

    private static boolean slotAtLeast(PgNode n, String lsn) {
        return "t".equals(n.query("SELECT restart_lsn >= '" + lsn + "'::pg_lsn FROM pg_replication_slots "
                + "WHERE slot_name = 'backup_tool'"));
    }

    private static Http.Reply racer(CountDownLatch go, String url, String body) {
        try {
            go.await();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
        return Http.post(url, body, TOKEN);
    }

    private static int countPending(JsonNode cluster) {
        int pending = 0;
        for (JsonNode m : cluster.get("members")) {
            pending += m.get("pendingRestart").asBoolean() ? 1 : 0;
        }
        return pending;
    }

    /** "node1=200,node2=503,node3=503": each sentinel's answer to {@code path}. */
    private String codes(String path) {
        return cluster.sentinels().stream().map(s -> s.id() + "=" + Http.get(s.url(path)).status())
                .collect(Collectors.joining(","));
    }

    private static ChildJvm cli(String... args) {
        return ChildJvm.builder("cli-" + args[0], SentinelApplication.class.getName()).args(args).start();
    }
}
