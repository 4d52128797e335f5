package io.pgsentinel.sentinel.loop;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgsentinel.sentinel.decision.Decider;
import io.pgsentinel.sentinel.decision.Decision;
import io.pgsentinel.sentinel.decision.Policy;
import io.pgsentinel.sentinel.decision.Snapshot;
import io.pgsentinel.sentinel.model.Lsn;
import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.sentinel.model.ModelCodec;
import io.pgsentinel.sentinel.model.RegisteredNode;
import io.pgsentinel.sentinel.postgres.RemoteAdmin;
import io.pgsentinel.sentinel.time.MonotonicClock;
import io.pgsentinel.sentinel.zk.ClusterCache;
import io.pgsentinel.sentinel.zk.LeaderWrites;
import io.pgsentinel.sentinel.zk.Leadership;
import io.pgsentinel.sentinel.zk.ZkSession;
import io.pgsentinel.shared.json.Fields;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.shared.topology.TopologyCodec;
import io.pgsentinel.localcluster.Command;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.zookeeper.CreateMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out a failover decided by the leader, one step per cycle (the leader keeps
 * observing meanwhile), each step bounded:
 * <ol>
 *   <li>fence: write {@code fence/<old>}, run the STONITH hook if configured, and wait for a
 *       confirmation: the old primary's sentinel reports its server fenced, or its session is
 *       gone from ZooKeeper (its self-fence deadline is shorter than the session timeout, so a
 *       sentinel whose session expired has fenced itself), or the hook exited 0;</li>
 *   <li>promote the candidate ({@code pg_promote}, then a write);</li>
 *   <li>publish, in one transaction that checks leadership and the topology version: the new
 *       topology (epoch + 1) and a history entry with the time of every stage.</li>
 * </ol>
 * A failure aborts with its reason; the next cycle decides again from what is then true.
 */
final class FailoverExecutor {
    private static final Logger LOG = LoggerFactory.getLogger(FailoverExecutor.class);


    private final ZkSession session;
    private final ClusterCache cache;
    private final LeaderWrites writes;
    private final RemoteAdmin admin;
    private final MonotonicClock clock;
    private final java.util.function.Supplier<Policy> policy;
    private final String fenceCommand;
    private final Duration fenceCommandTimeout;
    private final Duration fenceConfirmTimeout;
    private final SentinelMetrics metrics;
    private final Duration switchoverTimeout;

    private Plan plan;

    /** One failover in progress. */
    private static final class Plan {
        final long term;
        final long termStartedAt;
        final Decision decision;
        Decision.FailoverPlan failover;
        final Snapshot snapshot;
        final long decidedAt;
        final long detectedAt;
        long fencedAt = -1;
        String fencedHow = "";
        /** A planned switchover: clean stop, wait for the candidate to catch up, roll back on failure. */
        final String switchoverId;
        long caughtUpAt = -1;
        long fenceWrittenAt = -1;
        CompletableFuture<Integer> stonith;
        /** pg_promote was called: the candidate may accept writes, the old primary's fence must stay. */
        boolean promoteAttempted;
        /** A synchronous member's position still moved at the last check, or was read once only. */
        boolean settling;
        /** The members' positions at the previous reading, and when (monotonic). */
        Map<String, Long> firstPositions;
        long firstPositionsAt;
        /** The candidate's position as asked right before its promotion, -1 when not asked. */
        long candidatePosition = -1;
        /** The synchronous set the candidate was given before its promotion, or null. */
        Topology.Synchronous newSet;
        /** pg_promote and its checks, running in the background once started. */
        CompletableFuture<RemoteAdmin.Promoted> promotion;

        Plan(Leadership.Term term, Decision decision, Snapshot snapshot, long now, String switchoverId) {
            this.switchoverId = switchoverId;
            this.term = term.number();
            this.termStartedAt = term.startedAtMillis();
            this.decision = decision;
            this.failover = decision.failover();
            this.snapshot = snapshot;
            this.decidedAt = now;
            this.detectedAt = now - failover.downForMillis();
        }
    }

