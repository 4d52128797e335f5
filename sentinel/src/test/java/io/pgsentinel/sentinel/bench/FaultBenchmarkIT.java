package io.pgsentinel.sentinel.bench;

import io.pgsentinel.sentinel.demo.Http;
import io.pgsentinel.sentinel.it.SentinelCluster;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.Hosts;
import io.pgsentinel.localcluster.KitRun;
import io.pgsentinel.localcluster.PgCluster;
import io.pgsentinel.localcluster.PgNode;
import io.pgsentinel.testkit.Stats;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * How long writes are unavailable, with the default configuration, for the faults the product
 * promises a figure for: a hung postmaster (SIGSTOP) and an isolated primary host (fault to the
 * first write acknowledged by the new primary, target median 5 s), and a planned switchover with
 * writers running (the longest gap between two acknowledged writes, target median 1 s), also
 * with over 1 GB of dirty shared buffers ({@code -Dfaults.dirtyRounds=N}, default 3). Each
 * round on a fresh cluster; figures printed and appended to target/benchmarks/faults.txt
 * (docs/benchmarks.md). {@code -Dfaults.rounds=N} (default 5).
 */
@Tag("benchmark")
class FaultBenchmarkIT {
    private static final int ROUNDS = Integer.getInteger("faults.rounds", 5);
    private static final int DIRTY_ROUNDS = Integer.getInteger("faults.dirtyRounds", 3);
    private static final String TOKEN = "bench-token";

    @Test
    void hungPostmasterToFirstWriteOnTheNewPrimary() {
        List<Double> seconds = new ArrayList<>();
        for (int round = 1; round <= ROUNDS; round++) {
            try (SentinelCluster cluster = SentinelCluster.start(2)) {
                seconds.add(faultToNewPrimary(cluster, "node1", c -> c.pg().node("node1").freeze()));
            }
        }
        record("postmaster hang (SIGSTOP): fault to the first write acknowledged by the new primary", seconds);
    }

    @Test
    void isolatedPrimaryHostToFirstWriteOnTheNewPrimary() {
        Assumptions.assumeTrue(Hosts.available(), Hosts.unavailableReason());
        List<Double> seconds = new ArrayList<>();
        for (int round = 1; round <= ROUNDS; round++) {
            try (Hosts hosts = Hosts.create("db1", "db2", "db3", "zk1", "zk2", "zk3");
                 SentinelCluster cluster = SentinelCluster.onHosts(hosts, List.of("db1", "db2", "db3"),
                         List.of("zk1", "zk2", "zk3"), y -> y)) {
                seconds.add(faultToNewPrimary(cluster, "db1", c -> hosts.isolate("db1")));
            }
        }
        record("primary's host isolated (no TCP reset): fault to the first write acknowledged by the new primary",
                seconds);
    }

    @Test
    void plannedSwitchoverWritesUnavailable() throws Exception {
        Path token = KitRun.get().newDirectory("token").resolve("api.token");
        Files.writeString(token, TOKEN + "\n");
        List<Double> gaps = new ArrayList<>();
        for (int round = 1; round <= ROUNDS; round++) {
            try (SentinelCluster cluster = SentinelCluster.start(2, y -> y + "api:\n  tokenFile: " + token + "\n")) {
                Topology before = healthy(cluster, "node1");
                cluster.pg().primary().execute("CREATE TABLE bench (id bigint PRIMARY KEY)");
                gaps.add(switchoverToNode2WithAWriter(cluster, before));
            }
        }
        record("planned switchover with a writer: longest gap between two acknowledged writes", gaps);
    }

    /**
     * A planned switchover of a busy primary (issue: a fast stop with gigabytes of dirty buffers
     * escalated to an immediate stop and the switchover rolled back): a bulk load leaves over
     * 1 GB of dirty shared buffers (fsync on, no checkpoint or background writer in between),
     * then a writer runs across {@code POST /switchover}. Measures the longest gap between two
     * acknowledged writes, and asserts that the switchover went to the candidate and that every
     * acknowledged write is on it.
     */
    @Test
    void plannedSwitchoverOfAPrimaryWithAGigabyteOfDirtyBuffers() throws Exception {
        Path token = KitRun.get().newDirectory("token").resolve("api.token");
        Files.writeString(token, TOKEN + "\n");
        List<Double> gaps = new ArrayList<>();
        List<Long> dirtyMegabytes = new ArrayList<>();
        for (int round = 1; round <= DIRTY_ROUNDS; round++) {
            PgCluster.Builder servers = PgCluster.builder().replicas(2)
                    .setting("shared_buffers", "2GB")
                    .setting("fsync", "on")
                    .setting("checkpoint_timeout", "1h")
                    .setting("max_wal_size", "16GB")
                    .setting("bgwriter_lru_maxpages", "0");
            try (SentinelCluster cluster = SentinelCluster.start(servers,
                    y -> y + "api:\n  tokenFile: " + token + "\n")) {
                Topology before = healthy(cluster, "node1");
                PgNode primary = cluster.pg().primary();
                primary.execute("CREATE EXTENSION IF NOT EXISTS pg_buffercache");
                primary.execute("CREATE TABLE bench (id bigint PRIMARY KEY)");
                primary.execute("CREATE TABLE ballast (id int, pad text)");
                try (Connection c = primary.connect(Duration.ofMinutes(10)); Statement st = c.createStatement()) {
                    // rows of about 1 kB, uncompressed (under the TOAST threshold): about 1.3 GB of heap pages
                    st.execute("INSERT INTO ballast SELECT g, repeat(md5(g::text), 32) FROM generate_series(1, 1200000) g");
                }
                long dirty = Long.parseLong(primary.query(
                        "SELECT count(*) FILTER (WHERE isdirty) * 8 / 1024 FROM pg_buffercache"));
                if (dirty < 1024) {
                    throw new AssertionError("the bulk load left only " + dirty + " MB of dirty buffers");
                }
                dirtyMegabytes.add(dirty);
                String loaded = primary.currentFlushLsn();
                for (PgNode n : cluster.pg().nodes()) {
                    if (n != primary) {
                        n.awaitReplayed(loaded, Duration.ofMinutes(5));
                    }
                }
                cluster.awaitTopology("the replicas published as streaming after the load", t -> t.replicas().stream()
                        .allMatch(r -> r.state().json().equals("streaming")));
                gaps.add(switchoverToNode2WithAWriter(cluster, before));
            }
        }
        record("planned switchover of a primary with " + dirtyMegabytes + " MB of dirty shared buffers (fsync on) "
                + "and a writer: longest gap between two acknowledged writes", gaps);
    }

