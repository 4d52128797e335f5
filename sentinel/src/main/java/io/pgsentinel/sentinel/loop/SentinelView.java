package io.pgsentinel.sentinel.loop;

import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.sentinel.zk.ClusterCache;
import io.pgsentinel.sentinel.zk.Leadership;
import io.pgsentinel.sentinel.status.ClusterStatus;
import io.pgsentinel.sentinel.zk.ZkSession;
import io.pgsentinel.shared.json.DocumentException;

/**
 * What the HTTP resources read: this sentinel's latest local probe, its copy of ZooKeeper, and
 * the leader's latest decision. Read-only.
 */
public record SentinelView(String nodeId, String cluster, Observer observer, ClusterCache cache, Leadership leadership,
                           LeaderDuties leaderDuties, ZkSession session, Reconciler reconciler, SentinelLoop loop,
                           EffectiveSettings settings) {

    /** The lag bound of the cluster's settings (maxLagOnFailover): {@code /readiness} without {@code ?lag=}. */
    public long maxLagBytes() {
        return settings.current().maxLagOnFailoverBytes();
    }

    public MemberReport local() {
        return observer.latest();
    }

    /** The leader's latest decision: our own when we lead, else the one the leader wrote to ZooKeeper. */
    public LatestDecision decision() {
        if (leadership.isLeader() && leaderDuties.latest() != null) {
            return leaderDuties.latest();
        }
        return cache.document("decision").map(bytes -> {
            try {
                ClusterStatus.Decision d = ClusterStatus.Decision.parse(bytes);
                return new LatestDecision(d.leader(), d.action(), d.summary(), d.reason(), java.time.Instant.parse(d.at()));
            } catch (DocumentException e) {
                return null;
            }
        }).orElse(null);
    }
}
