package io.pgsentinel.sentinel.loop;

import io.pgsentinel.sentinel.config.ClusterSettings;
import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.sentinel.model.Role;
import io.pgsentinel.sentinel.postgres.RemoteAdmin;
import io.pgsentinel.sentinel.time.MonotonicClock;
import io.pgsentinel.sentinel.zk.ClusterCache;
import io.pgsentinel.shared.topology.Topology;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's permanent physical slots ({@code slots.<name>: physical}) on the local server,
 * whatever its role, so that they survive a failover with their position: on the primary they
 * are created (WAL reserved at once); on a replica they are created too, and moved forward to
 * the primary's slot's restart_lsn (at most to what the replica has replayed), so the member
 * promoted next already holds them where the old primary had them. A slot the cluster no longer
 * declares (its settings history names it) is dropped once inactive. Every few seconds, each
 * call bounded.
 */
final class SlotKeeper {
    private static final Logger LOG = LoggerFactory.getLogger(SlotKeeper.class);
    private static final Duration SQL_TIMEOUT = Duration.ofSeconds(2);
    private static final long EVERY_MILLIS = 2000;

    private final String self;
    private final RemoteAdmin admin;
    private final String host;
    private final int port;
    private final Supplier<ClusterSettings> settings;
    private final ClusterCache cache;
    private final MonotonicClock clock;
    private long lastRun = -1;
    private String lastProblem = "";

    SlotKeeper(String self, RemoteAdmin admin, String host, int port, Supplier<ClusterSettings> settings,
               ClusterCache cache, MonotonicClock clock) {
        this.self = self;
        this.admin = admin;
        this.host = host;
        this.port = port;
        this.settings = settings;
        this.cache = cache;
        this.clock = clock;
    }

    void cycle(MemberReport local) {
        long now = clock.nowMillis();
        if (local == null || !local.running() || (lastRun >= 0 && now - lastRun < EVERY_MILLIS)) {
            return;
        }
        lastRun = now;
        Set<String> wanted = settings.get().slots();
        Set<String> dropped = new TreeSet<>(SettingsHistory.everNamed(cache, ClusterSettings.SLOTS));
        dropped.removeAll(wanted);
        if (wanted.isEmpty() && dropped.isEmpty()) {
            return;
        }
        Topology t = cache.topology().map(ClusterCache.VersionedTopology::topology).orElse(null);
        try {
            Map<String, Long> here = admin.physicalSlots(host, port, SQL_TIMEOUT);
            boolean created = false;
            for (String slot : wanted) {
                if (!here.containsKey(slot)) {
                    admin.ensureSlot(host, port, slot, SQL_TIMEOUT);
                    LOG.info("permanent slot {} created on the local server", slot);
                    created = true;
                }
            }
            for (String slot : dropped) {
                if (here.containsKey(slot) && admin.dropSlot(host, port, slot, SQL_TIMEOUT)) {
                    LOG.info("permanent slot {} dropped: the cluster no longer declares it", slot);
                }
            }
            if (local.role() == Role.REPLICA && t != null && !t.primary().id().equals(self)) {
                Map<String, Long> onPrimary = admin.physicalSlots(t.primary().host(), t.primary().port(), SQL_TIMEOUT);
                // a slot created just now has its own restart_lsn: read again only then
                Map<String, Long> mine = created ? admin.physicalSlots(host, port, SQL_TIMEOUT) : here;
                for (String slot : wanted) {
                    long target = onPrimary.getOrDefault(slot, -1L);
                    if (target > mine.getOrDefault(slot, -1L)) {
                        admin.advanceSlot(host, port, slot, target, SQL_TIMEOUT);
                    }
                }
            }
            lastProblem = "";
        } catch (Exception e) {
            String problem = e.getMessage() == null ? e.toString() : e.getMessage();
            if (!problem.equals(lastProblem)) {
                LOG.warn("permanent slots: {}", problem);
                lastProblem = problem;
            }
        }
    }
}
