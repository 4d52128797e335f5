package io.pgsentinel.sentinel.decision;

import io.pgsentinel.sentinel.model.Lsn;
import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.sentinel.model.PromotionIntent;
import io.pgsentinel.sentinel.model.RegisteredNode;
import io.pgsentinel.sentinel.model.Role;
import io.pgsentinel.sentinel.model.Standby;
import io.pgsentinel.sentinel.model.Vote;
import io.pgsentinel.shared.topology.ReplicaState;
import io.pgsentinel.shared.topology.Topology;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The failover decision: a pure function of a {@link Snapshot} and a {@link Policy}. No I/O, no
 * clock reads (time comes in the snapshot), no Curator, no JDBC; every branch says why.
 */
public final class Decider {
    private Decider() {
    }

    public static Decision decide(Snapshot s, Policy p) {
        Decision d = decideCore(s, p);
        if (s.topology() == null || d.action() == Decision.Action.ADOPT) {
            return d;
        }
        return d.unfencing(fencesToLift(s, d));
    }

    private static Decision decideCore(Snapshot s, Policy p) {
        if (s.nodes().isEmpty()) {
            return Decision.waiting("no node is registered yet", null);
        }
        List<String> writable = writable(s);
        if (s.topology() == null) {
            return bootstrap(s, p, writable);
        }
        Topology current = s.topology();
        String primaryId = current.primary().id();
        List<String> intruders = writable.stream().filter(id -> !id.equals(primaryId)).toList();
        if (!intruders.isEmpty()) {
            return intruders(s, p, current, writable, intruders);
        }

        Topology next = nextTopology(s, p, current);
        Topology publish = needsPublish(s, p, current, next) ? next : null;
        DownAssessment down = assessDown(s, p, primaryId);
        if (!down.down()) {
            if (down.seenDownBy() > 0) {
                return Decision.waiting(down.describe(), publish);
            }
            return Decision.none("primary " + primaryId + " is up" + replicaSummary(next), publish);
        }
        String downText = down.describe();
        MemberReport restarting = s.reports().get(primaryId);
        // starting it (a crash recovery), or it runs again and the votes have not caught up yet
        boolean starting = restarting != null
                && (MemberReport.STARTING.equals(restarting.state()) || isWritable(restarting));
        long restartBound = starting ? Math.max(p.downAfterMillis(), p.primaryStartTimeoutMillis()) : p.downAfterMillis();
        if (s.primaryRestartingSinceMillis() >= 0 && !s.fences().contains(primaryId)
                && s.nowMillis() - s.primaryRestartingSinceMillis() < restartBound) {
            // its sentinel has a session again and restarts it in place (it fenced it while ZooKeeper was away):
            // a restart is faster than a failover and changes no timeline; bounded, for one that cannot restart:
            // downAfter to begin starting it, primaryStartTimeout (in all) once it says it is starting it
            return Decision.waiting(downText + "; its own sentinel is restarting it in place (for "
                    + seconds(s.nowMillis() - s.primaryRestartingSinceMillis()) + "): waiting up to "
                    + (starting ? "primaryStartTimeout (" : "downAfter (") + seconds(restartBound) + ") for it", publish);
        }
        if (s.maintenance()) {
            return Decision.waiting(downText + "; automatic failover is paused (maintenance)", publish);
        }
        List<String> excluded = new ArrayList<>();
        List<Candidate> candidates = candidates(s, p, primaryId, excluded);
        Topology.Synchronous sync = current.synchronous();
        if (sync != null && sync.active()) {
            return synchronousFailover(s, current, sync, candidates, excluded, downText, down, publish);
        }
        if (candidates.isEmpty()) {
            return Decision.waiting(downText + "; no candidate to promote: "
                    + (excluded.isEmpty() ? "the cluster has no replica" : String.join(", ", excluded)), publish);
        }
        Candidate best = candidates.get(0);
        // a leader that announced a promotion and lost its leadership may still carry it out (it
        // froze between its last check and pg_promote): promoting the same candidate makes that harmless
        String announced = "";
        if (s.intent() != null && s.intent().oldPrimary().equals(primaryId) && !s.intent().candidate().equals(best.id())) {
            Candidate intended = candidates.stream().filter(c -> c.id().equals(s.intent().candidate())).findFirst()
                    .orElse(null);
            if (intended != null) {
                announced = "; " + s.intent().leader() + " announced promoting " + intended.id() + " (" + best.id()
                        + " is at " + Lsn.format(best.position()) + "): promoting the same";
                best = intended;
            }
        }
        long primaryLsn = lastKnownPrimaryPosition(s, primaryId);
        if (primaryLsn >= 0 && primaryLsn - best.position() > p.maxLagOnFailoverBytes()) {
            return Decision.waiting(downText + "; refusing automatic failover: the best candidate " + best.id()
                    + " is " + Lsn.bytes(primaryLsn - best.position()) + " behind the last known primary position "
                    + Lsn.format(primaryLsn) + " (maxLagOnFailover " + Lsn.bytes(p.maxLagOnFailoverBytes())
                    + "); promote it by hand with a switchover if that loss is acceptable", publish);
        }
        Candidate chosen = best;
        String others = candidates.stream().filter(c -> c != chosen)
                .map(c -> c.id() + " at " + Lsn.format(c.position()) + " on timeline " + c.timeline())
                .reduce((a, b) -> a + ", " + b).map(t -> "; " + t).orElse("");
        String reason = downText + "; promote " + best.id() + (announced.isEmpty() ? ", the most advanced replica (" : " (")
                + Lsn.format(best.position()) + " on timeline " + best.timeline() + ", priority " + best.priority() + others
                + ")" + announced;
        return new Decision(Decision.Action.FAILOVER, reason, publish,
                new Decision.FailoverPlan(primaryId, best.id(), best.position(), best.timeline(), primaryLsn,
                        down.longestDownMillis()), List.of(), List.of(primaryId), List.of());
    }