    /** What a step ended with. */
    enum Outcome { IN_PROGRESS, DONE, ABORTED }

    FailoverExecutor(ZkSession session, ClusterCache cache, LeaderWrites writes, RemoteAdmin admin, MonotonicClock clock,
                     java.util.function.Supplier<Policy> policy, String fenceCommand, Duration fenceCommandTimeout, Duration fenceConfirmTimeout,
                     SentinelMetrics metrics, Duration switchoverTimeout) {
        this.metrics = metrics;
        this.switchoverTimeout = switchoverTimeout;
        this.session = session;
        this.cache = cache;
        this.writes = writes;
        this.admin = admin;
        this.clock = clock;
        this.policy = policy;
        this.fenceCommand = fenceCommand == null ? "" : fenceCommand;
        this.fenceCommandTimeout = fenceCommandTimeout;
        this.fenceConfirmTimeout = fenceConfirmTimeout;
    }

    boolean inProgress() {
        return plan != null;
    }

    /** Why the last failover aborted, or "" (for the decision shown to operators). */
    private String lastAbort = "";

    String lastAbort() {
        return lastAbort;
    }

    void begin(Leadership.Term term, Decision decision, Snapshot snapshot) {
        plan = new Plan(term, decision, snapshot, clock.nowMillis(), null);
        lastAbort = "";
        LOG.info("failover: fencing {} before promoting {}", plan.failover.oldPrimary(), plan.failover.candidate());
    }

    /** Starts (or resumes, after a change of leader) the planned switchover {@code id}. */
    void beginSwitchover(Leadership.Term term, Decision decision, Snapshot snapshot, String id) {
        plan = new Plan(term, decision, snapshot, clock.nowMillis(), id);
        lastAbort = "";
        LOG.info("switchover {}: stopping {} cleanly before promoting {}", id, plan.failover.oldPrimary(),
                plan.failover.candidate());
    }

    /** What the running takeover is doing, for the decision shown to operators; "" when none. */
    String progress() {
        Plan p = plan;
        if (p == null) {
            return "";
        }
        if (p.fencedAt < 0) {
            return (p.switchoverId != null ? "stopping " + p.failover.oldPrimary() + " cleanly" : "fencing "
                    + p.failover.oldPrimary()) + " before promoting " + p.failover.candidate();
        }
        return p.switchoverId != null && p.caughtUpAt < 0 ? "waiting for " + p.failover.candidate()
                + " to receive the primary's last WAL" : "promoting " + p.failover.candidate();
    }

    boolean switchoverRunning() {
        return plan != null && plan.switchoverId != null;
    }

    private Leadership.Term currentTerm;

