package io.pgsentinel.sentinel.decision;

import static io.pgsentinel.sentinel.decision.LocalAction.Kind.CLONE;
import static io.pgsentinel.sentinel.decision.LocalAction.Kind.INITDB;
import static io.pgsentinel.sentinel.decision.LocalAction.Kind.FENCE;
import static io.pgsentinel.sentinel.decision.LocalAction.Kind.NONE;
import static io.pgsentinel.sentinel.decision.LocalAction.Kind.REPOINT;
import static io.pgsentinel.sentinel.decision.LocalAction.Kind.REWIND;
import static io.pgsentinel.sentinel.decision.LocalAction.Kind.START_AS_IS;
import static io.pgsentinel.sentinel.decision.LocalAction.Kind.START_PRIMARY;
import static io.pgsentinel.sentinel.decision.LocalAction.Kind.START_REPLICA;
import static io.pgsentinel.sentinel.decision.LocalAction.Kind.WAIT;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.sentinel.model.Role;
import io.pgsentinel.shared.topology.ReplicaState;
import io.pgsentinel.shared.topology.Topology;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The reconcile table: what a sentinel does with its own server in each situation, and why. */
class LocalDeciderTest {
    private static final Instant AT = Instant.parse("2026-11-29T10:00:00Z");

    static Topology topology(String primary, long epoch, long timeline) {
        int port = 5430 + Integer.parseInt(primary.substring(4));
        return new Topology("c1", epoch, new Topology.Primary(primary, "127.0.0.1", port, timeline), List.of(), primary,
                false, AT);
    }

    static MemberReport primary(long lsn, long timeline) {
        return new MemberReport("node1", AT, true, Role.PRIMARY, timeline, lsn, -1, -1, "", "", 0, List.of(), "ok", "");
    }

    static MemberReport replica(long lsn, long timeline, String status, int upstreamPort) {
        return new MemberReport("node1", AT, true, Role.REPLICA, timeline, -1, lsn, lsn, status,
                status.isEmpty() ? "" : "127.0.0.1", status.isEmpty() ? 0 : upstreamPort, List.of(), "ok", "",
                "127.0.0.1:" + upstreamPort);
    }

    static MemberReport down() {
        return new MemberReport("node1", AT, false, Role.UNKNOWN, 0, -1, -1, -1, "", "", 0, List.of(), "ok", "refused");
    }

    /** node2 the primary (port 5432), node3 a replica at port 5433 in {@code state}, streaming from {@code upstream}. */
    static Topology cascade(ReplicaState state, String upstream) {
        return new Topology("c1", 2, new Topology.Primary("node2", "127.0.0.1", 5432, 2),
                List.of(new Topology.Replica("node3", "127.0.0.1", 5433, state, 0L, false, upstream)), "node2", false, AT);
    }

    /** A snapshot of node1's sentinel; the arguments are the fields that vary. */
    static LocalSnapshot s(boolean zk, MemberReport local, boolean alive, Topology t, boolean fence, boolean selfFenced,
                           boolean standby, boolean manual, long fork, String repointedTo, long notStreaming,
                           boolean rewindFailed) {
        return new LocalSnapshot("node1", zk, local, alive, t, fence, selfFenced, standby, manual, fork, repointedTo,
                notStreaming, rewindFailed, true, false, false, null);
    }

