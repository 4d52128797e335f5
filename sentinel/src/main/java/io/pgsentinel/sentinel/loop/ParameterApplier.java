package io.pgsentinel.sentinel.loop;

import io.pgsentinel.sentinel.config.ClusterSettings;
import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.sentinel.postgres.PgParameters;
import io.pgsentinel.sentinel.time.MonotonicClock;
import io.pgsentinel.sentinel.zk.ClusterCache;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings the local server's {@code postgresql.auto.conf} in line with the cluster's PostgreSQL
 * parameters: ALTER SYSTEM SET what differs, ALTER SYSTEM RESET what the cluster no longer sets
 * (any parameter its settings history ever named), then a reload. Parameters that need a restart
 * then show as pending ({@code pending_restart}) until a restart applies them. Checked again
 * whenever the parameters change or the server was seen down (a rewind or a clone brings another
 * node's file).
 */
final class ParameterApplier {
    private static final Logger LOG = LoggerFactory.getLogger(ParameterApplier.class);
    private static final Duration SQL_TIMEOUT = Duration.ofSeconds(2);
    private static final long RETRY_MILLIS = 5000;

    private final PgParameters parameters;
    private final String host;
    private final int port;
    private final Supplier<ClusterSettings> settings;
    private final ClusterCache cache;
    private final MonotonicClock clock;
    private Map<String, String> inLine;
    private long failedAt = -1;

    ParameterApplier(PgParameters parameters, String host, int port, Supplier<ClusterSettings> settings,
                     ClusterCache cache, MonotonicClock clock) {
        this.parameters = parameters;
        this.host = host;
        this.port = port;
        this.settings = settings;
        this.cache = cache;
        this.clock = clock;
    }

    void cycle(MemberReport local) {
        if (local == null || !local.running()) {
            inLine = null;
            return;
        }
        Map<String, String> desired = settings.get().parameters();
        if (desired.equals(inLine) || (failedAt >= 0 && clock.nowMillis() - failedAt < RETRY_MILLIS)) {
            return;
        }
        try {
            Map<String, String> now = parameters.altered(host, port, SQL_TIMEOUT);
            Map<String, String> set = new TreeMap<>();
            desired.forEach((name, value) -> {
                if (!value.equals(now.get(name))) {
                    set.put(name, value);
                }
            });
            Set<String> reset = new TreeSet<>(SettingsHistory.everNamed(cache, ClusterSettings.PARAMETERS));
            reset.removeAll(desired.keySet());
            reset.retainAll(now.keySet());
            List<String> changed = parameters.apply(host, port, set, reset, SQL_TIMEOUT);
            if (!changed.isEmpty()) {
                LOG.info("PostgreSQL parameters of the cluster applied (ALTER SYSTEM and reload): set {}, reset {}",
                        set, reset);
            }
            inLine = desired;
            failedAt = -1;
        } catch (Exception e) {
            failedAt = clock.nowMillis();
            LOG.warn("could not apply the cluster's PostgreSQL parameters to the local server: {}", e.getMessage());
        }
    }
}
