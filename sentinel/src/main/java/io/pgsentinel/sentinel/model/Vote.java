package io.pgsentinel.sentinel.model;

import java.time.Instant;
import java.util.Map;

/**
 * A sentinel's view of every registered server, written to {@code votes/<voter>} (ephemeral).
 *
 * @param voter the sentinel's node id
 * @param at    wall-clock time of writing, for people
 * @param views node id to what the voter sees of that node's PostgreSQL
 */
public record Vote(String voter, Instant at, Map<String, View> views) {
    public Vote {
        views = Map.copyOf(views);
    }

    /**
     * @param up       the server answered the voter's last probe
     * @param forMillis how long it has been in that state, on the voter's monotonic clock,
     *                 when the vote was written
     */
    public record View(boolean up, long forMillis) {
    }
}
