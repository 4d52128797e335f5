package io.pgsentinel.sentinel.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsentinel.sentinel.demo.Http;
import io.pgsentinel.sentinel.demo.LocalSentinel;
import io.pgsentinel.shared.client.ZooKeeperTopologyWatcher;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.ChildJvm;
import io.pgsentinel.localcluster.Fault;
import io.pgsentinel.localcluster.Hosts;
import io.pgsentinel.localcluster.KitRun;
import io.pgsentinel.localcluster.PgNode;
import io.pgsentinel.localcluster.Processes;
import io.pgsentinel.testkit.Stats;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The chaos suite, on real hosts: three database hosts (a PostgreSQL server and its sentinel
 * each), three ZooKeeper hosts, and two client hosts whose writers insert unique ids through the
 * routing DataSource and log every acknowledged commit with the server that acknowledged it and
 * the epoch they believed. Client c2 always stays with the majority; client c1 stays with the
 * primary when a fault cuts the primary off but not its clients. Synchronous quorum mode
 * ({@code ANY 1} of two promotable standbys) and failsafe on. Faults are drawn from the kinds
 * below in a seeded order (the seed is printed: replay with {@code -Dchaos.seed}); after each,
 * the cluster must settle with every replica streaming from the primary.
 *
 * <p>Checks (Jepsen's set workload, pgconsul's availability buckets): every acknowledged write is
 * on the final primary (synchronous mode: none lost; asynchronous: counted); no commit is
 * acknowledged by a superseded primary (sent after this process saw another primary published);
 * every change of primary happens within a fault that warranted one (no false failover, none
 * missed); and, per fault kind, the failover time and the share of 100 ms buckets in which the
 * majority's client got a write acknowledged.
 *
 * <p>{@code -Dchaos.faults=N} (default 3, the CI subset; a multiple of the number of kinds runs
 * each kind N/kinds times, shuffled), {@code -Dchaos.seed}, {@code -Dchaos.mode=async},
 * {@code -Dchaos.kinds=a;b} (only those kinds, by name).
 */
class ChaosIT {
    private static final String TOKEN = "chaos-token";
    private static final List<String> DB = List.of("db1", "db2", "db3");
    private static final List<String> ZK = List.of("zk1", "zk2", "zk3");
    private static final Duration HOLD = Duration.ofSeconds(8);
    private static final long BUCKET_NANOS = 100_000_000L;

    /** A fault kind: whether it must (true), must not (false) or may (null) change the primary. */
    private record Kind(String name, Boolean failover) {
    }

    private static final List<Kind> KINDS = List.of(
            new Kind("host loss", true),
            new Kind("postmaster hang", true),
            new Kind("primary's host isolated", true),
            new Kind("primary cut from ZooKeeper and peers, clients still reach it", true),
            new Kind("primary cut from ZooKeeper only", true),
            new Kind("primary cut from its peers only", true),
            new Kind("minority with the primary", true),
            new Kind("one-way: the primary cannot reach the others", true),
            new Kind("one-way: the others cannot reach the primary", true),
            new Kind("30% packet loss on the primary's links", null),
            new Kind("majorities ring", null),
            new Kind("leader's host isolated", false),
            new Kind("primary's host isolated, its sentinel paused", true),
            new Kind("primary cut from ZooKeeper and peers, its sentinel paused", true),
            new Kind("minority with the primary, its sentinel paused", true),
            new Kind("stopped sentinel, then a cut", true),
            new Kind("crashed sentinel, then a cut", true),
            new Kind("leader killed between promote and publish", true),
            new Kind("leader frozen past its session", false),
            new Kind("leader frozen under its session", false),
            new Kind("one ZooKeeper server killed", false),
            new Kind("ZooKeeper quorum lost", false),
            new Kind("replica killed during a failover", true),
            new Kind("switchover during a replica restart", null),
            new Kind("standby lost, then the primary", true),
            new Kind("primary and a standby lost together, the standby back at once", true),
            new Kind("the new primary lost right after a failover", true));

    /** One injected fault and what came of it. */
    private record Outcome(int number, String kind, Boolean expected, long startNanos, long endNanos, String before,
                           long epochBefore, String note) {
    }

    /** A topology this process saw published. */
    private record Seen(long atNanos, long epoch, String primary) {
    }

