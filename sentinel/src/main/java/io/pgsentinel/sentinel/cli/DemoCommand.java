package io.pgsentinel.sentinel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.dropwizard.core.cli.Command;
import io.dropwizard.core.setup.Bootstrap;
import io.pgsentinel.sentinel.demo.Http;
import io.pgsentinel.sentinel.demo.LocalSentinel;
import io.pgsentinel.sentinel.status.ClusterStatus;
import io.pgsentinel.sentinel.zk.EmbeddedZooKeeper;
import io.pgsentinel.testkit.Await;
import io.pgsentinel.testkit.KitRun;
import io.pgsentinel.testkit.OsUser;
import io.pgsentinel.testkit.PgCluster;
import io.pgsentinel.testkit.PgInstall;
import io.pgsentinel.testkit.Ports;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.function.UnaryOperator;
import net.sourceforge.argparse4j.impl.Arguments;
import net.sourceforge.argparse4j.inf.Namespace;
import net.sourceforge.argparse4j.inf.Subparser;

/**
 * {@code demo [--keep-running]}: a local cluster (an embedded ZooKeeper, a PostgreSQL primary and
 * two replicas, three sentinel processes) in a temporary directory; shows the topology, kills
 * the primary's host, narrates the failover stage by stage, brings the old primary back to
 * rejoin, and cleans everything up (also on Ctrl-C).
 */
public final class DemoCommand extends Command {
    private static final Duration WAIT = Duration.ofSeconds(90);
    private final PrintStream out = System.out;

    public DemoCommand() {
        super("demo", "Run a local demo cluster (embedded ZooKeeper, PostgreSQL primary + 2 replicas, 3 sentinels) "
                + "and show a failover");
    }

    @Override
    public void configure(Subparser subparser) {
        subparser.addArgument("--keep-running").action(Arguments.storeTrue())
                .help("stay up after the failover to explore the HTTP API (Ctrl-C stops and cleans up)");
    }