    /**
     * Rule 4: with {@code ANY k} of the n published standbys, an acknowledged commit is on at least k
     * of them, so the most advanced of any n - k + 1 of them holds every acknowledged commit. Promote
     * only that one, and only once enough of them are heard; otherwise wait and say why.
     */
    private static Decision synchronousFailover(Snapshot s, Topology current, Topology.Synchronous sync,
                                                List<Candidate> candidates, List<String> excluded, String downText,
                                                DownAssessment down, Topology publish) {
        String primaryId = current.primary().id();
        List<String> members = sync.standbys().stream().filter(id -> !id.equals(primaryId)).toList();
        int need = Math.max(1, members.size() - sync.count() + 1);
        List<MemberReport> heard = members.stream().map(id -> s.reports().get(id))
                .filter(r -> r != null && r.running() && r.role() == Role.REPLICA && !leaderSeesDown(s, r.id())).toList();
        if (heard.size() < need) {
            return Decision.waiting(downText + "; synchronous quorum mode (ANY " + sync.count() + " of "
                    + String.join(", ", members) + "): " + heard.size() + " of them can be heard ("
                    + String.join(", ", heard.stream().map(MemberReport::id).toList()) + "), " + need
                    + " are needed to be sure the most advanced holds every acknowledged commit", publish);
        }
        MemberReport best = heard.stream().max(java.util.Comparator.comparingLong(MemberReport::timeline)
                .thenComparingLong(MemberReport::position)).orElseThrow();
        Candidate chosen = candidates.stream().filter(c -> c.id().equals(best.id())).findFirst().orElse(null);
        if (sync.minPosition() != null && best.position() < Lsn.parse(sync.minPosition())) {
            return Decision.waiting(downText + "; synchronous quorum mode: the primary acknowledged commits up to "
                    + sync.minPosition() + " that fewer than " + sync.count() + " standbys held yet, and the most "
                    + "advanced standby heard, " + best.id() + ", is at " + Lsn.format(best.position())
                    + ": waiting for one that holds them", publish);
        }
        if (chosen == null) {
            return Decision.waiting(downText + "; synchronous quorum mode: the most advanced member of the set, "
                    + best.id() + ", cannot be promoted (" + excluded.stream().filter(e -> e.startsWith(best.id() + " "))
                    .findFirst().orElse("nofailover, or not in a state to be") + ")", publish);
        }
        String reason = downText + "; promote " + chosen.id() + ", the most advanced of " + heard.size() + " of the "
                + members.size() + " synchronous standbys heard (" + Lsn.format(chosen.position()) + " on timeline "
                + chosen.timeline() + "): it holds every acknowledged commit";
        return new Decision(Decision.Action.FAILOVER, reason, publish, new Decision.FailoverPlan(primaryId, chosen.id(),
                chosen.position(), chosen.timeline(), lastKnownPrimaryPosition(s, primaryId), down.longestDownMillis()),
                List.of(), List.of(primaryId), List.of());
    }

