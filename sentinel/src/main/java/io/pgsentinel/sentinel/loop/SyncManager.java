package io.pgsentinel.sentinel.loop;

import io.pgsentinel.sentinel.decision.SyncPlanner;
import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.sentinel.model.RegisteredNode;
import io.pgsentinel.sentinel.model.Standby;
import io.pgsentinel.sentinel.postgres.RemoteAdmin;
import io.pgsentinel.sentinel.zk.ClusterCache;
import io.pgsentinel.sentinel.zk.LeaderWrites;
import io.pgsentinel.sentinel.zk.Leadership;
import io.pgsentinel.shared.topology.Topology;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Synchronous quorum mode, on the leader: one {@link SyncPlanner} step per cycle, applied to the
 * primary (ALTER SYSTEM + reload) or published in the topology (a conditional leader write).
 */
final class SyncManager {
    private static final Logger LOG = LoggerFactory.getLogger(SyncManager.class);
    private static final Duration SQL_TIMEOUT = Duration.ofSeconds(3);

    private final ClusterCache cache;
    private final LeaderWrites writes;
    private final RemoteAdmin admin;
    private final int count;
    private final boolean relaxAllowed;
    private String lastReason = "";

    SyncManager(ClusterCache cache, LeaderWrites writes, RemoteAdmin admin, int count, boolean relaxAllowed) {
        this.cache = cache;
        this.writes = writes;
        this.admin = admin;
        this.count = count;
        this.relaxAllowed = relaxAllowed;
    }

    /** Returns true when it published (the caller's topology copy is then stale for this cycle). */
    boolean step(Leadership.Term term, java.time.Instant now) {
        ClusterCache.VersionedTopology read = cache.topology().orElse(null);
        if (read == null) {
            return false;
        }
        Topology t = read.topology();
        MemberReport primary = cache.members().get(t.primary().id());
        if (primary == null || !primary.running() || primary.role() != io.pgsentinel.sentinel.model.Role.PRIMARY) {
            return false;
        }
        Set<String> streaming = new TreeSet<>();
        for (Standby sb : primary.standbys()) {
            RegisteredNode n = cache.nodes().get(sb.name());
            if (n != null && !n.noFailover() && "streaming".equals(sb.state())) {
                streaming.add(sb.name());
            }
        }
        try {
            SyncPlanner.OnPrimary onPrimary = SyncPlanner.OnPrimary.parse(
                    admin.syncStandbyNames(t.primary().host(), t.primary().port(), SQL_TIMEOUT));
            SyncPlanner.Step step = SyncPlanner.next(t.synchronous(), onPrimary, streaming, count, relaxAllowed);
            if (!step.reason().equals(lastReason)) {
                LOG.info("synchronous set: {}", step.reason());
                lastReason = step.reason();
            }
            if (step.apply() != null) {
                admin.setSyncStandbyNames(t.primary().host(), t.primary().port(), step.apply().setting(), SQL_TIMEOUT);
            }
            if (step.publish() != null) {
                return writes.setTopology(term, t.withSynchronous(step.publish(), now), read.version())
                        == LeaderWrites.Outcome.OK;
            }
        } catch (Exception e) {
            LOG.warn("synchronous set: {}", e.getMessage());
        }
        return false;
    }
}
