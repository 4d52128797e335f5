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

/**
 * The primary's side of failsafe: asks every other sentinel, over its authenticated API, for a
 * lease. Granted only by sentinels that cannot reach ZooKeeper either; with a quorum of grants
 * (this sentinel included) no failover can happen, and the primary may keep serving.
 */
final class FailsafeClient {
    private final String self;
    private final ClusterCache cache;
    private final Optional<String> token;
    private final java.util.function.IntSupplier fixedQuorum;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();

    FailsafeClient(String self, ClusterCache cache, Optional<String> token, java.util.function.IntSupplier fixedQuorum) {
        this.self = self;
        this.cache = cache;
        this.token = token;
        this.fixedQuorum = fixedQuorum;
    }

    /** The answer to one round of lease requests. */
    record Outcome(boolean quorum, String text) {
    }

    /**
     * Asks every other sentinel for a lease of {@code millis}, each answer awaited up to
     * {@code timeout}; completes with whether a quorum granted (this sentinel counts). Never
     * blocks the caller: the self-fence watchdog must keep its own deadline.
     */
    CompletableFuture<Outcome> requestLeases(long millis, Duration timeout) {
        Topology t = cache.topology().map(ClusterCache.VersionedTopology::topology).orElse(null);
        if (t == null || !t.primary().id().equals(self)) {
            return CompletableFuture.completedFuture(new Outcome(false, "this node is not the published primary"));
        }
        if (token.isEmpty()) {
            return CompletableFuture.completedFuture(new Outcome(false, "no api.tokenFile to authenticate with"));
        }
        Map<String, RegisteredNode> nodes = cache.nodes();
        int fixed = fixedQuorum.getAsInt();
        int quorum = fixed > 0 ? fixed : nodes.size() / 2 + 1;
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
                    .completeOnTimeout(n.id() + ": no answer within " + timeout.toMillis() + " ms",
                            timeout.toMillis() + 100, TimeUnit.MILLISECONDS)
                    .exceptionally(e -> n.id() + ": unreachable"));
        }
        return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).thenApply(done -> {
            List<String> outcome = answers.stream().map(CompletableFuture::join).toList();
            long grants = 1 + outcome.stream().filter(s -> s.startsWith("granted")).count();
            boolean ok = grants >= quorum;
            return new Outcome(ok, (ok ? "quorum" : "no quorum") + " of leases (" + grants + " granted, this sentinel "
                    + "included; " + quorum + " needed): " + outcome);
        });
    }
}
