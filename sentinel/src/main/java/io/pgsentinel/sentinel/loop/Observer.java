package io.pgsentinel.sentinel.loop;

import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.sentinel.model.RegisteredNode;
import io.pgsentinel.sentinel.model.Vote;
import io.pgsentinel.sentinel.postgres.LocalProbe;
import io.pgsentinel.sentinel.postgres.PeerProbe;
import io.pgsentinel.sentinel.time.MonotonicClock;
import io.pgsentinel.sentinel.zk.ClusterCache;
import io.pgsentinel.sentinel.zk.Registry;
import io.pgsentinel.sentinel.zk.ZkSession;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The observe step of the cycle: probe the local server and every registered peer, and write
 * the report and the votes to ZooKeeper only when something changed or at a bounded cadence:
 * a report's state at once, its WAL positions at most every {@code reportInterval}; votes on
 * a change of any server's state, and every cycle only while some server is down (so that a
 * new leader reads fresh down-durations).
 */
public final class Observer {
    private static final Logger LOG = LoggerFactory.getLogger(Observer.class);
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final String id;
    private final LocalProbe local;
    private final PeerProbe peers;
    private final Registry registry;
    private final ClusterCache cache;
    private final ZkSession session;
    private final MonotonicClock clock;
    private final Duration checkTimeout;
    private final long reportIntervalMillis;
    private final long voteRefreshMillis;
    private final PeerViews views = new PeerViews();
    private final PeerWatch watch;
    private final ExecutorService probes = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "pg-sentinel-peer-probe-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
    });
    private final RegisteredNode self;
    private final SentinelMetrics metrics;
    private final long selfFenceMillis;
    private final FailsafeLeases leases;
    private java.util.function.BooleanSupplier guarded = () -> false;
    private boolean registeredGuarded;
    private java.util.Optional<String> lastLease = java.util.Optional.empty();

    private volatile MemberReport latest;
    private volatile Map<String, Long> probedWritable = Map.of();
    private MemberReport lastWritten;
    private long lastReportWriteMillis = Long.MIN_VALUE / 2;
    private long lastVoteWriteMillis = Long.MIN_VALUE / 2;
    private long reportSession;
    private long voteSession;
    private long registeredSession;
    private boolean voteChanged = true;
    private volatile long reportWrites;
    private volatile long voteWrites;

    public Observer(RegisteredNode self, LocalProbe local, PeerProbe peers, Registry registry, ClusterCache cache,
                    ZkSession session, MonotonicClock clock, Duration checkTimeout, Duration reportInterval,
                    Duration voteRefresh, SentinelMetrics metrics, Duration selfFence, FailsafeLeases leases) {
        this.leases = leases;
        this.metrics = metrics;
        this.selfFenceMillis = selfFence.toMillis();
        this.self = self;
        this.id = self.id();
        this.local = local;
        this.peers = peers;
        this.registry = registry;
        this.cache = cache;
        this.session = session;
        this.clock = clock;
        this.checkTimeout = checkTimeout;
        this.watch = new PeerWatch(2 * checkTimeout.toMillis(), probes);
        this.reportIntervalMillis = reportInterval.toMillis();
        this.voteRefreshMillis = voteRefresh.toMillis();
    }

    /** Where to read whether this sentinel guards its server (registered, for the leader). */
    void guarded(java.util.function.BooleanSupplier supplier) {
        this.guarded = supplier;
    }

    public String selfId() {
        return id;
    }

    /** The latest probe of the local server (null before the first). */
    public MemberReport latest() {
        return latest;
    }

    /** Writes of reports and votes so far, for the write-rate figures. */
    public long reportWrites() {
        return reportWrites;
    }

    public long voteWrites() {
        return voteWrites;
    }

    /** Probes and publishes; {@code sentinelState} says what the sentinel does with its server. */
    void cycle(String sentinelState) {
        MemberReport report;
        try (var timing = metrics.localProbe().time()) {
            report = local.probe(checkTimeout, sentinelState);
        }
        latest = report;
        long now = clock.nowMillis();
        probePeers(now);
        if (!session.isConnected()) {
            return;
        }
        long sessionId = session.sessionId();
        boolean isGuarded = guarded.getAsBoolean();
        if (registeredSession != sessionId || !cache.nodes().containsKey(id) || isGuarded != registeredGuarded) {
            if (registry.register(self.withFencing(session.negotiatedSessionTimeoutMillis(), selfFenceMillis, isGuarded))) {
                registeredSession = sessionId;
                registeredGuarded = isGuarded;
            }
        }
        boolean positionsMoved = lastWritten == null || report.position() != lastWritten.position()
                || report.replayLsn() != lastWritten.replayLsn();
        if (reportSession != sessionId || !report.sameStateAs(lastWritten)
                || (positionsMoved && now - lastReportWriteMillis >= reportIntervalMillis)) {
            if (registry.report(report)) {
                lastWritten = report;
                lastReportWriteMillis = now;
                reportSession = sessionId;
                reportWrites++;
            }
        }
        boolean leaseChanged = !leases.holding().equals(lastLease);
        lastLease = leases.holding();
        if (voteSession != sessionId || voteChanged || leaseChanged
                || (views.anyDown() && now - lastVoteWriteMillis >= voteRefreshMillis)) {
            java.util.Map<String, Vote.View> current = new java.util.HashMap<>(views.views(now));
            // a failsafe lease granted to a primary: no opinion on it while the lease runs
            leases.holding().ifPresent(current::remove);
            if (registry.vote(new Vote(id, clock.wallClock(), current))) {
                lastVoteWriteMillis = now;
                voteSession = sessionId;
                voteChanged = false;
                voteWrites++;
            }
        }
    }

    private void probePeers(long now) {
        Map<String, RegisteredNode> nodes = cache.nodes();
        java.util.Set<String> known = new java.util.HashSet<>(nodes.keySet());
        known.add(id);
        views.retainOnly(known);
        Map<String, java.util.function.Supplier<PeerProbe.Seen>> toStart = new HashMap<>();
        for (RegisteredNode n : nodes.values()) {
            if (!n.id().equals(id)) {
                toStart.put(n.id(), () -> {
                    try (var timing = metrics.peerProbe().time()) {
                        // longer than the silence bound: a slow server still gets to answer
                        return peers.probe(n.host(), n.port(), checkTimeout.multipliedBy(3));
                    }
                });
            }
        }
        List<String> changed = new ArrayList<>();
        Map<String, Long> writable = new HashMap<>(probedWritable);
        writable.keySet().retainAll(toStart.keySet());
        for (Map.Entry<String, PeerWatch.View> e : watch.cycle(toStart, now).entrySet()) {
            PeerWatch.View v = e.getValue();
            if (v.last().up()) {
                if (v.last().writable()) {
                    writable.put(e.getKey(), v.last().timeline());
                } else {
                    writable.remove(e.getKey());
                }
            } else if (!v.up()) {
                writable.remove(e.getKey());
            }
            if (views.observe(e.getKey(), v.up(), v.sinceMillis())) {
                changed.add(e.getKey() + (v.up() ? " up" : " down"));
            }
        }
        probedWritable = Map.copyOf(writable);
        if (views.observe(id, latest.running(), now)) {
            changed.add(id + (latest.running() ? " up" : " down"));
        }
        for (String fenced : cache.documentsUnder("fence/")) {
            views.restartDownTimer(fenced.substring("fence/".length()), now);
        }
        if (!changed.isEmpty()) {
            voteChanged = true;
            LOG.info("peer view changed: {}", String.join(", ", changed));
        }
    }

    /**
     * The peers whose servers this sentinel's last probe found out of recovery, with their
     * timelines: the leader knows them even when no sentinel reports them.
     */
    public Map<String, Long> probedWritable() {
        return probedWritable;
    }

    /** Whether this sentinel's last probe reached {@code node}'s server. */
    public boolean sees(String node) {
        Vote.View v = views.views(clock.nowMillis()).get(node);
        return v != null && v.up();
    }

    /** Whether the local server is the running primary. */
    public boolean localIsPrimary() {
        MemberReport r = latest;
        return r != null && r.running() && r.role() == io.pgsentinel.sentinel.model.Role.PRIMARY;
    }
}