    /**
     * Registered servers that accept writes: by their sentinel's report, or by the leader's own
     * probe (a server promoted by a leader that died before publishing has no report). A fenced
     * server the leader cannot reach is not taken at its report's word: after a host loss the
     * dead sentinel's last report ("primary") lingers until its session expires.
     */
    static List<String> writable(Snapshot s) {
        java.util.SortedSet<String> ids = new java.util.TreeSet<>();
        for (MemberReport r : s.reports().values()) {
            if (isWritable(r) && s.nodes().containsKey(r.id()) && !(s.fences().contains(r.id()) && leaderSeesDown(s, r.id()))) {
                ids.add(r.id());
            }
        }
        s.probedWritable().keySet().stream().filter(s.nodes()::containsKey).forEach(ids::add);
        return List.copyOf(ids);
    }

    /** The timeline a writable server is on: its report's, else the leader's probe's; 0 when unknown. */
    private static long writableTimeline(Snapshot s, String id) {
        MemberReport r = s.reports().get(id);
        if (r != null && isWritable(r) && r.timeline() > 0) {
            return r.timeline();
        }
        return s.probedWritable().getOrDefault(id, 0L);
    }

    /** A server that accepts writes: running and out of recovery (a fence is a stop: nothing else counts). */
    static boolean isWritable(MemberReport r) {
        return r.running() && r.role() == Role.PRIMARY;
    }

    /**
     * Servers other than the published primary accept writes. If the published primary is
     * fenced and exactly one other server is writable on a newer timeline, a failover was cut
     * short after its promotion: adopt that server. Otherwise it is split brain: publish
     * nothing and fence the intruders.
     */
    private static Decision intruders(Snapshot s, Policy p, Topology current, List<String> writable,
                                      List<String> intruders) {
        String primaryId = current.primary().id();
        if (intruders.size() == 1 && s.fences().contains(primaryId) && !writable.contains(primaryId)) {
            String c = intruders.get(0);
            RegisteredNode n = s.nodes().get(c);
            long timeline = writableTimeline(s, c);
            if (timeline > current.primary().timeline()) {
                Topology adopted = new Topology(current.cluster(), current.epoch() + 1,
                        new Topology.Primary(n.id(), n.host(), n.port(), timeline), List.of(), s.leader(),
                        s.maintenance(), s.wallClock(), current.synchronous() == null ? null
                        : new Topology.Synchronous(current.synchronous().count(), current.synchronous().standbys()
                        .stream().filter(id -> !id.equals(c)).toList(), "relaxed"));
                Topology publish = nextTopology(s, p, adopted);
                boolean announced = s.intent() != null && s.intent().candidate().equals(c);
                return new Decision(Decision.Action.ADOPT, "the published primary " + primaryId + " is fenced and "
                        + c + " already accepts writes on timeline " + timeline + " (a failover cut short after its "
                        + "promotion" + (announced ? ", announced by " + s.intent().leader() : "") + "): publishing "
                        + c + " as the primary, epoch " + publish.epoch(), publish, null, writable, List.of(), List.of());
            }
        }
        return new Decision(Decision.Action.SPLIT_BRAIN, String.join(" and ", intruders)
                + (intruders.size() == 1 ? " accepts" : " accept") + " writes but " + primaryId
                + " is the published primary (epoch " + current.epoch() + "): publishing nothing and fencing "
                + String.join(" and ", intruders), null, null, writable, intruders, List.of());
    }

