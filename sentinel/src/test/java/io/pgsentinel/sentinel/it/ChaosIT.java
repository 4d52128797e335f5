package io.pgsentinel.sentinel.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsentinel.sentinel.demo.Http;
import io.pgsentinel.sentinel.demo.LocalSentinel;
import io.pgsentinel.shared.client.RoutingDataSource;
import io.pgsentinel.shared.client.ZooKeeperTopologyWatcher;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.testkit.Await;
import io.pgsentinel.testkit.KitRun;
import io.pgsentinel.testkit.PgNode;
import io.pgsentinel.testkit.Processes;
import io.pgsentinel.testkit.Stats;
import io.pgsentinel.testkit.TcpProxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.Test;

/**
 * The chaos suite: PostgreSQL primary + 2 replicas (node3 tagged nofailover, so that a timeline
 * fork can be made), 3 ZooKeeper servers, 3 sentinel processes each reaching ZooKeeper through
 * proxies of its own, synchronous quorum mode and failsafe on, continuous writers through the
 * routing DataSource recording acknowledged ids, and the two-writable-servers sampler. Faults are
 * drawn at random (seeded); after each, the cluster must settle with every replica streaming from
 * the primary. At the end: every acknowledged write on the final primary, never two writable
 * servers, failover times and false failovers as a table (docs/testing.md).
 *
 * <p>{@code -Dchaos.faults=N} (default 4, the CI subset, drawn at random; a multiple of 10 runs
 * each kind N/10 times in a shuffled order), {@code -Dchaos.seed}, {@code -Dchaos.mode=async}
 * (asynchronous replication: lost writes are counted and reported, not asserted).
 */
class ChaosIT {
    private static final String TOKEN = "chaos-token";

    /** A fault: what it does, and whether it must cause a change of primary. */
    private record Outcome(String fault, Boolean failoverExpected, boolean failedOver, double seconds) {
    }

    private SentinelCluster cluster;
    private final Map<String, List<TcpProxy>> proxies = new HashMap<>();
    private static final List<String> KINDS = List.of("host loss", "postmaster hang", "leader frozen past its session",
            "leader frozen under its session", "one ZooKeeper server killed", "ZooKeeper quorum lost",
            "primary's sentinel cut off from ZooKeeper", "replica killed during a failover",
            "switchover during a replica restart", "timeline fork");

    private final Random random = new Random(Long.getLong("chaos.seed", 20261129L));
    private final boolean synchronous = !"async".equals(System.getProperty("chaos.mode", "sync"));

    @Test
    void randomFaultsNeverLoseAnAcknowledgedWriteNorMakeTwoPrimaries() throws Exception {
        int faults = Integer.getInteger("chaos.faults", 4);
        List<String> plan = plan(faults);
        Path token = KitRun.get().newDirectory("token").resolve("api.token");
        Files.writeString(token, TOKEN + "\n");
        String extra = "api:\n  tokenFile: " + token + "\nfailsafe: on\nfailover:\n  minInterval: 0s\n"
                + (synchronous ? "replication:\n  synchronous: quorum\n  synchronousCount: 1\n" : "");
        cluster = SentinelCluster.start(2, y -> (y.contains("id: node3")
                ? y.replace("  host: 127.0.0.1\n", "  host: 127.0.0.1\n  tags: {nofailover: true}\n") : y) + extra);
        try (CuratorFramework zk = cluster.zk().newClient(Duration.ofSeconds(10));
             ZooKeeperTopologyWatcher watcher = ZooKeeperTopologyWatcher.start(zk, cluster.paths());
             RoutingDataSource db = RoutingDataSource.builder(watcher).user("postgres")
                     .poolCustomizer(h -> h.setConnectionTimeout(1000)).build()) {
            routeThroughProxies();
            settle();
            cluster.pg().primary().execute("CREATE TABLE chaos (id bigint PRIMARY KEY)");
            WriteSampler sampler = new WriteSampler(cluster);
            AckedWriters writers = new AckedWriters(db, "chaos", 2);
            List<Outcome> outcomes = new ArrayList<>();
            for (int i = 0; i < faults; i++) {
                Thread.sleep(random.nextInt(2000)); // a random moment in the writers' stream
                outcomes.add(inject(i, plan.get(i)));
                settle();
            }
            writers.stop();
            sampler.close();
            String primary = cluster.topologyInZooKeeper().primary().id();
            long lost = writers.lostOn(cluster.pg().node(primary));
            report(outcomes, writers.acknowledged(), lost, sampler);
            sampler.assertNeverTwoWritable();
            if (synchronous) {
                assertThat(lost).as("acknowledged writes lost in synchronous mode").isZero();
            }
            assertThat(outcomes.stream().filter(o -> o.failedOver() && Boolean.FALSE.equals(o.failoverExpected()))
                    .toList()).as("false failovers").isEmpty();
            assertThat(outcomes.stream().filter(o -> Boolean.TRUE.equals(o.failoverExpected()) && !o.failedOver())
                    .toList()).as("missed failovers").isEmpty();
        } finally {
            cluster.close();
        }
    }

