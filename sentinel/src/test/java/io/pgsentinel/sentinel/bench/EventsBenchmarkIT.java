package io.pgsentinel.sentinel.bench;

import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.KitRun;
import io.pgsentinel.sentinel.demo.Http;
import io.pgsentinel.sentinel.it.SentinelCluster;
import io.pgsentinel.sentinel.it.SseClient;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.testkit.Stats;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /events} latency: from the topology's publication (the ZooKeeper node's mtime, the
 * server's clock at commit; the same machine's clock as the client's) to the event's arrival at
 * an HTTP client, on each of the three sentinels, over {@code -Devents.switchovers=N} (default 10)
 * switchovers, each of which publishes several topology versions. Target: p99 within 100 ms.
 * Appended to target/benchmarks/events.txt (docs/benchmarks.md).
 */
@Tag("benchmark")
class EventsBenchmarkIT {
    private static final int SWITCHOVERS = Integer.getInteger("events.switchovers", 10);
    private static final String TOKEN = "bench-token";

    @Test
    void publicationToArrivalOnEverySentinel() throws Exception {
        Path token = KitRun.get().newDirectory("token").resolve("api.token");
        Files.writeString(token, TOKEN + "\n");
        try (SentinelCluster cluster = SentinelCluster.start(2, y -> y + "api:\n  tokenFile: " + token + "\n"
                + "failover:\n  minInterval: 0s\n");
             CuratorFramework zk = cluster.zk().newClient(Duration.ofSeconds(10));
             CuratorCache published = CuratorCache.build(zk, cluster.paths().topology(),
                     CuratorCache.Options.SINGLE_NODE_CACHE)) {
            Map<Integer, Long> mtimeByVersion = new ConcurrentHashMap<>();
            published.listenable().addListener(CuratorCacheListener.builder().forCreatesAndChanges((before, now) ->
                    mtimeByVersion.put(now.getStat().getVersion(), now.getStat().getMtime())).build());
            published.start();
            cluster.awaitTopology("a healthy topology", t -> t.replicas().stream()
                    .allMatch(r -> r.state().json().equals("streaming")));
            HttpClient http = HttpClient.newHttpClient();
            List<SseClient> streams = cluster.sentinels().stream().map(s -> new SseClient(http, s.url("/events"))).toList();
            try {
                for (int i = 0; i < SWITCHOVERS; i++) {
                    Topology before = cluster.awaitTopology("a settled cluster", t -> t.replicas().stream()
                            .allMatch(r -> r.state().json().equals("streaming")));
                    String candidate = before.replicas().get(i % before.replicas().size()).id();
                    Http.Reply r = Http.post(cluster.sentinel(candidate).url("/switchover"),
                            "{\"candidate\": \"" + candidate + "\"}", TOKEN);
                    if (r.status() != 202) {
                        throw new AssertionError("switchover refused: " + r.status() + " " + r.body());
                    }
                    cluster.awaitTopology("switchover " + (i + 1), t -> t.epoch() > before.epoch()
                            && t.replicas().stream().allMatch(x -> x.state().json().equals("streaming")));
                }
                int lastVersion = mtimeByVersion.keySet().stream().max(Integer::compare).orElseThrow();
                for (SseClient s : streams) {
                    Await.until("every version on every stream", SentinelCluster.WAIT, () -> s.events.stream()
                            .anyMatch(e -> e.id() != null && e.id().endsWith("." + lastVersion)));
                }
                List<Long> millis = new ArrayList<>();
                for (SseClient s : streams) {
                    for (SseClient.Event e : s.events.subList(1, s.events.size())) { // the first: sent on connecting
                        int version = Integer.parseInt(e.id().substring(e.id().indexOf('.') + 1));
                        Long mtime = mtimeByVersion.get(version);
                        if (mtime != null) {
                            millis.add(Math.max(0, e.arrived().toEpochMilli() - mtime));
                        }
                    }
                }
                Stats st = new Stats(millis);
                Stats.record("events.txt", String.format("%s GET /events, publication (ZooKeeper mtime) to arrival, %d "
                        + "events over %d switchovers on 3 sentinels: median %.0f ms, p99 %.0f ms, max %.0f ms",
                        LocalDate.now(), st.count(), SWITCHOVERS, st.median(), st.percentile(99), st.max()));
            } finally {
                streams.forEach(SseClient::close);
            }
        }
    }
}
