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
import io.pgsentinel.shared.json.Fields;
import io.pgsentinel.shared.topology.Topology;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The decide and publish steps, run by the leader each cycle: build an immutable snapshot,
 * call the pure {@link Decider}, carry out what it says against ZooKeeper, and record the
 * decision with its reason (logged when it changes, written for every sentinel to show).
 * Everything remembered here belongs to one leadership term and is forgotten when it ends.
 */
public final class LeaderDuties {
    private static final Logger LOG = LoggerFactory.getLogger(LeaderDuties.class);
    private static final long DECISION_WRITE_INTERVAL_MILLIS = 1000;

    private final String id;
    private final String cluster;
    private final ClusterCache cache;
    private final LeaderWrites writes;
    private final MonotonicClock clock;
    private final Policy policy;
    private final String decisionPath;

    private long term = -1;
    private long lastPublishedAtMillis;
    private long lastFailoverAtMillis = -1;
    private long lastKnownPrimaryLsn = -1;
    private String lastKnownPrimaryId = "";
    private Decision lastLogged;
    private Decision lastWrittenDecision;
    private long lastDecisionWriteMillis = Long.MIN_VALUE / 2;
    private volatile LatestDecision latest;
    private volatile long publications;

    public LeaderDuties(String id, String cluster, ClusterCache cache, LeaderWrites writes, MonotonicClock clock,
                        Policy policy, String decisionPath) {
        this.id = id;
        this.cluster = cluster;
        this.cache = cache;
        this.writes = writes;
        this.clock = clock;
        this.policy = policy;
        this.decisionPath = decisionPath;
    }

    /** The latest decision of this sentinel while it led, or null. */
    public LatestDecision latest() {
        return latest;
    }

    public long publications() {
        return publications;
    }

    void cycle(Leadership.Term current) {
        long now = clock.nowMillis();
        if (current.number() != term) {
            startTerm(current, now);
        }
        Decision decision;
        String problem = cache.topologyProblem();
        if (!problem.isEmpty()) {
            decision = new Decision(Decision.Action.WAIT, problem + "; not acting until it is repaired", null, null,
                    List.of());
        } else {
            decision = Decider.decide(snapshot(current, now), policy);
        }
        act(current, decision, now);
        record(current, decision, now);
    }

    private void startTerm(Leadership.Term current, long now) {
        term = current.number();
        // a new term starts its timers from zero: nothing measured in an earlier term carries over
        lastPublishedAtMillis = now;
        lastFailoverAtMillis = -1;
        lastLogged = null;
        lastWrittenDecision = null;
        LOG.info("leader term {} starts: reading the cluster from ZooKeeper", current.number());
    }

    Snapshot snapshot(Leadership.Term current, long now) {
        Topology topology = cache.topology().map(ClusterCache.VersionedTopology::topology).orElse(null);
        Map<String, MemberReport> members = cache.members();
        if (topology != null) {
            String primary = topology.primary().id();
            if (!primary.equals(lastKnownPrimaryId)) {
                lastKnownPrimaryId = primary;
                lastKnownPrimaryLsn = -1;
            }
            MemberReport pr = members.get(primary);
            if (pr != null && pr.running() && pr.role() == Role.PRIMARY) {
                lastKnownPrimaryLsn = Math.max(lastKnownPrimaryLsn, pr.flushLsn());
            }
        }
        // votes received before this term count from the term's start: our clock, our term
        Map<String, VoteSeen> votes = new HashMap<>();
        cache.votes().forEach((voter, seen) -> votes.put(voter,
                new VoteSeen(seen.vote(), Math.max(seen.receivedAtMillis(), current.startedAtMillis()))));
        return new Snapshot(cluster, id,
                cache.nodes(), members, votes, topology, cache.maintenance(), lastKnownPrimaryLsn, now,
                lastPublishedAtMillis, lastFailoverAtMillis, clock.wallClock());
    }

    private void act(Leadership.Term current, Decision decision, long now) {
        if (decision.action() == Decision.Action.BOOTSTRAP) {
            if (writes.createTopology(current, decision.publish()) == LeaderWrites.Outcome.OK) {
                lastPublishedAtMillis = now;
                publications++;
                LOG.info("published the first topology: primary {} (epoch 1)", decision.publish().primary().id());
            }
            return;
        }
        if (decision.publish() != null) {
            cache.topology().ifPresent(read -> {
                if (writes.setTopology(current, decision.publish(), read.version()) == LeaderWrites.Outcome.OK) {
                    lastPublishedAtMillis = now;
                    publications++;
                }
            });
        }
        // FAILOVER and SPLIT_BRAIN are reported; carrying them out is the failover executor's work
    }

    private void record(Leadership.Term current, Decision decision, long now) {
        LatestDecision d = LatestDecision.of(id, decision, clock.wallClock());
        latest = d;
        if (!decision.sameAs(lastLogged)) {
            LOG.info("decision: {}: {}", decision.summary(), decision.reason());
            lastLogged = decision;
        }
        boolean changed = !decision.sameAs(lastWrittenDecision);
        if (changed || (!decision.reason().equals(lastWrittenDecision.reason())
                && now - lastDecisionWriteMillis >= DECISION_WRITE_INTERVAL_MILLIS)) {
            ObjectNode doc = Fields.mapper().createObjectNode();
            doc.put("leader", d.leader());
            doc.put("action", d.action());
            doc.put("summary", d.summary());
            doc.put("reason", d.reason());
            doc.put("at", d.at().toString());
            boolean exists = cache.document("decision").isPresent();
            if (writes.putDocument(current, decisionPath, ModelCodec.encode(doc), exists) == LeaderWrites.Outcome.OK) {
                lastWrittenDecision = decision;
                lastDecisionWriteMillis = now;
            }
        }
    }
}
