package io.pgsentinel.sentinel.loop;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgsentinel.sentinel.decision.LocalAction;
import io.pgsentinel.sentinel.decision.LocalDecider;
import io.pgsentinel.sentinel.decision.LocalSnapshot;
import io.pgsentinel.sentinel.model.Lsn;
import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.sentinel.model.RegisteredNode;
import io.pgsentinel.sentinel.model.Role;
import io.pgsentinel.sentinel.postgres.PgControl;
import io.pgsentinel.sentinel.postgres.RemoteAdmin;
import io.pgsentinel.sentinel.postgres.Replication;
import io.pgsentinel.sentinel.time.MonotonicClock;
import io.pgsentinel.sentinel.zk.ClusterCache;
import io.pgsentinel.sentinel.zk.Standing;
import io.pgsentinel.sentinel.zk.ZkSession;
import io.pgsentinel.shared.json.Fields;
import io.pgsentinel.shared.topology.Topology;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reconcile step of every sentinel: asks the pure {@link LocalDecider} what to do with the
 * local server and does it. Long work (rewind, clone) runs on a thread of its own, so that the
 * cycle, and leadership duties, go on meanwhile; the report says "rejoining".
 */
public final class Reconciler {
    private static final Logger LOG = LoggerFactory.getLogger(Reconciler.class);
    private static final Duration SQL_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    /** The check of a stalled replica's WAL on the primary: on the loop thread, so short and seldom. */
    private static final Duration WAL_CHECK_TIMEOUT = Duration.ofSeconds(2);
    private static final long WAL_CHECK_EVERY_MILLIS = 5000;
    private static final Duration REWOUND_START_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration COPY_TIMEOUT = Duration.ofMinutes(30);

