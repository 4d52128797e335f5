package io.pgsentinel.sentinel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgsentinel.sentinel.demo.Http;
import io.pgsentinel.sentinel.it.SentinelCluster;
import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.PgNode;
import io.pgsentinel.testkit.Stats;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Host-loss failover with the default configuration, repeated on fresh clusters: the time from
 * kill -9 of the primary's server and sentinel to the first acknowledged write on the new
 * primary, with the stage breakdown from the history entry. Figures in docs/benchmarks.md.
 */
@Tag("benchmark")
class FailoverBenchmarkIT {
    private static final int ROUNDS = Integer.getInteger("failover.rounds", 10);

    @Test
    void hostLossToFirstAcknowledgedWrite() {
        List<Double> totals = new ArrayList<>();
        Map<String, List<Double>> stages = new TreeMap<>();
        for (int round = 1; round <= ROUNDS; round++) {
            try (SentinelCluster cluster = SentinelCluster.start(2)) {
                cluster.awaitTopology("healthy", t -> t.replicas().stream()
                        .allMatch(r -> r.state().json().equals("streaming")));
                cluster.pg().primary().execute("CREATE TABLE bench (id serial PRIMARY KEY, at timestamptz DEFAULT now())");
                List<PgNode> survivors = List.of(cluster.pg().node("node2"), cluster.pg().node("node3"));
                survivors.forEach(n -> n.awaitReplayed(cluster.pg().primary().currentFlushLsn(), Duration.ofSeconds(10)));

                long t0 = System.nanoTime();
                cluster.sentinel("node1").process().kill9();
                cluster.pg().primary().kill9();
                String winner = Await.value("a write acknowledged by a new primary", Duration.ofSeconds(60),
                        Duration.ofMillis(10), () -> {
                            for (PgNode n : survivors) {
                                if (FaultBenchmarkIT.write(n)) {
                                    return n.name();
                                }
                            }
                            return null;
                        });
                double seconds = (System.nanoTime() - t0) / 1e9;
                totals.add(seconds);
                JsonNode h = Await.value("the history entry", Duration.ofSeconds(30), () -> {
                    JsonNode list = Http.get(cluster.sentinel(winner).url("/history")).json();
                    return list.size() > 0 ? list.get(0) : null;
                });
                h.get("durationsMs").fields().forEachRemaining(e ->
                        stages.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(e.getValue().asDouble() / 1000));
                Stats.record("failover.txt", String.format("%s round %d: kill -> first acknowledged write on %s: %.2f s; "
                        + "history %s", LocalDate.now(), round, winner, seconds, h.get("durationsMs")));
            }
        }
        Stats s = new Stats(totals);
        Stats.record("failover.txt", String.format("%s host loss, %d rounds: median %.2f s, p95 %.2f s, min %.2f s, "
                + "max %.2f s", LocalDate.now(), s.count(), s.median(), s.percentile(95), s.min(), s.max()));
        stages.forEach((stage, values) -> {
            Stats st = new Stats(values);
            Stats.record("failover.txt", String.format("  stage %-20s median %.2f s, p95 %.2f s", stage, st.median(),
                    st.percentile(95)));
        });
    }
}
