package io.pgsentinel.sentinel.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgsentinel.sentinel.demo.Http;
import io.pgsentinel.sentinel.demo.LocalSentinel;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.PgNode;
import io.pgsentinel.localcluster.Processes;
import io.pgsentinel.testkit.TcpProxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Automatic failover on real processes (rules 2, 3, 5, 6): sentinels as separate processes,
 * PostgreSQL primary + 2 replicas, 3 ZooKeeper servers. A sampler checks all along that no two
 * servers accept writes at the same time; each failover ends with the surviving replica
 * streaming from the new primary.
 */
class FailoverIT extends ClusterTest {



    private void startHealthy(java.util.function.UnaryOperator<String> tweak) {
        cluster = SentinelCluster.start(2, tweak);
        cluster.awaitTopology("a healthy topology", t -> t.primary().id().equals("node1")
                && states(t).equals("node2=streaming,node3=streaming"));
        sampler = new WriteSampler(cluster);
    }

    /** Waits until {@code primary} is published and every other node but {@code except} streams from it. */
    private Topology awaitFailoverTo(String primary, String... except) {
        List<String> skip = List.of(except);
        Topology t = cluster.awaitTopology(primary + " published as primary, the others streaming", x ->
                x.primary().id().equals(primary) && x.replicas().stream()
                        .filter(r -> !skip.contains(r.id())).allMatch(r -> r.state().json().equals("streaming")));
        PgNode p = cluster.pg().node(primary);
        for (PgNode n : cluster.pg().nodes()) {
            if (!n.name().equals(primary) && !skip.contains(n.name())) {
                Await.until(n.name() + " to stream from " + primary, SentinelCluster.WAIT,
                        () -> String.valueOf(p.port()).equals(n.query("SELECT sender_port FROM pg_stat_wal_receiver"))
                                && "streaming".equals(n.query("SELECT status FROM pg_stat_wal_receiver")));
            }
        }
        return t;
    }

    /**
     * Waits for a failover away from {@code old} (to whichever replica was the most advanced: with
     * the sampler writing, the two replicas may hold different positions when the primary fails)
     * and for the others but {@code old} to stream from it; returns the new primary's topology.
     */
    private Topology awaitFailoverFrom(String old) {
        Topology t = cluster.awaitTopology("a failover from " + old, x -> !x.primary().id().equals(old));
        return awaitFailoverTo(t.primary().id(), old);
    }

    private String otherThan(Topology t, String... ids) {
        List<String> not = List.of(ids);
        return cluster.sentinels().stream().map(LocalSentinel::id).filter(id -> !not.contains(id)).findFirst().orElseThrow();
    }

    @Test
    void hostLossFailsOverAndTheOldPrimaryRejoinsByRewindWhenItComesBack() {
        startHealthy(y -> y);
        cluster.pg().primary().execute("CREATE TABLE acked (id int)");
        cluster.pg().primary().execute("INSERT INTO acked SELECT generate_series(1, 100)");
        // host loss: the server and its sentinel die together
        cluster.sentinel("node1").process().kill9();
        cluster.pg().primary().kill9();
        Topology after = awaitFailoverFrom("node1");
        String next = after.primary().id();
        assertThat(after.epoch()).isEqualTo(2);
        assertThat(cluster.pg().node(next).query("SELECT count(*) FROM acked")).isEqualTo("100");

        // the host comes back: its sentinel reads ZooKeeper first, keeps the server fenced, rewinds it
        cluster.sentinel("node1").start();
        Topology rejoined = awaitFailoverTo(next);
        assertThat(rejoined.epoch()).isEqualTo(2);
        assertThat(cluster.pg().node("node1").isInRecovery()).isTrue();
        Await.until("the fence of node1 to be lifted", SentinelCluster.WAIT,
                () -> cluster.zkClient().checkExists().forPath(cluster.paths().fence("node1")) == null);
        assertThat(cluster.sentinel("node1").log()).contains("pg_rewind done");
        // the dead sentinel's last report ("primary") lingers until its session expires, after the
        // promotion: it is not taken for a second primary
        for (String survivor : List.of("node2", "node3")) {
            assertThat(cluster.sentinel(survivor).log()).as(survivor).doesNotContain("decision: split-brain");
        }
        sampler.assertNeverTwoWritable();
    }

