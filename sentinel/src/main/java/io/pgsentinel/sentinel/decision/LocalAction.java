package io.pgsentinel.sentinel.decision;

import java.util.Locale;

/**
 * What a sentinel does with its own server, and why.
 *
 * @param kind     the action
 * @param reason   a sentence for the log and the report
 * @param upstream the node to follow (re-point, rewind, clone, start as replica), or ""
 */
public record LocalAction(Kind kind, String reason, String upstream) {
    public enum Kind {
        /** Nothing to do. */
        NONE,
        /** Nothing can be done now; the reason says why. */
        WAIT,
        /** Stop accepting writes (stop, or read-only as configured). */
        FENCE,
        /** Start the server as it is configured (no topology yet). */
        START_AS_IS,
        /** Start the server as the primary, after confirming the standing with ZooKeeper. */
        START_PRIMARY,
        /** Configure it to follow the primary and start it. */
        START_REPLICA,
        /** Point the running replica at the primary (reload, no restart). */
        REPOINT,
        /** pg_rewind against the primary, then start as a replica. */
        REWIND,
        /** A fresh copy of the primary with pg_basebackup, then start as a replica. */
        CLONE,
        /** Create the cluster (initdb) in the empty data directory, start it, and let the leader publish it. */
        INITDB;

        public String json() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    static LocalAction of(Kind kind, String reason) {
        return new LocalAction(kind, reason, "");
    }

    static LocalAction toward(Kind kind, String upstream, String reason) {
        return new LocalAction(kind, reason, upstream);
    }
}