    /** A commit a writer saw acknowledged. */
    private record Ack(long id, long epoch, String server, long sentNanos, long ackNanos, String client) {
    }

    private Hosts hosts;
    private SentinelCluster cluster;
    private Random random;
    private final boolean synchronous = !"async".equals(System.getProperty("chaos.mode", "sync"));
    private final List<Seen> published = new CopyOnWriteArrayList<>();
    private final List<Fault> active = new ArrayList<>();

    @Test
    void faultsNeverLoseAnAcknowledgedWriteNorLetASupersededPrimaryCommit() throws Exception {
        Assumptions.assumeTrue(Hosts.available(), Hosts.unavailableReason());
        long seed = Long.getLong("chaos.seed", new SecureRandom().nextLong());
        System.out.printf("chaos: seed %d (replay with -Dchaos.seed=%d), %s mode%n", seed, seed,
                synchronous ? "synchronous quorum" : "asynchronous");
        random = new Random(seed);
        int faults = Integer.getInteger("chaos.faults", 3);
        List<Kind> plan = plan(faults);
        hosts = Hosts.create("db1", "db2", "db3", "zk1", "zk2", "zk3", "c1", "c2");
        Path token = KitRun.get().newDirectory("token").resolve("api.token");
        Files.writeString(token, TOKEN + "\n");
        // back-to-back faults fail over every few seconds: anti-flapping is tested on its own (FailoverIT)
        String extra = "api:\n  tokenFile: " + token + "\nfailsafe: on\nfailover:\n  minInterval: 0s\n"
                + (synchronous ? "replication:\n  synchronous: quorum\n  synchronousCount: 1\n" : "");
        List<ChildJvm> writers = new ArrayList<>();
        try {
            cluster = SentinelCluster.onHosts(hosts, DB, ZK, y -> y + extra);
            settle();
            cluster.pg().node(cluster.topologyInZooKeeper().primary().id())
                    .execute("CREATE TABLE chaos (id bigint PRIMARY KEY)");
            try (ZooKeeperTopologyWatcher watcher = ZooKeeperTopologyWatcher.start(cluster.zkClient(), cluster.paths());
                 WriteSampler sampler = new WriteSampler(cluster)) {
                watcher.addListener((before, now) -> published.add(new Seen(System.nanoTime(), now.epoch(),
                        now.primary().id())));
                Map<String, Path> ackFiles = new LinkedHashMap<>();
                for (String client : List.of("c1", "c2")) {
                    Path file = KitRun.get().newDirectory("acks-" + client).resolve("acks.txt");
                    ackFiles.put(client, file);
                    writers.add(ChildJvm.builder("writer-" + client, ChaosWriter.class.getName()).on(hosts.host(client))
                            .args(cluster.zk().connectString(), cluster.paths().root(), cluster.paths().cluster(), "chaos",
                                    client.equals("c1") ? "1000000000" : "5000000000", "2", file.toString()).start());
                }
                Await.until("both writers to write", SentinelCluster.WAIT, () -> ackFiles.values().stream()
                        .allMatch(f -> Files.exists(f) && f.toFile().length() > 0));
                List<Outcome> outcomes = new ArrayList<>();
                for (int i = 0; i < plan.size(); i++) {
                    Thread.sleep(random.nextInt(2000)); // a random moment in the writers' stream
                    outcomes.add(inject(i + 1, plan.get(i)));
                    settle();
                }
                // a quiet period: a late or false failover would show in it
                long quietFrom = System.nanoTime();
                Thread.sleep(HOLD.toMillis());
                for (ChildJvm w : writers) {
                    w.stop(Duration.ofSeconds(10));
                }
                long end = System.nanoTime();
                sampler.close();
                List<Ack> acks = readAcks(ackFiles);
                String primary = cluster.topologyInZooKeeper().primary().id();
                long lost = lost(acks, cluster.pg().node(primary));
                List<String> superseded = superseded(acks);
                List<String> unattributed = unattributedFailovers(outcomes, quietFrom, end);
                report(seed, outcomes, acks, lost, superseded, unattributed, sampler);
                assertThat(superseded).as("commits acknowledged by a superseded primary").isEmpty();
                sampler.assertNeverTwoWritable();
                if (synchronous) {
                    assertThat(lost).as("acknowledged writes lost in synchronous mode").isZero();
                }
                assertThat(unattributed).as("false failovers (a change of primary no fault warranted)").isEmpty();
                assertThat(outcomes.stream().filter(o -> Boolean.TRUE.equals(o.expected()) && !failedOver(o))
                        .map(o -> "chaos " + o.number() + ": " + o.kind()).toList()).as("missed failovers").isEmpty();
            }
        } catch (Throwable failure) {
            keepLogs(seed, writers);
            throw failure;
        } finally {
            writers.forEach(ChildJvm::close);
            if (cluster != null) {
                cluster.close();
            }
            hosts.close();
        }
    }

