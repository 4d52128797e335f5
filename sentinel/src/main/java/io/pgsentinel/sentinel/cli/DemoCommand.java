package io.pgsentinel.sentinel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.dropwizard.core.cli.Command;
import io.dropwizard.core.setup.Bootstrap;
import io.pgsentinel.sentinel.demo.DemoClient;
import io.pgsentinel.sentinel.demo.Http;
import io.pgsentinel.sentinel.demo.LocalSentinel;
import io.pgsentinel.sentinel.status.ClusterStatus;
import io.pgsentinel.sentinel.zk.EmbeddedZooKeeper;
import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.Hosts;
import io.pgsentinel.localcluster.KitRun;
import io.pgsentinel.localcluster.OsUser;
import io.pgsentinel.localcluster.PgCluster;
import io.pgsentinel.localcluster.PgInstall;
import io.pgsentinel.localcluster.PgNode;
import io.pgsentinel.localcluster.Ports;
import io.pgsentinel.localcluster.ZkEnsemble;
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
 * {@code demo [--keep-running]}: a local cluster (an embedded ZooKeeper, three sentinel processes on
 * three empty data directories: the first creates the cluster, the others clone it) in a
 * temporary directory; shows the topology, kills
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
        // the narration is the output: the ZooKeeper client's reconnection chatter is not
        for (String noisy : List.of("org.apache.zookeeper", "org.apache.curator")) {
            ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(noisy))
                    .setLevel(ch.qos.logback.classic.Level.ERROR);
        }
        out.printf("pg-sentinel demo: PostgreSQL %d from %s%s%n", install.get().majorVersion(), install.get().binDir(),
                OsUser.isRoot() ? " (servers run as the postgres user)" : "");
        List<LocalSentinel> sentinels = new ArrayList<>();
        EmbeddedZooKeeper embedded = null;
        ZkEnsemble ensemble = null;
        Hosts hosts = null;
        PgCluster pg = null;
        try {
            Path dir = KitRun.get().newDirectory("demo");
            String zkConnect;
            long t = System.nanoTime();
            if (Hosts.available()) {
                hosts = Hosts.create("db1", "db2", "db3", "zk1", "app");
                step(String.format("five hosts, each its own network namespace and address (%s): db1, db2, db3, zk1 "
                        + "and app, a client", hosts.network()));
                ensemble = ZkEnsemble.onHosts(hosts, List.of("zk1"));
                zkConnect = ensemble.connectString();
                step("ZooKeeper on zk1 (" + zkConnect + ")");
                pg = PgCluster.builder().onHosts(hosts, List.of("db1", "db2", "db3")).empty().start();
            } else {
                out.println("(network namespaces are not available here: " + Hosts.unavailableReason()
                        + "; every node runs on 127.0.0.1 and the partition scene is left out)");
                int zkPort = Ports.free();
                embedded = new EmbeddedZooKeeper("127.0.0.1:" + zkPort, dir.resolve("zookeeper").toString());
                embedded.start();
                zkConnect = "127.0.0.1:" + zkPort;
                step("ZooKeeper (embedded, single server) on " + zkConnect);
                pg = PgCluster.builder().replicas(2).empty().start();
            }
            List<String> ids = pg.nodes().stream().map(n -> n.name()).toList();
            String first = ids.get(0);
            // every node may create the cluster (bootstrap.method: initdb): the first sentinel to claim it does
            UnaryOperator<String> initdb = y -> y + "bootstrap:\n  method: initdb\n  parameters:\n"
                    + "    unix_socket_directories: \"''\"\n";
            for (var node : pg.nodes()) {
                sentinels.add(LocalSentinel.configure(dir, "demo", node, install.get().binDir(), zkConnect, initdb));
            }
            step(String.format("three empty data directories (%s); %s's sentinel starts first and creates the cluster "
                    + "(bootstrap.method: initdb)", String.join(", ", ids), first));
            t = System.nanoTime();
            sentinels.get(0).start();
            sentinels.get(0).awaitUp(WAIT);
            Await.value("the cluster created by " + first, WAIT, Duration.ofMillis(200), () -> {
                JsonNode doc = cluster(sentinels.get(0));
                return doc != null && doc.path("epoch").asLong() == 1 ? doc : null;
            });
            step(String.format("%s ran initdb, started PostgreSQL and was published as the primary in %.1f s; %s and %s "
                    + "start on empty data directories and join it as clones", first, seconds(t), ids.get(1), ids.get(2)));
            t = System.nanoTime();
            for (LocalSentinel s : sentinels.subList(1, sentinels.size())) {
                s.start();
            }
            for (LocalSentinel s : sentinels) {
                s.awaitUp(WAIT);
            }
            LocalSentinel second = sentinels.get(1);
            JsonNode c = Await.value("the replicas to stream", WAIT, Duration.ofMillis(200), () -> {
                JsonNode doc = cluster(second);
                return doc != null && doc.path("epoch").asLong() == 1 && allStreaming(doc) ? doc : null;
            });
            step(String.format("%s and %s cloned %s and stream from it after %.1f s; the leader published the topology:",
                    ids.get(1), ids.get(2), first, seconds(t)));
            out.println(Http.get(second.url("/topology")).body());
            status(c);

            step("killing the primary's host: kill -9 of " + first + "'s PostgreSQL and of its sentinel");
            long t0 = System.nanoTime();
            sentinels.get(0).process().kill9();
            pg.node(first).kill9();
            JsonNode after = narrateUntilEpoch(sentinels, 2, t0);
            JsonNode history = Http.get(second.url("/history")).json();
            if (history.size() > 0) {
                step("the failover, from /history:");
                out.println(HistoryCommand.describe(history.get(0)));
            }
            JsonNode streaming = Await.value("the remaining replica to follow the new primary", WAIT,
                    Duration.ofMillis(200), () -> {
                        JsonNode doc = cluster(second);
                        return doc != null && countStreaming(doc) >= 1 ? doc : null;
                    });
            status(streaming);

            step(first + "'s host comes back: its sentinel reads ZooKeeper, keeps the old primary fenced, rewinds it");
            t = System.nanoTime();
            sentinels.get(0).start();
            JsonNode rejoined = Await.value(first + " to rejoin as a replica", WAIT, Duration.ofMillis(200), () -> {
                JsonNode doc = cluster(second);
                return doc != null && allStreaming(doc) ? doc : null;
            });
            step(String.format("%s streams from the new primary again after %.1f s:", first, seconds(t)));
            status(rejoined);

            if (hosts != null) {
                partitionScene(hosts, pg, sentinels, primaryOf(after));
            }

            if (keepRunning) {
                step("the cluster keeps running; explore it:");
                for (LocalSentinel s : sentinels) {
                    out.printf("  %s: status page %s, API (try /cluster, /topology, /events, /primary, /replica), admin %s, "
                            + "PostgreSQL %s:%d, config %s%n", s.id(), s.url("/"), s.adminUrl("/metrics"), s.node().host(),
                            s.node().port(), s.config());
                }
                out.println("  status: java -jar pg-sentinel.jar status " + sentinels.get(1).config()
                        + (hosts == null ? "" : "   (from inside a host: ip netns exec " + hosts.namespace("db2") + " ...)"));
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
            if (ensemble != null) {
                ensemble.close();
            }
            if (embedded != null) {
                embedded.stop();
            }
            if (hosts != null) {
                hosts.close();
            }
        }
        step("done");
        System.exit(0);
    }

    /**
     * The primary's host is cut from its peers and from ZooKeeper, while a client on its side
     * (the app host) still reaches it and keeps writing: the old primary fences itself, the
     * client's writes to it fail from then on, a new primary takes over; the cut heals and the
     * old primary rejoins.
     */
    private void partitionScene(Hosts hosts, PgCluster pg, List<LocalSentinel> sentinels, String primary)
            throws InterruptedException {
        List<String> others = new ArrayList<>(List.of("db1", "db2", "db3", "zk1"));
        others.remove(primary);
        PgNode old = pg.node(primary);
        old.execute("CREATE TABLE IF NOT EXISTS demo_writes (id serial PRIMARY KEY, at timestamptz DEFAULT now())");
        step("a network partition: " + primary + "'s host is cut from its peers and from ZooKeeper; the app host, on its "
                + "side, keeps writing to it");
        var client = new DemoClient(old.jdbcUrlFor(hosts.reachFrom("app", old.host(), old.port())));
        client.start();
        long t0 = System.nanoTime();
        var cut = hosts.partition(List.of(primary, "app"), others);
        LocalSentinel observer = sentinels.stream().filter(s -> !s.id().equals(primary)).findFirst().orElseThrow();
        long epoch = cluster(observer).path("epoch").asLong();
        Await.until(primary + " to fence itself", WAIT, Duration.ofMillis(50), () -> !old.isRunning());
        long stoppedAt = System.nanoTime();
        out.printf("  +%5.2f s  %s stopped itself (its sentinel lost ZooKeeper and could not reach its peers): the "
                + "app's last write to it was acknowledged at +%.2f s; its writes fail from now on%n", seconds(t0),
                primary, (client.lastAck() - t0) / 1e9);
        JsonNode after = narrateUntilEpoch(List.of(observer), epoch + 1, t0);
        client.stop();
        out.printf("  the app wrote %d rows to %s during the cut, %d of them after it stopped itself (none can be), "
                + "none after %s took over%n", client.ackedSince(t0), primary, client.ackedSince(stoppedAt),
                primaryOf(after));
        cut.heal();
        step("the partition heals: " + primary + " rejoins the new primary " + primaryOf(after));
        long t = System.nanoTime();
        JsonNode rejoined = Await.value(primary + " to rejoin as a replica", WAIT, Duration.ofMillis(200), () -> {
            JsonNode doc = cluster(observer);
            return doc != null && allStreaming(doc) ? doc : null;
        });
        step(String.format("%s streams from the new primary again after %.1f s:", primary, seconds(t)));
        status(rejoined);
    }

    /** Prints every new decision of the leader until epoch {@code epoch} is published; returns that /cluster. */
    private JsonNode narrateUntilEpoch(List<LocalSentinel> via, long epoch, long t0) throws InterruptedException {
        String lastSummary = "";
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode doc = null;
            for (LocalSentinel s : via) {
                if (doc == null && s.process() != null && s.process().isAlive()) {
                    doc = cluster(s);
                }
            }
            if (doc != null) {
                ClusterStatus.Decision d = ClusterStatus.decisionOf(doc);
                String summary = d == null ? "" : d.summary() + ": " + d.reason().replaceAll("[0-9]+\\.[0-9] s", "#");
                if (d != null && !summary.equals(lastSummary)) {
                    out.printf("  +%5.2f s  %s: %s%n", seconds(t0), d.summary(), d.reason());
                    lastSummary = summary;
                }
                if (doc.path("epoch").asLong() >= epoch) {
                    out.printf("  +%5.2f s  published epoch %d: the new primary is %s%n", seconds(t0),
                            doc.path("epoch").asLong(), primaryOf(doc));
                    return doc;
                }
            }
            Thread.sleep(100); // the narration's pace, not a wait for a condition
        }
        throw new IllegalStateException("no failover within " + WAIT.toSeconds() + " s");
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
