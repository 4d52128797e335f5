package io.pgsentinel.sentinel.decision;

/**
 * The rules of failure detection and failover, from the configuration.
 *
 * @param downAfterMillis          a primary is down once a quorum has seen it unreachable this long
 * @param fixedQuorum              a number of sentinels, or 0 for a majority of registered nodes
 * @param maxLagOnFailoverBytes    refuse a candidate further behind the last known primary position;
 *                                 also the bound over which a replica is shown as lagging
 * @param lagPublishIntervalMillis lag-only changes of the topology are published at most this often
 * @param failoverCooldownMillis   a node demoted by a failover or switchover is not promoted back
 *                                 automatically within this time (anti-flapping); 0: off
 * @param primaryStartTimeoutMillis how long a primary its own sentinel reports "starting" (restarted
 *                                 in place) is waited for before a failover
 */
public record Policy(long downAfterMillis, int fixedQuorum, long maxLagOnFailoverBytes, long lagPublishIntervalMillis,
                     long failoverCooldownMillis, long primaryStartTimeoutMillis) {
    /** With the default primaryStartTimeout (30 s). */
    public Policy(long downAfterMillis, int fixedQuorum, long maxLagOnFailoverBytes, long lagPublishIntervalMillis,
                  long failoverCooldownMillis) {
        this(downAfterMillis, fixedQuorum, maxLagOnFailoverBytes, lagPublishIntervalMillis, failoverCooldownMillis, 30_000);
    }

    public Policy {
        if (downAfterMillis <= 0 || fixedQuorum < 0 || maxLagOnFailoverBytes < 0 || lagPublishIntervalMillis < 0
                || failoverCooldownMillis < 0 || primaryStartTimeoutMillis < 0) {
            throw new IllegalArgumentException("invalid policy " + this);
        }
    }

    /** The number of sentinels that must agree, for {@code registered} registered nodes. */
    public int quorum(int registered) {
        return fixedQuorum > 0 ? fixedQuorum : registered / 2 + 1;
    }
}
