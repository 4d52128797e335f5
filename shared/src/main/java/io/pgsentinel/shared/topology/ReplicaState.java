package io.pgsentinel.shared.topology;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** The state of a replica in the published topology (contract values, lower case in JSON). */
public enum ReplicaState {
    /** Streaming from the primary, within the lag bound. */
    STREAMING,
    /** Streaming (or replaying) but over the lag bound. */
    LAGGING,
    /** Not reachable, or not replicating. */
    DOWN,
    /** Being rewound or re-cloned to follow the primary. */
    REJOINING;

    public String json() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<ReplicaState> fromJson(String value) {
        return Arrays.stream(values()).filter(s -> s.json().equals(value)).findFirst();
    }
}
