package io.pgsentinel.sentinel.loop;

import io.pgsentinel.sentinel.model.Vote;
import java.util.HashMap;
import java.util.Map;

/**
 * This sentinel's view of every server: up or down, and since when on the monotonic clock.
 * A state lasts from the first probe that saw it; a change of state restarts its timer.
 */
final class PeerViews {
    private record Seen(boolean up, long sinceMillis) {
    }

    private final Map<String, Seen> seen = new HashMap<>();

    /** Records a state seen since {@code sinceMillis}; returns true when the node's state changed. */
    synchronized boolean observe(String node, boolean up, long sinceMillis) {
        Seen before = seen.get(node);
        if (before != null && before.up() == up) {
            return false;
        }
        seen.put(node, new Seen(up, sinceMillis));
        return true;
    }

    /**
     * A node under a fence is down on purpose: its down time does not count until the fence is
     * lifted (a switchover rolled back, say), so that it gets its full {@code downAfter} to come back.
     */
    synchronized void restartDownTimer(String node, long nowMillis) {
        Seen s = seen.get(node);
        if (s != null && !s.up()) {
            seen.put(node, new Seen(false, nowMillis));
        }
    }

    synchronized void retainOnly(java.util.Set<String> nodes) {
        seen.keySet().retainAll(nodes);
    }

    synchronized boolean anyDown() {
        return seen.values().stream().anyMatch(s -> !s.up());
    }

    synchronized Map<String, Vote.View> views(long nowMillis) {
        Map<String, Vote.View> views = new HashMap<>();
        seen.forEach((node, s) -> views.put(node, new Vote.View(s.up(), Math.max(0, nowMillis - s.sinceMillis()))));
        return views;
    }
}