    /**
     * Fences to lift: a node that rejoined as a streaming replica no longer needs one; and the
     * published primary's own fence is rolled back when no failover is going to replace it
     * (no candidate, paused, refused): it must be able to serve again.
     */
    private static List<String> fencesToLift(Snapshot s, Decision d) {
        String primaryId = s.topology().primary().id();
        List<String> lift = new ArrayList<>();
        for (String fenced : s.fences().stream().sorted().toList()) {
            MemberReport r = s.reports().get(fenced);
            if (fenced.equals(primaryId)) {
                if (d.action() != Decision.Action.FAILOVER && d.action() != Decision.Action.SPLIT_BRAIN
                        && !mayHaveBeenPromoted(s)) {
                    lift.add(fenced);
                }
            } else if (!s.nodes().containsKey(fenced) || (r != null && r.running() && r.isStreaming())) {
                lift.add(fenced);
            }
        }
        return lift;
    }

    /**
     * Whether the candidate of a promotion announced against the published primary may accept
     * writes: unless the leader's own probe sees it up and in recovery, its fence must stay (a
     * leader that announced it may have promoted it, or may still).
     */
    static boolean mayHaveBeenPromoted(Snapshot s) {
        PromotionIntent i = s.intent();
        if (i == null || s.topology() == null || !i.oldPrimary().equals(s.topology().primary().id())
                || i.epoch() <= s.topology().epoch()) {
            return false;
        }
        VoteSeen mine = s.votes().get(s.leader());
        Vote.View view = mine == null ? null : mine.vote().views().get(i.candidate());
        boolean seenInRecovery = view != null && view.up() && !s.probedWritable().containsKey(i.candidate());
        return !seenInRecovery;
    }

    private static Decision bootstrap(Snapshot s, Policy p, List<String> writable) {
        if (writable.isEmpty()) {
            return Decision.waiting("no topology is published and no registered server reports being a running primary"
                    + " (reports from: " + (s.reports().isEmpty() ? "none" : String.join(", ",
                    s.reports().keySet().stream().sorted().toList())) + ")", null);
        }
        if (writable.size() > 1) {
            return new Decision(Decision.Action.SPLIT_BRAIN, String.join(" and ", writable) + " all accept writes and no"
                    + " topology is published: publishing nothing until only one does", null, null, writable, List.of(),
                    List.of());
        }
        String primaryId = writable.get(0);
        MemberReport r = s.reports().get(primaryId);
        RegisteredNode n = s.nodes().get(primaryId);
        Topology first = new Topology(s.cluster(), 1, new Topology.Primary(n.id(), n.host(), n.port(),
                Math.max(1, r.timeline())), List.of(), s.leader(), s.maintenance(), s.wallClock());
        Topology withReplicas = nextTopology(s, p, first);
        return new Decision(Decision.Action.BOOTSTRAP, "first topology: " + primaryId
                + " is the only registered server out of recovery" + replicaSummary(withReplicas), withReplicas, null,
                List.of(), List.of(), List.of());
    }

    /**
     * The topology to publish once {@code plan}'s candidate is promoted: epoch + 1, the candidate
     * as primary on {@code newTimeline}, every other node a replica (down until it streams from
     * the new primary).
     */
    public static Topology afterFailover(Snapshot s, Policy p, Decision.FailoverPlan plan, long newTimeline,
                                         Topology.Synchronous newSet) {
        Topology current = s.topology();
        RegisteredNode c = s.nodes().get(plan.candidate());
        Topology.Synchronous sync = current.synchronous() == null ? null : newSet;
        Topology promoted = new Topology(current.cluster(), current.epoch() + 1,
                new Topology.Primary(c.id(), c.host(), c.port(), newTimeline), List.of(), s.leader(), s.maintenance(),
                s.wallClock(), sync);
        return nextTopology(s, p, promoted);
    }