    @Test
    void aPostgresCrashWithItsSentinelAliveIsRestartedInPlaceWithoutFailover() {
        startHealthy(y -> y);
        long before = cluster.pg().primary().requirePostmasterPid();
        cluster.pg().primary().kill9();
        Await.until("node1's sentinel to restart it", SentinelCluster.WAIT, () -> cluster.pg().primary().postmasterPid()
                .isPresent() && cluster.pg().primary().requirePostmasterPid() != before);
        Await.until("node1 to serve as a primary again", SentinelCluster.WAIT,
                () -> !cluster.pg().primary().isInRecovery());
        awaitFailoverTo("node1");
        assertThat(cluster.topologyInZooKeeper().epoch()).isEqualTo(1);
        assertThat(cluster.sentinel("node1").log()).contains("restarting it in place");
        sampler.assertNeverTwoWritable();
    }

    @Test
    void aPostgresCrashThatCannotRestartFailsOver() throws Exception {
        startHealthy(y -> y);
        Path conf = cluster.pg().primary().dataDirectory().resolve("postgresql.conf");
        Path aside = cluster.pg().primary().dataDirectory().resolve("postgresql.conf.aside");
        cluster.pg().primary().kill9();
        Files.move(conf, aside); // the restart in place fails: the server cannot read its configuration
        awaitFailoverFrom("node1");
        assertThat(cluster.sentinel("node1").log()).contains("restarting it in place");
        sampler.assertNeverTwoWritable();
    }

    @Test
    void aHungPrimaryIsFencedAndReplacedAndAfterThawAcceptsNoWriteAndRejoins() {
        startHealthy(y -> y);
        PgNode old = cluster.pg().primary();
        long pid = old.requirePostmasterPid();
        List<Long> frozen = new ArrayList<>(Processes.descendants(pid));
        frozen.add(pid);
        old.freeze();
        String next = awaitFailoverFrom("node1").primary().id();
        // its sentinel killed the frozen server (stop cannot finish on a frozen postmaster)
        Processes.signal("CONT", frozen);
        Await.until("the old primary's processes to be gone", SentinelCluster.WAIT,
                () -> frozen.stream().noneMatch(Processes::isAlive));
        awaitFailoverTo(next);
        assertThat(old.isInRecovery()).isTrue();
        assertThat(cluster.sentinel("node1").log()).contains("killing postmaster");
        sampler.assertNeverTwoWritable();
    }

    @Test
    void thePrimarysSentinelFrozenPastItsSessionWithAHealthyServerCausesNoFailover() {
        startHealthy(y -> y);
        LocalSentinel s1 = cluster.sentinel("node1");
        s1.process().freeze();
        // its session expires: its report vanishes
        Await.until("node1's report to vanish", SentinelCluster.WAIT, () -> cluster.zkClient().checkExists()
                .forPath(cluster.paths().member("node1")) == null);
        s1.process().thaw();
        Await.until("node1's sentinel to report again", SentinelCluster.WAIT, () -> cluster.zkClient().checkExists()
                .forPath(cluster.paths().member("node1")) != null);
        Topology t = cluster.topologyInZooKeeper();
        assertThat(t.epoch()).isEqualTo(1);
        assertThat(t.primary().id()).isEqualTo("node1");
        assertThat(cluster.pg().primary().isInRecovery()).isFalse();
        assertThat(cluster.pg().primary().isRunning()).isTrue();
        assertThat(s1.log()).contains("confirming its standing with ZooKeeper").doesNotContain("fenced by stopping");
        sampler.assertNeverTwoWritable();
    }

    @Test
    void thePrimarysSentinelCutOffFromZooKeeperSelfFencesAndTheClusterFailsOver() throws Exception {
        cluster = SentinelCluster.start(2, yaml -> yaml);
        // node1's sentinel reaches ZooKeeper only through proxies that the test can cut
        List<TcpProxy> proxies = cluster.proxyZooKeeper("node1");
        LocalSentinel s1 = cluster.sentinel("node1");
        cluster.awaitTopology("a healthy topology", t -> t.primary().id().equals("node1")
                && states(t).equals("node2=streaming,node3=streaming"));
        sampler = new WriteSampler(cluster);

        proxies.forEach(TcpProxy::cut);
        Await.until("node1 to fence itself", SentinelCluster.WAIT, () -> !cluster.pg().primary().isRunning());
        String next = awaitFailoverFrom("node1").primary().id();
        assertThat(s1.log()).contains("no answer from ZooKeeper");
        proxies.forEach(TcpProxy::restore);
        awaitFailoverTo(next);
        sampler.assertNeverTwoWritable();
    }

