package io.pgsentinel.sentinel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgsentinel.sentinel.demo.Http;
import io.pgsentinel.sentinel.it.SentinelCluster;
import io.pgsentinel.testkit.Stats;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDate;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * How much the sentinels write to ZooKeeper in steady state, idle and under a continuous write
 * load on the primary (which moves every WAL position all the time). Figures in docs/benchmarks.md.
 */
@Tag("benchmark")
class ZooKeeperWriteRateIT {
    private static final Duration WINDOW = Duration.ofSeconds(30);

    @Test
    void writesPerSecondIdleAndUnderLoad() throws Exception {
        try (SentinelCluster cluster = SentinelCluster.start(2)) {
            cluster.awaitTopology("healthy", t -> t.replicas().stream().allMatch(r -> r.state().json().equals("streaming")));
            measure(cluster, "idle");
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicLong inserts = new AtomicLong();
            cluster.pg().primary().execute("CREATE TABLE load (id bigserial PRIMARY KEY, v text)");
            Thread writer = new Thread(() -> {
                try (Connection c = cluster.pg().primary().connect(); Statement s = c.createStatement()) {
                    while (running.get()) {
                        s.execute("INSERT INTO load (v) VALUES (repeat('x', 200))");
                        inserts.incrementAndGet();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            writer.start();
            measure(cluster, "under write load");
            running.set(false);
            writer.join();
            Stats.record("zookeeper-writes.txt", LocalDate.now() + " load: " + inserts.get() + " inserts in "
                    + WINDOW.toSeconds() + " s");
        }
    }

    private static long[] counters(SentinelCluster cluster) {
        long[] sum = new long[3];
        for (io.pgsentinel.sentinel.demo.LocalSentinel s : cluster.sentinels()) {
            JsonNode gauges = Http.get(s.adminUrl("/metrics")).json().get("gauges");
            sum[0] += gauges.get("pgsentinel.writes.reports").get("value").asLong();
            sum[1] += gauges.get("pgsentinel.writes.votes").get("value").asLong();
            sum[2] += gauges.get("pgsentinel.writes.topology").get("value").asLong();
        }
        return sum;
    }

    private static void measure(SentinelCluster cluster, String label) throws InterruptedException {
        long[] before = counters(cluster);
        Thread.sleep(WINDOW.toMillis()); // a measurement window, not a wait for a condition
        long[] after = counters(cluster);
        double seconds = WINDOW.toSeconds();
        double reports = (after[0] - before[0]) / seconds;
        double votes = (after[1] - before[1]) / seconds;
        double topology = (after[2] - before[2]) / seconds;
        int n = cluster.sentinels().size();
        Stats.record("zookeeper-writes.txt", String.format("%s %s, %d sentinels: reports %.2f/s, votes %.2f/s, "
                        + "topology %.2f/s; per sentinel %.2f/s; projected for 9 nodes %.1f/s", LocalDate.now(), label, n,
                reports, votes, topology, (reports + votes) / n, (reports + votes) / n * 9 + topology));
    }
}
