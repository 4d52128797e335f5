package io.pgsentinel.shared.client;

import static io.pgsentinel.shared.client.TopologyTrackerTest.topology;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.pgsentinel.shared.topology.TopologyCodec;
import io.pgsentinel.localcluster.Await;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HttpTopologyPollerIT {
    private final AtomicReference<byte[]> docA = new AtomicReference<>();
    private final AtomicReference<byte[]> docB = new AtomicReference<>();
    private HttpServer a;
    private HttpServer b;

    private HttpServer serve(AtomicReference<byte[]> doc) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/topology", exchange -> {
            byte[] body = doc.get();
            if (body == null) {
                exchange.sendResponseHeaders(503, -1);
            } else {
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
            exchange.close();
        });
        server.start();
        return server;
    }

    @AfterEach
    void stop() {
        a.stop(0);
        b.stop(0);
    }

    @Test
    void pollsEverySentinelKeepsTheHighestEpochAndIgnoresGarbage() throws Exception {
        a = serve(docA);
        b = serve(docB);
        docA.set(TopologyCodec.encode(topology(3, "node2", Instant.now())));
        docB.set("<html>proxy error</html>".getBytes(StandardCharsets.UTF_8));
        List<URI> sentinels = List.of(URI.create("http://127.0.0.1:" + a.getAddress().getPort()),
                URI.create("http://127.0.0.1:" + b.getAddress().getPort()), URI.create("http://127.0.0.1:1"));
        try (HttpTopologyPoller poller = HttpTopologyPoller.builder("c", sentinels).interval(Duration.ofMillis(50))
                .timeout(Duration.ofMillis(500)).start()) {
            assertThat(poller.awaitFirst(Duration.ofSeconds(10)).epoch()).isEqualTo(3);
            Await.until("garbage to be rejected", Duration.ofSeconds(10), () -> poller.rejectedCount() > 0);

            // a sentinel that missed the failover still serves epoch 3; the other serves 4
            docB.set(TopologyCodec.encode(topology(4, "node3", Instant.now())));
            Await.until("epoch 4 to be taken", Duration.ofSeconds(10), () -> poller.current().orElseThrow().epoch() == 4);
            long rejectedBefore = poller.rejectedCount();
            Await.until("the stale sentinel's epoch 3 to be rejected", Duration.ofSeconds(10),
                    () -> poller.rejectedCount() > rejectedBefore + 2);
            assertThat(poller.current().orElseThrow().primary().id()).isEqualTo("node3");
        }
    }
}
