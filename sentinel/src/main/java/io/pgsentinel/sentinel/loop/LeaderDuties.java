package io.pgsentinel.sentinel.loop;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgsentinel.sentinel.decision.Decider;
import io.pgsentinel.sentinel.decision.Decision;
import io.pgsentinel.sentinel.decision.Policy;
import io.pgsentinel.sentinel.decision.Snapshot;
import io.pgsentinel.sentinel.decision.VoteSeen;
import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.sentinel.model.ModelCodec;
import io.pgsentinel.sentinel.model.Role;
import io.pgsentinel.sentinel.time.MonotonicClock;
import io.pgsentinel.sentinel.zk.ClusterCache;
import io.pgsentinel.sentinel.zk.LeaderWrites;
import io.pgsentinel.sentinel.zk.Leadership;
import io.pgsentinel.sentinel.zk.ZkSession;
import io.pgsentinel.shared.json.Fields;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.shared.topology.TopologyCodec;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.zookeeper.CreateMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The decide and act steps, run by the leader each cycle: build an immutable snapshot, call
 * the pure {@link Decider}, carry out what it says (publish, fence, lift fences, fail over
 * through the {@link FailoverExecutor}), and record the decision with its reason (logged when
 * it changes, written for every sentinel to show). Everything remembered here belongs to one
 * leadership term and is forgotten when it ends.
 */
public final class LeaderDuties {
    private static final Logger LOG = LoggerFactory.getLogger(LeaderDuties.class);
    private static final long DECISION_WRITE_INTERVAL_MILLIS = 1000;

    private final String id;
    private final String cluster;
    private final ZkSession session;
    private final ClusterCache cache;
    private final LeaderWrites writes;
    private final MonotonicClock clock;
    private final java.util.function.Supplier<Policy> policy;
    private final FailoverExecutor failover;
    private final SentinelMetrics metrics;
    private SyncManager sync;
    private io.pgsentinel.sentinel.postgres.RemoteAdmin admin;
    private FailsafeLeases leases;
    private java.util.function.Supplier<Map<String, Long>> probedWritable = Map::of;

    private long term = -1;
    private long lastPublishedAtMillis;
    /** Nodes demoted by a failover within failover.minInterval, and when (monotonic; see Snapshot). */
    private final Map<String, Long> demotedAtMillis = new HashMap<>();
    private long lastKnownPrimaryLsn = -1;
    private String lastKnownPrimaryId = "";
    private Decision lastLogged;
    private Decision lastWrittenDecision;
    private byte[] lastWrittenBytes;
    private long lastDecisionWriteMillis = Long.MIN_VALUE / 2;
    private volatile LatestDecision latest;
    private volatile long publications;
    private volatile long failovers;

    LeaderDuties(String id, String cluster, ZkSession session, ClusterCache cache, LeaderWrites writes,
                 MonotonicClock clock, java.util.function.Supplier<Policy> policy, FailoverExecutor failover, SentinelMetrics metrics) {
        this.metrics = metrics;
        this.id = id;
        this.cluster = cluster;
        this.session = session;
        this.cache = cache;
        this.writes = writes;
        this.clock = clock;
        this.policy = policy;
        this.failover = failover;
    }

    void admin(io.pgsentinel.sentinel.postgres.RemoteAdmin remote) {
        this.admin = remote;
    }

    /** Where the leader's own probe tells which servers accept writes. */
    void probedWritable(java.util.function.Supplier<Map<String, Long>> supplier) {
        this.probedWritable = supplier;
    }

    void leases(FailsafeLeases granted) {
        this.leases = granted;
    }

    /** Turns on synchronous quorum mode (replication.synchronous: quorum). */
    void synchronous(SyncManager manager) {
        this.sync = manager;
    }

    /** The latest decision of this sentinel while it led, or null. */
    public LatestDecision latest() {
        return latest;
    }

    public long publications() {
        return publications;
    }

