package io.pgsentinel.sentinel.loop;

import io.pgsentinel.sentinel.config.ClusterSettings;
import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.sentinel.model.Role;
import io.pgsentinel.sentinel.postgres.RemoteAdmin;
import io.pgsentinel.sentinel.postgres.Replication;
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
 * declares (its settings history names it) is dropped once inactive. Member slots unused for
 * {@code replication.memberSlotsTtl} are dropped. Every few seconds, each call bounded.
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
    private final Map<String, Long> inactiveSince = new java.util.HashMap<>();
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
        ClusterSettings cs = settings.get();
        Set<String> wanted = cs.slots();
        Set<String> dropped = new TreeSet<>(SettingsHistory.everNamed(cache, ClusterSettings.SLOTS));
        dropped.removeAll(wanted);
        Topology t = cache.topology().map(ClusterCache.VersionedTopology::topology).orElse(null);
        try {
            Map<String, RemoteAdmin.Slot> here = admin.physicalSlots(host, port, SQL_TIMEOUT);
            expireMemberSlots(here, cs.memberSlotsTtlMillis(), now);
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
            if (!wanted.isEmpty() && local.role() == Role.REPLICA && t != null && !t.primary().id().equals(self)) {
                var onPrimary = admin.physicalSlots(t.primary().host(), t.primary().port(), SQL_TIMEOUT);
                // a slot created just now has its own restart_lsn: read again only then
                var mine = created ? admin.physicalSlots(host, port, SQL_TIMEOUT) : here;
                for (String slot : wanted) {
                    long target = onPrimary.containsKey(slot) ? onPrimary.get(slot).restartLsn() : -1;
                    if (target > (mine.containsKey(slot) ? mine.get(slot).restartLsn() : -1)) {
                        admin.advanceSlot(host, port, slot, target, SQL_TIMEOUT);
                    }
                }
            }
            lastProblem = "";
        } catch (Exception e) {
            String problem = e.getMessage() == null ? e.toString() : e.getMessage();
            if (!problem.equals(lastProblem)) {
                LOG.warn("replication slots: {}", problem);
                lastProblem = problem;
            }
        }
    }

    /**
     * Member slots (named after a registered node) on the local server that no standby has used
     * for {@code ttlMillis} are dropped: the WAL a node down for good holds would fill the disk.
     * Inactive since this sentinel first saw it so (PostgreSQL 15 does not record when a slot
     * went idle): a sentinel restart only keeps a slot longer. A node that comes back after its
     * slot went streams again if the WAL it needs is still there, or is cloned afresh.
     */
    private void expireMemberSlots(Map<String, RemoteAdmin.Slot> here, long ttlMillis, long now) {
        Set<String> members = new TreeSet<>();
        cache.nodes().keySet().forEach(id -> members.add(Replication.slotName(id)));
        members.remove(Replication.slotName(self));
        inactiveSince.keySet().retainAll(here.keySet());
        for (Map.Entry<String, RemoteAdmin.Slot> e : here.entrySet()) {
            String slot = e.getKey();
            if (!members.contains(slot) || e.getValue().active()) {
                inactiveSince.remove(slot);
                continue;
            }
            long since = inactiveSince.computeIfAbsent(slot, k -> now);
            if (ttlMillis > 0 && now - since >= ttlMillis) {
                try {
                    if (admin.dropSlot(host, port, slot, SQL_TIMEOUT)) {
                        LOG.warn("member slot {} dropped: unused for {} s (replication.memberSlotsTtl); its node is "
                                + "cloned afresh if the WAL it needs is gone when it comes back", slot, (now - since) / 1000);
                    }
                } catch (Exception ex) {
                    LOG.warn("member slot {}: could not drop it: {}", slot, ex.getMessage());
                }
                inactiveSince.remove(slot);
            }
        }
    }
}