    @Test
    void theOnlyCandidateLaggingOverMaxLagOnFailoverIsNotPromotedAndTheReasonSaysSo() throws Exception {
        // node3 may vote but is never promoted: node2 is the only candidate
        cluster = SentinelCluster.start(2, y -> y.contains("id: node3")
                ? y.replace("  host: 127.0.0.1\n", "  host: 127.0.0.1\n  tags: {nofailover: true}\n") : y);
        cluster.awaitTopology("node2 and node3 streaming", t -> states(t).equals("node2=streaming,node3=streaming"));
        PgNode replica = cluster.pg().node("node2");
        // freeze the replica's WAL receiver: it stops receiving, the server still answers
        long receiver = Long.parseLong(replica.query("SELECT pid FROM pg_stat_wal_receiver"));
        Processes.freeze(receiver);
        try {
            cluster.pg().primary().execute("CREATE TABLE big AS SELECT g, repeat('x', 500) AS pad "
                    + "FROM generate_series(1, 20000) g");
            String flushed = cluster.pg().primary().currentFlushLsn();
            Await.until("the primary's report to show its new position", SentinelCluster.WAIT, () -> {
                JsonNode m = cluster.cluster(cluster.sentinel("node2")).get("members").get(0);
                return flushed.equals(m.path("flushLsn").asText());
            });
            cluster.sentinel("node1").process().kill9();
            cluster.pg().primary().kill9();
            JsonNode decision = Await.value("the leader to refuse", SentinelCluster.WAIT, () -> {
                JsonNode d = cluster.cluster(cluster.sentinel("node2")).get("decision");
                return d.path("reason").asText().contains("refusing automatic failover") ? d : null;
            });
            assertThat(decision.get("action").asText()).isEqualTo("wait");
            assertThat(decision.get("reason").asText()).contains("the best candidate node2 is")
                    .contains("behind the last known primary position").contains("maxLagOnFailover 1.0 MB");
            assertThat(cluster.topologyInZooKeeper().primary().id()).isEqualTo("node1");
            assertThat(replica.isInRecovery()).isTrue();
        } finally {
            Processes.signal("CONT", receiver);
        }
    }

    /**
     * Anti-flapping stops ping-pong, not a healthy third node: right after a failover, a second host
     * loss fails over at once to the node that was never demoted; a third, while both others were
     * demoted within failover.minInterval, waits and says why, then promotes once the interval of
     * the first demotion has passed.
     */
    @Test
    void aSecondHostLossRightAfterAFailoverFailsOverAtOnceAndADemotedNodeIsNotPromotedBackWithinTheInterval() {
        startHealthy(y -> y + "failover:\n  minInterval: 30s\n");
        String second = killHostAndAwait("node1");
        cluster.sentinel("node1").start(); // the host comes back and rejoins
        awaitFailoverTo(second);
        long secondLoss = System.nanoTime();
        String third = killHostAndAwait(second);
        System.out.printf("second host loss to %s published: %.1f s%n", third, (System.nanoTime() - secondLoss) / 1e9);
        assertThat(third).as("never node1, demoted within the interval").isNotEqualTo("node1");
        cluster.sentinel(second).start();
        awaitFailoverTo(third);
        cluster.sentinel(third).process().kill9();
        cluster.pg().node(third).kill9();
        JsonNode waiting = Await.value("the leader to hold back", SentinelCluster.WAIT, () -> {
            JsonNode d = cluster.cluster(cluster.sentinel(second)).get("decision");
            return d.path("reason").asText().contains("not promoted back automatically within failover.minInterval")
                    ? d : null;
        });
        assertThat(waiting.get("action").asText()).isEqualTo("wait");
        Topology fourth = cluster.awaitTopology("the third failover", t -> t.epoch() == 4);
        assertThat(fourth.primary().id()).isEqualTo("node1");
        JsonNode history = Http.get(cluster.sentinel(second).url("/history")).json();
        java.time.Instant firstDemotion = java.time.Instant.parse(history.get(2).get("stages").get("published").asText());
        java.time.Instant promotedBack = java.time.Instant.parse(history.get(0).get("stages").get("decided").asText());
        assertThat(Duration.between(firstDemotion, promotedBack)).isGreaterThanOrEqualTo(Duration.ofSeconds(30));
        sampler.assertNeverTwoWritable();
    }

    /** Kills {@code host} (server and sentinel), waits for the failover, and returns the new primary. */
    private String killHostAndAwait(String host) {
        long before = cluster.topologyInZooKeeper().epoch();
        cluster.sentinel(host).process().kill9();
        cluster.pg().node(host).kill9();
        Topology t = cluster.awaitTopology("a failover from " + host, x -> x.epoch() > before);
        awaitFailoverTo(t.primary().id(), host);
        return t.primary().id();
    }
}
