package io.pgsentinel.sentinel.decision;

import static io.pgsentinel.sentinel.decision.Decision.Action.ADOPT;
import static io.pgsentinel.sentinel.decision.Decision.Action.BOOTSTRAP;
import static io.pgsentinel.sentinel.decision.Decision.Action.FAILOVER;
import static io.pgsentinel.sentinel.decision.Decision.Action.NONE;
import static io.pgsentinel.sentinel.decision.Decision.Action.SPLIT_BRAIN;
import static io.pgsentinel.sentinel.decision.Decision.Action.WAIT;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.sentinel.model.Role;
import io.pgsentinel.shared.topology.ReplicaState;
import io.pgsentinel.shared.topology.Topology;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The decision table: each row is a cluster situation, the decision expected, words its reason
 * must hold, and what the published topology (if any) must say.
 */
class DeciderTest {
    /** downAfter 3 s, majority quorum, maxLagOnFailover 1 MB, lag published every 5 s, cooldown 60 s. */
    static final Policy POLICY = new Policy(3000, 0, 1_000_000, 5000, 60_000);

    record Row(String situation, Fixture input, Decision.Action action, String target, List<String> reasonHolds,
               Consumer<Topology> published) {
        @Override
        public String toString() {
            return situation;
        }
    }

    /** Marks a row whose decision must publish nothing. */
    static final Consumer<Topology> NOTHING_PUBLISHED = t -> {
        throw new AssertionError("published " + t);
    };

    private static Row row(String situation, Fixture input, Decision.Action action, String target, String... reason) {
        return new Row(situation, input, action, target, List.of(reason), null);
    }

    private static Row row(String situation, Fixture input, Decision.Action action, String target,
                           Consumer<Topology> published, String... reason) {
        return new Row(situation, input, action, target, List.of(reason), published);
    }

    private static String states(Topology t) {
        return t.replicas().stream().map(r -> r.id() + "=" + r.state().json()).collect(Collectors.joining(","));
    }