    /**
     * The synchronous set of a new primary, set on it before its promotion (so that it never
     * acknowledges alone): the published members but the candidate and the old primary, waiting
     * for as many as before (at most all of them). Active from the start, with the candidate's
     * position as the floor: every commit acknowledged so far is there, and until k members hold
     * it too, a failover must find it on its candidate. Relaxed when no member is left.
     */
    public static Topology.Synchronous setAfterPromotion(Topology.Synchronous published, Decision.FailoverPlan plan,
                                                         long candidatePosition) {
        List<String> members = published.standbys().stream()
                .filter(id -> !id.equals(plan.candidate()) && !id.equals(plan.oldPrimary())).sorted().toList();
        if (members.isEmpty()) {
            return new Topology.Synchronous(published.count(), List.of(), "relaxed");
        }
        return new Topology.Synchronous(Math.min(published.count(), members.size()), members, "active",
                candidatePosition >= 0 ? Lsn.format(candidatePosition) : null);
    }

    /** The topology as observed now: same epoch and primary, fresh replica states, leader and pause flag. */
    static Topology nextTopology(Snapshot s, Policy p, Topology current) {
        Topology.Primary primary = current.primary();
        MemberReport pr = s.reports().get(primary.id());
        if (pr != null && isWritable(pr) && pr.timeline() > 0) {
            primary = new Topology.Primary(primary.id(), primary.host(), primary.port(), pr.timeline());
        }
        long primaryLsn = lastKnownPrimaryPosition(s, primary.id());
        List<Topology.Replica> replicas = new ArrayList<>();
        for (RegisteredNode n : s.nodes().values().stream().sorted(Comparator.comparing(RegisteredNode::id)).toList()) {
            if (n.id().equals(primary.id())) {
                continue;
            }
            replicas.add(replica(s, p, n, primary, pr, primaryLsn));
        }
        return new Topology(current.cluster(), current.epoch(), primary, replicas, s.leader(), s.maintenance(),
                s.wallClock(), current.synchronous());
    }

    private static Topology.Replica replica(Snapshot s, Policy p, RegisteredNode n, Topology.Primary primary,
                                            MemberReport primaryReport, long primaryLsn) {
        MemberReport r = s.reports().get(n.id());
        if (r != null && r.state().startsWith(MemberReport.REJOINING)) { // "rejoining", or "rejoining: cloning 43% (...)"
            return new Topology.Replica(n.id(), n.host(), n.port(), ReplicaState.REJOINING, null, n.noLoadBalance());
        }
        Optional<Standby> seenByPrimary = primaryReport == null || !isWritable(primaryReport)
                ? Optional.empty()
                : primaryReport.standbys().stream().filter(sb -> sb.name().equals(n.id())).findFirst();
        boolean streamingPerPrimary = seenByPrimary.map(sb -> "streaming".equals(sb.state())).orElse(false);
        // the replica's own word, unless the leader cannot reach it (the report of a killed host
        // lingers until its sentinel's session expires; the primary's word needs no such check)
        // cascading (tag replicatefrom): streaming from the replica it names counts as streaming
        RegisteredNode via = n.cascades() ? s.nodes().get(n.replicateFrom()) : null;
        boolean fromVia = via != null && !via.id().equals(primary.id()) && r != null && r.upstreamPort() == via.port()
                && via.host().equals(r.upstreamHost());
        boolean streamingPerReplica = r != null && r.running() && r.isStreaming()
                && (r.upstreamPort() == primary.port() || fromVia)
                && (r.timeline() == 0 || r.timeline() == primary.timeline()) && !leaderSeesDown(s, n.id());
        if (!streamingPerPrimary && !streamingPerReplica) {
            return new Topology.Replica(n.id(), n.host(), n.port(), ReplicaState.DOWN, null, n.noLoadBalance());
        }
        String upstream = !streamingPerPrimary && fromVia ? via.id() : null;
        long replayed = r != null && r.running() && r.replayLsn() >= 0 ? r.replayLsn()
                : seenByPrimary.map(Standby::replayLsn).orElse(-1L);
        Long lag = primaryLsn >= 0 && replayed >= 0 ? Math.max(0, primaryLsn - replayed) : null;
        ReplicaState state = lag != null && lag > p.maxLagOnFailoverBytes() ? ReplicaState.LAGGING : ReplicaState.STREAMING;
        return new Topology.Replica(n.id(), n.host(), n.port(), state, lag, n.noLoadBalance(), upstream);
    }

