package io.pgsentinel.sentinel.decision;

import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.sentinel.model.RegisteredNode;
import io.pgsentinel.sentinel.model.Role;
import io.pgsentinel.sentinel.model.Standby;
import io.pgsentinel.sentinel.model.Vote;
import io.pgsentinel.shared.topology.ReplicaState;
import io.pgsentinel.shared.topology.Topology;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds decision snapshots in a few readable lines: a test table's "input" column. */
final class Fixture {
    static final Instant WALL = Instant.parse("2026-11-29T10:00:00Z");
    static final long NOW = 1_000_000;

    private final Map<String, RegisteredNode> nodes = new LinkedHashMap<>();
    private final Map<String, MemberReport> reports = new HashMap<>();
    private final Map<String, VoteSeen> votes = new HashMap<>();
    private Topology topology;
    private final java.util.Set<String> fences = new java.util.HashSet<>();
    private boolean maintenance;
    private long lastKnownPrimaryLsn = -1;
    private long lastPublishedAt = NOW - 60_000;
    private final Map<String, Long> demotedAt = new HashMap<>();
    private String leader = "node1";
    private final Map<String, Long> probedWritable = new HashMap<>();
    private io.pgsentinel.sentinel.model.PromotionIntent intent;

    /** Three registered nodes node1..node3, nothing else. */
    static Fixture threeNodes() {
        return new Fixture().node("node1").node("node2").node("node3");
    }

    /**
     * The healthy steady state: topology epoch 1 with node1 primary at 0/5000000, node2 and
     * node3 streaming and caught up, every sentinel alive and seeing every server up.
     */
    static Fixture healthy() {
        return threeNodes().topology(1, "node1")
                .primary("node1", 0x5000000L, "node2", "node3")
                .replica("node2", 0x5000000L).replica("node3", 0x5000000L)
                .votes("node1", "node2", "node3");
    }

    Fixture node(String id) {
        return node(id, 100, false);
    }

    Fixture node(String id, int priority, boolean noFailover) {
        int n = Integer.parseInt(id.replaceAll("\\D", ""));
        nodes.put(id, new RegisteredNode(id, "10.0.0.1" + n, 5432, priority, noFailover, "http://10.0.0.1" + n + ":8008"));
        return this;
    }

    Fixture topology(long epoch, String primary) {
        List<Topology.Replica> replicas = new ArrayList<>();
        for (RegisteredNode n : nodes.values()) {
            if (!n.id().equals(primary)) {
                replicas.add(new Topology.Replica(n.id(), n.host(), n.port(), ReplicaState.STREAMING, 0L));
            }
        }
        RegisteredNode p = nodes.get(primary);
        topology = new Topology("c1", epoch, new Topology.Primary(p.id(), p.host(), p.port(), 1), replicas, leader, false,
                WALL.minusSeconds(60));
        return this;
    }

    /** The published topology gets a synchronous set: ANY count of standbys, in the given state. */
    Fixture synchronous(int count, String state, String... standbys) {
        topology = topology.withSynchronous(new Topology.Synchronous(count, List.of(standbys), state), topology.updatedAt());
        return this;
    }

    Fixture publishedTopology(Topology t) {
        topology = t;
        return this;
    }

    /** A running primary report at {@code flushLsn} with the named standbys streaming. */
    Fixture primary(String id, long flushLsn, String... streamingStandbys) {
        List<Standby> standbys = new ArrayList<>();
        for (String s : streamingStandbys) {
            standbys.add(new Standby(s, "streaming", flushLsn, flushLsn, "async"));
        }
        reports.put(id, new MemberReport(id, WALL, true, Role.PRIMARY, 1, flushLsn, -1, -1, "", "", 0, standbys, "ok", ""));
        return this;
    }

    /** A running replica report streaming from node1 on timeline 1, received and replayed up to {@code lsn}. */
    Fixture replica(String id, long lsn) {
        return replica(id, lsn, 1);
    }