    Outcome step(Leadership.Term term) {
        currentTerm = term;
        Plan p = plan;
        if (p == null) {
            return Outcome.DONE;
        }
        if (term == null || term.number() != p.term) {
            return abort("leadership was lost during the failover");
        }
        long now = clock.nowMillis();
        String old = p.failover.oldPrimary();
        if (p.fencedAt < 0) {
            if (p.fenceWrittenAt < 0) {
                if (!writeFence(term, p)) {
                    return abort("could not write fence/" + old);
                }
                p.fenceWrittenAt = now;
                startStonith(p);
            }
            String how = fenceConfirmation(p);
            if (how == null) {
                if (p.switchoverId != null && now - p.fenceWrittenAt > switchoverTimeout.toMillis()) {
                    return abort(old + " was not stopped cleanly within " + switchoverTimeout.toSeconds() + " s");
                }
                if (p.switchoverId == null && now - p.fenceWrittenAt > fenceConfirmTimeout.toMillis()) {
                    RegisteredNode n = cache.nodes().get(old);
                    boolean provable = n != null && n.absenceProvesFence();
                    return abort("the fence of " + old + " was not confirmed within " + fenceConfirmTimeout.toMillis()
                            + " ms: its sentinel did not report it stopped, " + (provable ? "its session is still alive"
                            : "and its absence proves nothing (its sentinel ran without its guard, or with a session "
                            + "timeout too short for the timing rule)")
                            + (fenceCommand.isEmpty() ? ", and no fencing.command is configured" : ", and the fencing "
                            + "command did not succeed"));
                }
                return Outcome.IN_PROGRESS;
            }
            p.fencedAt = now;
            p.fencedHow = how;
            LOG.info("failover: {} is fenced ({}), {} ms after the decision", old, how, now - p.decidedAt);
        }
        if (p.promotion != null) {
            return promoted(term, p);
        }
        String syncProblem = p.switchoverId == null ? synchronousCandidateProblem(p) : null;
        if (syncProblem != null) {
            if (p.settling && now - p.fencedAt < fenceConfirmTimeout.toMillis()) {
                return Outcome.IN_PROGRESS; // a standby still replays its own WAL: asked again next step
            }
            return abort(syncProblem);
        }
        RegisteredNode candidate = cache.nodes().get(p.failover.candidate());
        if (candidate == null) {
            return abort("the candidate " + p.failover.candidate() + " is no longer registered");
        }
        if (p.switchoverId != null && p.caughtUpAt < 0) {
            MemberReport r = cache.members().get(old);
            long end = r == null ? -1 : r.flushLsn();
            try {
                long received = admin.receivedLsn(candidate.host(), candidate.port(), Duration.ofSeconds(2));
                // the shutdown checkpoint record starts at end: having received past it means having it all
                if (received >= 0 && received <= end) {
                    if (now - p.fencedAt > switchoverTimeout.toMillis()) {
                        return abort(candidate.id() + " did not receive the primary's last WAL (" + Lsn.format(end)
                                + ") within " + switchoverTimeout.toSeconds() + " s: it has " + Lsn.format(received));
                    }
                    return Outcome.IN_PROGRESS;
                }
            } catch (Exception e) {
                if (now - p.fencedAt > switchoverTimeout.toMillis()) {
                    return abort(candidate.id() + " did not answer within " + switchoverTimeout.toSeconds() + " s: "
                            + e.getMessage());
                }
                return Outcome.IN_PROGRESS;
            }
            p.caughtUpAt = clock.nowMillis();
            LOG.info("switchover: {} has received all of {}'s WAL", candidate.id(), old);
        }
        String listProblem = setListBeforePromotion(p, candidate);
        if (listProblem != null) {
            return abort(listProblem);
        }
        long usedUpTo = highestTimelineUsed(p.snapshot);
        try {
            List<Long> reserved = admin.reserveTimelines(candidate.host(), candidate.port(), usedUpTo, Duration.ofSeconds(3));
            if (!reserved.isEmpty()) {
                LOG.info("failover: {} never saw timeline(s) {}, used by an earlier promotion: marked used on it, so that "
                        + "its promotion takes a new one", candidate.id(), reserved);
            }
        } catch (Exception e) {
            return abort("could not check the timelines " + candidate.id() + " knows before promoting it: "
                    + e.getMessage());
        }
        // announced in a transaction that checks leadership, right before pg_promote: a leader
        // deposed meanwhile (its session expired while it was frozen) cannot write, so it does not promote
        LeaderWrites.Outcome announced = announce(term, p);
        if (announced == LeaderWrites.Outcome.CONFLICT) {
            return Outcome.IN_PROGRESS; // the cache did not know the node yet: again next tick
        }
        if (announced != LeaderWrites.Outcome.OK) {
            return abort("could not announce the promotion of " + candidate.id() + " (" + announced
                    + "): not promoting it");
        }
        // pg_promote waits for the end of recovery: in the background, the loop keeps observing meanwhile
        p.promoteAttempted = true;
        p.promotion = CompletableFuture.supplyAsync(() -> {
            try {
                return admin.promote(candidate.host(), candidate.port(), Duration.ofSeconds(30));
            } catch (java.sql.SQLException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        return Outcome.IN_PROGRESS;
    }

    /** The promotion under way: still running, failed (aborted), or done (published). */
    private Outcome promoted(Leadership.Term term, Plan p) {
        if (!p.promotion.isDone()) {
            return Outcome.IN_PROGRESS;
        }
        RemoteAdmin.Promoted promoted;
        try {
            promoted = p.promotion.join();
        } catch (java.util.concurrent.CompletionException e) {
            return abort("promoting " + p.failover.candidate() + " failed: " + e.getCause().getMessage());
        }
        long promotedAt = clock.nowMillis();
        LOG.info("failover: {} promoted to timeline {} (fork at {}) in {} ms", p.failover.candidate(), promoted.timeline(),
                promoted.forkLsn() < 0 ? "?" : Lsn.format(promoted.forkLsn()), promotedAt - p.fencedAt);
        return publish(term, p, promoted, promotedAt);
    }

    /**
     * Synchronous quorum mode: the candidate gets its synchronous standbys before its promotion
     * (the setting only takes effect once it is a primary), so that it never acknowledges a commit
     * alone; checked by asking it back.
     *
     * @return why it could not be set, or null
     */
    private String setListBeforePromotion(Plan p, RegisteredNode candidate) {
        var published = p.snapshot.topology().synchronous();
        if (published == null) {
            return null;
        }
        var next = Decider.setAfterPromotion(published, p.failover, -1);
        String setting = next.active() ? new io.pgsentinel.sentinel.decision.SyncPlanner.OnPrimary(next.count(),
                next.standbys()).setting() : "";
        try {
            admin.setSyncStandbyNames(candidate.host(), candidate.port(), setting, Duration.ofSeconds(3));
            String enforced = admin.syncStandbyNames(candidate.host(), candidate.port(), Duration.ofSeconds(3));
            if (!enforced.equals(setting)) {
                return "the synchronous standbys of " + candidate.id() + " read '" + enforced + "' after setting '"
                        + setting + "': not promoting it";
            }
            p.newSet = next;
            return null;
        } catch (Exception e) {
            return "could not set the synchronous standbys of " + candidate.id() + " before promoting it: "
                    + e.getMessage();
        }
    }

    /**
     * The newest timeline any server of the cluster is known to have been promoted to: the published
     * primary's, any report's, any the leader's probe found writable, any history entry's.
     */
    private long highestTimelineUsed(Snapshot s) {
        long highest = s.topology().primary().timeline();
        for (MemberReport r : s.reports().values()) {
            highest = Math.max(highest, r.timeline());
        }
        for (long t : s.probedWritable().values()) {
            highest = Math.max(highest, t);
        }
        for (String entry : cache.documentsUnder("history/")) {
            try {
                highest = Math.max(highest, Fields.parseObject(cache.document(entry).orElseThrow()).path("timeline")
                        .asLong(0));
            } catch (Exception e) {
                // a malformed entry tells nothing
            }
        }
        return highest;
    }

    /** Writes {@code promoting}: this leader is about to promote the candidate for the next epoch. */
    private LeaderWrites.Outcome announce(Leadership.Term term, Plan p) {
        var intent = new io.pgsentinel.sentinel.model.PromotionIntent(p.failover.oldPrimary(), p.failover.candidate(),
                p.snapshot.topology().epoch() + 1, p.snapshot.leader());
        boolean exists = cache.document("promoting").isPresent();
        return writes.putDocument(term, session.paths().promoting(), ModelCodec.encode(ModelCodec.toTree(intent)), exists);
    }

    private Outcome publish(Leadership.Term term, Plan p, RemoteAdmin.Promoted promoted, long promotedAt) {
        ClusterCache.VersionedTopology read = cache.topology().orElse(null);
        if (read == null) {
            return abort("the topology node vanished");
        }
        Topology.Synchronous newSet = p.newSet == null ? null : Decider.setAfterPromotion(
                p.snapshot.topology().synchronous(), p.failover, Math.max(promoted.forkLsn(), p.candidatePosition));
        Topology next = Decider.afterFailover(p.snapshot, policy.get(), p.failover, promoted.timeline(), newSet);
        long publishedAt = clock.nowMillis();
        byte[] history = ModelCodec.encode(history(p, next, promoted, promotedAt, publishedAt));
        var c = session.client();
        try {
            List<org.apache.curator.framework.api.transaction.CuratorOp> ops = new java.util.ArrayList<>(List.of(
                    c.transactionOp().check().forPath(term.latchPath()),
                    c.transactionOp().setData().withVersion(read.version()).forPath(session.paths().topology(),
                            TopologyCodec.encode(next)),
                    c.transactionOp().create().withMode(CreateMode.PERSISTENT_SEQUENTIAL)
                            .forPath(session.paths().historyEntryPrefix(), history)));
            if (p.switchoverId != null) {
                ops.add(c.transactionOp().delete().forPath(session.paths().switchover()));
            }
            if (cache.document("promoting").isPresent()) {
                ops.add(c.transactionOp().delete().forPath(session.paths().promoting()));
            }
            LeaderWrites.Outcome outcome = writes.run(term, ops, "publish epoch " + next.epoch());
            if (outcome != LeaderWrites.Outcome.OK) {
                return abort("publishing epoch " + next.epoch() + " failed: " + outcome);
            }
        } catch (Exception e) {
            return abort("publishing epoch " + next.epoch() + " failed: " + e.getMessage());
        }
        lastDemoted = p.switchoverId != null ? null : p.failover.oldPrimary();
        lastDone = (p.switchoverId != null ? "switchover" : "failover") + " from " + p.failover.oldPrimary() + " to "
                + p.failover.candidate() + " done (epoch " + next.epoch() + ")";
        LOG.info("failover done: {} -> {} (epoch {}), {} ms from detection, {} ms from the decision",
                p.failover.oldPrimary(), p.failover.candidate(), next.epoch(), publishedAt - p.detectedAt,
                publishedAt - p.decidedAt);
        published.published(p.failover.oldPrimary(), p.failover.candidate(), next.epoch());
        plan = null;
        return Outcome.DONE;
    }

    private ObjectNode history(Plan p, Topology next, RemoteAdmin.Promoted promoted, long promotedAt, long publishedAt) {
        // stage times are measured on the monotonic clock and shown as wall-clock instants
        long offset = clock.wallClock().toEpochMilli() - clock.nowMillis();
        ObjectNode h = Fields.mapper().createObjectNode();
        h.put("epoch", next.epoch());
        h.put("kind", p.switchoverId != null ? "switchover" : "failover");
        h.put("from", p.failover.oldPrimary());
        h.put("to", p.failover.candidate());
        h.put("reason", p.decision.reason());
        h.put("at", Instant.ofEpochMilli(offset + publishedAt).toString());
        h.put("fencedBy", p.fencedHow);
        h.put("timeline", promoted.timeline());
        ObjectNode lsn = h.putObject("lsn");
        lsn.put("candidate", Lsn.format(p.failover.candidateLsn()));
        if (p.failover.lastKnownPrimaryLsn() >= 0) {
            lsn.put("lastKnownPrimary", Lsn.format(p.failover.lastKnownPrimaryLsn()));
        }
        if (promoted.forkLsn() >= 0) {
            lsn.put("fork", Lsn.format(promoted.forkLsn()));
        }
        ObjectNode stages = h.putObject("stages");
        stages.put("detected", Instant.ofEpochMilli(offset + p.detectedAt).toString());
        stages.put("decided", Instant.ofEpochMilli(offset + p.decidedAt).toString());
        stages.put("fenced", Instant.ofEpochMilli(offset + p.fencedAt).toString());
        stages.put("promoted", Instant.ofEpochMilli(offset + promotedAt).toString());
        stages.put("published", Instant.ofEpochMilli(offset + publishedAt).toString());
        ObjectNode millis = h.putObject("durationsMs");
        millis.put("detectToDecide", p.decidedAt - p.detectedAt);
        millis.put("decideToFenced", p.fencedAt - p.decidedAt);
        millis.put("fencedToPromoted", promotedAt - p.fencedAt);
        millis.put("promotedToPublished", publishedAt - promotedAt);
        millis.put("total", publishedAt - p.detectedAt);
        millis.fields().forEachRemaining(e -> metrics.stage(e.getKey(), e.getValue().asLong()));
        return h;
    }

    private boolean writeFence(Leadership.Term term, Plan p) {
        String old = p.failover.oldPrimary();
        String path = session.paths().fence(old);
        ObjectNode fence = Fields.mapper().createObjectNode();
        fence.put("node", old);
        fence.put("epoch", p.snapshot.topology().epoch() + 1);
        fence.put("by", p.snapshot.leader());
        fence.put("reason", (p.switchoverId != null ? "switchover to " : "failover to ") + p.failover.candidate());
        // a switchover needs a clean stop whatever fencing.selfFence says: its shutdown
        // checkpoint is where the candidate takes over, without a rewind
        fence.put("mode", p.switchoverId != null ? "stop" : "any");
        fence.put("at", clock.wallClock().toString());
        boolean exists = cache.document("fence/" + old).isPresent();
        return writes.putDocument(term, path, ModelCodec.encode(fence), exists) == LeaderWrites.Outcome.OK;
    }

    private void startStonith(Plan p) {
        if (fenceCommand.isEmpty()) {
            return;
        }
        RegisteredNode n = p.snapshot.nodes().get(p.failover.oldPrimary());
        String command = fenceCommand.replace("{id}", n.id()).replace("{host}", n.host());
        p.stonith = CompletableFuture.supplyAsync(() -> {
            Command.Result r = Command.run(List.of("sh", "-c", command), fenceCommandTimeout);
            LOG.info("fencing command for {} exited {}", n.id(), r.exitCode());
            return r.exitCode();
        });
    }

    /** How the fence is confirmed, or null while it is not. */
    private String fenceConfirmation(Plan p) {
        String old = p.failover.oldPrimary();
        MemberReport r = cache.members().get(old);
        if (p.switchoverId != null) {
            // planned: only a clean stop will do, whose shutdown checkpoint marks the end of its WAL
            return r != null && MemberReport.FENCED.equals(r.state()) && !r.running() && r.flushLsn() >= 0
                    ? "its sentinel stopped it cleanly (shutdown checkpoint at " + Lsn.format(r.flushLsn()) + ")" : null;
        }
        if (r != null && MemberReport.FENCED.equals(r.state()) && !r.running()) {
            return "its sentinel reports it stopped";
        }
        RegisteredNode registered = cache.nodes().get(old);
        if (r == null && registered != null && registered.absenceProvesFence() && memberNodeGone(old)) {
            return "its sentinel's session is gone, and its guard fences the server past the self-fence deadline";
        }
        // the sentinel of a primary writes a heartbeat twice a second; one silent for longer than
        // its self-fence deadline lost ZooKeeper that long ago and has fenced its server
        // (a heartbeat seen before this term is counted from the term's start)
        long silent = cache.silentBeyondFenceDeadline(old, clock.nowMillis(), p.termStartedAt);
        if (silent >= 0) {
            return "its sentinel has been silent for " + silent + " ms, beyond its self-fence deadline of "
                    + cache.nodes().get(old).fencedAfterSilenceMillis() + " ms";
        }
        if (p.stonith != null && p.stonith.isDone() && Integer.valueOf(0).equals(p.stonith.getNow(-1))) {
            return "the fencing command succeeded";
        }
        return null;
    }

    /** How long a standby's position must stay still to count: it may still replay its own WAL. */
    private static final long SETTLE_MILLIS = 300;

    /**
     * In synchronous quorum mode the positions of the reports may be a second old: ask the members
     * themselves, right before promoting, by the decision's own measure (max of received and
     * replayed), twice at least {@value #SETTLE_MILLIS} ms apart (in two steps of the loop, which
     * never sleeps): the primary is fenced, so a position that
     * still moves is a standby replaying WAL it already holds (after a restart), not yet its
     * position. With n - k + 1 members settled, the most advanced holds every acknowledged commit;
     * it replaces the decision's candidate only when it is strictly ahead of it, by that measure.
     *
     * @return why the promotion cannot go ahead now, or null when it can; {@code p.settling} is set
     *         while positions move (the step is tried again, not aborted)
     */
    private String synchronousCandidateProblem(Plan p) {
        var sync = p.snapshot.topology().synchronous();
        p.settling = false;
        if (sync == null || !sync.active()) {
            return null;
        }
        String old = p.failover.oldPrimary();
        List<String> members = sync.standbys().stream().filter(id -> !id.equals(old)).toList();
        int need = Math.max(1, members.size() - sync.count() + 1);
        long now = clock.nowMillis();
        if (p.firstPositions == null || now - p.firstPositionsAt > 4 * SETTLE_MILLIS) {
            p.firstPositions = positions(members);
            p.firstPositionsAt = clock.nowMillis();
            p.settling = true;
            return "synchronous quorum mode: reading the members' positions";
        }
        if (now - p.firstPositionsAt < SETTLE_MILLIS) {
            p.settling = true; // read again in a later step: the loop never sleeps
            return "synchronous quorum mode: reading the members' positions";
        }
        Map<String, Long> first = p.firstPositions;
        Map<String, Long> second = positions(members);
        p.firstPositions = second;
        p.firstPositionsAt = clock.nowMillis();
        Map<String, Long> settled = new java.util.TreeMap<>();
        List<String> moving = new java.util.ArrayList<>();
        second.forEach((id, position) -> {
            if (position.equals(first.get(id))) {
                settled.put(id, position);
            } else if (first.containsKey(id)) {
                moving.add(id);
            }
        });
        if (settled.size() < need) {
            p.settling = !moving.isEmpty();
            return "synchronous quorum mode: " + settled.size() + " of " + members + " answered with a settled position"
                    + (moving.isEmpty() ? "" : " (" + String.join(", ", moving) + " still replaying)") + ", " + need
                    + " are needed to be sure of every acknowledged commit";
        }
        String best = settled.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        long bestLsn = settled.get(best);
        if (sync.minPosition() != null && bestLsn < Lsn.parse(sync.minPosition())) {
            return "synchronous quorum mode: no settled standby holds " + sync.minPosition() + " (the best, " + best
                    + ", is at " + Lsn.format(bestLsn) + ")";
        }
        long candidateLsn = settled.getOrDefault(p.failover.candidate(), -1L);
        if (!best.equals(p.failover.candidate()) && bestLsn > candidateLsn) {
            RegisteredNode n = cache.nodes().get(best);
            if (n == null || n.noFailover()) {
                return "synchronous quorum mode: the most advanced standby " + best + " cannot be promoted";
            }
            LOG.info("failover: {} is more advanced than {} ({} against {}): promoting it instead", best,
                    p.failover.candidate(), Lsn.format(bestLsn), candidateLsn < 0 ? "no answer" : Lsn.format(candidateLsn));
            p.failover = new Decision.FailoverPlan(old, best, bestLsn, p.failover.candidateTimeline(),
                    p.failover.lastKnownPrimaryLsn(), p.failover.downForMillis());
        }
        p.candidatePosition = Math.max(bestLsn, candidateLsn);
        return null;
    }

    /** Each member's position, asked in parallel; those that do not answer (or are out of recovery) are left out. */
    private Map<String, Long> positions(List<String> members) {
        Map<String, CompletableFuture<Long>> asked = new java.util.TreeMap<>();
        for (String id : members) {
            RegisteredNode n = cache.nodes().get(id);
            if (n != null) {
                asked.put(id, CompletableFuture.supplyAsync(() -> {
                    try {
                        return admin.standbyPosition(n.host(), n.port(), Duration.ofSeconds(1));
                    } catch (Exception e) {
                        return -1L;
                    }
                }));
            }
        }
        Map<String, Long> answered = new java.util.TreeMap<>();
        asked.forEach((id, f) -> {
            long position = f.join();
            if (position >= 0) {
                answered.put(id, position);
            }
        });
        return answered;
    }

    /** Asks ZooKeeper itself (not the cache) whether the member node is gone. */
    private boolean memberNodeGone(String id) {
        try {
            var event = session.await(cb -> session.client().checkExists().inBackground(cb)
                    .forPath(session.paths().member(id)), Duration.ofSeconds(2));
            return event.getStat() == null
                    && event.getResultCode() == org.apache.zookeeper.KeeperException.Code.NONODE.intValue();
        } catch (Exception e) {
            return false;
        }
    }

    private String lastDone = "";
    private String lastDemoted;

    /** Told of every takeover once it is published; must not block. */
    public interface Published {
        void published(String oldPrimary, String newPrimary, long epoch);
    }

    private Published published = (o, n, e) -> { };

    void onPublished(Published p) {
        this.published = p;
    }

    /** The old primary of the last takeover done if it was a failover (a switchover demotes no one), else null. */
    String lastDemoted() {
        return lastDemoted;
    }

    /** The last takeover's outcome ("switchover from node1 to node2 done (epoch 3)"), or "". */
    String lastOutcome() {
        return lastAbort.isEmpty() ? lastDone : "aborted: " + lastAbort;
    }

    private Outcome abort(String why) {
        Plan p = plan;
        lastAbort = why;
        plan = null;
        if (p != null && p.switchoverId != null && p.promoteAttempted) {
            // the candidate may accept writes: the old primary stays fenced; the next leader or cycle
            // adopts the candidate (or fences it as an intruder), never two primaries
            LOG.warn("switchover aborted after {} was promoted: {}; {} stays fenced", p.failover.candidate(), why,
                    p.failover.oldPrimary());
        } else if (p != null && p.switchoverId != null) {
            LOG.warn("switchover aborted, rolling back to {}: {}", p.failover.oldPrimary(), why);
            rollBack(p, why);
        } else {
            LOG.warn("failover aborted: {}", why);
        }
        return Outcome.ABORTED;
    }

    /**
     * A switchover that cannot finish gives the primary back: its fence is lifted (its sentinel
     * restarts it once ZooKeeper confirms it is still the published primary) and the request
     * is removed. The candidate was not promoted (promotion is the last step before publishing).
     */
    private void rollBack(Plan p, String why) {
        Leadership.Term term = currentTerm;
        if (term == null) {
            return;
        }
        var c = session.client();
        try {
            List<org.apache.curator.framework.api.transaction.CuratorOp> ops = new java.util.ArrayList<>();
            ops.add(c.transactionOp().check().forPath(term.latchPath()));
            if (cache.document("fence/" + p.failover.oldPrimary()).isPresent()) {
                ops.add(c.transactionOp().delete().forPath(session.paths().fence(p.failover.oldPrimary())));
            }
            if (cache.document("switchover").isPresent()) {
                ops.add(c.transactionOp().delete().forPath(session.paths().switchover()));
            }
            writes.run(term, ops, "roll back the switchover");
        } catch (Exception e) {
            LOG.warn("could not roll back the switchover: {}", e.toString());
        }
    }
}
