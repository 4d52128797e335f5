package io.pgsentinel.sentinel.decision;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The candidate of a switchover asked without one (also the rolling restart's): table-driven. */
class SwitchoverCheckTest {
    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("asynchronous: the most advanced replica",
                        Fixture.healthy().replica("node3", 0x5000100L), "node3"),
                Arguments.of("asynchronous, equally advanced: the lower node id",
                        Fixture.healthy(), "node2"),
                Arguments.of("synchronous: the member of the set, though another standby (nosync) is ahead",
                        Fixture.healthy().synchronous(1, "active", "node2").replica("node3", 0x5000100L), "node2"),
                Arguments.of("synchronous, no member streaming-reported: the most advanced",
                        Fixture.healthy().synchronous(1, "active", "node2").noReport("node2")
                                .replica("node3", 0x5000100L), "node3"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void theBestCandidate(String what, Fixture f, String expected) {
        Snapshot s = f.snapshot();
        SwitchoverCheck.Verdict v = SwitchoverCheck.check(s.topology(), s.nodes(), s.reports(), null, false, false);
        assertThat(v.candidate()).as(what).isEqualTo(expected);
    }
}
