package io.pgsentinel.sentinel.zk;

import io.dropwizard.lifecycle.Managed;
import io.pgsentinel.sentinel.time.MonotonicClock;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.state.ConnectionState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Leader election through Curator's {@link LeaderLatch}. The flag alone is never trusted for a
 * write: {@link #latchPath()} is checked inside every leader transaction (see
 * {@link LeaderWrites}). SUSPENDED means "not leader" until RECONNECTED and the latch confirms.
 * Each gain of leadership starts a new term, with its own start time: timers restart from zero.
 */
public final class Leadership implements Managed {
    private static final Logger LOG = LoggerFactory.getLogger(Leadership.class);

    /** One continuous period of leadership. */
    public record Term(long number, long startedAtMillis, String latchPath) {
    }

    private volatile LeaderLatch latch;
    private final ZkSession session;
    private final MonotonicClock clock;
    private final AtomicReference<Term> term = new AtomicReference<>();
    private final String nodeId;
    private long terms;

    public Leadership(ZkSession session, String nodeId, MonotonicClock clock) {
        this.session = session;
        this.clock = clock;
        this.nodeId = nodeId;
        this.latch = newLatch();
        session.addStateListener(state -> refresh());
    }

    private LeaderLatch newLatch() {
        LeaderLatch l = new LeaderLatch(session.client(), session.paths().leader(), nodeId);
        l.addListener(new LeaderLatchListener() {
            @Override
            public void isLeader() {
                refresh();
            }

            @Override
            public void notLeader() {
                refresh();
            }
        });
        return l;
    }

    @Override
    public void start() throws Exception {
        latch.start();
    }

    /**
     * Gives leadership away: leaves the election and enters it again at the back of the queue.
     * The sentinel of the primary does so, so that losing the primary's host does not also lose
     * the leader (a new leader would have to wait for the old one's session to expire).
     */
    public synchronized void yieldLeadership(String why) {
        LeaderLatch old = latch;
        LOG.info("yielding leadership: {}", why);
        try {
            latch = newLatch();
            old.close(LeaderLatch.CloseMode.NOTIFY_LEADER);
            latch.start();
        } catch (Exception e) {
            LOG.warn("could not re-enter the election: {}", e.toString());
        }
        refresh();
    }

    @Override
    public void stop() throws Exception {
        latch.close(LeaderLatch.CloseMode.SILENT);
    }

    /** The current term if this sentinel leads now (latch held and connection not suspended), else null. */
    public synchronized Term current() {
        refresh();
        return term.get();
    }

    public boolean isLeader() {
        return current() != null;
    }

    /** The id of the sentinel that holds the latch, as this sentinel sees it, or "" when unknown. */
    public String leaderId() {
        try {
            return latch.getLeader().getId();
        } catch (Exception e) {
            return "";
        }
    }

    private synchronized void refresh() {
        ConnectionState state = session.state();
        boolean leads = latch.hasLeadership() && state.isConnected() && latch.getOurPath() != null;
        Term now = term.get();
        if (leads && now == null) {
            Term started = new Term(++terms, clock.nowMillis(), latch.getOurPath());
            term.set(started);
            LOG.info("this sentinel is now the leader (term {}, latch {})", started.number(), started.latchPath());
        } else if (!leads && now != null) {
            term.set(null);
            LOG.info("this sentinel is no longer the leader (connection {})", state);
        }
    }
}