    public long failovers() {
        return failovers;
    }

    boolean failoverInProgress() {
        return failover.inProgress();
    }

    void cycle(Leadership.Term current) {
        long now = clock.nowMillis();
        if (current.number() != term) {
            startTerm(current, now);
        }
        var lease = leases.holding();
        if (lease.isPresent() && !failover.inProgress()) {
            // the promise of a failsafe lease: no decision, no publication, until it ends
            latest = new LatestDecision(id, "wait", "wait", "holding a failsafe lease granted to " + lease.get()
                    + " for " + leases.remainingMillis(lease.get()) + " ms more: not leading any failover meanwhile",
                    clock.wallClock());
            return;
        }
        if (failover.inProgress()) {
            stepFailover(current);
            if (failover.inProgress()) {
                recordTakeover(current, now);
            }
            return;
        }
        Snapshot snapshot = snapshot(current, now);
        if (cache.document("switchover").isPresent() && cache.topologyProblem().isEmpty()) {
            startSwitchover(current, snapshot, now);
            return;
        }
        if (sync != null && sync.step(current, clock.wallClock())) {
            snapshot = snapshot(current, now);
        }
        Decision decision;
        String problem = cache.topologyProblem();
        if (!problem.isEmpty()) {
            decision = Decision.waiting(problem + "; not acting until it is repaired", null);
        } else {
            decision = Decider.decide(snapshot, policy.get());
        }
        record(current, decision, now);
        act(current, decision, snapshot, now);
        carryOutRemovals(current);
    }

    private final Map<String, String> removalWaits = new HashMap<>();

    /**
     * Operators' removal requests ({@code remove/<id>}): carried out once safe (see
     * {@link io.pgsentinel.sentinel.decision.RemoveCheck}), by one transaction conditional on this
     * term that deregisters the node and answers the request; then its slot is dropped on the
     * primary. The next topology lists it no more, and the quorum counts one node fewer.
     */
    private void carryOutRemovals(Leadership.Term current) {
        Topology t = cache.topology().map(ClusterCache.VersionedTopology::topology).orElse(null);
        for (String request : cache.documentsUnder("remove/")) {
            String node = request.substring("remove/".length());
            var verdict = io.pgsentinel.sentinel.decision.RemoveCheck.check(t, cache.nodes(), cache.members(), node);
            switch (verdict.kind()) {
                case WAIT -> {
                    if (!verdict.reason().equals(removalWaits.put(node, verdict.reason()))) {
                        LOG.info("removal of {}: waiting: {}", node, verdict.reason());
                    }
                }
                case REFUSE -> {
                    LOG.warn("removal of {} refused: {}", node, verdict.reason());
                    writes.delete(current, session.paths().removal(node), "refuse the removal of " + node);
                    removalWaits.remove(node);
                }
                case REMOVE -> {
                    long remaining = cache.nodes().keySet().stream().filter(k -> !k.equals(node)).count();
                    var c = session.client();
                    try {
                        List<org.apache.curator.framework.api.transaction.CuratorOp> ops = new java.util.ArrayList<>(
                                List.of(c.transactionOp().check().forPath(current.latchPath()),
                                        c.transactionOp().delete().forPath(session.paths().node(node)),
                                        c.transactionOp().delete().forPath(session.paths().removal(node))));
                        if (cache.document("fence/" + node).isPresent()) {
                            ops.add(c.transactionOp().delete().forPath(session.paths().fence(node)));
                        }
                        if (writes.run(current, ops, "remove " + node) != LeaderWrites.Outcome.OK) {
                            continue;
                        }
                    } catch (Exception e) {
                        LOG.warn("could not remove {}: {}", node, e.toString());
                        continue;
                    }
                    removalWaits.remove(node);
                    LOG.info("removed {} from the cluster: deregistered; {} nodes remain", node, remaining);
                    if (t != null && admin != null) {
                        try {
                            boolean dropped = admin.dropSlot(t.primary().host(), t.primary().port(),
                                    io.pgsentinel.sentinel.postgres.Replication.slotName(node), java.time.Duration.ofSeconds(3));
                            LOG.info("replication slot of {} {} on the primary {}", node, dropped ? "dropped" : "not found",
                                    t.primary().id());
                        } catch (Exception e) {
                            LOG.warn("could not drop the replication slot of {} on {}: {} (drop it by hand: it holds WAL)",
                                    node, t.primary().id(), e.getMessage());
                        }
                    }
                }
            }
        }
    }

