package io.pgsentinel.sentinel.loop;

import io.pgsentinel.sentinel.config.ClusterSettings;
import io.pgsentinel.sentinel.model.RegisteredNode;
import io.pgsentinel.sentinel.postgres.PgParameters;
import io.pgsentinel.sentinel.zk.ClusterCache;
import io.pgsentinel.sentinel.zk.SettingsStore;
import io.pgsentinel.shared.topology.Topology;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A change of the cluster's settings, as {@code edit-config} and {@code POST /config} make it:
 * checked as strictly as the YAML (each value, the timing rules against the cluster as it is,
 * each PostgreSQL parameter against the primary's {@code pg_settings}), then written with
 * compare-and-set on the version that was read, with its history entry. Nothing is half-applied:
 * a refused change writes nothing.
 */
public final class SettingsEditor {
    private static final Duration SQL_TIMEOUT = Duration.ofSeconds(3);

    /** What became of a change: an HTTP-like status, a sentence, and what changed. */
    public record Result(int status, String message, int version, List<ClusterSettings.Change> changes,
                         List<String> pendingRestart) {
        public boolean applied() {
            return status == 200 && !changes.isEmpty();
        }
    }

    private final SettingsStore store;
    private final ClusterCache cache;
    private final PgParameters parameters;
    private final long checkIntervalMillis;
    private final long checkTimeoutMillis;

    /** {@code checkInterval}, {@code checkTimeout}: this sentinel's (node-local) probe timings, for the timing rules. */
    public SettingsEditor(SettingsStore store, ClusterCache cache, PgParameters parameters, long checkIntervalMillis,
                          long checkTimeoutMillis) {
        this.store = store;
        this.cache = cache;
        this.parameters = parameters;
        this.checkIntervalMillis = checkIntervalMillis;
        this.checkTimeoutMillis = checkTimeoutMillis;
    }

    /** What a change is checked against: the longest session timeout a sentinel negotiated, the registered nodes. */
    public ClusterSettings.Limits limits() {
        Map<String, RegisteredNode> nodes = cache.nodes();
        long session = nodes.values().stream().mapToLong(RegisteredNode::sessionTimeoutMillis).max().orElse(0);
        Set<String> memberSlots = new java.util.TreeSet<>();
        nodes.keySet().forEach(id -> memberSlots.add(io.pgsentinel.sentinel.postgres.Replication.slotName(id)));
        return new ClusterSettings.Limits(checkIntervalMillis, checkTimeoutMillis, Math.max(0, session), memberSlots);
    }

    /**
     * Sets {@code set}, removes {@code unset} (PostgreSQL parameters only), if the settings still
     * have {@code expectedVersion} (null: the version read now).
     */
    public Result change(Map<String, String> set, Set<String> unset, Integer expectedVersion, String by) throws Exception {
        SettingsStore.Versioned now = store.read().orElse(null);
        if (now == null) {
            return new Result(409, "the cluster has no settings yet: they are created by its first leader", -1,
                    List.of(), List.of());
        }
        if (expectedVersion != null && expectedVersion != now.version()) {
            return conflict(expectedVersion, now.version());
        }
        ClusterSettings next;
        try {
            next = now.settings().with(set, unset, limits());
        } catch (ClusterSettings.SettingsException e) {
            return new Result(400, e.getMessage() + "; nothing changed", now.version(), List.of(), List.of());
        }
        List<ClusterSettings.Change> changes = now.settings().changesTo(next);
        if (changes.isEmpty()) {
            return new Result(200, "nothing to change (version " + now.version() + ")", now.version(), changes, List.of());
        }
        List<String> restart = new ArrayList<>();
        List<ClusterSettings.Change> parameterChanges = changes.stream()
                .filter(c -> c.key().startsWith(ClusterSettings.PARAMETERS) && c.to() != null).toList();
        if (!parameterChanges.isEmpty()) {
            Map<String, PgParameters.Setting> known;
            try {
                known = primarySettings();
            } catch (Exception e) {
                return new Result(503, "cannot check the PostgreSQL parameters against the primary (" + e.getMessage()
                        + "); nothing changed", now.version(), List.of(), List.of());
            }
            for (ClusterSettings.Change c : parameterChanges) {
                String name = c.key().substring(ClusterSettings.PARAMETERS.length());
                String problem = PgParameters.problem(name, c.to(), known);
                if (problem != null) {
                    return new Result(400, c.key() + ": " + problem + "; nothing changed", now.version(), List.of(),
                            List.of());
                }
                if (known.containsKey(name) && known.get(name).needsRestart()) {
                    restart.add(name);
                }
            }
        }
        SettingsStore.Outcome outcome = store.update(now.settings(), next, now.version(), by);
        if (outcome == SettingsStore.Outcome.CONFLICT) {
            return conflict(now.version(), now.version() + 1);
        }
        if (outcome == SettingsStore.Outcome.ABSENT) {
            return new Result(409, "the cluster's settings node is gone; nothing changed", -1, List.of(), List.of());
        }
        String message = "version " + (now.version() + 1) + ": " + changes.size() + " change"
                + (changes.size() == 1 ? "" : "s") + " applied"
                + (restart.isEmpty() ? "" : "; " + String.join(", ", restart) + " take effect after a restart (shown as "
                + "pending in status; pg-sentinel restart --pending applies them member by member)");
        return new Result(200, message, now.version() + 1, changes, restart);
    }

    private Result conflict(int read, int found) {
        return new Result(409, "the cluster's settings changed since version " + read + " was read (now " + found
                + " or later): nothing changed; read them again and retry", found, List.of(), List.of());
    }

    private Map<String, PgParameters.Setting> primarySettings() throws Exception {
        Topology t = cache.topology().map(ClusterCache.VersionedTopology::topology)
                .orElseThrow(() -> new IllegalStateException("no primary published yet"));
        return parameters.settings(t.primary().host(), t.primary().port(), SQL_TIMEOUT);
    }
}
