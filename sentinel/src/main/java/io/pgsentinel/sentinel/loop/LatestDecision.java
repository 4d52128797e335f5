package io.pgsentinel.sentinel.loop;

import io.pgsentinel.sentinel.decision.Decision;
import java.time.Instant;

/** The leader's latest decision, as shown by {@code GET /cluster} and {@code status}. */
public record LatestDecision(String leader, String action, String summary, String reason, Instant at) {
    static LatestDecision of(String leader, Decision d, Instant at) {
        return new LatestDecision(leader, d.action().json(), d.summary(), d.reason(), at);
    }
}