    private final String id;
    private final PgControl control;
    private final RemoteAdmin admin;
    private final ClusterCache cache;
    private final ZkSession session;
    private final Standing standing;
    private final SelfFence selfFence;
    private final MonotonicClock clock;
    private final boolean rejoinManual;
    private final java.util.function.Predicate<String> peersUp;
    private final ExecutorService rejoinThread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "pg-sentinel-rejoin");
        t.setDaemon(true);
        return t;
    });
    private final java.util.concurrent.ScheduledExecutorService progressPoller = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pg-sentinel-clone-progress");
        t.setDaemon(true);
        return t;
    });

    /** What the background thread does with the server ("starting", "stopping", "rejoining"), or null when idle. */
    private volatile String busy;
    private volatile boolean rewindFailed;
    private volatile String repointedTo = "";
    private volatile long repointedAt;
    private long notStreamingSince;
    private LocalAction lastLogged;
    private String lastFailure = "";
    private volatile LocalAction latest;

    public Reconciler(String id, PgControl control, RemoteAdmin admin, ClusterCache cache, ZkSession session,
                      SelfFence selfFence, MonotonicClock clock, boolean rejoinManual,
                      java.util.function.Predicate<String> peersUp) {
        this.peersUp = peersUp;
        this.id = id;
        this.control = control;
        this.admin = admin;
        this.cache = cache;
        this.session = session;
        this.standing = new Standing(session, id);
        this.selfFence = selfFence;
        this.clock = clock;
        this.rejoinManual = rejoinManual;
    }

    /** {@code bootstrap.method: initdb}: how to create the cluster; null with {@code attach}. */
    public record Bootstrap(PgControl.InitdbSpec spec, String replicationUser, java.util.Optional<String> replicationPassword) {
    }

    private volatile Bootstrap bootstrap;

    public void bootstrap(Bootstrap b) {
        this.bootstrap = b;
    }

    /** The bootstrap claim for the snapshot: null with attach, "" while unclaimed, else the claiming node. */
    private String bootstrapClaim() {
        if (bootstrap == null) {
            return null;
        }
        return cache.document("initialize").map(doc -> {
            try {
                return Fields.text(Fields.parseObject(doc), "node", "");
            } catch (Exception e) {
                return "?"; // a malformed claim is someone's: never create a second cluster on a guess
            }
        }).orElse("");
    }

    /**
     * Creates the cluster: claims {@code initialize} (create-if-absent: one node only, ever),
     * runs initdb, starts the server, and creates the replication role; the leader then
     * publishes epoch 1 as for any single writable server. A failure releases the claim.
     */
    private void createCluster(LocalAction action) {
        Bootstrap b = bootstrap;
        inBackground("bootstrapping", action, () -> {
            com.fasterxml.jackson.databind.node.ObjectNode claim = Fields.mapper().createObjectNode();
            claim.put("node", id);
            claim.put("at", clock.wallClock().toString());
            var created = session.await(cb -> session.client().create().withMode(org.apache.zookeeper.CreateMode.PERSISTENT)
                    .inBackground(cb).forPath(session.paths().initialize(),
                            io.pgsentinel.sentinel.model.ModelCodec.encode(claim)), SQL_TIMEOUT);
            int code = created.getResultCode();
            if (code == org.apache.zookeeper.KeeperException.Code.NODEEXISTS.intValue() && !id.equals(bootstrapClaim())) {
                LOG.info("local: another node claimed the creation of the cluster first: joining it once published");
                return;
            }
            if (code != 0 && code != org.apache.zookeeper.KeeperException.Code.NODEEXISTS.intValue()) {
                throw new IllegalStateException("could not claim the creation of the cluster (ZooKeeper code " + code + ")");
            }
            long start = clock.nowMillis();
            try {
                control.initdb(b.spec(), Duration.ofMinutes(5));
                control.start(START_TIMEOUT);
                if (!b.replicationUser().equals(b.spec().superuser())) {
                    admin.ensureReplicationRole(control.host(), control.port(), b.replicationUser(), b.replicationPassword(),
                            SQL_TIMEOUT);
                }
                LOG.info("local: created the cluster (initdb {}) and started it in {} ms: the leader publishes it",
                        String.join(" ", b.spec().options()), clock.nowMillis() - start);
            } catch (Exception e) {
                LOG.warn("local: creating the cluster failed, releasing the claim: {}", e.getMessage());
                if (control.isRunning()) {
                    control.stop(Duration.ofSeconds(10), true);
                }
                session.await(cb -> session.client().delete().inBackground(cb).forPath(session.paths().initialize()),
                        SQL_TIMEOUT);
                throw e;
            }
        });
    }

    /** What the sentinel does with its server, for its report: ok, fenced, rejoining. */
    public String state(MemberReport local) {
        String doing = busy;
        if (doing != null) {
            return doing;
        }
        // fenced only when certain: stopped (no postmaster at all); a frozen server is not fenced
        boolean certain = !control.isRunning();
        boolean fenceNode = cache.document("fence/" + id).isPresent();
        if ((fenceNode || selfFence.isFenced()) && certain) {
            return MemberReport.FENCED;
        }
        return "ok";
    }

    public LocalAction latest() {
        return latest;
    }

    /** Decides and acts; returns true when it changed something (the caller probes again). */
    boolean cycle(MemberReport local) {
        if (busy != null) {
            return false;
        }
        Topology topology = cache.topology().map(ClusterCache.VersionedTopology::topology).orElse(null);
        long now = clock.nowMillis();
        boolean streaming = local != null && local.isStreaming();
        boolean reachable = primaryReachable(topology);
        // "not streaming" counts only while the primary can be reached: a replica cannot be blamed
        // for not following a primary that is down or fenced
        if (streaming || !reachable) {
            notStreamingSince = now;
        }
        long notStreamingMillis = repointedTo.isEmpty() ? 0 : now - Math.max(repointedAt, notStreamingSince);
        LocalSnapshot s = new LocalSnapshot(id, session.isConnected() && cache.isInitialized(), local,
                control.isRunning(), topology, cache.document("fence/" + id).isPresent(), selfFence.isFenced(),
                control.hasStandbySignal(), rejoinManual, forkLsn(topology), repointedTo,
                notStreamingMillis, rewindFailed, reachable,
                control.dataDirectoryEmpty(), pendingReinit().isPresent(), bootstrapClaim(),
                walGone(local, topology, stalled(local, streaming, reachable, now), now), replicateFrom());
        if (s.reinitRequested() && topology != null && topology.primary().id().equals(id)) {
            // the API and the CLI refuse it; one written by hand, or before a switchover, is dropped here
            LOG.warn("local: reinit of {} refused: it is the published primary (epoch {}); removing the request", id,
                    topology.epoch());
            removeReinitRequest(pendingReinit().orElse(""));
        }
        LocalAction action = LocalDecider.decide(s);
        latest = action;
        if (lastLogged == null || action.kind() != lastLogged.kind() || !action.upstream().equals(lastLogged.upstream())) {
            if (action.kind() != LocalAction.Kind.NONE || lastLogged != null) {
                LOG.info("local: {}: {}", action.kind().json(), action.reason());
            }
            lastLogged = action;
        }
        var reload = pendingRequest("reload/");
        if (reload.isPresent() && local != null && local.running()) {
            String requestId = reload.get();
            inBackground("ok", action, () -> {
                try {
                    admin.reload(control.host(), control.port(), SQL_TIMEOUT);
                    LOG.info("local: configuration reloaded on request");
                } finally {
                    answer("reload/", requestId);
                }
            });
            return false;
        }
        if (action.kind() == LocalAction.Kind.NONE) {
            var restart = pendingRequest("restart/");
            if (restart.isPresent()) {
                restartServer(restart.get());
                return true;
            }
        }
        try {
            boolean acted = act(action, topology);
            lastFailure = "";
            return acted;
        } catch (Exception e) {
            String failure = action.kind().json() + " failed: " + e.getMessage();
            if (!failure.equals(lastFailure)) {
                LOG.warn("local: {}", failure);
                lastFailure = failure;
            }
            return false;
        }
    }

    private boolean act(LocalAction action, Topology topology) throws Exception {
        switch (action.kind()) {
            case FENCE -> {
                if (cache.document("fence/" + id).map(Reconciler::planned).orElse(false)) {
                    // a checkpoint and a clean stop take seconds: off the cycle's thread, the report says "stopping"
                    inBackground("stopping", action, () -> selfFence.stopForSwitchover("told to: " + action.reason()));
                } else {
                    selfFence.stopNow("told to: " + action.reason());
                }
                return true;
            }
            case START_AS_IS -> {
                inBackground(MemberReport.STARTING, action, () -> control.start(START_TIMEOUT));
                return true;
            }
            case START_PRIMARY -> {
                inBackground(MemberReport.STARTING, action, () -> {
                    Standing.Answer answer = standing.check(Duration.ofMillis(session.negotiatedSessionTimeoutMillis() / 2));
                    if (!answer.confirmed()) {
                        LOG.warn("local: not starting the server as primary: {}", answer.reason());
                        return;
                    }
                    LOG.info("local: {}; starting the server", answer.reason());
                    // lifted first: the watchdog stops a server started while its self-fence stands
                    selfFence.clear();
                    control.start(START_TIMEOUT);
                });
                return true;
            }
            case START_REPLICA -> {
                PgControl.Upstream up = upstream(action.upstream());
                inBackground(MemberReport.STARTING, action, () -> {
                    admin.ensureSlot(up.host(), up.port(), Replication.slotName(id), SQL_TIMEOUT);
                    control.configureStandby(up, id);
                    control.start(START_TIMEOUT);
                    markRepointed(action.upstream());
                    selfFence.clear();
                });
                return true;
            }
            case REPOINT -> {
                PgControl.Upstream up = upstream(action.upstream());
                admin.ensureSlot(up.host(), up.port(), Replication.slotName(id), SQL_TIMEOUT);
                control.repoint(up, id, SQL_TIMEOUT);
                markRepointed(action.upstream());
                return true;
            }
            case INITDB -> {
                createCluster(action);
                return true;
            }
            case REWIND -> {
                startRejoin(action, action.upstream());
                return true;
            }
            case CLONE -> {
                startRejoin(action, cloneSource(action.upstream(), topology));
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    private void markRepointed(String upstream) {
        repointedTo = upstream;
        repointedAt = clock.nowMillis();
    }

    /** Work on the server that may take long (a start after a crash recovers WAL): off the cycle's thread. */
    @FunctionalInterface
    private interface Work {
        void run() throws Exception;
    }

    private void inBackground(String label, LocalAction action, Work work) {
        busy = label;
        rejoinThread.execute(() -> {
            try {
                work.run();
            } catch (Exception e) {
                LOG.warn("local: {} failed: {}", action.kind().json(), e.getMessage());
            } finally {
                busy = null;
            }
        });
    }

    /**
     * What a clone copies: a replica tagged clonefrom that the topology shows streaming (the least
     * behind first), to spare the primary a full copy; else {@code primary}. The clone then
     * streams from its source, and is re-pointed at its own upstream as any replica is.
     */
    private String cloneSource(String primary, Topology topology) {
        if (topology == null) {
            return primary;
        }
        return cache.nodes().values().stream()
                .filter(n -> n.cloneFrom() && !n.id().equals(id) && !n.id().equals(primary))
                .map(n -> topology.replica(n.id()).orElse(null))
                .filter(r -> r != null && r.state() == io.pgsentinel.shared.topology.ReplicaState.STREAMING)
                .min(java.util.Comparator.comparing((Topology.Replica r) -> r.lagBytes() == null ? Long.MAX_VALUE
                        : r.lagBytes()).thenComparing(Topology.Replica::id))
                .map(r -> {
                    LOG.info("local: cloning {} (tagged clonefrom, streaming) rather than the primary {}", r.id(), primary);
                    return r.id();
                })
                .orElse(primary);
    }

    private void startRejoin(LocalAction action, String sourceId) {
        PgControl.Upstream up = upstream(sourceId);
        busy = MemberReport.REJOINING;
        String reinitId = pendingReinit().orElse("");
        rejoinThread.execute(() -> {
            long start = clock.nowMillis();
            boolean copied = false;
            try {
                // the source first: never stop the local server for a rejoin that cannot happen
                String slot = Replication.slotName(id);
                var old = admin.physicalSlots(up.host(), up.port(), SQL_TIMEOUT).get(slot);
                if (old != null && old.lost() && admin.dropSlot(up.host(), up.port(), slot, SQL_TIMEOUT)) {
                    LOG.info("local: slot {} on the source had lost its WAL: dropped, made afresh", slot);
                }
                admin.ensureSlot(up.host(), up.port(), slot, SQL_TIMEOUT);
                // without a checkpoint on the source, pg_rewind may find "no rewind required" wrongly
                admin.checkpoint(up.host(), up.port(), Duration.ofSeconds(60));
                control.stop(Duration.ofSeconds(30), false);
                if (action.kind() == LocalAction.Kind.REWIND) {
                    String out = control.rewind(up, COPY_TIMEOUT);
                    LOG.info("local: pg_rewind done in {} ms: {}", clock.nowMillis() - start, out);
                    control.configureStandby(up, id);
                } else {
                    var progress = progressPoller.scheduleWithFixedDelay(() -> showCloneProgress(up), 500, 1000,
                            java.util.concurrent.TimeUnit.MILLISECONDS);
                    try {
                        control.cloneFrom(up, id, COPY_TIMEOUT);
                    } finally {
                        progress.cancel(false);
                        busy = MemberReport.REJOINING;
                    }
                    LOG.info("local: fresh clone done in {} ms", clock.nowMillis() - start);
                }
                copied = true;
                // a rewound server replays from the last common checkpoint: seconds; one that cannot get ready (the
                // WAL it needs was recycled on the primary) is cloned afresh rather than waited for a minute
                control.start(action.kind() == LocalAction.Kind.REWIND ? REWOUND_START_TIMEOUT : START_TIMEOUT);
                rewindFailed = false;
                selfFence.clear();
                markRepointed(sourceId);
            } catch (Exception e) {
                LOG.warn("local: {} failed: {}", action.kind().json(), e.getMessage());
                if (action.kind() == LocalAction.Kind.REWIND) {
                    rewindFailed = true;
                }
                if (copied && control.isRunning()) {
                    // started but never ready: stopped, so that the next cycle clones it afresh
                    control.stop(Duration.ofSeconds(10), true);
                }
            } finally {
                if (!reinitId.isEmpty() && action.kind() == LocalAction.Kind.CLONE) {
                    // done or failed, the request is answered: a failed one leaves an empty or stopped
                    // server that the next cycles clone or rejoin as usual, and the log says why
                    LOG.info("local: reinit of {} {} in {} ms", id, copied ? "done" : "failed", clock.nowMillis() - start);
                    removeReinitRequest(reinitId);
                }
                busy = null;
            }
        });
    }

    /** The id of the reinit request for this node that is not yet answered, if any. */
    private java.util.Optional<String> pendingReinit() {
        return pendingRequest("reinit/");
    }

    /** The id of this node's request under {@code prefix} ("reinit/", "restart/") not yet answered, if any. */
    private java.util.Optional<String> pendingRequest(String prefix) {
        return cache.document(prefix + id).map(doc -> {
            try {
                return Fields.text(Fields.parseObject(doc), "id", "");
            } catch (Exception e) {
                return "";
            }
        }).filter(rid -> !rid.equals(answered.get(prefix)));
    }

    private final java.util.Map<String, String> answered = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * An operator's restart ({@code pg-sentinel restart}, one member at a time): a fast stop and a
     * start, in the background; the request is answered either way, the log says how it went.
     */
    private void restartServer(String requestId) {
        busy = "restarting";
        rejoinThread.execute(() -> {
            long start = clock.nowMillis();
            try {
                control.stop(Duration.ofSeconds(60), false);
                control.start(START_TIMEOUT);
                LOG.info("local: restarted the server on request in {} ms", clock.nowMillis() - start);
            } catch (Exception e) {
                LOG.warn("local: restart on request failed: {}", e.getMessage());
            } finally {
                answer("restart/", requestId);
                busy = null;
            }
        });
    }

    /** Marks {@code requestId} answered at once (the cache sees its deletion a moment later) and deletes it. */
    private void answer(String prefix, String requestId) {
        answered.put(prefix, requestId);
        String path = session.paths().base() + "/" + prefix + id;
        try {
            session.client().delete().inBackground((client, event) -> {
                if (event.getResultCode() != 0 && event.getResultCode()
                        != org.apache.zookeeper.KeeperException.Code.NONODE.intValue()) {
                    LOG.warn("local: could not remove {} (code {})", path, event.getResultCode());
                }
            }).forPath(path);
        } catch (Exception e) {
            LOG.warn("local: could not remove {}: {}", path, e.toString());
        }
    }

    private void removeReinitRequest(String reinitId) {
        answer("reinit/", reinitId);
    }



    /** While a clone runs: its progress, as the source sees it, in the report ("rejoining: cloning 43% (...)"). */
    private void showCloneProgress(PgControl.Upstream up) {
        try {
            admin.cloneProgress(up.host(), up.port(), Replication.cloneApplicationName(id), SQL_TIMEOUT)
                    .ifPresent(p -> {
                        String now = "rejoining: cloning " + p.describe();
                        if (!now.equals(busy)) {
                            busy = now;
                        }
                    });
        } catch (Exception e) {
            // progress is for people: a failed look leaves the last one shown
        }
    }

    private String replicateFromProblem = "";

    /**
     * This node's tag replicatefrom, as registered, when it can be followed: the node it names is
     * registered and does not cascade from this one (a loop would leave both without WAL).
     */
    private String replicateFrom() {
        RegisteredNode self = cache.nodes().get(id);
        String via = self == null ? "" : self.replicateFrom();
        String problem = "";
        if (!via.isEmpty()) {
            RegisteredNode upstream = cache.nodes().get(via);
            if (upstream == null) {
                problem = "replicatefrom names " + via + ", which is not registered: streaming from the primary";
            } else if (cascadesBackTo(via)) {
                problem = "replicatefrom names " + via + ", whose chain of replicatefrom comes back to this node: "
                        + "streaming from the primary";
            }
        }
        if (!problem.equals(replicateFromProblem)) {
            if (!problem.isEmpty()) {
                LOG.warn("local: {}", problem);
            }
            replicateFromProblem = problem;
        }
        return problem.isEmpty() ? via : "";
    }

    /** Whether following replicatefrom from {@code via} comes back to this node (a loop would get no WAL). */
    private boolean cascadesBackTo(String via) {
        java.util.Set<String> seen = new java.util.HashSet<>();
        String next = via;
        while (!next.isEmpty() && seen.add(next)) {
            if (next.equals(id)) {
                return true;
            }
            RegisteredNode n = cache.nodes().get(next);
            next = n == null ? "" : n.replicateFrom();
        }
        return false; // the chain ends, or loops elsewhere (whose members each break it)
    }

    private long lastPosition = -1;
    private long advancedAt = -1;

    /**
     * A replica that does not stream now, from a reachable primary, and whose position has not
     * moved for the stream grace: a receiver that fails at once after connecting shows
     * "streaming" for a moment on each retry, so the time is counted from the last progress.
     */
    private boolean stalled(MemberReport local, boolean streaming, boolean reachable, long now) {
        long position = local == null ? -1 : local.position();
        if (position > lastPosition || !reachable || advancedAt < 0) {
            advancedAt = now;
        }
        lastPosition = Math.max(lastPosition, position);
        return reachable && !streaming && now - advancedAt > LocalDecider.STREAM_GRACE_MILLIS;
    }

    private long walCheckedAt = -1;
    private boolean walGone;

    /**
     * For a running replica that has not streamed from a reachable primary for a while: whether
     * the WAL it needs is gone from the primary (asked at most every few seconds, bounded), and
     * no restore_command of its own could fetch it from an archive.
     */
    private boolean walGone(MemberReport local, Topology topology, boolean stalled, long now) {
        // only for a replica configured to follow the primary: a cascade asks its own upstream's WAL
        if (!stalled || local == null || !local.running() || local.role() != io.pgsentinel.sentinel.model.Role.REPLICA
                || topology.primary().id().equals(id) || local.position() < 0
                || !(topology.primary().host() + ":" + topology.primary().port()).equals(local.configuredUpstream())) {
            walGone = false;
            walCheckedAt = -1;
            return false;
        }
        if (walCheckedAt >= 0 && now - walCheckedAt < WAL_CHECK_EVERY_MILLIS) {
            return walGone;
        }
        walCheckedAt = now;
        try {
            // its slot may have been dropped (memberSlotsTtl) while it was cut off: without one the
            // primary streams nothing to it; made again (no-op when it exists), it streams if the WAL is there
            admin.ensureSlot(topology.primary().host(), topology.primary().port(), Replication.slotName(id),
                    WAL_CHECK_TIMEOUT);
            boolean gone = admin.walGoneFrom(topology.primary().host(), topology.primary().port(), Replication.slotName(id),
                    local.position(), WAL_CHECK_TIMEOUT)
                    && admin.show(control.host(), control.port(), "restore_command", WAL_CHECK_TIMEOUT).isBlank();
            if (gone && !walGone) {
                LOG.warn("local: the WAL this replica needs from {} is gone from the primary {}",
                        io.pgsentinel.sentinel.model.Lsn.format(local.position()), topology.primary().id());
            }
            walGone = gone;
        } catch (Exception e) {
            walGone = false; // not known: nothing drastic on a guess
        }
        return walGone;
    }

    private boolean primaryReachable(Topology topology) {
        return topology != null && peersUp.test(topology.primary().id());
    }

    /** Whether a fence node asks for a planned stop (a switchover): a checkpoint first, then a clean stop. */
    private static boolean planned(byte[] fence) {
        try {
            return "stop".equals(Fields.parseObject(fence).path("mode").asText());
        } catch (Exception e) {
            return false;
        }
    }

    private PgControl.Upstream upstream(String nodeId) {
        RegisteredNode n = cache.nodes().get(nodeId);
        if (n == null) {
            throw new IllegalStateException(nodeId + " is not registered");
        }
        return new PgControl.Upstream(n.host(), n.port());
    }

    /** The fork point of the published epoch, from its history entry, or -1. */
    private long forkLsn(Topology topology) {
        if (topology == null) {
            return -1;
        }
        List<String> entries = cache.documentsUnder("history/");
        for (int i = entries.size() - 1; i >= 0; i--) {
            try {
                JsonNode h = Fields.parseObject(cache.document(entries.get(i)).orElseThrow());
                if (h.path("epoch").asLong() == topology.epoch()) {
                    String fork = h.path("lsn").path("fork").asText("");
                    return fork.isEmpty() ? -1 : Lsn.parse(fork);
                }
            } catch (Exception e) {
                // a malformed entry tells nothing
            }
        }
        return -1;
    }

    void stop() {
        rejoinThread.shutdownNow();
        progressPoller.shutdownNow();
    }
}