    @Override
    public void run(Bootstrap<?> bootstrap, Namespace namespace) throws Exception {
        Optional<PgInstall> install = PgInstall.locate();
        if (install.isEmpty()) {
            System.err.println(PgInstall.INSTALL_HINT);
            System.exit(1);
        }
        boolean keepRunning = Boolean.TRUE.equals(namespace.getBoolean("keep_running"));
        out.printf("pg-sentinel demo: PostgreSQL %d from %s%s%n", install.get().majorVersion(), install.get().binDir(),
                OsUser.isRoot() ? " (servers run as the postgres user)" : "");
        List<LocalSentinel> sentinels = new ArrayList<>();
        EmbeddedZooKeeper zk = null;
        PgCluster pg = null;
        try {
            int zkPort = Ports.free();
            Path dir = KitRun.get().newDirectory("demo");
            zk = new EmbeddedZooKeeper("127.0.0.1:" + zkPort, dir.resolve("zookeeper").toString());
            zk.start();
            step("ZooKeeper (embedded, single server) on 127.0.0.1:" + zkPort);
            long t = System.nanoTime();
            pg = PgCluster.builder().replicas(2).start();
            step(String.format("PostgreSQL primary node1 on port %d, replicas node2 (%d) and node3 (%d), streaming, in %.1f s",
                    pg.node("node1").port(), pg.node("node2").port(), pg.node("node3").port(), seconds(t)));
            for (var node : pg.nodes()) {
                sentinels.add(LocalSentinel.configure(dir, "demo", node, install.get().binDir(), "127.0.0.1:" + zkPort,
                        UnaryOperator.identity()));
            }
            t = System.nanoTime();
            sentinels.forEach(LocalSentinel::start);
            for (LocalSentinel s : sentinels) {
                s.awaitUp(WAIT);
            }
            LocalSentinel node2 = sentinels.get(1);
            JsonNode c = Await.value("the first topology", WAIT, Duration.ofMillis(200), () -> {
                JsonNode doc = cluster(node2);
                return doc != null && doc.path("epoch").asLong() == 1 && allStreaming(doc) ? doc : null;
            });
            step(String.format("three sentinels up in %.1f s; the leader published the topology:", seconds(t)));
            out.println(Http.get(node2.url("/topology")).body());
            status(c);

            step("killing the primary's host: kill -9 of node1's PostgreSQL and of its sentinel");
            long t0 = System.nanoTime();
            sentinels.get(0).process().kill9();
            pg.node("node1").kill9();
            String lastSummary = "";
            JsonNode after = null;
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (after == null && System.nanoTime() < deadline) {
                JsonNode doc = cluster(node2);
                if (doc == null) {
                    doc = cluster(sentinels.get(2));
                }
                if (doc != null) {
                    ClusterStatus.Decision d = ClusterStatus.decisionOf(doc);
                    String summary = d == null ? "" : d.summary() + ": " + d.reason().replaceAll("[0-9]+\\.[0-9] s", "#");
                    if (d != null && !summary.equals(lastSummary)) {
                        out.printf("  +%5.2f s  %s: %s%n", seconds(t0), d.summary(), d.reason());
                        lastSummary = summary;
                    }
                    if (doc.path("epoch").asLong() >= 2) {
                        after = doc;
                        out.printf("  +%5.2f s  published epoch 2: the new primary is %s%n", seconds(t0),
                                primaryOf(doc));
                    }
                }
                Thread.sleep(100);
            }
            if (after == null) {
                throw new IllegalStateException("no failover within " + WAIT.toSeconds() + " s");
            }
            JsonNode history = Http.get(node2.url("/history")).json();
            if (history.size() > 0) {
                step("the failover, from /history:");
                out.println(HistoryCommand.describe(history.get(0)));
            }
            JsonNode streaming = Await.value("the remaining replica to follow the new primary", WAIT,
                    Duration.ofMillis(200), () -> {
                        JsonNode doc = cluster(node2);
                        return doc != null && countStreaming(doc) >= 1 ? doc : null;
                    });
            status(streaming);

            step("node1's host comes back: its sentinel reads ZooKeeper, keeps the old primary fenced, rewinds it");
            t = System.nanoTime();
            sentinels.get(0).start();
            JsonNode rejoined = Await.value("node1 to rejoin as a replica", WAIT, Duration.ofMillis(200), () -> {
                JsonNode doc = cluster(node2);
                return doc != null && allStreaming(doc) ? doc : null;
            });
            step(String.format("node1 streams from the new primary again after %.1f s:", seconds(t)));
            status(rejoined);

            if (keepRunning) {
                step("the cluster keeps running; explore it:");
                for (LocalSentinel s : sentinels) {
                    out.printf("  %s: API %s (try /cluster, /topology, /primary, /replica), admin %s, PostgreSQL "
                            + "port %d, config %s%n", s.id(), s.url(""), s.adminUrl("/metrics"), s.node().port(), s.config());
                }
                out.println("  status: java -jar pg-sentinel.jar status " + sentinels.get(1).config());
                out.println("Ctrl-C stops everything and removes its files.");
                CountDownLatch forever = new CountDownLatch(1);
                Runtime.getRuntime().addShutdownHook(new Thread(forever::countDown));
                forever.await();
            }
        } finally {
            step("cleaning up");
            sentinels.forEach(LocalSentinel::close);
            if (pg != null) {
                pg.close();
            }
            if (zk != null) {
                zk.stop();
            }
        }
        step("done");
        System.exit(0);
    }

    private JsonNode cluster(LocalSentinel via) {
        Http.Reply r = Http.get(via.url("/cluster"));
        return r.status() == 200 ? r.json() : null;
    }

    private static boolean allStreaming(JsonNode doc) {
        return countStreaming(doc) == doc.path("members").size() - 1;
    }

    private static int countStreaming(JsonNode doc) {
        int n = 0;
        for (JsonNode m : doc.path("members")) {
            if (m.path("state").asText().equals("streaming")) {
                n++;
            }
        }
        return n;
    }

    private static String primaryOf(JsonNode doc) {
        for (JsonNode m : doc.path("members")) {
            if (m.path("role").asText().equals("primary")) {
                return m.path("id").asText();
            }
        }
        return "?";
    }

    private void status(JsonNode doc) {
        StatusCommand.print(out, doc.path("cluster").asText(), doc.path("epoch").asLong(), doc.path("paused").asBoolean(),
                doc.path("leader").asText(), ClusterStatus.membersOf(doc), ClusterStatus.decisionOf(doc));
    }

    private void step(String text) {
        out.println();
        out.println("== " + text);
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}
