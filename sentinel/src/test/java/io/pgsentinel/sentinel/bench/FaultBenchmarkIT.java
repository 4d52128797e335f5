package io.pgsentinel.sentinel.bench;

import io.pgsentinel.sentinel.demo.Http;
import io.pgsentinel.sentinel.it.SentinelCluster;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.Hosts;
import io.pgsentinel.localcluster.KitRun;
import io.pgsentinel.localcluster.PgNode;
import io.pgsentinel.testkit.Stats;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * How long writes are unavailable, with the default configuration, for the faults the product
 * promises a figure for: a hung postmaster (SIGSTOP) and an isolated primary host (fault to the
 * first write acknowledged by the new primary, target median 5 s), and a planned switchover with
 * writers running (the longest gap between two acknowledged writes, target median 1 s). Each
 * round on a fresh cluster; figures printed and appended to target/benchmarks/faults.txt
 * (docs/benchmarks.md). {@code -Dfaults.rounds=N} (default 5).
 */
@Tag("benchmark")
class FaultBenchmarkIT {
    private static final int ROUNDS = Integer.getInteger("faults.rounds", 5);
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
                cluster.pg().primary().execute("CREATE TABLE bench (id serial PRIMARY KEY)");
                AtomicLong lastAck = new AtomicLong(System.nanoTime());
                AtomicLong longestGap = new AtomicLong();
                Thread writer = new Thread(() -> {
                    while (!Thread.currentThread().isInterrupted()) {
                        for (PgNode n : cluster.pg().nodes()) {
                            if (write(n)) {
                                long now = System.nanoTime();
                                longestGap.accumulateAndGet(now - lastAck.getAndSet(now), Math::max);
                            }
                        }
                    }
                });
                writer.start();
                Await.until("writes", Duration.ofSeconds(10), () -> longestGap.get() > 0);
                longestGap.set(0);
                Http.Reply r = Http.post(cluster.sentinel("node2").url("/switchover"), "{\"candidate\": \"node2\"}", TOKEN);
                if (r.status() != 202) {
                    throw new AssertionError(r.body());
                }
                cluster.awaitTopology("the switchover", t -> t.epoch() > before.epoch());
                Await.until("writes on the new primary", Duration.ofSeconds(30),
                        () -> System.nanoTime() - lastAck.get() < 100_000_000L);
                writer.interrupt();
                writer.join();
                gaps.add(longestGap.get() / 1e9);
            }
        }
        record("planned switchover with a writer: longest gap between two acknowledged writes", gaps);
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
