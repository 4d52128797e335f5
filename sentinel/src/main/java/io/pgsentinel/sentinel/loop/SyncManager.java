package io.pgsentinel.sentinel.loop;

import io.pgsentinel.sentinel.config.ClusterSettings;
import io.pgsentinel.sentinel.decision.SyncPlanner;
import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.sentinel.model.RegisteredNode;
import io.pgsentinel.sentinel.postgres.RemoteAdmin;
import io.pgsentinel.sentinel.zk.ClusterCache;
import io.pgsentinel.sentinel.zk.LeaderWrites;
import io.pgsentinel.sentinel.zk.Leadership;
import io.pgsentinel.shared.topology.Topology;
import java.time.Duration;
import java.util.List;
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
    private final java.util.function.Supplier<ClusterSettings> settings;
    private String lastReason = "";

    /** {@code settings}: the cluster's, read every step (synchronous mode, its count and fallback change at run time). */
    SyncManager(ClusterCache cache, LeaderWrites writes, RemoteAdmin admin,
                java.util.function.Supplier<ClusterSettings> settings) {
        this.cache = cache;
        this.writes = writes;
        this.admin = admin;
        this.settings = settings;
    }

    /** Where the primary's current (smaller) list applies from, and for which list; see {@link SyncPlanner}. */
    private List<String> markedList = List.of();
    private long mark = -1;

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
        ClusterSettings wanted = settings.get();
        if (!wanted.synchronous() && t.synchronous() == null) {
            // asynchronous and nothing published: nothing to ask the primary (never a blocking call on the
            // leader's cycle for a cluster that is not synchronous; turning off clears the primary first)
            return false;
        }
        try {
            RemoteAdmin.SyncState state = admin.syncState(t.primary().host(), t.primary().port(), SQL_TIMEOUT);
            if (!wanted.synchronous()) {
                return turnOff(term, read, state, now);
            }
            Set<String> streaming = new TreeSet<>();
            for (String name : state.flushed().keySet()) {
                RegisteredNode n = cache.nodes().get(name);
                if (n != null && !n.noFailover() && !n.noSync() && !n.cascades()) {
                    streaming.add(name);
                }
            }
            SyncPlanner.OnPrimary onPrimary = enforced(state);
            if (onPrimary == null || !onPrimary.standbys().equals(markedList)) {
                markedList = List.of(); // the list changed under us (another leader, an operator): mark again
                mark = -1;
            }
            long shrinkMark = mark;
            SyncPlanner.Step step = SyncPlanner.next(t.synchronous(), onPrimary, streaming, state.flushed(),
                    state.primaryFlush(), shrinkMark, wanted.synchronousCount(), wanted.relaxAllowed());
            if (!step.reason().equals(lastReason)) {
                LOG.info("synchronous set: {}", step.reason());
                lastReason = step.reason();
            }
            if (step.mark() >= 0 && onPrimary != null) {
                markedList = onPrimary.standbys();
                mark = step.mark();
            }
            if (step.apply() != null) {
                // a mark holds for the list it was taken under only: a list changed, even back, needs a new one
                markedList = List.of();
                mark = -1;
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

    /**
     * Synchronous mode turned off (replication.synchronous: off in the cluster's settings): the
     * primary stops waiting first, then the synchronous set is unpublished; nothing when neither
     * has one. Commits from then on may be lost in a failover, which is what off means.
     */
    private boolean turnOff(Leadership.Term term, ClusterCache.VersionedTopology read, RemoteAdmin.SyncState state,
                            java.time.Instant now) throws java.sql.SQLException {
        Topology t = read.topology();
        if (!state.setting().isBlank()) {
            note("synchronous mode off: the primary stops waiting for standbys");
            admin.setSyncStandbyNames(t.primary().host(), t.primary().port(), "", SQL_TIMEOUT);
            return false;
        }
        if (t.synchronous() != null) {
            note("synchronous mode off: unpublishing the synchronous set");
            return writes.setTopology(term, t.withSynchronous(null, now), read.version()) == LeaderWrites.Outcome.OK;
        }
        return false;
    }

    private void note(String reason) {
        if (!reason.equals(lastReason)) {
            LOG.info("synchronous set: {}", reason);
            lastReason = reason;
        }
        markedList = List.of();
        mark = -1;
    }

    /**
     * The list the primary enforces: its setting, when every streaming walsender agrees with it
     * (a listed standby counts in the quorum, any other is asynchronous); null while they do not
     * (a reload not yet seen by every walsender, or a setting written but never reloaded).
     */
    static SyncPlanner.OnPrimary enforced(RemoteAdmin.SyncState state) {
        SyncPlanner.OnPrimary setting = SyncPlanner.OnPrimary.parse(state.setting());
        for (var e : state.syncStates().entrySet()) {
            boolean listed = setting.standbys().contains(e.getKey());
            boolean counted = !"async".equals(e.getValue());
            if (listed != counted) {
                return null;
            }
        }
        return setting;
    }
}