    static Stream<Arguments> table() {
        Topology mine = topology("node1", 1, 1);
        Topology theirs = topology("node2", 2, 2);
        return Stream.of(
                Arguments.of("before ZooKeeper is read nothing is touched",
                        s(false, down(), false, mine, false, false, false, false, -1, "", 0, false), WAIT,
                        "waiting for ZooKeeper"),
                Arguments.of("self-fenced and ZooKeeper still away: stays fenced",
                        s(false, down(), false, mine, false, true, false, false, -1, "", 0, false), WAIT,
                        "stays fenced until ZooKeeper confirms"),
                Arguments.of("no topology yet and the server is down: start it as it is",
                        s(true, down(), false, null, false, false, false, false, -1, "", 0, false), START_AS_IS, "no topology"),
                Arguments.of("the published primary running: nothing",
                        s(true, primary(100, 1), true, mine, false, false, false, false, -1, "", 0, false), NONE, "published primary"),
                Arguments.of("a fence node for a writable server: fence",
                        s(true, primary(100, 1), true, mine, true, false, false, false, -1, "", 0, false), FENCE, "fence/node1 exists"),
                Arguments.of("fenced by the leader and stopped: stays stopped",
                        s(true, down(), false, mine, true, false, false, false, -1, "", 0, false), WAIT, "stays stopped"),
                Arguments.of("the published primary crashed: restart it in place",
                        s(true, down(), false, mine, false, false, false, false, -1, "", 0, false), START_PRIMARY,
                        "restarting it in place"),
                Arguments.of("self-fenced and ZooKeeper back naming it primary: restart once confirmed",
                        s(true, down(), false, mine, false, true, false, false, -1, "", 0, false), START_PRIMARY, "once confirmed"),
                Arguments.of("the published primary frozen (process alive, no answer): wait",
                        s(true, down(), true, mine, false, false, false, false, -1, "", 0, false), WAIT, "does not answer"),
                Arguments.of("an old primary still writable after a failover: fence it",
                        s(true, primary(500, 1), true, theirs, false, false, false, false, 300, "", 0, false), FENCE,
                        "node2 is the published primary (epoch 2)"),
                Arguments.of("a candidate mid-promotion (newer timeline, not yet published) is left alone",
                        s(true, primary(500, 2), true, mine, false, false, false, false, -1, "", 0, false).withId("node2"),
                        WAIT, "waiting for the leader to publish it"),
                Arguments.of("a server promoted by hand but fenced by the leader is fenced",
                        s(true, primary(500, 2), true, mine, true, false, false, false, -1, "", 0, false).withId("node2"),
                        FENCE, "fence/node2 exists"),
                Arguments.of("an old primary, stopped, after a failover: rewind it",
                        s(true, down(), false, theirs, true, false, false, false, 300, "", 0, false), REWIND,
                        "rewinding it to follow node2"),
                Arguments.of("an old primary whose rewind failed: clone it afresh",
                        s(true, down(), false, theirs, true, false, false, false, 300, "", 0, true), CLONE, "pg_rewind failed"),
                Arguments.of("rejoin manual: the old primary waits and says so",
                        s(true, down(), false, theirs, true, false, false, true, 300, "", 0, false), WAIT, "rejoin is manual"),
                Arguments.of("a replica still following the old primary: re-point it",
                        s(true, replica(200, 1, "streaming", 5431), true, theirs, false, false, true, false, 300, "", 0, false),
                        REPOINT, "re-pointing to the published primary node2"),
                Arguments.of("a replica streaming from the primary: nothing",
                        s(true, replica(400, 2, "streaming", 5432), true, theirs, false, false, true, false, 300, "node2", 0, false),
                        NONE, "streaming from node2"),
                Arguments.of("a replica configured for the primary, not streaming yet, not diverged: wait",
                        s(true, replica(200, 1, "", 5432), true, theirs, false, false, true, false, 300, "node2", 8000, false),
                        WAIT, "not streaming (yet)"),
                Arguments.of("a replica that cannot stream because its WAL is gone from the primary: a fresh clone",
                        s(true, replica(200, 1, "", 5432), true, theirs, false, false, true, false, 300, "node2", 8000, false)
                                .withWalGone(), CLONE, "is gone from node2"),
                Arguments.of("the same with rejoin manual: it waits and says how to re-clone it",
                        s(true, replica(200, 1, "", 5432), true, theirs, false, false, true, true, 300, "node2", 8000, false)
                                .withWalGone(), WAIT, "pg-sentinel reinit node1"),
                Arguments.of("WAL gone, the replica restarted and never re-pointed (it follows the primary already)",
                        s(true, replica(200, 1, "", 5432), true, theirs, false, false, true, false, 300, "", 0, false)
                                .withWalGone(), CLONE, "cloning node2 afresh"),
                Arguments.of("WAL gone as last seen, but the primary is unreachable now: wait, never clone a ghost",
                        new LocalSnapshot("node1", true, replica(200, 1, "", 5432), true, theirs, false, false, true, false,
                                300, "node2", 9000, false, false, false, false, null).withWalGone(), WAIT,
                        "not streaming (yet)"),
                Arguments.of("replicatefrom a streaming replica: re-pointed from the primary to it",
                        s(true, replica(400, 2, "streaming", 5432), true, cascade(ReplicaState.STREAMING, null), false,
                                false, true, false, 300, "node2", 0, false).withReplicateFrom("node3"),
                        REPOINT, "re-pointing to node3 (replicatefrom)"),
                Arguments.of("replicatefrom, streaming from it: nothing",
                        s(true, replica(400, 2, "streaming", 5433), true, cascade(ReplicaState.STREAMING, null), false,
                                false, true, false, 300, "node3", 0, false).withReplicateFrom("node3"),
                        NONE, "streaming from node3 (replicatefrom; the primary is node2)"),
                Arguments.of("replicatefrom a replica that lags: it stays on it (no churn at the lag bound)",
                        s(true, replica(400, 2, "streaming", 5433), true, cascade(ReplicaState.LAGGING, null), false,
                                false, true, false, 300, "node3", 0, false).withReplicateFrom("node3"),
                        NONE, "streaming from node3 (replicatefrom"),
                Arguments.of("replicatefrom a replica that went down: back to the primary meanwhile",
                        s(true, replica(400, 2, "", 5433), true, cascade(ReplicaState.DOWN, null), false,
                                false, true, false, 300, "node3", 0, false).withReplicateFrom("node3"),
                        REPOINT, "re-pointing to the published primary node2 (node3, its replicatefrom, does not stream)"),
                Arguments.of("replicatefrom a replica that streams from this node: no loop, the primary",
                        s(true, replica(400, 2, "streaming", 5432), true, cascade(ReplicaState.STREAMING, "node1"), false,
                                false, true, false, 300, "node2", 0, false).withReplicateFrom("node3"),
                        NONE, "streaming from node2"),
                Arguments.of("replicatefrom the primary itself (after a failover promoted it): the primary",
                        s(true, replica(400, 2, "streaming", 5432), true, cascade(ReplicaState.STREAMING, null), false,
                                false, true, false, 300, "node2", 0, false).withReplicateFrom("node2"),
                        NONE, "streaming from node2"),
                Arguments.of("a stopped replica with replicatefrom a streaming replica: started following it",
                        s(true, down(), false, cascade(ReplicaState.STREAMING, null), false, false, true, false, 300, "",
                                0, false).withReplicateFrom("node3"), START_REPLICA, "replica of node3 (replicatefrom)"),
                Arguments.of("a replica whose primary died: it waits configured for it, no re-point",
                        s(true, replica(200, 1, "", 5431), true, topology("node1", 1, 1).withLeader("node3", AT), false,
                                false, true, false, -1, "", 0, false).withId("node3"), WAIT, "configured to follow node1"),
                Arguments.of("a replica whose WAL went past the fork point: rewind, never follow silently",
                        s(true, replica(400, 1, "", 5432), true, theirs, false, false, true, false, 300, "node2", 8000, false),
                        REWIND, "went past the fork point"),
                Arguments.of("a stopped replica: start it following the primary",
                        s(true, down(), false, theirs, false, false, true, false, 300, "", 0, false), START_REPLICA,
                        "starting it as a replica of node2"),
                Arguments.of("a hung old primary after a failover (process alive, no answer): stop it",
                        s(true, down(), true, theirs, true, false, false, false, 300, "", 0, false), FENCE,
                        "process is alive but does not answer"),
                Arguments.of("a stopped old primary whose new primary is unreachable: wait, do not rewind against it",
                        new LocalSnapshot("node1", true, down(), false, theirs, true, false, false, false, 300, "", 0, false,
                                false, false, false, null), WAIT, "waiting until the primary node2 is reachable"),
                Arguments.of("a replica not streaming while the primary is unreachable is never rewound",
                        new LocalSnapshot("node1", true, replica(400, 1, "", 5432), true, theirs, false, false, true, false,
                                300, "node2", 9000, false, false, false, false, null), WAIT, "not streaming (yet)"),
                Arguments.of("a stopped replica whose primary is unreachable: start it as the standby it is, "
                                + "so it can report its position and be promoted",
                        new LocalSnapshot("node1", true, down(), false, theirs, false, false, true, false, 300, "", 0, false,
                                false, false, false, null), START_AS_IS, "starting it as the standby it is"),
                Arguments.of("a new node (empty data directory) joins: a clone of the primary",
                        s(true, down(), false, theirs, false, false, false, false, -1, "", 0, false).withEmptyDataDirectory(),
                        CLONE, "the data directory is empty: joining"),
                Arguments.of("a new node whose primary is unreachable: waits to clone it",
                        new LocalSnapshot("node1", true, down(), false, theirs, false, false, false, false, -1, "", 0, false,
                                false, true, false, null), WAIT, "the data directory is empty; waiting until the primary node2"),
                Arguments.of("reinit requested for a streaming replica: a fresh clone",
                        s(true, replica(400, 2, "streaming", 5432), true, theirs, false, false, true, false, 300, "node2", 0,
                                false).withReinitRequested(), CLONE, "reinit requested: re-cloning node2"),
                Arguments.of("reinit requested for a stopped replica: a fresh clone, not a start",
                        s(true, down(), false, theirs, false, false, true, false, 300, "", 0, false).withReinitRequested(),
                        CLONE, "reinit requested"),
                Arguments.of("reinit requested while the primary is unreachable: wait, nothing moved",
                        new LocalSnapshot("node1", true, replica(400, 2, "", 5432), true, theirs, false, false, true, false,
                                300, "node2", 0, false, false, false, true, null), WAIT, "reinit requested; waiting until"),
                Arguments.of("reinit of the published primary: never a clone",
                        s(true, primary(100, 1), true, mine, false, false, false, false, -1, "", 0, false)
                                .withReinitRequested(), NONE, "published primary"),
                Arguments.of("reinit of a frozen replica: wait for it to answer",
                        s(true, down(), true, theirs, false, false, true, false, 300, "", 0, false).withReinitRequested(),
                        FENCE, "process is alive but does not answer"),
                Arguments.of("a new node with rejoin manual still clones: it holds nothing to lose",
                        s(true, down(), false, theirs, false, false, false, true, -1, "", 0, false).withEmptyDataDirectory(),
                        CLONE, "joining"),
                Arguments.of("an empty data directory and no topology: nothing to start",
                        s(true, down(), false, null, false, false, false, false, -1, "", 0, false).withEmptyDataDirectory(),
                        WAIT, "no topology yet and the data directory is empty"),
                Arguments.of("bootstrap initdb, no claim yet, empty directory: create the cluster if it wins the claim",
                        s(true, down(), false, null, false, false, false, false, -1, "", 0, false).withEmptyDataDirectory()
                                .withBootstrapClaim(""), INITDB, "if this node wins the claim"),
                Arguments.of("bootstrap initdb, this node holds the claim: create (again after a failed attempt)",
                        s(true, down(), false, null, false, false, false, false, -1, "", 0, false).withEmptyDataDirectory()
                                .withBootstrapClaim("node1"), INITDB, "creating the cluster"),
                Arguments.of("bootstrap initdb, another node holds the claim: wait to join",
                        s(true, down(), false, null, false, false, false, false, -1, "", 0, false).withEmptyDataDirectory()
                                .withBootstrapClaim("node2"), WAIT, "node2 is creating the cluster"),
                Arguments.of("bootstrap initdb, but the data directory holds a cluster: started as it is, never initdb",
                        s(true, down(), false, null, false, false, false, false, -1, "", 0, false).withBootstrapClaim(""),
                        START_AS_IS, "no topology"),
                Arguments.of("bootstrap initdb, a topology exists: the empty node joins, never initdb",
                        s(true, down(), false, theirs, false, false, false, false, -1, "", 0, false).withEmptyDataDirectory()
                                .withBootstrapClaim(""), CLONE, "joining"),
                Arguments.of("before ZooKeeper is read, even an empty node creates nothing",
                        s(false, down(), false, null, false, false, false, false, -1, "", 0, false).withEmptyDataDirectory()
                                .withBootstrapClaim(""), WAIT, "waiting for ZooKeeper"),
                Arguments.of("the published primary with an empty data directory: never started, never created over",
                        s(true, down(), false, mine, false, false, false, false, -1, "", 0, false).withEmptyDataDirectory(),
                        WAIT, "the published primary's data directory is empty"),
                Arguments.of("a stopped server that was a primary (no standby.signal): rewind before starting",
                        s(true, down(), false, theirs, false, false, false, false, 300, "", 0, false), REWIND,
                        "was a primary"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void decides(String situation, LocalSnapshot snapshot, LocalAction.Kind expected, String reason) {
        LocalAction a = LocalDecider.decide(snapshot);
        assertThat(a.kind()).as(a.reason()).isEqualTo(expected);
        assertThat(a.reason()).contains(reason);
        if (expected == REWIND || expected == CLONE) {
            assertThat(a.upstream()).isEqualTo(snapshot.topology().primary().id());
        }
        if (expected == REPOINT || expected == START_REPLICA) {
            // the primary, or the streaming replica replicatefrom names
            assertThat(a.upstream()).isEqualTo(LocalDecider.upstream(snapshot).id());
            assertThat(a.upstream()).isIn(snapshot.topology().primary().id(), snapshot.replicateFrom());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void neverStartsAPrimaryThatAnotherNodeReplacedNorOneThatIsFenced(String situation, LocalSnapshot snapshot,
                                                                      LocalAction.Kind expected, String reason) {
        LocalAction a = LocalDecider.decide(snapshot);
        if (a.kind() == START_PRIMARY) {
            assertThat(snapshot.topology().primary().id()).isEqualTo("node1");
            assertThat(snapshot.fencedByLeader()).isFalse();
            assertThat(snapshot.zkReady()).isTrue();
        }
    }
}