    /** Called when leadership is lost: a failover in progress belongs to the old term. */
    void leadershipLost() {
        if (failover.inProgress()) {
            failover.step(null);
        }
    }

    /**
     * A switchover request: checked again (the cluster may have changed since it was accepted),
     * then carried out by the failover executor with a clean stop and a catch-up wait. A request
     * already running under a previous leader is resumed.
     */
    private void startSwitchover(Leadership.Term current, Snapshot snapshot, long now) {
        byte[] raw = cache.document("switchover").orElseThrow();
        String id;
        String requested;
        String state;
        String from;
        try {
            var doc = Fields.parseObject(raw);
            id = Fields.text(doc, "id", "");
            requested = Fields.optionalText(doc, "candidate", "").orElse(null);
            state = Fields.text(doc, "state", "");
            from = Fields.optionalText(doc, "from", "").orElse(null);
        } catch (Exception e) {
            LOG.warn("removing a malformed switchover request: {}", e.getMessage());
            deleteSwitchover(current, "malformed request: " + e.getMessage());
            return;
        }
        String candidate;
        if (state.equals("running") && requested != null && from != null && snapshot.topology() != null
                && snapshot.topology().primary().id().equals(from)) {
            candidate = requested; // resumed after a change of leader
        } else {
            var verdict = io.pgsentinel.sentinel.decision.SwitchoverCheck.check(snapshot.topology(), snapshot.nodes(),
                    snapshot.reports(), requested, false, false);
            if (!verdict.accepted()) {
                LOG.warn("switchover {} refused: {}", id, verdict.refusal());
                deleteSwitchover(current, "switchover refused: " + verdict.refusal());
                return;
            }
            candidate = verdict.candidate();
            ObjectNode running = Fields.mapper().createObjectNode();
            running.put("id", id);
            running.put("candidate", candidate);
            running.put("from", snapshot.topology().primary().id());
            running.put("state", "running");
            running.put("startedAt", clock.wallClock().toString());
            var c = session.client();
            try {
                int version = cache.stat(session.paths().switchover()).map(st -> st.getVersion()).orElse(-1);
                if (writes.run(current, List.of(c.transactionOp().check().forPath(current.latchPath()),
                        c.transactionOp().setData().withVersion(version).forPath(session.paths().switchover(),
                                ModelCodec.encode(running))), "start switchover " + id) != LeaderWrites.Outcome.OK) {
                    return;
                }
            } catch (Exception e) {
                LOG.warn("could not start switchover {}: {}", id, e.toString());
                return;
            }
        }
        // the candidate must answer now, as a replica: never stop the primary for one that cannot take
        // over; a switchover resumed from a previous leader whose candidate is gone is rolled back
        var cn = snapshot.nodes().get(candidate);
        String unusable = null;
        Boolean inRecovery = null;
        try {
            inRecovery = cn == null ? null : admin.inRecovery(cn.host(), cn.port(), java.time.Duration.ofSeconds(2));
            if (cn == null || !inRecovery) {
                unusable = candidate + " is not a running replica now";
            }
        } catch (Exception e) {
            unusable = candidate + " does not answer now (" + e.getMessage() + ")";
        }
        if (unusable != null) {
            var intent = snapshot.intent();
            boolean mayBePromoted = !Boolean.TRUE.equals(inRecovery) && intent != null
                    && intent.candidate().equals(candidate);
            if (state.equals("running") && from != null && (Boolean.FALSE.equals(inRecovery) || mayBePromoted)) {
                // promoted by the previous leader (or it may have been): the old primary's fence stays; the
                // candidate is adopted once it is seen accepting writes
                deleteSwitchover(current, "switchover from " + from + " cut short after " + candidate
                        + (Boolean.FALSE.equals(inRecovery) ? " was promoted" : " may have been promoted") + ": " + from
                        + " stays fenced");
            } else if (state.equals("running") && from != null) {
                rollBackResumed(current, from, unusable);
            } else {
                deleteSwitchover(current, "switchover refused: " + unusable);
            }
            return;
        }
        MemberReport cr = snapshot.reports().get(candidate);
        String primary = snapshot.topology().primary().id();
        Decision d = new Decision(Decision.Action.SWITCHOVER, "planned switchover from " + primary + " to " + candidate,
                null, new Decision.FailoverPlan(primary, candidate, cr == null ? -1 : cr.position(),
                cr == null ? 0 : cr.timeline(), lastKnownPrimaryLsn, 0), List.of(), List.of(primary), List.of());
        failover.beginSwitchover(current, d, snapshot, id);
        stepFailover(current);
        recordTakeover(current, now);
    }

