package io.pgsentinel.sentinel.decision;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The operator's node requests, table-driven: who may be removed or re-cloned, and when. */
class NodeRequestChecksTest {

    static Stream<Arguments> removals() {
        return Stream.of(
                Arguments.of("the primary: never", (Supplier<Fixture>) Fixture::healthy, "node1",
                        RemoveCheck.Kind.REFUSE, "node1 is the primary"),
                Arguments.of("an unknown node", (Supplier<Fixture>) Fixture::healthy, "node9",
                        RemoveCheck.Kind.REFUSE, "unknown node 'node9'"),
                Arguments.of("a node whose sentinel runs: it would register again",
                        (Supplier<Fixture>) Fixture::healthy, "node3", RemoveCheck.Kind.REFUSE, "sentinel is running"),
                Arguments.of("a node whose server still replicates, sentinel stopped",
                        (Supplier<Fixture>) () -> Fixture.healthy().noReport("node3"), "node3", RemoveCheck.Kind.REFUSE,
                        "still replicates from the primary"),
                Arguments.of("stopped, but in the synchronous set: it leaves the set first",
                        (Supplier<Fixture>) () -> Fixture.healthy().synchronous(1, "active", "node2", "node3")
                                .primary("node1", 0x5000000L, "node2").noReport("node3"), "node3", RemoveCheck.Kind.WAIT,
                        "is in the synchronous set"),
                Arguments.of("stopped and out of the set: removed",
                        (Supplier<Fixture>) () -> Fixture.healthy().synchronous(1, "active", "node2")
                                .primary("node1", 0x5000000L, "node2").noReport("node3"), "node3", RemoveCheck.Kind.REMOVE,
                        "removing node3"),
                Arguments.of("stopped, asynchronous cluster: removed",
                        (Supplier<Fixture>) () -> Fixture.healthy().primary("node1", 0x5000000L, "node2").noReport("node3"),
                        "node3", RemoveCheck.Kind.REMOVE, "its replication slot dropped"),
                Arguments.of("no topology yet: wait",
                        (Supplier<Fixture>) () -> Fixture.threeNodes().noReport("node3"), "node3", RemoveCheck.Kind.WAIT,
                        "no topology"),
                Arguments.of("no node named", (Supplier<Fixture>) Fixture::healthy, "", RemoveCheck.Kind.REFUSE,
                        "node: required"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("removals")
    void removal(String situation, Supplier<Fixture> fixture, String node, RemoveCheck.Kind expected, String reason) {
        Snapshot s = fixture.get().snapshot();
        RemoveCheck.Verdict v = RemoveCheck.check(s.topology(), s.nodes(), s.reports(), node);
        assertThat(v.kind()).isEqualTo(expected);
        assertThat(v.reason()).contains(reason);
    }

    static Stream<Arguments> reinits() {
        return Stream.of(
                Arguments.of("a replica", (Supplier<Fixture>) Fixture::healthy, "node2", false, 0, ""),
                Arguments.of("a replica whose sentinel is down (its request waits for it)",
                        (Supplier<Fixture>) () -> Fixture.healthy().noReport("node2"), "node2", false, 0, ""),
                Arguments.of("the primary", (Supplier<Fixture>) Fixture::healthy, "node1", false, 409, "is the primary"),
                Arguments.of("already pending", (Supplier<Fixture>) Fixture::healthy, "node2", true, 409, "already requested"),
                Arguments.of("unknown", (Supplier<Fixture>) Fixture::healthy, "node9", false, 404, "unknown node 'node9'"),
                Arguments.of("no topology", (Supplier<Fixture>) Fixture::threeNodes, "node2", false, 409, "no topology"),
                Arguments.of("no node named", (Supplier<Fixture>) Fixture::healthy, null, false, 400, "node: required"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reinits")
    void reinit(String situation, Supplier<Fixture> fixture, String node, boolean pending, int status, String reason) {
        Snapshot s = fixture.get().snapshot();
        ReinitCheck.Refusal r = ReinitCheck.check(s.topology(), s.nodes(), node, pending);
        if (status == 0) {
            assertThat(r).isNull();
        } else {
            assertThat(r.status()).isEqualTo(status);
            assertThat(r.reason()).contains(reason);
        }
    }
}