    /** A running primary on {@code timeline} (a promoted node). */
    Fixture primaryOnTimeline(String id, long flushLsn, long timeline) {
        reports.put(id, new MemberReport(id, WALL, true, Role.PRIMARY, timeline, flushLsn, -1, -1, "", "", 0, List.of(),
                "ok", ""));
        return this;
    }

    /** A stopped server whose sentinel reports it fenced. */
    Fixture fencedStopped(String id) {
        reports.put(id, new MemberReport(id, WALL, false, Role.UNKNOWN, 0, -1, -1, -1, "", "", 0, List.of(), "fenced", ""));
        return this;
    }

    /** A stopped server whose sentinel reports it is starting it (pg_ctl start running: a crash recovery). */
    Fixture starting(String id) {
        reports.put(id, new MemberReport(id, WALL, false, Role.UNKNOWN, 0, -1, -1, -1, "", "", 0, List.of(), "starting",
                ""));
        return this;
    }

    Fixture replica(String id, long lsn, long timeline) {
        reports.put(id, new MemberReport(id, WALL, true, Role.REPLICA, timeline, -1, lsn, lsn, "streaming", "10.0.0.11",
                5432, List.of(), "ok", ""));
        return this;
    }

    Fixture report(MemberReport r) {
        reports.put(r.id(), r);
        return this;
    }

    Fixture noReport(String id) {
        reports.remove(id);
        return this;
    }

    /** The named sentinels vote every registered server up for a minute. */
    Fixture votes(String... voters) {
        for (String voter : voters) {
            Map<String, Vote.View> views = new HashMap<>();
            nodes.keySet().forEach(n -> views.put(n, new Vote.View(true, 60_000)));
            votes.put(voter, new VoteSeen(new Vote(voter, WALL, views), NOW));
        }
        return this;
    }

    /** {@code voter} sees {@code node} down for {@code forMillis}, in a vote received {@code ageMillis} ago. */
    Fixture down(String voter, String node, long forMillis, long ageMillis) {
        Map<String, Vote.View> views = new HashMap<>(votes.containsKey(voter) ? votes.get(voter).vote().views() : Map.of());
        views.put(node, new Vote.View(false, forMillis));
        votes.put(voter, new VoteSeen(new Vote(voter, WALL, views), NOW - ageMillis));
        return this;
    }

    Fixture noVote(String voter) {
        votes.remove(voter);
        return this;
    }

    Fixture fenced(String id) {
        fences.add(id);
        return this;
    }

    Fixture maintenance() {
        maintenance = true;
        return this;
    }

    Fixture lastKnownPrimaryLsn(long lsn) {
        lastKnownPrimaryLsn = lsn;
        return this;
    }

    Fixture lastPublishedAgo(long millis) {
        lastPublishedAt = NOW - millis;
        return this;
    }

    /** {@code id} was the primary until a failover {@code millis} ago. */
    Fixture demoted(String id, long millis) {
        demotedAt.put(id, NOW - millis);
        return this;
    }

    Fixture leader(String id) {
        leader = id;
        return this;
    }

    /** The leader's own probe finds {@code id} out of recovery on {@code timeline}. */
    Fixture probedWritable(String id, long timeline) {
        probedWritable.put(id, timeline);
        return this;
    }

    /** A leader announced promoting {@code candidate} in place of {@code oldPrimary} for {@code epoch}. */
    Fixture intent(String oldPrimary, String candidate, long epoch, String by) {
        intent = new io.pgsentinel.sentinel.model.PromotionIntent(oldPrimary, candidate, epoch, by);
        return this;
    }

    Snapshot snapshot() {
        return new Snapshot("c1", leader, nodes, reports, votes, topology, fences, maintenance, lastKnownPrimaryLsn, NOW,
                lastPublishedAt, demotedAt, WALL, probedWritable, intent, restartingSince);
    }

    private long restartingSince = -1;

    /** The primary's own sentinel has been restarting it in place for {@code millis}. */
    Fixture primaryRestartingFor(long millis) {
        restartingSince = NOW - millis;
        return this;
    }
}