    /** A resumed switchover that cannot finish: the old primary's fence goes with the request. */
    private void rollBackResumed(Leadership.Term current, String from, String why) {
        var c = session.client();
        try {
            List<org.apache.curator.framework.api.transaction.CuratorOp> ops = new java.util.ArrayList<>(List.of(
                    c.transactionOp().check().forPath(current.latchPath()),
                    c.transactionOp().delete().forPath(session.paths().switchover())));
            if (cache.document("fence/" + from).isPresent()) {
                ops.add(c.transactionOp().delete().forPath(session.paths().fence(from)));
            }
            writes.run(current, ops, "roll back the switchover");
            LOG.warn("switchover rolled back to {}: {}", from, why);
        } catch (Exception e) {
            LOG.warn("could not roll back the switchover: {}", e.toString());
        }
        lastOutcome = "aborted: switchover rolled back to " + from + ": " + why;
        // written at once: this leader may yield in its next cycle (its server is the primary
        // again), and the next leader reads the outcome from the decision node
        record(current, Decision.waiting("the switchover is over; waiting for " + from + " to serve again", null),
                clock.nowMillis());
    }

    private void deleteSwitchover(Leadership.Term current, String outcome) {
        writes.delete(current, session.paths().switchover(), "remove the switchover request");
        lastOutcome = outcome;
    }

    private String lastOutcome = "";

    /** The decision shown while a failover or switchover runs. */
    private void recordTakeover(Leadership.Term current, long now) {
        String progress = failover.progress();
        if (progress.isEmpty()) {
            return;
        }
        Decision d = new Decision(failover.switchoverRunning() ? Decision.Action.SWITCHOVER : Decision.Action.FAILOVER,
                progress, null, null, List.of(), List.of(), List.of());
        LatestDecision shown = new LatestDecision(id, d.action().json(), failover.switchoverRunning() ? "switchover"
                : "failover", progress, clock.wallClock());
        latest = shown;
    }

    private void stepFailover(Leadership.Term current) {
        FailoverExecutor.Outcome outcome = failover.step(current);
        if (outcome != FailoverExecutor.Outcome.IN_PROGRESS) {
            lastOutcome = failover.lastOutcome();
        }
        if (outcome == FailoverExecutor.Outcome.DONE) {
            long now = clock.nowMillis();
            if (failover.lastDemoted() != null) {
                demotedAtMillis.put(failover.lastDemoted(), now);
            }
            lastPublishedAtMillis = now;
            publications++;
            failovers++;
        }
    }

