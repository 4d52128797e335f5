package io.pgsentinel.sentinel.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgsentinel.localcluster.Await;
import io.pgsentinel.sentinel.demo.Http;
import io.pgsentinel.shared.json.Fields;
import io.pgsentinel.shared.topology.Topology;
import java.net.http.HttpClient;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /events} with a real HTTP client, as a Go, Python or shell client would use it: the
 * current topology on connecting, the new one when a failover publishes it, heartbeats on an idle
 * stream, and 503 for a subscriber over the bound.
 */
class EventsIT extends ClusterTest {

    @Test
    void aClientFollowsAFailoverThroughTheEventStream() throws Exception {
        cluster = SentinelCluster.start(2, y -> y + "api:\n  maxEventSubscribers: 2\n  eventHeartbeat: 500ms\n");
        Topology first = cluster.awaitTopology("a healthy topology", t -> states(t).equals("node2=streaming,node3=streaming"));
        HttpClient http = HttpClient.newHttpClient();
        String url = cluster.sentinel("node3").url("/events");
        try (SseClient a = new SseClient(http, url); SseClient b = new SseClient(http, url)) {
            assertThat(a.status()).isEqualTo(200);
            assertThat(a.response.get().headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
            SseClient.Event initial = Await.value("the current topology on connecting", SentinelCluster.WAIT,
                    () -> a.events.isEmpty() ? null : a.events.get(0));
            assertThat(initial.name()).isEqualTo("topology");
            JsonNode doc = Fields.parseObject(initial.data().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            assertThat(doc.path("primary").path("id").asText()).isEqualTo(first.primary().id());
            assertThat(initial.id()).startsWith(doc.path("epoch").asLong() + ".");
            Await.until("heartbeats on the stream", SentinelCluster.WAIT, () -> a.comments.contains("heartbeat"));
            assertThat(b.status()).isEqualTo(200);

            // one subscriber over api.maxEventSubscribers
            Http.Reply refused = Http.get(url);
            assertThat(refused.status()).isEqualTo(503);
            assertThat(refused.body()).contains("too many event subscribers");

            cluster.sentinel("node1").process().kill9();
            cluster.pg().node("node1").kill9();
            Topology after = cluster.awaitTopology("a new primary", t -> t.epoch() > first.epoch());
            SseClient.Event failover = Await.value("the new primary on the stream", SentinelCluster.WAIT, () -> a.events.stream()
                    .filter(e -> e.data().contains("\"epoch\":" + after.epoch()))
                    .findFirst().orElse(null));
            JsonNode next = Fields.parseObject(failover.data().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            assertThat(next.path("primary").path("id").asText()).isEqualTo(after.primary().id());
        }
        // the closed streams free their places
        Await.until("a place for a new subscriber", SentinelCluster.WAIT, () -> {
            try (SseClient c = new SseClient(http, url)) {
                return c.status() == 200;
            }
        });
    }
}
