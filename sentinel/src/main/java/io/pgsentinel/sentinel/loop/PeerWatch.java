package io.pgsentinel.sentinel.loop;

import io.pgsentinel.sentinel.postgres.PeerProbe;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * How this sentinel sees each peer's server, from probes that run in the background, one at a
 * time per peer, so that a slow server never holds up the cycle:
 * <ul>
 *   <li>a server that answers, even with an error (too many connections, starting up, shutting
 *       down, a refused login) is up: it is there, and busy or on its way;</li>
 *   <li>a server the connection does not reach (refused, no route) is down after two probes in a
 *       row, counted from the start of the first: one lost connection is not a dead primary;</li>
 *   <li>a server that does not answer at all (a hang, a cut link: no reset ever comes) is down
 *       once one probe has waited {@code silentAfter}, counted from that probe's start; a server
 *       that is only slow (a saturated host) answers before, and stays up.</li>
 * </ul>
 * Not thread-safe: the cycle's thread alone calls it.
 */
final class PeerWatch {
    /** One peer's state: its probe in flight, and the failures in a row. */
    private static final class Peer {
        CompletableFuture<PeerProbe.Seen> pending;
        long pendingSince;
        int failures;
        long failingSince;
    }

    /** What the watch concludes of one peer now. */
    record View(boolean up, long sinceMillis, PeerProbe.Seen last) {
    }

    private final Map<String, Peer> peers = new HashMap<>();
    private final long silentAfterMillis;
    private final Executor executor;

    PeerWatch(long silentAfterMillis, Executor executor) {
        this.silentAfterMillis = silentAfterMillis;
        this.executor = executor;
    }

    /**
     * Collects finished probes and starts new ones; returns the view of each peer that has one
     * (a peer whose first probe is still out has none yet, except once it is silent).
     *
     * @param probes a probe to start, by peer id
     */
    Map<String, View> cycle(Map<String, Supplier<PeerProbe.Seen>> probes, long now) {
        peers.keySet().retainAll(probes.keySet());
        Map<String, View> views = new HashMap<>();
        for (Map.Entry<String, Supplier<PeerProbe.Seen>> e : probes.entrySet()) {
            Peer p = peers.computeIfAbsent(e.getKey(), id -> new Peer());
            View view = null;
            if (p.pending != null && p.pending.isDone()) {
                PeerProbe.Seen seen = p.pending.getNow(PeerProbe.Seen.DOWN);
                if (seen.up()) {
                    p.failures = 0;
                    view = new View(true, now, seen);
                } else {
                    if (p.failures++ == 0) {
                        p.failingSince = p.pendingSince;
                    }
                    if (seen.outcome() == PeerProbe.Outcome.SILENT) {
                        p.failures = Math.max(p.failures, 2); // it was silent for longer than silentAfter already
                    }
                    view = new View(p.failures < 2, p.failures < 2 ? now : p.failingSince, seen);
                }
                p.pending = null;
            } else if (p.pending != null && now - p.pendingSince >= silentAfterMillis) {
                long since = p.failures > 0 ? p.failingSince : p.pendingSince;
                view = new View(false, since, PeerProbe.Seen.DOWN);
            }
            if (p.pending == null) {
                p.pending = CompletableFuture.supplyAsync(e.getValue(), executor);
                p.pendingSince = now;
            }
            if (view != null) {
                views.put(e.getKey(), view);
            }
        }
        return views;
    }

    Set<String> known() {
        return peers.keySet();
    }
}