    private void startTerm(Leadership.Term current, long now) {
        term = current.number();
        // a new term starts its timers from zero: nothing measured in an earlier term carries over
        lastPublishedAtMillis = now;
        recentDemotions(now);
        lastLogged = null;
        lastWrittenDecision = null;
        // the last takeover's outcome outlives leaders: it is kept in the decision node
        cache.document("decision").ifPresent(d -> {
            try {
                lastOutcome = Fields.parseObject(d).path("lastTakeover").asText(lastOutcome);
            } catch (Exception e) {
                // a malformed node tells nothing
            }
        });
        LOG.info("leader term {} starts: reading the cluster from ZooKeeper", current.number());
    }

    /**
     * Anti-flapping across leaders: a node demoted by a failover whose history entry is younger
     * than failover.minInterval (by its wall-clock time: this only chooses whether the rule
     * applies) counts as demoted at the start of this term, on the monotonic clock.
     */
    private void recentDemotions(long now) {
        demotedAtMillis.clear();
        if (policy.get().failoverCooldownMillis() == 0) {
            return;
        }
        for (String entry : cache.documentsUnder("history/")) {
            try {
                var doc = Fields.parseObject(cache.document(entry).orElseThrow());
                java.time.Instant at = Fields.instant(doc, "at", "");
                long age = clock.wallClock().toEpochMilli() - at.toEpochMilli();
                if ("failover".equals(doc.path("kind").asText()) && age < policy.get().failoverCooldownMillis()) {
                    demotedAtMillis.put(doc.path("from").asText(), now);
                }
            } catch (Exception e) {
                // a malformed entry tells nothing
            }
        }
    }

    /**
     * Called every cycle, leader or not: the last known primary position must survive a change
     * of leader (the primary's host may take the leader with it), so every sentinel keeps it.
     */
    void trackPrimaryPosition() {
        Topology topology = cache.topology().map(ClusterCache.VersionedTopology::topology).orElse(null);
        if (topology == null) {
            return;
        }
        String primary = topology.primary().id();
        if (!primary.equals(lastKnownPrimaryId)) {
            lastKnownPrimaryId = primary;
            lastKnownPrimaryLsn = -1;
        }
        MemberReport pr = cache.members().get(primary);
        if (pr != null && pr.running() && pr.role() == Role.PRIMARY) {
            lastKnownPrimaryLsn = Math.max(lastKnownPrimaryLsn, pr.flushLsn());
        }
    }

    Snapshot snapshot(Leadership.Term current, long now) {
        Topology topology = cache.topology().map(ClusterCache.VersionedTopology::topology).orElse(null);
        Map<String, MemberReport> members = cache.members();
        // votes received before this term count from the term's start: our clock, our term
        Map<String, VoteSeen> votes = new HashMap<>();
        cache.votes().forEach((voter, seen) -> votes.put(voter,
                new VoteSeen(seen.vote(), Math.max(seen.receivedAtMillis(), current.startedAtMillis()))));
        Set<String> fences = new HashSet<>();
        cache.documentsUnder("fence/").forEach(f -> fences.add(f.substring("fence/".length())));
        return new Snapshot(cluster, id, cache.nodes(), members, votes, topology, fences, cache.maintenance(),
                lastKnownPrimaryLsn, now, lastPublishedAtMillis, demotedAtMillis, clock.wallClock(),
                probedWritable.get(), intent(), primaryRestartingSince(topology, members, now));
    }

    private String restartingPrimary;
    private long restartingSince = -1;
    private long restartedAt = -1;
    /** How long a restarted primary keeps its grace after it runs again: the votes need a probe or two to see it up. */
    private static final long RESTARTED_GRACE_MILLIS = 5000;

