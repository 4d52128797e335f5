package io.pgsentinel.sentinel.loop;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgsentinel.sentinel.model.RegisteredNode;
import io.pgsentinel.sentinel.zk.ClusterCache;
import io.pgsentinel.shared.json.Fields;
import io.pgsentinel.shared.topology.Topology;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The primary's side of failsafe: asks every other sentinel, over its authenticated API, for a
 * lease. Granted only by sentinels that cannot reach ZooKeeper either; with a quorum of grants
 * (this sentinel included) no failover can happen, and the primary may keep serving.
 */
final class FailsafeClient {
    private static final Logger LOG = LoggerFactory.getLogger(FailsafeClient.class);

    private final String self;
    private final ClusterCache cache;
    private final Optional<String> token;
    private final int fixedQuorum;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
    private String lastOutcome = "";

    FailsafeClient(String self, ClusterCache cache, Optional<String> token, int fixedQuorum) {
        this.self = self;
        this.cache = cache;
        this.token = token;
        this.fixedQuorum = fixedQuorum;
    }

    /** Whether a quorum of sentinels granted a lease of {@code millis} (this one counts). */
    boolean requestLeases(long millis, Duration timeout) {
        Topology t = cache.topology().map(ClusterCache.VersionedTopology::topology).orElse(null);
        if (t == null || !t.primary().id().equals(self) || token.isEmpty()) {
            return false;
        }
        Map<String, RegisteredNode> nodes = cache.nodes();
        int quorum = fixedQuorum > 0 ? fixedQuorum : nodes.size() / 2 + 1;
        ObjectNode body = Fields.mapper().createObjectNode();
        body.put("primary", self);
        body.put("epoch", t.epoch());
        body.put("durationMs", millis);
        List<CompletableFuture<String>> answers = new ArrayList<>();
        for (RegisteredNode n : nodes.values()) {
            if (n.id().equals(self) || n.apiUrl().isEmpty()) {
                continue;
            }
            HttpRequest request = HttpRequest.newBuilder(URI.create(n.apiUrl() + "/failsafe/lease")).timeout(timeout)
                    .header("Authorization", "Bearer " + token.get()).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build();
            answers.add(http.sendAsync(request, HttpResponse.BodyHandlers.ofString())
                    .thenApply(r -> r.statusCode() == 200 ? "granted by " + n.id() : n.id() + ": " + r.body())
                    .exceptionally(e -> n.id() + ": unreachable"));
        }
        int grants = 1;
        List<String> outcome = new ArrayList<>();
        for (CompletableFuture<String> a : answers) {
            try {
                String s = a.get(timeout.toMillis() + 100, TimeUnit.MILLISECONDS);
                if (s.startsWith("granted")) {
                    grants++;
                }
                outcome.add(s);
            } catch (Exception e) {
                outcome.add("no answer");
            }
        }
        boolean ok = grants >= quorum;
        String text = (ok ? "quorum" : "no quorum") + " of leases (" + grants + " of " + quorum + " needed): " + outcome;
        if (!text.equals(lastOutcome)) {
            LOG.warn("failsafe: {}", text);
            lastOutcome = text;
        }
        return ok;
    }
}