    /** Each sentinel reaches each ZooKeeper server through a proxy of its own, so it can be cut off alone. */
    private void routeThroughProxies() {
        for (LocalSentinel s : cluster.sentinels()) {
            proxies.put(s.id(), cluster.proxyZooKeeper(s.id()));
        }
    }

    /** Every node running, streaming from the published primary, the synchronous set active. */
    private void settle() {
        for (LocalSentinel s : cluster.sentinels()) {
            if (!s.process().isAlive()) {
                s.start();
            }
        }
        Topology t = cluster.awaitTopology("a settled cluster", x -> x.replicas().stream()
                .allMatch(r -> r.state().json().equals("streaming"))
                && (!synchronous || x.synchronous() != null && x.synchronous().active()));
        PgNode p = cluster.pg().node(t.primary().id());
        for (PgNode n : cluster.pg().nodes()) {
            if (!n.name().equals(p.name())) {
                Await.until(n.name() + " to stream from " + p.name(), SentinelCluster.WAIT, () ->
                        String.valueOf(p.port()).equals(n.query("SELECT sender_port FROM pg_stat_wal_receiver")));
            }
        }
    }

    /** Each kind faults/10 times in a shuffled order when faults is a multiple of 10; drawn at random otherwise. */
    private List<String> plan(int faults) {
        List<String> plan = new ArrayList<>();
        if (faults % KINDS.size() == 0) {
            for (int r = 0; r < faults / KINDS.size(); r++) {
                plan.addAll(KINDS);
            }
            Collections.shuffle(plan, random);
        } else {
            for (int i = 0; i < faults; i++) {
                plan.add(KINDS.get(random.nextInt(KINDS.size())));
            }
        }
        return plan;
    }