    /**
     * Since when the primary's own sentinel (alive: its report is there) has reported its server
     * self-fenced or starting, in this down period: it restarts it in place once it has its
     * session again. Counted once per down period, never restarted by a flapping state, so the
     * grace it earns is bounded; kept a few seconds after the server runs again, while the
     * sentinels' votes still say what they saw during the restart.
     */
    private long primaryRestartingSince(Topology topology, Map<String, MemberReport> members, long now) {
        String primary = topology == null ? null : topology.primary().id();
        MemberReport pr = primary == null ? null : members.get(primary);
        if (pr != null && pr.running() && restartingSince >= 0 && primary.equals(restartingPrimary)) {
            if (restartedAt < 0) {
                restartedAt = now;
            }
            if (now - restartedAt < RESTARTED_GRACE_MILLIS) {
                return restartingSince;
            }
        }
        if (pr == null || pr.running() || !primary.equals(restartingPrimary)) {
            restartingPrimary = primary;
            restartingSince = -1;
            restartedAt = -1;
        }
        if (pr != null && !pr.running() && restartingSince < 0
                && pr.fencedOrStarting()) {
            restartingSince = now;
        }
        return restartingSince;
    }

    /** The promotion a leader announced and did not publish; a malformed node announces nothing. */
    private io.pgsentinel.sentinel.model.PromotionIntent intent() {
        return cache.document("promoting").map(bytes -> {
            try {
                return ModelCodec.promotionIntent(bytes);
            } catch (io.pgsentinel.shared.json.DocumentException e) {
                return null;
            }
        }).orElse(null);
    }

    private void act(Leadership.Term current, Decision decision, Snapshot snapshot, long now) {
        for (String node : decision.fence()) {
            if (decision.action() == Decision.Action.SPLIT_BRAIN) {
                fence(current, node, "split brain: " + decision.reason());
            }
        }
        for (String node : decision.unfence()) {
            var c = session.client();
            try {
                List<org.apache.curator.framework.api.transaction.CuratorOp> ops = new java.util.ArrayList<>(List.of(
                        c.transactionOp().check().forPath(current.latchPath()),
                        c.transactionOp().delete().forPath(session.paths().fence(node))));
                if (snapshot.intent() != null && snapshot.intent().oldPrimary().equals(node)
                        && cache.document("promoting").isPresent()) {
                    // the announced promotion did not happen (its candidate is seen in recovery): obsolete
                    ops.add(c.transactionOp().delete().forPath(session.paths().promoting()));
                }
                if (writes.run(current, ops, "lift the fence of " + node) == LeaderWrites.Outcome.OK) {
                    LOG.info("lifted the fence of {}", node);
                }
            } catch (Exception e) {
                LOG.warn("could not lift the fence of {}: {}", node, e.toString());
            }
        }
        dropPublishedIntent(current, snapshot);
        switch (decision.action()) {
            case BOOTSTRAP -> {
                if (writes.createTopology(current, decision.publish()) == LeaderWrites.Outcome.OK) {
                    lastPublishedAtMillis = now;
                    publications++;
                    LOG.info("published the first topology: primary {} (epoch 1)", decision.publish().primary().id());
                }
            }
            case FAILOVER -> {
                failover.begin(current, decision, snapshot);
                stepFailover(current);
            }
            case ADOPT -> adopt(current, decision, now);
            default -> {
                if (decision.publish() != null) {
                    cache.topology().ifPresent(read -> {
                        if (writes.setTopology(current, decision.publish(), read.version()) == LeaderWrites.Outcome.OK) {
                            lastPublishedAtMillis = now;
                            publications++;
                        }
                    });
                }
            }
        }
    }

    /** An announced promotion whose epoch is published (by whichever leader) announces nothing more. */
    private void dropPublishedIntent(Leadership.Term current, Snapshot snapshot) {
        var intent = snapshot.intent();
        if (intent == null || snapshot.topology() == null || intent.epoch() > snapshot.topology().epoch()) {
            return;
        }
        writes.delete(current, session.paths().promoting(), "remove a published promotion");
    }