    /**
     * A failed run keeps what explains it, since the run directory goes with the cluster: every
     * sentinel's log (across restarts), every server's log and the writers' output, in
     * target/chaos-logs/SEED/.
     */
    private void keepLogs(long seed, List<ChildJvm> writers) {
        Path dir = Path.of("target", "chaos-logs", Long.toString(seed));
        try {
            Files.createDirectories(dir);
            if (cluster != null) {
                for (String id : DB) {
                    Files.writeString(dir.resolve("sentinel-" + id + ".log"), cluster.sentinel(id).log());
                    Path pgLog = cluster.pg().node(id).logFile();
                    if (Files.exists(pgLog)) {
                        Files.copy(pgLog, dir.resolve("postgresql-" + id + ".log"), StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
            for (ChildJvm w : writers) {
                Files.writeString(dir.resolve(w.name() + ".log"), w.logText());
            }
            System.out.println("chaos: logs of the failed run kept in " + dir.toAbsolutePath());
        } catch (Exception e) {
            System.out.println("chaos: could not keep the logs: " + e);
        }
    }

    /** Each kind N/kinds times in a shuffled order when N is a multiple; drawn at random otherwise. */
    private List<Kind> plan(int faults) {
        List<Kind> kinds = new ArrayList<>(KINDS);
        String only = System.getProperty("chaos.kinds", "");
        if (!only.isBlank()) {
            Set<String> wanted = Set.of(only.split(";"));
            kinds.removeIf(k -> !wanted.contains(k.name()));
        }
        List<Kind> plan = new ArrayList<>();
        if (faults % kinds.size() == 0) {
            for (int r = 0; r < faults / kinds.size(); r++) {
                plan.addAll(kinds);
            }
            Collections.shuffle(plan, random);
        } else {
            for (int i = 0; i < faults; i++) {
                plan.add(kinds.get(random.nextInt(kinds.size())));
            }
        }
        return plan;
    }

    /** Every host reachable, every process running, every replica streaming from the primary. */
    private void settle() {
        active.forEach(Fault::heal);
        active.clear();
        hosts.heal();
        for (PgNode n : cluster.pg().nodes()) {
            if (n.isFrozen()) {
                n.thaw();
            }
        }
        for (LocalSentinel s : cluster.sentinels()) {
            if (s.process() != null && s.process().isAlive() && s.process().isFrozen()) {
                s.process().thaw();
            }
            if (s.process() == null || !s.process().isAlive()) {
                s.start();
            }
        }
        cluster.zk().restoreAll();
        Topology t = cluster.awaitTopology("a settled cluster", x -> x.replicas().stream()
                .allMatch(r -> r.state().json().equals("streaming"))
                && (!synchronous || x.synchronous() != null && x.synchronous().active()));
        PgNode p = cluster.pg().node(t.primary().id());
        for (PgNode n : cluster.pg().nodes()) {
            if (!n.name().equals(p.name())) {
                Await.until(n.name() + " to stream from " + p.name(), SentinelCluster.WAIT, () ->
                        p.host().equals(n.query("SELECT sender_host FROM pg_stat_wal_receiver")));
            }
        }
    }

    private Fault hold(Fault f) {
        active.add(f);
        return f;
    }

    private List<String> others(String... not) {
        List<String> skip = List.of(not);
        List<String> all = new ArrayList<>(DB);
        all.addAll(ZK);
        all.addAll(List.of("c1", "c2"));
        all.removeIf(skip::contains);
        return all;
    }

    private List<String> serversBut(String host) {
        List<String> all = new ArrayList<>(DB);
        all.addAll(ZK);
        all.remove(host);
        return all;
    }

    private Topology awaitNewEpoch(Topology before) {
        return cluster.awaitTopology("a new primary after epoch " + before.epoch(), t -> t.epoch() > before.epoch());
    }

    /** Freezes {@code id}'s sentinel for 1 to 2 s, the pause of a GC or of a starved CPU. */
    private void pauseSentinel(String id) throws InterruptedException {
        LocalSentinel s = cluster.sentinel(id);
        Thread.sleep(200 + random.nextInt(800)); // when, within the cut, the pause comes is part of the fault
        s.process().freeze();
        Thread.sleep(1000 + random.nextInt(1000)); // the length of the pause is the fault
        s.process().thaw();
    }

    private Outcome inject(int number, Kind kind) throws Exception {
        Topology before = cluster.topologyInZooKeeper();
        String primary = before.primary().id();
        String leader = before.leader();
        String note = "";
        Boolean expected = kind.failover();
        long start = System.nanoTime();
        switch (kind.name()) {
            case "host loss" -> {
                cluster.sentinel(primary).process().kill9();
                cluster.pg().node(primary).kill9();
                awaitNewEpoch(before);
            }
            case "postmaster hang" -> {
                cluster.pg().node(primary).freeze();
                awaitNewEpoch(before);
            }
            case "primary's host isolated" -> {
                hold(hosts.isolate(primary));
                awaitNewEpoch(before);
            }
            case "primary cut from ZooKeeper and peers, clients still reach it" -> {
                hold(hosts.partition(List.of(primary, "c1"), others(primary, "c1")));
                awaitNewEpoch(before);
            }
            case "primary cut from ZooKeeper only" -> {
                hold(hosts.partition(List.of(primary), ZK));
                awaitNewEpoch(before);
            }
            case "primary cut from its peers only" -> {
                hold(hosts.partition(List.of(primary), DB.stream().filter(d -> !d.equals(primary)).toList()));
                awaitNewEpoch(before);
            }
            case "minority with the primary" -> {
                hold(hosts.partition(List.of(primary, "zk1", "c1"), others(primary, "zk1", "c1")));
                awaitNewEpoch(before);
            }
            case "one-way: the primary cannot reach the others" -> {
                for (String other : serversBut(primary)) {
                    hold(hosts.cutOneWay(primary, other));
                }
                awaitNewEpoch(before);
            }
            case "one-way: the others cannot reach the primary" -> {
                for (String other : serversBut(primary)) {
                    hold(hosts.cutOneWay(other, primary));
                }
                awaitNewEpoch(before);
            }
            case "30% packet loss on the primary's links" -> {
                hold(hosts.lossy(primary, 30));
                Thread.sleep(HOLD.toMillis()); // the length of the loss is the fault
            }
            case "majorities ring" -> {
                hold(hosts.majoritiesRing(List.of("db1", "zk1", "db2", "zk2", "db3", "zk3")));
                Thread.sleep(HOLD.toMillis()); // the length of the partition is the fault
            }
            case "leader's host isolated" -> {
                if (leader.equals(primary)) {
                    // the leader runs on the primary's host: isolating it isolates the primary
                    expected = true;
                    note = "the leader ran on the primary's host";
                }
                hold(hosts.isolate(leader));
                Thread.sleep(HOLD.toMillis()); // the length of the isolation is the fault
            }
            case "primary's host isolated, its sentinel paused" -> {
                hold(hosts.isolate(primary));
                pauseSentinel(primary);
                awaitNewEpoch(before);
            }
            case "primary cut from ZooKeeper and peers, its sentinel paused" -> {
                hold(hosts.partition(List.of(primary, "c1"), others(primary, "c1")));
                pauseSentinel(primary);
                awaitNewEpoch(before);
            }
            case "minority with the primary, its sentinel paused" -> {
                hold(hosts.partition(List.of(primary, "zk1", "c1"), others(primary, "zk1", "c1")));
                pauseSentinel(primary);
                awaitNewEpoch(before);
            }
            case "stopped sentinel, then a cut" -> {
                cluster.sentinel(primary).process().stop(Duration.ofSeconds(30));
                hold(hosts.partition(List.of(primary, "c1"), others(primary, "c1")));
                awaitNewEpoch(before);
            }
            case "crashed sentinel, then a cut" -> {
                cluster.sentinel(primary).process().kill9();
                hold(hosts.partition(List.of(primary, "c1"), others(primary, "c1")));
                awaitNewEpoch(before);
            }
            case "leader killed between promote and publish" -> note = killLeaderAfterPromotion(before);
            case "leader frozen past its session", "leader frozen under its session" -> {
                LocalSentinel l = cluster.sentinel(leader);
                l.process().freeze();
                Thread.sleep(kind.name().contains("past") ? 6000 : 2000); // the length of the freeze is the fault
                l.process().thaw();
            }
            case "one ZooKeeper server killed" -> {
                int server = random.nextInt(cluster.zk().size());
                cluster.zk().kill(server);
                Thread.sleep(5000); // the outage is the fault
                cluster.zk().restart(server);
            }
            case "ZooKeeper quorum lost" -> {
                cluster.zk().loseQuorum();
                Thread.sleep(HOLD.toMillis()); // the outage is the fault
                cluster.zk().restoreAll();
            }
            case "replica killed during a failover" -> {
                String replica = before.replicas().get(random.nextInt(before.replicas().size())).id();
                cluster.sentinel(primary).process().kill9();
                cluster.pg().node(primary).kill9();
                cluster.pg().node(replica).kill9(); // its sentinel starts it again
                awaitNewEpoch(before);
            }
            case "switchover during a replica restart" -> {
                String replica = before.replicas().get(random.nextInt(before.replicas().size())).id();
                cluster.pg().node(replica).kill9();
                Http.Reply r = Http.post(cluster.sentinel(before.replicas().get(0).id()).url("/switchover"), "{}", TOKEN);
                // completed, refused (a 409, or by the leader once it sees the candidate down) or rolled
                // back: each is right, as long as the cluster ends with a primary
                assertThat(r.status()).as(r.body()).isIn(202, 409);
                note = "switchover " + r.status();
                Await.until("the switchover to end", SentinelCluster.WAIT, () -> cluster.zkClient().checkExists()
                        .forPath(cluster.paths().switchover()) == null);
            }
            case "standby lost, then the primary" -> {
                String standby = before.replicas().get(random.nextInt(before.replicas().size())).id();
                killHost(standby);
                Thread.sleep(500 + random.nextInt(2000)); // while the set shrinks, or right after: part of the fault
                killHost(primary);
                restartSentinelsWithin(Duration.ofSeconds(25), before, standby);
            }
            case "primary and a standby lost together, the standby back at once" -> {
                String standby = before.replicas().get(random.nextInt(before.replicas().size())).id();
                killHost(primary);
                killHost(standby);
                cluster.pg().node(standby).start(); // as the standby it is, within a second
                cluster.sentinel(standby).start();
                awaitNewEpoch(before);
            }
            case "the new primary lost right after a failover" -> {
                killHost(primary);
                Topology first = awaitNewEpoch(before);
                Thread.sleep(random.nextInt(1000)); // within a second of the publication: part of the fault
                killHost(first.primary().id());
                cluster.sentinel(primary).start(); // the first host comes back
                restartSentinelsWithin(Duration.ofSeconds(25), first, first.primary().id());
            }
            default -> throw new IllegalStateException(kind.name());
        }
        long end = System.nanoTime();
        Topology after = cluster.topologyInZooKeeper();
        System.out.printf("chaos %2d: %-60s primary %s -> %s (%.1f s)%s%n", number, kind.name(), primary,
                after.primary().id(), (end - start) / 1e9, note.isEmpty() ? "" : " [" + note + "]");
        return new Outcome(number, kind.name(), expected, start, end, primary, before.epoch(), note);
    }

    private void killHost(String id) {
        cluster.sentinel(id).process().kill9();
        cluster.pg().node(id).kill9();
    }

    /**
     * Waits up to {@code patience} for an epoch after {@code after}'s; if none comes (the failover
     * waits for a host that held what was acknowledged), {@code hosts} come back, and then it must.
     */
    private void restartSentinelsWithin(Duration patience, Topology after, String... hosts) {
        try {
            Await.until("a failover", patience, () -> cluster.topologyInZooKeeper().epoch() > after.epoch());
        } catch (AssertionError waited) {
            for (String h : hosts) {
                cluster.sentinel(h).start();
            }
            cluster.awaitTopology("a primary serving after " + String.join(", ", hosts) + " came back",
                    t -> t.epoch() > after.epoch() || t.replicas().stream().anyMatch(r -> r.state().json()
                            .equals("streaming")));
        }
    }

    /**
     * Kills the primary's host, then the leader's sentinel the moment a replica leaves recovery
     * (promoted, and not yet published, unless the publication won the race: the note says).
     */
    private String killLeaderAfterPromotion(Topology before) throws Exception {
        String primary = before.primary().id();
        LocalSentinel leader = cluster.sentinel(before.leader());
        List<PgNode> replicas = cluster.pg().nodes().stream().filter(n -> !n.name().equals(primary)).toList();
        List<Connection> connections = new ArrayList<>();
        try {
            for (PgNode r : replicas) {
                connections.add(r.connect());
            }
            cluster.sentinel(primary).process().kill9();
            cluster.pg().node(primary).kill9();
            long deadline = System.nanoTime() + SentinelCluster.WAIT.toNanos();
            while (System.nanoTime() < deadline) {
                for (Connection c : connections) {
                    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
                        rs.next();
                        if (!rs.getBoolean(1)) {
                            leader.process().kill9();
                            boolean unpublished = cluster.topologyInZooKeeper().epoch() == before.epoch();
                            awaitNewEpoch(before);
                            return unpublished ? "killed after the promotion, before the publication"
                                    : "the publication came first";
                        }
                    }
                }
            }
            throw new AssertionError("no replica was promoted within " + SentinelCluster.WAIT);
        } finally {
            for (Connection c : connections) {
                c.close();
            }
        }
    }

    private boolean failedOver(Outcome o) {
        return published.stream().anyMatch(p -> p.atNanos() >= o.startNanos() && p.atNanos() <= o.endNanos() + settleSlack()
                && p.epoch() > o.epochBefore());
    }

    /** A failover started by a fault may be published just after the fault's end: a few seconds of slack. */
    private static long settleSlack() {
        return Duration.ofSeconds(15).toNanos();
    }

    /**
     * Changes of primary that no fault warranted: outside every fault's window (its start to the
     * start of the next fault, or to the end of the run), or inside the window of a fault that must
     * not change the primary.
     */
    private List<String> unattributedFailovers(List<Outcome> outcomes, long quietFrom, long end) {
        List<String> found = new ArrayList<>();
        List<Seen> changes = new ArrayList<>();
        String last = null;
        for (Seen p : published) {
            if (last != null && !p.primary().equals(last)) {
                changes.add(p);
            }
            last = p.primary();
        }
        for (Seen c : changes) {
            Outcome owner = null;
            for (Outcome o : outcomes) {
                if (c.atNanos() >= o.startNanos()) {
                    owner = o;
                }
            }
            if (owner == null) {
                found.add("epoch " + c.epoch() + " (" + c.primary() + ") before any fault");
            } else if (Boolean.FALSE.equals(owner.expected())) {
                found.add("epoch " + c.epoch() + " (" + c.primary() + ") during chaos " + owner.number() + ": "
                        + owner.kind());
            } else if (c.atNanos() > quietFrom) {
                found.add("epoch " + c.epoch() + " (" + c.primary() + ") in the quiet period after the last fault");
            }
        }
        return found;
    }

    private List<Ack> readAcks(Map<String, Path> files) throws IOException {
        Map<String, String> byAddress = new HashMap<>();
        cluster.pg().nodes().forEach(n -> byAddress.put(n.host(), n.name()));
        List<Ack> acks = new ArrayList<>();
        for (Map.Entry<String, Path> e : files.entrySet()) {
            for (String line : Files.readAllLines(e.getValue())) {
                String[] f = line.strip().split(" ");
                if (f.length == 5) {
                    acks.add(new Ack(Long.parseLong(f[0]), Long.parseLong(f[1]), byAddress.getOrDefault(f[2], f[2]),
                            Long.parseLong(f[3]), Long.parseLong(f[4]), e.getKey()));
                }
            }
        }
        return acks;
    }

    /** Acknowledged ids absent from {@code primary}. */
    private static long lost(List<Ack> acks, PgNode primary) {
        Set<Long> present = new HashSet<>();
        primary.queryColumn("SELECT id FROM chaos").forEach(v -> present.add(Long.parseLong(v)));
        return acks.stream().filter(a -> !present.contains(a.id())).count();
    }

    /**
     * Commits acknowledged by a server after this process saw another primary published, unless
     * that server is the next primary to be published (a promoted candidate commits just before).
     */
    private List<String> superseded(List<Ack> acks) {
        List<Seen> pubs = new ArrayList<>(published);
        List<String> found = new ArrayList<>();
        for (Ack a : acks) {
            Seen current = null;
            Seen next = null;
            for (Seen p : pubs) {
                if (p.atNanos() <= a.sentNanos()) {
                    current = p;
                } else if (next == null) {
                    next = p;
                }
            }
            if (current != null && !current.primary().equals(a.server())
                    && (next == null || !next.primary().equals(a.server()))) {
                found.add(a.client() + ": id " + a.id() + " acknowledged by " + a.server() + " (the client believed epoch "
                        + a.epoch() + ") while " + current.primary() + " was the published primary of epoch "
                        + current.epoch());
            }
        }
        return found.size() > 20 ? found.subList(0, 20) : found;
    }

    private void report(long seed, List<Outcome> outcomes, List<Ack> acks, long lost, List<String> superseded,
                        List<String> unattributed, WriteSampler sampler) {
        StringBuilder table = new StringBuilder(String.format("%n%-62s %4s %9s %6s %14s %13s%n", "fault", "runs",
                "failovers", "false", "failover (s)", "write avail."));
        Map<String, List<Outcome>> byKind = outcomes.stream().collect(Collectors.groupingBy(Outcome::kind,
                LinkedHashMap::new, Collectors.toList()));
        List<Double> allFailoverTimes = new ArrayList<>();
        byKind.forEach((kind, list) -> {
            List<Double> times = new ArrayList<>();
            long buckets = 0;
            long served = 0;
            for (Outcome o : list) {
                double t = firstWriteOnNewPrimary(o, acks);
                if (t >= 0) {
                    times.add(t);
                }
                long[] b = availability(o, acks);
                buckets += b[0];
                served += b[1];
            }
            allFailoverTimes.addAll(times);
            long falseOnes = list.stream().filter(o -> Boolean.FALSE.equals(o.expected()) && failedOver(o)).count();
            String failover = times.isEmpty() ? "-" : String.format("%.1f / %.1f", new Stats(times).median(),
                    new Stats(times).max());
            table.append(String.format("%-62s %4d %9d %6d %14s %12.1f%%%n", kind, list.size(),
                    list.stream().filter(this::failedOver).count(), falseOnes, failover,
                    buckets == 0 ? 100.0 : 100.0 * served / buckets));
        });
        if (!allFailoverTimes.isEmpty()) {
            Stats s = new Stats(allFailoverTimes);
            table.append(String.format("fault to first write acknowledged by the new primary: median %.1f s, p95 %.1f s "
                    + "over %d%n", s.median(), s.percentile(95), s.count()));
        }
        table.append(String.format("seed %d; acknowledged writes %d, lost %d; by a superseded primary %d; false "
                        + "failovers %d; sampler: %d writes tried, %d violations%n", seed, acks.size(), lost,
                superseded.size(), unattributed.size(), sampler.rounds(), sampler.violations().size()));
        superseded.forEach(v -> table.append("  superseded: ").append(v).append('\n'));
        unattributed.forEach(v -> table.append("  unattributed failover: ").append(v).append('\n'));
        Stats.record("chaos.txt", LocalDate.now() + " " + outcomes.size() + " faults on hosts, "
                + (synchronous ? "synchronous quorum" : "asynchronous") + table);
    }

    /** Seconds from the fault to the first write acknowledged by another server than the old primary, or -1. */
    private double firstWriteOnNewPrimary(Outcome o, List<Ack> acks) {
        return acks.stream().filter(a -> a.ackNanos() > o.startNanos() && !a.server().equals(o.before())
                        && a.epoch() > o.epochBefore())
                .mapToLong(Ack::ackNanos).min().stream().mapToDouble(t -> (t - o.startNanos()) / 1e9).findFirst()
                .orElse(-1);
    }

    /** {buckets, buckets with a write acknowledged to the majority's client c2} over the fault's window. */
    private static long[] availability(Outcome o, List<Ack> acks) {
        Set<Long> served = new HashSet<>();
        for (Ack a : acks) {
            if (a.client().equals("c2") && a.ackNanos() >= o.startNanos() && a.ackNanos() < o.endNanos()) {
                served.add((a.ackNanos() - o.startNanos()) / BUCKET_NANOS);
            }
        }
        long buckets = Math.max(1, (o.endNanos() - o.startNanos()) / BUCKET_NANOS);
        return new long[] {buckets, Math.min(buckets, served.size())};
    }
}
