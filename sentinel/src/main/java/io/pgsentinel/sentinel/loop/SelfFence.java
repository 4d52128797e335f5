package io.pgsentinel.sentinel.loop;

import io.dropwizard.lifecycle.Managed;
import io.pgsentinel.sentinel.guard.PeerReach;
import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.sentinel.model.Role;
import io.pgsentinel.sentinel.postgres.PgControl;
import io.pgsentinel.sentinel.time.MonotonicClock;
import io.pgsentinel.sentinel.zk.Standing;
import io.pgsentinel.sentinel.zk.ZkSession;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
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
 * <p>The timing rule: a heartbeat every tick records when the last request that ZooKeeper
 * answered was SENT ({@code lastContact}: the ensemble counts the session from when it received
 * that request, which is later). With S the negotiated session timeout, the watchdog starts
 * fencing at {@code lastContact + S/2} and the fence is certain within {@code selfFenceTimeout}
 * (E): stop immediate, then SIGKILL. The ensemble cannot expire the session before
 * {@code lastContact + S}. So the fence is complete before the session can expire (and before
 * the leader may take the session's end for a confirmed fence) when {@code E + tick < S/2};
 * configuration validation enforces {@code selfFenceTimeout + 200 ms <= sessionTimeout / 2},
 * and {@link #timingHolds} checks it against the negotiated timeout at run time.
 *
 * <p>A pause of the sentinel itself (SIGSTOP, a long GC) never moves the deadline: it still
 * counts from the last real contact. After a pause the sentinel asks ZooKeeper, in the
 * background, whether it is still the published primary and not fenced; a healthy primary that
 * no failover replaced keeps serving, one that was replaced is fenced. A pause that ran past the
 * deadline leaves the answer a short grace (S/4): the guard process ({@link GuardLink}), which
 * did not pause, has been enforcing the deadline meanwhile wherever a failover could happen.
 * Once fenced this way, the fence is lifted only by a start that ZooKeeper confirmed; a server
 * started again by someone else meanwhile is stopped again.
 */
public final class SelfFence implements Managed {
    private static final Logger LOG = LoggerFactory.getLogger(SelfFence.class);
    private static final long TICK_MILLIS = 100;
    private static final long FREEZE_GAP_MILLIS = 1000;
    private static final long LEASE_RENEWAL_MILLIS = 500;
    private static final int STOP_PROBE_MILLIS = 300;

    /** The peers the guard watches: {@code needed} of them must be reachable; each with its endpoints. */
    record Peers(int needed, List<List<String>> endpoints) {
    }

    private final PgControl control;
    private final ZkSession session;
    private final Standing standing;
    private final Supplier<MemberReport> latestReport;
    private final MonotonicClock clock;
    private final Duration budget;
    private Duration switchoverTimeout = Duration.ofSeconds(30);
    private final SentinelMetrics metrics;
    private final String heartbeatPath;
    private final GuardLink guard;
    private final Supplier<Peers> peers;
    private long heartbeats;
    private final AtomicBoolean zkLossFenced = new AtomicBoolean();
    /** The number of the heartbeat in flight, 0 when none: only its own answer clears it. */
    private final java.util.concurrent.atomic.AtomicLong heartbeatPending = new java.util.concurrent.atomic.AtomicLong();
    private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pg-sentinel-self-fence");
        t.setDaemon(true);
        return t;
    });
    private final ExecutorService checker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "pg-sentinel-standing");
        t.setDaemon(true);
        return t;
    });
    private volatile long lastContactMillis;
    private volatile long heartbeatSentMillis;
    private volatile boolean guarding;
    private long lastTickMillis;
    private volatile boolean resumed;
    private long resumedAtMillis;
    private CompletableFuture<Standing.Answer> standingCheck;
    private long standingCheckSentMillis;
    private boolean timingWarned;
    private volatile Role lastKnownRole = Role.UNKNOWN;

    /**
     * @param guard the guard process link, or null when {@code fencing.guard} is off
     * @param peers the peers the guard watches, read every tick
     */
    public SelfFence(String id, PgControl control, ZkSession session, Standing standing, Supplier<MemberReport> latestReport,
                     MonotonicClock clock, Duration budget, SentinelMetrics metrics, GuardLink guard,
                     Supplier<Peers> peers) {
        this.metrics = metrics;
        this.heartbeatPath = session.paths().heartbeat(id);
        this.control = control;
        this.session = session;
        this.standing = standing;
        this.latestReport = latestReport;
        this.clock = clock;
        this.budget = budget;
        this.guard = guard;
        this.peers = peers;
    }

    @Override
    public void start() {
        lastContactMillis = clock.nowMillis();
        lastTickMillis = lastContactMillis;
        if (guard != null) {
            guard.start();
        }
        watchdog.scheduleWithFixedDelay(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * A clean stop: the ZooKeeper session is closed right after, and the leader may take that for
     * a fence at once. So a primary that cannot reach enough peers to rule a failover out is
     * stopped first; then the guard is told the deadline is now and left to guard the server.
     */
    @Override
    public void stop() {
        watchdog.shutdownNow();
        checker.shutdownNow();
        if (guarding && !zkLossFenced.get() && control.isRunning()) {
            Peers p = peers.get();
            List<List<InetSocketAddress>> endpoints = p.endpoints().stream()
                    .map(list -> list.stream().map(PeerReach::endpoint).toList()).toList();
            int reachable = PeerReach.count(endpoints, STOP_PROBE_MILLIS).join();
            if (reachable < p.needed()) {
                fence("the sentinel stops while its primary reaches " + reachable + " of " + endpoints.size()
                        + " peers (" + p.needed() + " needed): stopping the server before the session ends", true);
            } else if (guard != null) {
                guard.update(true, 0, p.needed(), p.endpoints());
            }
        }
        if (guard != null) {
            guard.release();
        }
    }

    /** Fenced on losing ZooKeeper, and not yet confirmed by ZooKeeper since. */
    public boolean isFenced() {
        return zkLossFenced.get();
    }

    /**
     * Whether the leader may take this sentinel's absence for a fence: its guard runs (it keeps
     * the promise when this process cannot) and the timing rule holds for the negotiated session
     * timeout.
     */
    public boolean guarded() {
        return guard != null && guard.isRunning() && timingHolds(session.negotiatedSessionTimeoutMillis(),
                budget.toMillis());
    }

    /** The timing rule: fencing from S/2 on, certain within E, with a tick and 100 ms to spare, before S. */
    static boolean timingHolds(long sessionTimeoutMillis, long budgetMillis) {
        return budgetMillis + 200 <= sessionTimeoutMillis / 2;
    }

    /** After ZooKeeper confirmed the standing (or before the server is started as a replica). */
    void clear() {
        if (zkLossFenced.getAndSet(false)) {
            LOG.info("self-fence lifted");
        }
    }

    /** Fences the server now, told to by the leader: a stop, fast first (replicas receive every WAL record). */
    void stopNow(String reason) {
        fence(reason, false);
    }

    /**
     * A switchover's stop, planned: a CHECKPOINT first (as Patroni does), so that the shutdown
     * checkpoint has little left to write, then a fast stop with the time the switchover allows
     * (a fast stop of a primary with gigabytes of dirty buffers needs it), then escalation. A
     * stop that had to be escalated leaves no clean shutdown checkpoint: the switchover rolls back.
     */
    void stopForSwitchover(String reason) {
        metrics.fenced(false);
        synchronized (control) {
            long start = clock.nowMillis();
            Duration half = switchoverTimeout.dividedBy(2);
            try {
                control.checkpoint(half);
            } catch (Exception e) {
                LOG.warn("switchover: CHECKPOINT before the stop failed ({}): stopping anyway", e.getMessage());
            }
            long checkpointed = clock.nowMillis();
            String how = control.server().stopPlanned(half, budget);
            LOG.warn("stopped the server for a switchover ({}): checkpoint {} ms, stop {} ms: {}", how,
                    checkpointed - start, clock.nowMillis() - checkpointed, reason);
        }
        afterStop.run();
    }

    private void fence(String reason, boolean urgent) {
        metrics.fenced(urgent);
        synchronized (control) {
            long start = clock.nowMillis();
            String how = control.stop(urgent ? budget : budget.multipliedBy(3), urgent);
            LOG.warn("fenced by stopping the server ({}) in {} ms: {}", how, clock.nowMillis() - start, reason);
        }
        afterStop.run();
    }

    private Runnable afterStop = () -> { };
    private java.util.function.BooleanSupplier publishedPrimary = () -> false;

    /** Whether the published topology names this node the primary (from the cache; must not block). */
    void publishedPrimary(java.util.function.BooleanSupplier isPublishedPrimary) {
        this.publishedPrimary = isPublishedPrimary;
    }

    /** Run right after this watchdog stopped the server (the hooks hear of it before the next cycle); must not block. */
    void afterStop(Runnable r) {
        this.afterStop = r;
    }

    private void tick() {
        try {
            long now = clock.nowMillis();
            long gap = now - lastTickMillis;
            lastTickMillis = now;
            if (gap > FREEZE_GAP_MILLIS && !resumed) {
                // this process did not run for a while; the deadline still counts from the last real contact
                resumed = true;
                resumedAtMillis = now;
                LOG.warn("the sentinel did not run for {} ms (a pause or a freeze): confirming its standing with "
                        + "ZooKeeper before acting", gap);
            }
            MemberReport r = latestReport.get();
            if (r != null && r.running()) {
                lastKnownRole = r.role();
            }
            boolean primaryLike = (r != null && r.running() && r.role() == Role.PRIMARY)
                    || (lastKnownRole == Role.PRIMARY && control.isRunning());
            long sessionTimeout = session.negotiatedSessionTimeoutMillis();
            // the heartbeat goes on while this node is the published primary though its server is down
            // (restarted in place, started by its sentinel): its silence must mean ZooKeeper is lost, so
            // that the leader may take it for a fence; a live sentinel that may start the server must beat
            heartbeat(now, (primaryLike || publishedPrimary.getAsBoolean()) && !zkLossFenced.get());
            if (zkLossFenced.get() && control.isRunning() && !control.hasStandbySignal()) {
                fence("the server was started again while it is fenced (ZooKeeper has not confirmed this node "
                        + "is the primary since it fenced it)", true);
                return;
            }
            guarding = primaryLike && !zkLossFenced.get();
            long deadline = lastContactMillis + sessionTimeout / 2;
            if (guard != null) {
                Peers p = peers.get();
                guard.update(guarding, deadline - now, p.needed(), p.endpoints());
            }
            if (!guarding) {
                resumed = false;
                return;
            }
            warnIfTimingBroken(sessionTimeout);
            if (resumed) {
                if (afterPause(now, sessionTimeout)) {
                    return;
                }
                // a pause that ran past the deadline leaves the answer a grace of S/2 (two standing
                // checks: after a pause past the session, the client needs a new session first);
                // meanwhile the guard enforces the deadline, as it did during the pause
                deadline = Math.max(deadline, resumedAtMillis + sessionTimeout / 2);
            }
            long silent = now - lastContactMillis;
            if (failsafe != null && silent >= sessionTimeout / 4) {
                askForLeases(now, sessionTimeout);
            }
            if (now >= deadline) {
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

    /**
     * After a pause: the standing check runs in the background (the watchdog never waits for
     * ZooKeeper). Returns true when it settled the matter this tick (confirmed, or fenced).
     */
    private boolean afterPause(long now, long sessionTimeout) {
        if (standingCheck == null) {
            standingCheckSentMillis = now;
            Duration timeout = Duration.ofMillis(Math.max(100, sessionTimeout / 4));
            standingCheck = CompletableFuture.supplyAsync(() -> standing.check(timeout), checker);
            return false;
        }
        if (!standingCheck.isDone()) {
            return false;
        }
        Standing.Answer answer = standingCheck.getNow(new Standing.Answer(false, "ZooKeeper did not answer"));
        standingCheck = null;
        if (answer.confirmed()) {
            resumed = false;
            lastContactMillis = Math.max(lastContactMillis, standingCheckSentMillis);
            LOG.info("after the pause: {}; the server keeps serving", answer.reason());
            return true;
        }
        if (!answer.reason().startsWith("ZooKeeper did not answer")) {
            selfFence("after a pause of this sentinel: " + answer.reason());
            resumed = false;
            return true;
        }
        return false; // asked again next tick, while the deadline allows
    }

    private void warnIfTimingBroken(long sessionTimeout) {
        boolean holds = timingHolds(sessionTimeout, budget.toMillis());
        if (!holds && !timingWarned) {
            LOG.error("the negotiated ZooKeeper session timeout ({} ms) is too short for fencing.selfFenceTimeout ({} ms):"
                    + " selfFenceTimeout + 200 ms must be at most half of it. This sentinel does not count as guarding "
                    + "its primary: the leader will not take its absence for a fence (only a fence it reports, or "
                    + "fencing.command)", sessionTimeout, budget.toMillis());
        }
        timingWarned = !holds;
    }

    private FailsafeClient failsafe;
    private volatile long leaseValidUntil = Long.MIN_VALUE / 2;
    private long lastLeaseRequest = Long.MIN_VALUE / 2;
    private final AtomicBoolean leaseRequestPending = new AtomicBoolean();
    private volatile String lastLeaseOutcome = "no lease asked for yet";

    /** How long a switchover may take (failover.switchoverTimeout): its planned stop gets half. */
    void switchoverTimeout(Duration timeout) {
        this.switchoverTimeout = timeout;
    }

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
     * One background operation at a time; its answer moves lastContact to when it was sent. The
     * sentinel of a primary writes its heartbeat node every 500 ms (the leader reads its silence,
     * see {@link io.pgsentinel.sentinel.model.RegisteredNode#fencedAfterSilenceMillis()}); the
     * others only read. For a primary only a write counts as contact: the leader sees writes.
     */
    private void heartbeat(long now, boolean primary) {
        // a request sent before the connection was replaced waits for Curator's retry (up to seconds
        // of back-off) and proves contact only as of when it was sent: after a reconnection a fresh
        // one goes out at once, so that the new connection counts (the chaos suite saw a primary
        // fence itself 50 ms before its leases came, its last contact held 1.5 s in the past by one)
        boolean inFlight = heartbeatPending.get() != 0 && session.lastConnectedAtMillis() <= heartbeatSentMillis;
        if (inFlight && now - heartbeatSentMillis < session.negotiatedSessionTimeoutMillis()) {
            return;
        }
        if (primary && now - heartbeatSentMillis < 500 && heartbeatPending.get() == 0) {
            return;
        }
        long number = ++heartbeats;
        heartbeatPending.set(number);
        heartbeatSentMillis = now;
        long sent = now;
        try {
            if (primary) {
                byte[] beat = Long.toString(number).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                session.client().create().orSetData().withMode(org.apache.zookeeper.CreateMode.EPHEMERAL)
                        .inBackground((c, event) -> {
                            if (event.getResultCode() == KeeperException.Code.OK.intValue()) {
                                contact(sent);
                            }
                            heartbeatPending.compareAndSet(number, 0);
                        }).forPath(heartbeatPath, beat);
            } else {
                session.client().checkExists().inBackground((c, event) -> {
                    if (event.getResultCode() == KeeperException.Code.OK.intValue()
                            || event.getResultCode() == KeeperException.Code.NONODE.intValue()) {
                        contact(sent);
                    }
                    heartbeatPending.compareAndSet(number, 0);
                }).forPath(session.paths().base());
            }
        } catch (Exception e) {
            heartbeatPending.compareAndSet(number, 0);
        }
    }

    /**
     * An answer to a request sent at {@code sentMillis}. After a pause it proves the session
     * lives, not that no failover replaced this node: the standing check decides then.
     */
    private void contact(long sentMillis) {
        if (!resumed) {
            lastContactMillis = Math.max(lastContactMillis, sentMillis);
        }
    }
}