    private void fence(Leadership.Term current, String node, String reason) {
        ObjectNode fence = Fields.mapper().createObjectNode();
        fence.put("node", node);
        fence.put("epoch", cache.topology().map(t -> t.topology().epoch()).orElse(0L));
        fence.put("by", id);
        fence.put("reason", reason);
        fence.put("at", clock.wallClock().toString());
        boolean exists = cache.document("fence/" + node).isPresent();
        if (!exists && writes.putDocument(current, session.paths().fence(node), ModelCodec.encode(fence), false)
                == LeaderWrites.Outcome.OK) {
            LOG.warn("fenced {}: {}", node, reason);
        }
    }

    private void adopt(Leadership.Term current, Decision decision, long now) {
        ClusterCache.VersionedTopology read = cache.topology().orElse(null);
        if (read == null) {
            return;
        }
        ObjectNode h = Fields.mapper().createObjectNode();
        h.put("epoch", decision.publish().epoch());
        h.put("kind", "failover");
        h.put("from", read.topology().primary().id());
        h.put("to", decision.publish().primary().id());
        h.put("reason", decision.reason());
        h.put("at", clock.wallClock().toString());
        h.putObject("stages").put("published", clock.wallClock().toString());
        var c = session.client();
        try {
            if (writes.run(current, List.of(c.transactionOp().check().forPath(current.latchPath()),
                    c.transactionOp().setData().withVersion(read.version()).forPath(session.paths().topology(),
                            TopologyCodec.encode(decision.publish())),
                    c.transactionOp().create().withMode(CreateMode.PERSISTENT_SEQUENTIAL)
                            .forPath(session.paths().historyEntryPrefix(), ModelCodec.encode(h))),
                    "adopt " + decision.publish().primary().id()) == LeaderWrites.Outcome.OK) {
                // the promotion it announced, if any, is published now: dropped next cycle
                lastPublishedAtMillis = now;
                demotedAtMillis.put(read.topology().primary().id(), now);
                publications++;
            }
        } catch (Exception e) {
            LOG.warn("could not adopt {}: {}", decision.publish().primary().id(), e.toString());
        }
    }

    private void record(Leadership.Term current, Decision decision, long now) {
        LatestDecision d = LatestDecision.of(id, decision, clock.wallClock());
        if (!lastOutcome.isEmpty()) {
            d = new LatestDecision(d.leader(), d.action(), d.summary(), d.reason() + "; last takeover: " + lastOutcome,
                    d.at());
        }
        latest = d;
        metrics.decided(decision);
        if (!decision.sameAs(lastLogged)) {
            LOG.info("decision: {}: {}", decision.summary(), decision.reason());
            lastLogged = decision;
        }
        // rewritten when the decision changes, and also when the node no longer holds what this
        // leader wrote (someone, or something, changed it)
        boolean changed = !decision.sameAs(lastWrittenDecision)
                || !java.util.Arrays.equals(cache.document("decision").orElse(null), lastWrittenBytes);
        if (changed || (!decision.reason().equals(lastWrittenDecision.reason())
                && now - lastDecisionWriteMillis >= DECISION_WRITE_INTERVAL_MILLIS)) {
            ObjectNode doc = Fields.mapper().createObjectNode();
            doc.put("leader", d.leader());
            doc.put("action", d.action());
            doc.put("summary", d.summary());
            doc.put("reason", d.reason());
            doc.put("at", d.at().toString());
            if (!lastOutcome.isEmpty()) {
                doc.put("lastTakeover", lastOutcome);
            }
            boolean exists = cache.document("decision").isPresent()
                    || cache.stat(session.paths().decision()).isPresent();
            byte[] bytes = ModelCodec.encode(doc);
            if (writes.putDocument(current, session.paths().decision(), bytes, exists) == LeaderWrites.Outcome.OK) {
                lastWrittenDecision = decision;
                lastWrittenBytes = bytes;
                lastDecisionWriteMillis = now;
            }
        }
    }
}
