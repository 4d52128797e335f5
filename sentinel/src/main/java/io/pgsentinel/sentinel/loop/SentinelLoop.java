package io.pgsentinel.sentinel.loop;

import io.dropwizard.lifecycle.Managed;
import io.pgsentinel.sentinel.zk.ClusterCache;
import io.pgsentinel.sentinel.zk.Leadership;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cycle, every {@code checkInterval} on one thread: observe (probe, report, vote), then,
 * on the leader only, decide and publish. A cycle that throws is logged and the next one runs.
 */
public final class SentinelLoop implements Managed {
    private static final Logger LOG = LoggerFactory.getLogger(SentinelLoop.class);

    private final Observer observer;
    private final Reconciler reconciler;
    private final LeaderDuties leader;
    private final Leadership leadership;
    private final ClusterCache cache;
    private final Duration interval;
    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pg-sentinel-cycle");
        t.setDaemon(true);
        return t;
    });
    private volatile long cycles;
    private volatile long lastCycleEndMillis = -1;
    private Runnable afterCycle = () -> { };

    public SentinelLoop(Observer observer, Reconciler reconciler, LeaderDuties leader, Leadership leadership,
                        ClusterCache cache, Duration interval) {
        this.observer = observer;
        this.reconciler = reconciler;
        this.leader = leader;
        this.leadership = leadership;
        this.cache = cache;
        this.interval = interval;
    }

    private EffectiveSettings settings;
    private ParameterApplier parameters;
    private SlotKeeper slots;

    /** The cluster's settings, followed every cycle, with the keepers of its PostgreSQL parameters and slots. */
    void settings(EffectiveSettings effective, ParameterApplier applier, SlotKeeper keeper) {
        this.settings = effective;
        this.parameters = applier;
        this.slots = keeper;
    }

    /** Run at the end of every cycle (the hooks learn what the server is now); must not block. */
    public void afterCycle(Runnable r) {
        this.afterCycle = r;
    }

    /** While a failover runs, the leader steps it every 100 ms instead of every checkInterval. */
    private static final long FAILOVER_TICK_MILLIS = 100;

    @Override
    public void start() {
        executor.schedule(this::cycleAndReschedule, 0, TimeUnit.MILLISECONDS);
    }

    @Override
    public void stop() throws InterruptedException {
        executor.shutdownNow();
        executor.awaitTermination(5, TimeUnit.SECONDS);
        reconciler.stop();
    }

    private void cycleAndReschedule() {
        try {
            cycle();
        } catch (Throwable t) {
            // never let the schedule die: a cycle that throws is logged and the next one runs
            LOG.error("cycle failed", t);
        }
        long delay = leader.failoverInProgress() ? FAILOVER_TICK_MILLIS : interval.toMillis();
        if (!executor.isShutdown()) {
            executor.schedule(this::cycleAndReschedule, delay, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * The leader should not be the sentinel of the primary: a host loss would take both, and the
     * next leader could only be elected once the old one's session expired. So that sentinel
     * hands leadership to another live sentinel, outside a failover.
     */
    private void yieldIfPrimary() {
        String self = observer.selfId();
        boolean primaryHere = cache.topology().map(t -> t.topology().primary().id().equals(self)).orElse(false);
        boolean othersAlive = cache.members().keySet().stream().anyMatch(id -> !id.equals(self));
        if (primaryHere && othersAlive && !leader.failoverInProgress()) {
            leadership.yieldLeadership("this node's server is the primary; a replica's sentinel leads, so that losing "
                    + "this host does not also lose the leader");
        }
    }

    public long cycles() {
        return cycles;
    }

    /** How long ago (monotonic) the last cycle ended, or -1 before the first: {@code GET /liveness}. */
    public long millisSinceLastCycle() {
        long end = lastCycleEndMillis;
        return end < 0 ? -1 : io.pgsentinel.sentinel.time.MonotonicClock.SYSTEM.nowMillis() - end;
    }

    private void cycle() {
        observer.cycle(reconciler.state(observer.latest()));
        if (reconciler.cycle(observer.latest())) {
            // it changed the server: report the new state at once (a fence the leader waits for)
            observer.cycle(reconciler.state(observer.latest()));
        }
        if (parameters != null) {
            parameters.cycle(observer.latest());
            slots.cycle(observer.latest());
        }
        leader.trackPrimaryPosition();
        Leadership.Term term = leadership.current();
        if (settings != null) {
            settings.cycle(term != null);
        }
        if (term != null && cache.isInitialized()) {
            leader.cycle(term);
            yieldIfPrimary();
        } else {
            leader.leadershipLost();
        }
        afterCycle.run();
        cycles++;
        lastCycleEndMillis = io.pgsentinel.sentinel.time.MonotonicClock.SYSTEM.nowMillis();
    }
}