    /** Publish on any change but lag figures at once; lag figures at most every lagPublishInterval. */
    private static boolean needsPublish(Snapshot s, Policy p, Topology current, Topology next) {
        if (!withoutLag(next).sameContentAs(withoutLag(current))) {
            return true;
        }
        return !next.sameContentAs(current) && s.nowMillis() - s.lastPublishedAtMillis() >= p.lagPublishIntervalMillis();
    }

    private static Topology withoutLag(Topology t) {
        List<Topology.Replica> replicas = t.replicas().stream()
                .map(Topology.Replica::withoutLag).toList();
        return new Topology(t.cluster(), t.epoch(), t.primary(), replicas, t.leader(), t.paused(), t.updatedAt());
    }

    /** How the sentinels see the primary's server, against the quorum and downAfter. */
    record DownAssessment(String primary, int voters, int seenDownBy, int confirmedBy, long longestDownMillis,
                          int quorum, long downAfterMillis) {
        boolean down() {
            return confirmedBy >= quorum;
        }

        String describe() {
            if (down()) {
                return "primary " + primary + " is down: " + confirmedBy + " of " + voters + " sentinels have seen it "
                        + "unreachable for at least " + seconds(downAfterMillis) + " (quorum " + quorum + ")";
            }
            if (seenDownBy == 0) {
                return "primary " + primary + " is up";
            }
            String base = "primary " + primary + " seen down by " + seenDownBy + " of " + voters + " sentinels (for up to "
                    + seconds(longestDownMillis) + "); ";
            if (voters < quorum) {
                return base + "only " + voters + " sentinels vote, fewer than the quorum of " + quorum + ": waiting";
            }
            if (seenDownBy < quorum) {
                return base + "the quorum is " + quorum + ": waiting";
            }
            return base + "waiting until " + quorum + " of them have seen it down for " + seconds(downAfterMillis);
        }
    }

    /**
     * A voter refreshes its vote every second while it sees a server down: a down vote not
     * refreshed for this long comes from a sentinel whose loop is blocked (or gone), and no longer
     * counts (its age would otherwise grow without bound).
     */
    static final long STALE_VOTE_MILLIS = 5000;

    static DownAssessment assessDown(Snapshot s, Policy p, String primaryId) {
        int quorum = p.quorum(s.nodes().size());
        int voters = 0;
        int seenDown = 0;
        int confirmed = 0;
        long longest = 0;
        for (VoteSeen seen : s.votes().values()) {
            if (!s.nodes().containsKey(seen.vote().voter())) {
                continue; // a vote from an unregistered sentinel does not count
            }
            Vote.View view = seen.vote().views().get(primaryId);
            if (view == null) {
                continue;
            }
            voters++;
            if (!view.up() && s.nowMillis() - seen.receivedAtMillis() <= STALE_VOTE_MILLIS) {
                seenDown++;
                long downFor = view.forMillis() + Math.max(0, s.nowMillis() - seen.receivedAtMillis());
                longest = Math.max(longest, downFor);
                if (downFor >= p.downAfterMillis()) {
                    confirmed++;
                }
            }
        }
        return new DownAssessment(primaryId, voters, seenDown, confirmed, longest, quorum, p.downAfterMillis());
    }