    private Outcome inject(int i, String which) throws Exception {
        Topology before = cluster.topologyInZooKeeper();
        String primary = before.primary().id();
        String leader = before.leader();
        long t0 = System.nanoTime();
        Boolean expected;
        switch (which) {
            case "host loss" -> {
                expected = true;
                cluster.sentinel(primary).process().kill9();
                cluster.pg().node(primary).kill9();
            }
            case "postmaster hang" -> {
                expected = true;
                PgNode p = cluster.pg().node(primary);
                long pid = p.requirePostmasterPid();
                List<Long> tree = new ArrayList<>(Processes.descendants(pid));
                tree.add(pid);
                p.freeze();
                awaitNewEpoch(before);
                Processes.signal("CONT", tree);
            }
            case "leader frozen past its session", "leader frozen under its session" -> {
                expected = false;
                LocalSentinel l = cluster.sentinel(leader);
                l.process().freeze();
                Thread.sleep(which.contains("past") ? 6000 : 2000); // the length of the freeze is the fault
                l.process().thaw();
            }
            case "one ZooKeeper server killed" -> {
                expected = false;
                int server = random.nextInt(cluster.zk().size());
                cluster.zk().kill(server);
                Thread.sleep(5000); // the outage is the fault
                cluster.zk().restart(server);
            }
            case "ZooKeeper quorum lost" -> {
                expected = false;
                cluster.zk().loseQuorum();
                Thread.sleep(8000); // the outage is the fault
                cluster.zk().restoreAll();
            }
            case "primary's sentinel cut off from ZooKeeper" -> {
                expected = true;
                proxies.get(primary).forEach(TcpProxy::cut);
                awaitNewEpoch(before);
                proxies.get(primary).forEach(TcpProxy::restore);
            }
            case "replica killed during a failover" -> {
                expected = true;
                String replica = before.replicas().get(random.nextInt(before.replicas().size())).id();
                cluster.sentinel(primary).process().kill9();
                cluster.pg().node(primary).kill9();
                cluster.pg().node(replica).kill9(); // its sentinel restarts it
            }
            case "switchover during a replica restart" -> {
                expected = true;
                String replica = before.replicas().get(random.nextInt(before.replicas().size())).id();
                cluster.pg().node(replica).kill9();
                String via = before.replicas().get(0).id();
                Http.Reply r = Http.post(cluster.sentinel(via).url("/switchover"), "{}", TOKEN);
                // completed, refused (a 409, or by the leader once it sees the candidate down) or
                // rolled back: each is right, as long as the cluster ends with a primary
                assertThat(r.status()).as(r.body()).isIn(202, 409);
                expected = null;
                Await.until("the switchover to end", SentinelCluster.WAIT, () -> cluster.zkClient().checkExists()
                        .forPath(cluster.paths().switchover()) == null);
            }
            case "timeline fork" -> {
                // node3 (nofailover) receives WAL that the candidate does not: after the failover its
                // WAL is past the fork point, and it must be rewound or re-cloned, never follow silently
                String candidate = List.of("node1", "node2").stream().filter(n -> !n.equals(primary)).findFirst()
                        .orElseThrow();
                if (primary.equals("node3")) {
                    expected = false;
                    break;
                }
                expected = true;
                PgNode c = cluster.pg().node(candidate);
                long receiver = Long.parseLong(c.query("SELECT pid FROM pg_stat_wal_receiver"));
                Processes.signal("STOP", receiver);
                // synchronous_commit = local: the candidate (the only synchronous standby) cannot acknowledge
                // with its receiver frozen; the WAL still reaches node3
                cluster.pg().node(primary).execute("SET synchronous_commit = local; "
                        + "CREATE TABLE IF NOT EXISTS fork (id int); INSERT INTO fork SELECT generate_series(1, 100)");
                Await.until("node3 to receive the forked WAL", SentinelCluster.WAIT, () -> "t".equals(cluster.pg()
                        .node("node3").query("SELECT pg_last_wal_receive_lsn() >= '"
                                + cluster.pg().node(primary).currentFlushLsn() + "'::pg_lsn")));
                cluster.sentinel(primary).process().kill9();
                cluster.pg().node(primary).kill9();
                Processes.signal("CONT", receiver);
            }
            default -> throw new IllegalStateException(which);
        }
        boolean failedOver;
        if (expected == null) {
            failedOver = cluster.topologyInZooKeeper().epoch() != before.epoch();
        } else if (expected) {
            awaitNewEpoch(before);
            failedOver = true;
        } else {
            Thread.sleep(1000); // let a false failover, if any, show
            failedOver = cluster.topologyInZooKeeper().epoch() != before.epoch();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("chaos %2d: %-40s primary %s -> %s (%.1f s)%n", i + 1, which, primary,
                cluster.topologyInZooKeeper().primary().id(), seconds);
        return new Outcome(which, expected, failedOver, seconds);
    }

    private void awaitNewEpoch(Topology before) {
        cluster.awaitTopology("a new primary after epoch " + before.epoch(), t -> t.epoch() > before.epoch());
    }

    private void report(List<Outcome> outcomes, int acked, long lost, WriteSampler sampler) {
        StringBuilder table = new StringBuilder(String.format("%n%-42s %5s %9s %8s%n", "fault", "runs", "failovers", "false"));
        outcomes.stream().collect(Collectors.groupingBy(Outcome::fault)).forEach((fault, list) -> table.append(
                String.format("%-42s %5d %9d %8d%n", fault, list.size(), list.stream().filter(Outcome::failedOver).count(),
                        list.stream().filter(o -> o.failedOver() && Boolean.FALSE.equals(o.failoverExpected())).count())));
        List<Double> times = outcomes.stream().filter(o -> Boolean.TRUE.equals(o.failoverExpected()) && o.failedOver())
                .map(Outcome::seconds).toList();
        if (!times.isEmpty()) {
            Stats s = new Stats(times);
            table.append(String.format("failover times (fault to new epoch): median %.1f s, p95 %.1f s over %d%n",
                    s.median(), s.percentile(95), s.count()));
        }
        table.append(String.format("acknowledged writes %d, lost %d; write samples %d, two writable: never%n", acked, lost,
                sampler.rounds()));
        Stats.record("chaos.txt", LocalDate.now() + " " + outcomes.size() + " faults, "
                + (synchronous ? "synchronous quorum" : "asynchronous") + table);
    }
}