    /**
     * Runs a writer (inserting into whichever server accepts) across {@code POST /switchover} to
     * node2 and returns the longest gap between two acknowledged writes, in seconds; fails unless
     * node2 is published and holds every acknowledged write.
     */
    private static double switchoverToNode2WithAWriter(SentinelCluster cluster, Topology before) throws Exception {
        Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
        AtomicLong nextId = new AtomicLong();
        AtomicLong lastAck = new AtomicLong(System.nanoTime());
        AtomicLong longestGap = new AtomicLong();
        Thread writer = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                for (PgNode n : cluster.pg().nodes()) {
                    long id = nextId.incrementAndGet();
                    if (insert(n, id)) {
                        acknowledged.add(id);
                        long now = System.nanoTime();
                        longestGap.accumulateAndGet(now - lastAck.getAndSet(now), Math::max);
                    }
                }
            }
        });
        writer.start();
        try {
            Await.until("writes", Duration.ofSeconds(10), () -> longestGap.get() > 0);
            longestGap.set(0);
            Http.Reply r = Http.post(cluster.sentinel("node2").url("/switchover"), "{\"candidate\": \"node2\"}", TOKEN);
            if (r.status() != 202) {
                throw new AssertionError(r.body());
            }
            Topology after = cluster.awaitTopology("the switchover", t -> t.epoch() > before.epoch());
            if (!after.primary().id().equals("node2")) {
                throw new AssertionError("the switchover published " + after.primary().id() + ", not node2");
            }
            Await.until("writes on the new primary", Duration.ofSeconds(60),
                    () -> System.nanoTime() - lastAck.get() < 100_000_000L);
        } finally {
            writer.interrupt();
            writer.join();
        }
        Set<Long> onNewPrimary = new HashSet<>();
        cluster.pg().node("node2").queryColumn("SELECT id FROM bench").forEach(v -> onNewPrimary.add(Long.parseLong(v)));
        List<Long> lost = acknowledged.stream().filter(id -> !onNewPrimary.contains(id)).sorted().toList();
        if (!lost.isEmpty()) {
            throw new AssertionError(lost.size() + " acknowledged writes are not on the new primary: " + lost);
        }
        return longestGap.get() / 1e9;
    }

    /** Whether {@code n} acknowledges inserting {@code id} into {@code bench} now (1 s timeouts). */
    private static boolean insert(PgNode n, long id) {
        try (Connection c = DriverManager.getConnection(n.jdbcUrl(Duration.ofSeconds(1)));
             PreparedStatement st = c.prepareStatement("INSERT INTO bench VALUES (?)")) {
            st.setLong(1, id);
            st.executeUpdate();
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    private static Topology healthy(SentinelCluster cluster, String primary) {
        return cluster.awaitTopology("healthy", t -> t.primary().id().equals(primary) && t.replicas().stream()
                .allMatch(r -> r.state().json().equals("streaming")));
    }

    /** Injects {@code fault} on a healthy cluster and returns seconds to the first write a new primary acknowledges. */
    private static double faultToNewPrimary(SentinelCluster cluster, String primary, Consumer<SentinelCluster> fault) {
        healthy(cluster, primary);
        cluster.pg().node(primary).execute("CREATE TABLE bench (id serial PRIMARY KEY)");
        List<PgNode> survivors = cluster.pg().nodes().stream().filter(n -> !n.name().equals(primary)).toList();
        survivors.forEach(n -> n.awaitReplayed(cluster.pg().node(primary).currentFlushLsn(), Duration.ofSeconds(10)));
        long t0 = System.nanoTime();
        fault.accept(cluster);
        Await.until("a write acknowledged by a new primary", Duration.ofSeconds(60), Duration.ofMillis(10),
                () -> survivors.stream().anyMatch(FaultBenchmarkIT::write));
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Whether {@code n} acknowledges an insert into {@code bench} now (1 s timeouts). */
    static boolean write(PgNode n) {
        try (Connection c = DriverManager.getConnection(n.jdbcUrl(Duration.ofSeconds(1)));
             Statement st = c.createStatement()) {
            st.execute("INSERT INTO bench DEFAULT VALUES");
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    private static void record(String what, List<Double> seconds) {
        Stats s = new Stats(seconds);
        Stats.record("faults.txt", String.format("%s %s, %d rounds: median %.2f s, p95 %.2f s, min %.2f s, max %.2f s; "
                + "each: %s", LocalDate.now(), what, s.count(), s.median(), s.percentile(95), s.min(), s.max(), seconds));
    }
}
