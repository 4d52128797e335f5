package io.pgsentinel.sentinel.model;

import java.util.Locale;

/** What a server is, as its own sentinel probed it. */
public enum Role {
    /** Out of recovery: it accepts writes (unless fenced read-only). */
    PRIMARY,
    /** In recovery. */
    REPLICA,
    /** Not running, or not answering. */
    UNKNOWN;

    public String json() {
        return name().toLowerCase(Locale.ROOT);
    }
}