    record Candidate(String id, long timeline, long position, int priority) {
    }

    /**
     * Promotable replicas, best first; {@code excluded} gets why each other node is not one.
     * Anti-flapping: a node demoted within {@code failover.minInterval} is not promoted back (no
     * ping-pong between two nodes), while any other node may be: two independent host losses in a
     * row leave the cluster writable.
     */
    static List<Candidate> candidates(Snapshot s, Policy p, String primaryId, List<String> excluded) {
        List<Candidate> result = new ArrayList<>();
        for (RegisteredNode n : s.nodes().values().stream().sorted(Comparator.comparing(RegisteredNode::id)).toList()) {
            if (n.id().equals(primaryId)) {
                continue;
            }
            MemberReport r = s.reports().get(n.id());
            if (n.noFailover()) {
                excluded.add(n.id() + " is tagged nofailover");
            } else if (r == null) {
                excluded.add(n.id() + " has no live sentinel");
            } else if (leaderSeesDown(s, n.id())) {
                excluded.add(n.id() + " does not answer the leader's probe");
            } else if (!r.running()) {
                excluded.add(n.id() + " is not running");
            } else if (r.role() != Role.REPLICA) {
                excluded.add(n.id() + " is not a replica");
            } else if (!"ok".equals(r.state())) {
                excluded.add(n.id() + " is " + r.state());
            } else if (r.position() < 0) {
                excluded.add(n.id() + " reports no WAL position");
            } else if (demotedAgo(s, n.id()) < p.failoverCooldownMillis()) {
                excluded.add(n.id() + " was the primary until " + seconds(demotedAgo(s, n.id())) + " ago (at most: a new "
                        + "leader counts from its election): not promoted back automatically within failover.minInterval ("
                        + seconds(p.failoverCooldownMillis()) + ")");
            } else {
                result.add(new Candidate(n.id(), r.timeline(), r.position(), n.priority()));
            }
        }
        result.sort(Comparator.comparingLong(Candidate::timeline).reversed()
                .thenComparing(Comparator.comparingLong(Candidate::position).reversed())
                .thenComparing(Comparator.comparingInt(Candidate::priority).reversed())
                .thenComparing(Candidate::id));
        return result;
    }

    /** How long ago {@code id} was demoted, or a very long time. */
    private static long demotedAgo(Snapshot s, String id) {
        Long at = s.demotedAtMillis().get(id);
        return at == null ? Long.MAX_VALUE : s.nowMillis() - at;
    }

    /**
     * The leader's own probe finds {@code id}'s server down. A killed sentinel's last report
     * ("running replica at X") stays until its session expires on the servers: a server that does
     * not answer the leader is neither a candidate nor a heard synchronous standby. Without the
     * leader's own vote nothing is known, and nothing is excluded.
     */
    static boolean leaderSeesDown(Snapshot s, String id) {
        VoteSeen mine = s.votes().get(s.leader());
        Vote.View view = mine == null ? null : mine.vote().views().get(id);
        return view != null && !view.up();
    }

    /** The primary's own report if live, and at least what the leader last knew (the snapshot). */
    static long lastKnownPrimaryPosition(Snapshot s, String primaryId) {
        MemberReport pr = s.reports().get(primaryId);
        long fromReport = pr != null && pr.running() && pr.role() == Role.PRIMARY ? pr.flushLsn() : -1;
        // (a read-only fenced primary still tells its position)
        return Math.max(fromReport, s.lastKnownPrimaryLsn());
    }

    private static String replicaSummary(Topology t) {
        if (t.replicas().isEmpty()) {
            return "; no replica";
        }
        // lag figures only for lagging replicas: small ones change every cycle and say nothing
        return "; " + String.join(", ", t.replicas().stream().map(r -> r.id() + " " + r.state().json()
                + (r.state() == ReplicaState.LAGGING && r.lagBytes() != null ? " (" + Lsn.bytes(r.lagBytes()) + " behind)"
                : "")).toList());
    }

    static String seconds(long millis) {
        return String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
    }
}