    static Stream<Row> table() {
        return Stream.of(
                row("nothing registered", new Fixture(), WAIT, null, "no node is registered"),

                // bootstrap
                row("bootstrap: one running primary gives the first topology",
                        Fixture.threeNodes().primary("node1", 0x3000000L, "node2", "node3")
                                .replica("node2", 0x3000000L).replica("node3", 0x3000000L).votes("node1", "node2", "node3"),
                        BOOTSTRAP, null, t -> {
                            assertThat(t.epoch()).isEqualTo(1);
                            assertThat(t.primary().id()).isEqualTo("node1");
                            assertThat(t.primary().host()).isEqualTo("10.0.0.11");
                            assertThat(states(t)).isEqualTo("node2=streaming,node3=streaming");
                            assertThat(t.leader()).isEqualTo("node1");
                        }, "first topology", "node1 is the only registered server out of recovery"),
                row("bootstrap: no primary among the reports",
                        Fixture.threeNodes().replica("node2", 1).replica("node3", 1), WAIT, null,
                        "no registered server reports being a running primary", "node2, node3"),
                row("bootstrap: two servers out of recovery publish nothing",
                        Fixture.threeNodes().primary("node1", 5).primary("node2", 6), SPLIT_BRAIN, null,
                        "node1 and node2 all accept writes", "publishing nothing"),

                // steady state and replica states
                row("healthy cluster: nothing to do", Fixture.healthy(), NONE, null, "primary node1 is up",
                        "node2 streaming", "node3 streaming"),
                row("a second writable server beside the published primary is split brain",
                        Fixture.healthy().primary("node3", 0x5000000L), SPLIT_BRAIN, null,
                        "node3 accepts writes but node1 is the published primary (epoch 1)"),
                row("after a host loss the old primary's lingering report is no split brain: fenced, unreachable",
                        Fixture.threeNodes().topology(2, "node2").primary("node2", 0x5000000L, "node3")
                                .primary("node1", 0x4000000L).replica("node3", 0x5000000L).fenced("node1").leader("node3")
                                .votes("node2", "node3").down("node2", "node1", 1000, 0).down("node3", "node1", 1000, 0),
                        NONE, null, "primary node2 is up"),
                row("a fenced old primary that the leader still reaches and that accepts writes is split brain",
                        Fixture.threeNodes().topology(2, "node2").primary("node2", 0x5000000L, "node3")
                                .primary("node1", 0x4000000L).replica("node3", 0x5000000L).fenced("node1").leader("node3")
                                .votes("node2", "node3"),
                        SPLIT_BRAIN, null, "node1 accepts writes but node2 is the published primary (epoch 2)"),
                row("a replica whose server is stopped shows as down",
                        Fixture.healthy().primary("node1", 0x5000000L, "node2")
                                .report(new MemberReport("node3", Fixture.WALL, false, Role.UNKNOWN, 0, -1, -1, -1, "",
                                        "", 0, List.of(), "ok", "connection refused")),
                        NONE, null, t -> assertThat(states(t)).isEqualTo("node2=streaming,node3=down"),
                        "node3 down"),
                row("a replica killed with its sentinel shows as down once the leader cannot reach it, "
                                + "though its last report lingers",
                        Fixture.healthy().leader("node2").primary("node1", 0x5000000L, "node2").down("node2", "node3", 500, 0),
                        NONE, null, t -> assertThat(states(t)).isEqualTo("node2=streaming,node3=down"), "node3 down"),
                row("a replica the leader cannot reach but which the primary sees streaming stays streaming",
                        Fixture.healthy().leader("node2").down("node2", "node3", 500, 0), NONE, null, "node3 streaming"),
                row("a replica whose sentinel is dead but which the primary sees streaming stays streaming",
                        Fixture.healthy().noReport("node3").noVote("node3"), NONE, null, "node3 streaming"),
                row("a replica far behind the primary is lagging",
                        Fixture.healthy().replica("node3", 0x5000000L - 5_000_000L)
                                .primary("node1", 0x5000000L, "node2"),
                        NONE, null, t -> {
                            assertThat(states(t)).isEqualTo("node2=streaming,node3=lagging");
                            assertThat(t.replica("node3").orElseThrow().lagBytes()).isEqualTo(5_000_000L);
                        }, "node3 lagging (5.0 MB behind)"),
                row("a replica being rejoined is rejoining",
                        Fixture.healthy().primary("node1", 0x5000000L, "node2").report(new MemberReport("node3",
                                Fixture.WALL, false, Role.UNKNOWN, 0, -1, -1, -1, "", "", 0, List.of(), "rejoining", "")),
                        NONE, null, t -> assertThat(states(t)).isEqualTo("node2=streaming,node3=rejoining")),
                row("a new leader republishes the same epoch with itself as leader",
                        Fixture.healthy().leader("node2"), NONE, null, t -> {
                            assertThat(t.leader()).isEqualTo("node2");
                            assertThat(t.epoch()).isEqualTo(1);
                        }),
                row("lag figures alone are not republished within the lag interval",
                        Fixture.healthy().replica("node2", 0x5000000L - 1000).lastPublishedAgo(1000), NONE, null,
                        NOTHING_PUBLISHED),
                row("lag figures alone are republished after the lag interval",
                        Fixture.healthy().replica("node2", 0x5000000L - 1000).lastPublishedAgo(6000), NONE, null,
                        t -> assertThat(t.replica("node2").orElseThrow().lagBytes()).isEqualTo(1000L)),

                // failure detection (rule 1)
                row("one observer seeing the primary down is not enough",
                        Fixture.healthy().down("node2", "node1", 10_000, 0), WAIT, null,
                        "primary node1 seen down by 1 of 3 sentinels", "the quorum is 2"),
                row("a quorum that has seen it down for less than downAfter waits",
                        Fixture.healthy().down("node2", "node1", 1000, 0).down("node3", "node1", 1500, 0), WAIT, null,
                        "seen down by 2 of 3 sentinels (for up to 1.5 s)", "waiting until 2 of them have seen it down for 3.0 s"),
                row("a quorum that has seen it down for downAfter fails over",
                        Fixture.healthy().down("node2", "node1", 3000, 0).down("node3", "node1", 3200, 0), FAILOVER, "node2",
                        "primary node1 is down: 2 of 3 sentinels have seen it unreachable for at least 3.0 s (quorum 2)"),
                row("down for 10 s (fenced while ZooKeeper was away) but its sentinel restarts it: wait",
                        Fixture.healthy().down("node2", "node1", 10_000, 0).down("node3", "node1", 10_000, 0)
                                .fencedStopped("node1").primaryRestartingFor(500), WAIT, null,
                        "its own sentinel is restarting it in place (for 0.5 s): waiting up to downAfter (3.0 s)"),
                row("fenced while ZooKeeper was away, not started again within downAfter: fail over",
                        Fixture.healthy().down("node2", "node1", 10_000, 0).down("node3", "node1", 10_000, 0)
                                .fencedStopped("node1").primaryRestartingFor(3000), FAILOVER, "node2",
                        "primary node1 is down"),
                row("its sentinel says it is starting it (a crash recovery), longer than downAfter: wait",
                        Fixture.healthy().down("node2", "node1", 10_000, 0).down("node3", "node1", 10_000, 0)
                                .starting("node1").primaryRestartingFor(12_000), WAIT, null,
                        "its own sentinel is restarting it in place (for 12.0 s): waiting up to primaryStartTimeout "
                                + "(30.0 s)"),
                row("restarted in place and running again while the votes still say down: wait",
                        Fixture.healthy().down("node2", "node1", 10_000, 0).down("node3", "node1", 10_000, 0)
                                .primaryRestartingFor(6_000), WAIT, null,
                        "waiting up to primaryStartTimeout (30.0 s)"),
                row("starting for longer than primaryStartTimeout: fail over",
                        Fixture.healthy().down("node2", "node1", 40_000, 0).down("node3", "node1", 40_000, 0)
                                .starting("node1").primaryRestartingFor(30_000), FAILOVER, "node2",
                        "primary node1 is down"),
                row("a restart in place of a primary the leader fenced is no reason to wait",
                        Fixture.healthy().down("node2", "node1", 10_000, 0).down("node3", "node1", 10_000, 0)
                                .primaryRestartingFor(500).fenced("node1"), FAILOVER, "node2", "primary node1 is down"),
                row("the age of a vote counts: 1 s seen down, received 2.5 s ago, is 3.5 s down",
                        Fixture.healthy().down("node2", "node1", 1000, 2500).down("node3", "node1", 1000, 2500), FAILOVER,
                        "node2", "have seen it unreachable"),
                row("host loss: the primary's sentinel and report are gone, the others see it down",
                        Fixture.healthy().noReport("node1").noVote("node1").down("node2", "node1", 3100, 0)
                                .down("node3", "node1", 3100, 0).lastKnownPrimaryLsn(0x5000000L),
                        FAILOVER, "node2", "2 of 2 sentinels"),
                row("a dead sentinel of the primary whose server a quorum reaches: nothing happens",
                        Fixture.healthy().noVote("node1").noReport("node1"), NONE, null, "primary node1 is up"),
                row("with two sentinels dead, one vote can never be a quorum",
                        Fixture.healthy().noVote("node1").noVote("node3").down("node2", "node1", 10_000, 0), WAIT, null,
                        "only 1 sentinels vote, fewer than the quorum of 2"),
                row("votes of an unregistered sentinel do not count",
                        Fixture.healthy().down("node2", "node1", 5000, 0).down("node9", "node1", 5000, 0), WAIT, null,
                        "seen down by 1 of 3"),

                // candidate ranking (rule 3)
                row("the most advanced replica wins",
                        Fixture.healthy().replica("node3", 0x5000100L).down("node2", "node1", 4000, 0)
                                .down("node3", "node1", 4000, 0), FAILOVER, "node3",
                        "promote node3, the most advanced replica (0/5000100 on timeline 1", "node2 at 0/5000000"),
                row("the newest timeline wins over a higher position",
                        Fixture.healthy().replica("node2", 0x9000000L, 1).replica("node3", 0x5000000L, 2)
                                .down("node2", "node1", 4000, 0).down("node3", "node1", 4000, 0), FAILOVER, "node3",
                        "on timeline 2"),
                row("equal positions: the higher priority wins",
                        Fixture.healthy().node("node3", 200, false).down("node2", "node1", 4000, 0)
                                .down("node3", "node1", 4000, 0), FAILOVER, "node3", "priority 200"),
                row("equal positions and priorities: the lower node id wins",
                        Fixture.healthy().down("node2", "node1", 4000, 0).down("node3", "node1", 4000, 0), FAILOVER,
                        "node2", "promote node2"),
                row("nofailover is never promoted, even when most advanced",
                        Fixture.healthy().node("node3", 100, true).replica("node3", 0x5000100L)
                                .down("node2", "node1", 4000, 0).down("node3", "node1", 4000, 0), FAILOVER, "node2",
                        "promote node2"),
                row("no candidate: wait and say why for each node",
                        Fixture.healthy().node("node2", 100, true).noReport("node3").down("node2", "node1", 4000, 0)
                                .down("node3", "node1", 4000, 0), WAIT, null,
                        "no candidate to promote: node2 is tagged nofailover, node3 has no live sentinel"),
                row("a candidate too far behind the last known primary position is refused",
                        Fixture.healthy().noReport("node1").noVote("node1").lastKnownPrimaryLsn(0x5000000L + 3_000_000L)
                                .down("node2", "node1", 4000, 0).down("node3", "node1", 4000, 0), WAIT, null,
                        "refusing automatic failover: the best candidate node2 is 3.0 MB behind the last known primary "
                                + "position 0/52DC6C0 (maxLagOnFailover 1.0 MB)"),
                row("a candidate within maxLagOnFailover is promoted",
                        Fixture.healthy().noReport("node1").noVote("node1").lastKnownPrimaryLsn(0x5000000L + 500_000L)
                                .down("node2", "node1", 4000, 0).down("node3", "node1", 4000, 0), FAILOVER, "node2"),

                // synchronous quorum mode (rule 4)
                row("synchronous: the most advanced of the heard standbys is promoted",
                        Fixture.healthy().synchronous(1, "active", "node2", "node3").replica("node3", 0x5000100L)
                                .down("node2", "node1", 4000, 0).down("node3", "node1", 4000, 0), FAILOVER, "node3",
                        "the most advanced of 2 of the 2 synchronous standbys heard", "holds every acknowledged commit"),
                row("synchronous: with ANY 1 of 2, one standby heard is not enough",
                        Fixture.healthy().synchronous(1, "active", "node2", "node3").noReport("node2")
                                .down("node2", "node1", 4000, 0).down("node3", "node1", 4000, 0), WAIT, null,
                        "synchronous quorum mode (ANY 1 of node2, node3): 1 of them can be heard (node3), 2 are needed"),
                row("synchronous: a standby whose last report lingers but that does not answer the leader is not heard",
                        Fixture.healthy().leader("node3").synchronous(1, "active", "node2", "node3").down("node3", "node2", 1000, 0)
                                .down("node2", "node1", 4000, 0).down("node3", "node1", 4000, 0), WAIT, null,
                        "1 of them can be heard (node3), 2 are needed"),
                row("a more advanced candidate that does not answer the leader is not promoted (its report may be stale)",
                        Fixture.healthy().leader("node3").replica("node2", 0x5000100L).down("node3", "node2", 1000, 0)
                                .down("node2", "node1", 4000, 0).down("node3", "node1", 4000, 0), FAILOVER, "node3"),
                row("synchronous: with ANY 2 of 2, one standby heard is enough",
                        Fixture.healthy().synchronous(2, "active", "node2", "node3").noReport("node2")
                                .down("node2", "node1", 4000, 0).down("node3", "node1", 4000, 0), FAILOVER, "node3"),
                row("synchronous: a standby outside the set is never promoted",
                        Fixture.healthy().synchronous(1, "active", "node2").replica("node3", 0x5000100L)
                                .down("node2", "node1", 4000, 0).down("node3", "node1", 4000, 0), FAILOVER, "node2"),
                row("synchronous but relaxed: the asynchronous rules apply",
                        Fixture.healthy().synchronous(1, "relaxed", "node2", "node3").noReport("node2")
                                .down("node2", "node1", 4000, 0).down("node3", "node1", 4000, 0), FAILOVER, "node3"),

                // operator controls
                row("maintenance: no failover, and the reason says so",
                        Fixture.healthy().maintenance().down("node2", "node1", 4000, 0).down("node3", "node1", 4000, 0),
                        WAIT, null, t -> assertThat(t.paused()).isTrue(), "primary node1 is down",
                        "automatic failover is paused (maintenance)"),
                row("anti-flapping: a node demoted within the interval is not promoted back, another is",
                        Fixture.healthy().demoted("node2", 20_000).replica("node2", 0x5000100L)
                                .down("node2", "node1", 4000, 0).down("node3", "node1", 4000, 0), FAILOVER, "node3"),
                row("anti-flapping: no candidate but a node demoted within the interval: wait, and say why",
                        Fixture.healthy().demoted("node2", 20_000).node("node3", 100, true)
                                .down("node2", "node1", 4000, 0).down("node3", "node1", 4000, 0), WAIT, null,
                        "node2 was the primary until 20.0 s ago", "not promoted back automatically within "
                                + "failover.minInterval (60.0 s)"),
                row("anti-flapping: a second host loss right after a failover still fails over to a third node",
                        Fixture.threeNodes().topology(2, "node2").primary("node2", 0x5000000L, "node1", "node3")
                                .replica("node1", 0x5000000L).replica("node3", 0x5000000L).votes("node1", "node3")
                                .demoted("node1", 10_000).noReport("node2").down("node1", "node2", 4000, 0)
                                .down("node3", "node2", 4000, 0).leader("node3"), FAILOVER, "node3"),
                // fencing (rule 2) and interrupted failovers
                row("a failover fences the old primary first",
                        Fixture.healthy().down("node2", "node1", 4000, 0).down("node3", "node1", 4000, 0), FAILOVER,
                        "node2", "promote node2"),
                row("a failover cut short after the promotion is completed by adopting the promoted node",
                        Fixture.healthy().fenced("node1").fencedStopped("node1").primaryOnTimeline("node2", 0x6000000L, 2)
                                .replica("node3", 0x5000000L), ADOPT, null, t -> {
                            assertThat(t.epoch()).isEqualTo(2);
                            assertThat(t.primary().id()).isEqualTo("node2");
                            assertThat(t.primary().timeline()).isEqualTo(2);
                        }, "the published primary node1 is fenced and node2 already accepts writes on timeline 2"),
                row("a server promoted by a leader that died before publishing is found by the leader's probe and adopted",
                        Fixture.healthy().leader("node3").fenced("node1").fencedStopped("node1").noReport("node2")
                                .noVote("node2").probedWritable("node2", 2), ADOPT, null, t -> {
                            assertThat(t.epoch()).isEqualTo(2);
                            assertThat(t.primary().id()).isEqualTo("node2");
                            assertThat(t.primary().timeline()).isEqualTo(2);
                        }, "node2 already accepts writes on timeline 2"),
                row("a successor promotes the candidate its deposed predecessor announced, not another",
                        Fixture.healthy().leader("node3").down("node2", "node1", 4000, 0).down("node3", "node1", 4000, 0)
                                .intent("node1", "node3", 2, "node2"), FAILOVER, "node3",
                        "node2 announced promoting node3"),
                row("the published primary's fence stays while the candidate announced against it may accept writes",
                        Fixture.healthy().leader("node3").fenced("node1").intent("node1", "node2", 2, "node2")
                                .down("node3", "node2", 1000, 0), NONE, null, "primary node1 is up"),
                row("the published primary's fence is rolled back once the candidate announced against it is seen in recovery",
                        Fixture.healthy().leader("node3").fenced("node1").intent("node1", "node2", 2, "node2"), NONE, null,
                        "primary node1 is up"),
                row("an unfenced published primary beside another writable server is split brain, never adopted",
                        Fixture.healthy().primaryOnTimeline("node2", 0x6000000L, 2), SPLIT_BRAIN, null,
                        "node2 accepts writes but node1 is the published primary", "fencing node2"),
                row("a node that rejoined as a streaming replica has its fence lifted",
                        Fixture.healthy().fenced("node3"), NONE, null, "primary node1 is up"),
                row("the published primary's fence is rolled back when no candidate can replace it",
                        Fixture.healthy().fenced("node1").fencedStopped("node1").node("node2", 100, true)
                                .node("node3", 100, true).down("node2", "node1", 4000, 0).down("node3", "node1", 4000, 0),
                        WAIT, null, "no candidate to promote"),
                row("anti-flapping: a node demoted longer ago than the interval may be promoted again",
                        Fixture.healthy().demoted("node2", 61_000).down("node2", "node1", 4000, 0)
                                .down("node3", "node1", 4000, 0), FAILOVER, "node2"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void decides(Row row) {
        Decision d = Decider.decide(row.input().snapshot(), POLICY);
        assertThat(d.action()).as(d.reason()).isEqualTo(row.action());
        for (String words : row.reasonHolds()) {
            assertThat(d.reason()).contains(words);
        }
        if (row.target() != null) {
            assertThat(d.failover().candidate()).as(d.reason()).isEqualTo(row.target());
            assertThat(d.summary()).isEqualTo("promote " + row.target());
            assertThat(d.fence()).as("the old primary is fenced first").containsExactly(d.failover().oldPrimary());
        }
        if (row.situation().contains("fence lifted")) {
            assertThat(d.unfence()).containsExactly("node3");
        }
        if (row.situation().contains("fence stays")) {
            assertThat(d.unfence()).isEmpty();
        }
        if (row.situation().contains("rolled back")) {
            assertThat(d.unfence()).containsExactly("node1");
        }
        Topology published = row.input().snapshot().topology();
        if (row.action() == SPLIT_BRAIN && published != null && d.writable().size() > 1) {
            assertThat(d.fence()).as("the published primary is never fenced for split brain")
                    .doesNotContain(published.primary().id());
        }
        if (row.published() == NOTHING_PUBLISHED) {
            assertThat(d.publish()).isNull();
        } else if (row.published() != null) {
            assertThat(d.publish()).as("a topology to publish").isNotNull();
            row.published().accept(d.publish());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void neverChangesTheEpochNorPromotesTheOldPrimary(Row row) {
        Snapshot s = row.input().snapshot();
        Decision d = Decider.decide(s, POLICY);
        if (d.publish() != null && s.topology() != null && d.action() != ADOPT) {
            assertThat(d.publish().epoch()).isEqualTo(s.topology().epoch());
            assertThat(d.publish().primary().id()).isEqualTo(s.topology().primary().id());
        }
        if (d.failover() != null) {
            assertThat(d.failover().candidate()).isNotEqualTo(d.failover().oldPrimary());
            assertThat(s.nodes().get(d.failover().candidate()).noFailover()).isFalse();
        }
        if (d.action() == SPLIT_BRAIN) {
            assertThat(d.publish()).isNull();
        }
        assertThat(d.reason()).isNotBlank();
    }

    @org.junit.jupiter.api.Test
    void theDecisionIsAPureFunctionOfItsInput() {
        table().forEach(row -> {
            Snapshot s = row.input().snapshot();
            assertThat(Decider.decide(s, POLICY)).isEqualTo(Decider.decide(s, POLICY));
        });
        assertThat(ReplicaState.values()).hasSize(4);
    }
}
