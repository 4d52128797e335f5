package io.pgsentinel.sentinel.loop;

import io.dropwizard.lifecycle.Managed;
import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.sentinel.model.Role;
import io.pgsentinel.sentinel.postgres.PgControl;
import io.pgsentinel.sentinel.time.MonotonicClock;
import io.pgsentinel.sentinel.zk.Standing;
import io.pgsentinel.sentinel.zk.ZkSession;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fencing of the local server, and the watchdog that fences it on its own monotonic timer when
 * its sentinel loses ZooKeeper while the server is the primary (rule 2).
 *
 * <p>The timing rule: a heartbeat read every tick records the last answer from ZooKeeper
 * ({@code lastContact}). With S the negotiated session timeout, the watchdog starts fencing at
 * {@code lastContact + S/2} and the fence is certain within {@code selfFenceTimeout} (E): stop
 * immediate, then SIGKILL. The ensemble cannot expire the session before
 * {@code lastContact - RTT + S}. So the fence is complete before the session can expire (and
 * before the leader may take the session's end for a confirmed fence) when
 * {@code S/2 + tick + E + RTT < S}, i.e. {@code E + tick + RTT < S/2}; configuration
 * validation enforces {@code selfFenceTimeout + 200 ms <= sessionTimeout / 2}.
 *
 * <p>After a pause of the sentinel itself (SIGSTOP, a long GC), the timer is meaningless: the
 * sentinel first asks ZooKeeper (a fresh window of S/2) and fences only if another node
 * replaced it or ZooKeeper does not answer; a healthy primary that no failover replaced keeps
 * serving. Once fenced this way, the fence is lifted only by a start that ZooKeeper confirmed.
 */
public final class SelfFence implements Managed {
    private static final Logger LOG = LoggerFactory.getLogger(SelfFence.class);
    private static final long TICK_MILLIS = 100;
    private static final long FREEZE_GAP_MILLIS = 1000;
    private static final long LEASE_RENEWAL_MILLIS = 500;

    private final PgControl control;
    private final ZkSession session;
    private final Standing standing;
    private final Supplier<MemberReport> latestReport;
    private final MonotonicClock clock;
    private final boolean readOnlyMode;
    private final Duration budget;
    private final SentinelMetrics metrics;
    private final String heartbeatPath;
    private long heartbeats;
    private final AtomicBoolean zkLossFenced = new AtomicBoolean();
    private final AtomicBoolean readOnlyActive = new AtomicBoolean();
    private final AtomicBoolean heartbeatPending = new AtomicBoolean();
    private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pg-sentinel-self-fence");
        t.setDaemon(true);
        return t;
    });
    private volatile long lastContactMillis;
    private volatile long heartbeatSentMillis;
    private long lastTickMillis;
    private boolean resumed;
    private volatile Role lastKnownRole = Role.UNKNOWN;

    public SelfFence(String id, PgControl control, ZkSession session, Standing standing, Supplier<MemberReport> latestReport,
                     MonotonicClock clock, boolean readOnlyMode, Duration budget, SentinelMetrics metrics) {
        this.metrics = metrics;
        this.heartbeatPath = session.paths().heartbeat(id);
        this.control = control;
        this.session = session;
        this.standing = standing;
        this.latestReport = latestReport;
        this.clock = clock;
        this.readOnlyMode = readOnlyMode;
        this.budget = budget;
    }

    @Override
    public void start() {
        lastContactMillis = clock.nowMillis();
        lastTickMillis = lastContactMillis;
        watchdog.scheduleWithFixedDelay(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }

    @Override
    public void stop() {
        watchdog.shutdownNow();
    }

    /** Fenced on losing ZooKeeper, and not yet confirmed by ZooKeeper since. */
    public boolean isFenced() {
        return zkLossFenced.get();
    }

    public boolean readOnlyActive() {
        return readOnlyActive.get();
    }

    /** After ZooKeeper confirmed the standing (or the server rejoined as a replica). */
    void clear() {
        if (zkLossFenced.getAndSet(false)) {
            LOG.info("self-fence lifted");
        }
        readOnlyActive.set(false);
    }

    /** Fences the server now: stop with escalation, or read-only, as configured. */
    void fenceNow(String reason) {
        fence(reason, false, false);
    }

    /** Fences by a stop (fast first, so that replicas receive every WAL record), whatever the mode. */
    void stopNow(String reason) {
        fence(reason, false, true);
    }

    private void fence(String reason, boolean urgent) {
        fence(reason, urgent, false);
    }

    private void fence(String reason, boolean urgent, boolean stopOnly) {
        metrics.fenced(urgent);
        synchronized (control) {
            long start = clock.nowMillis();
            if (readOnlyMode && !stopOnly) {
                try {
                    control.fenceReadOnly(budget);
                    readOnlyActive.set(true);
                    LOG.warn("fenced read-only in {} ms: {}", clock.nowMillis() - start, reason);
                    return;
                } catch (Exception e) {
                    LOG.warn("read-only fence failed ({}): stopping the server instead", e.getMessage());
                }
            }
            String how = control.stop(urgent ? budget : budget.multipliedBy(3), urgent);
            LOG.warn("fenced by stopping the server ({}) in {} ms: {}", how, clock.nowMillis() - start, reason);
        }
    }

    private void tick() {
        try {
            long now = clock.nowMillis();
            long gap = now - lastTickMillis;
            lastTickMillis = now;
            if (gap > FREEZE_GAP_MILLIS) {
                // this process did not run for a while: the timer says nothing about ZooKeeper
                resumed = true;
                lastContactMillis = now;
                LOG.warn("the sentinel did not run for {} ms (a pause or a freeze): confirming its standing with "
                        + "ZooKeeper before acting", gap);
            }
            MemberReport r = latestReport.get();
            if (r != null && r.running()) {
                lastKnownRole = r.role();
            }
            boolean primaryLike = (r != null && r.running() && r.role() == Role.PRIMARY)
                    || (lastKnownRole == Role.PRIMARY && control.isRunning());
            heartbeat(now, primaryLike && !zkLossFenced.get() && !readOnlyActive.get());
            if (!primaryLike || zkLossFenced.get() || readOnlyActive.get()) {
                resumed = false;
                return;
            }
            long sessionTimeout = session.negotiatedSessionTimeoutMillis();
            if (resumed) {
                Standing.Answer answer = standing.check(Duration.ofMillis(sessionTimeout / 4));
                if (answer.confirmed()) {
                    resumed = false;
                    lastContactMillis = clock.nowMillis();
                    LOG.info("after the pause: {}; the server keeps serving", answer.reason());
                    return;
                }
                if (answer.reason().startsWith("ZooKeeper did not answer")
                        && clock.nowMillis() - lastContactMillis < sessionTimeout / 2) {
                    return; // ask again within the fresh window
                }
                selfFence("after a pause of this sentinel: " + answer.reason());
                resumed = false;
                return;
            }
            long silent = now - lastContactMillis;
            if (failsafe != null && silent >= sessionTimeout / 4) {
                askForLeases(now, sessionTimeout);
            }
            if (silent >= sessionTimeout / 2) {
                if (failsafe != null && now < leaseValidUntil - budget.toMillis() - 200) {
                    return;
                }
                selfFence("no answer from ZooKeeper for " + silent + " ms (session timeout " + sessionTimeout
                        + " ms): fencing before the session can expire" + (failsafe == null ? ""
                        : "; failsafe: " + lastLeaseOutcome));
            }
        } catch (RuntimeException e) {
            LOG.error("self-fence watchdog tick failed", e);
        }
    }

    private FailsafeClient failsafe;
    private volatile long leaseValidUntil = Long.MIN_VALUE / 2;
    private long lastLeaseRequest = Long.MIN_VALUE / 2;
    private final AtomicBoolean leaseRequestPending = new AtomicBoolean();
    private volatile String lastLeaseOutcome = "no lease asked for yet";

    /** Turns failsafe on: before fencing on a ZooKeeper loss, ask the other sentinels for leases. */
    void failsafe(FailsafeClient client) {
        this.failsafe = client;
    }

    /**
     * Failsafe: a server may keep serving though ZooKeeper is lost while a quorum of sentinels
     * that cannot reach ZooKeeper either granted leases. The primary's sentinel starts asking at a
     * quarter of the session timeout of silence, so that the other sentinels have time to notice
     * the outage too before the fence deadline at half of it, and renews every 500 ms. The
     * requests run in the background: the watchdog never waits for them, so a slow or silent
     * peer cannot delay a fence. A lease runs from when it was asked for (it starts later on each
     * grantor's clock), and the server is fenced while enough of it remains to cover the fence
     * (E + 200 ms): never after a grantor may take part in a failover again.
     */
    private void askForLeases(long now, long sessionTimeout) {
        if (now - lastLeaseRequest < LEASE_RENEWAL_MILLIS || !leaseRequestPending.compareAndSet(false, true)) {
            return;
        }
        lastLeaseRequest = now;
        failsafe.requestLeases(sessionTimeout, Duration.ofMillis(LEASE_RENEWAL_MILLIS)).whenComplete((outcome, e) -> {
            leaseRequestPending.set(false);
            String text = outcome == null ? "lease requests failed: " + e.getMessage() : outcome.text();
            if (outcome != null && outcome.quorum()) {
                leaseValidUntil = Math.max(leaseValidUntil, now + sessionTimeout);
            }
            if (!text.equals(lastLeaseOutcome)) {
                LOG.warn("failsafe: {}", text);
            }
            lastLeaseOutcome = text;
        });
    }

    private void selfFence(String reason) {
        zkLossFenced.set(true);
        fence(reason, true);
    }

    /**
     * One background operation at a time; its answer moves lastContact. The sentinel of a
     * primary writes its heartbeat node every 500 ms (the leader reads its silence, see
     * {@link io.pgsentinel.sentinel.model.RegisteredNode#fencedAfterSilenceMillis()}); the
     * others only read. For a primary only a write counts as contact: the leader sees writes.
     */
    private void heartbeat(long now, boolean primary) {
        if (heartbeatPending.get() && now - heartbeatSentMillis < session.negotiatedSessionTimeoutMillis()) {
            return;
        }
        if (primary && now - heartbeatSentMillis < 500) {
            return;
        }
        heartbeatPending.set(true);
        heartbeatSentMillis = now;
        try {
            if (primary) {
                byte[] beat = Long.toString(++heartbeats).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                session.client().create().orSetData().withMode(org.apache.zookeeper.CreateMode.EPHEMERAL)
                        .inBackground((c, event) -> {
                            if (event.getResultCode() == KeeperException.Code.OK.intValue()) {
                                lastContactMillis = clock.nowMillis();
                            }
                            heartbeatPending.set(false);
                        }).forPath(heartbeatPath, beat);
            } else {
                session.client().checkExists().inBackground((c, event) -> {
                    if (event.getResultCode() == KeeperException.Code.OK.intValue()
                            || event.getResultCode() == KeeperException.Code.NONODE.intValue()) {
                        lastContactMillis = clock.nowMillis();
                    }
                    heartbeatPending.set(false);
                }).forPath(session.paths().base());
            }
        } catch (Exception e) {
            heartbeatPending.set(false);
        }
    }
}
