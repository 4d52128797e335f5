package io.pgsentinel.shared.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsentinel.shared.topology.ReplicaState;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.shared.topology.TopologyCodec;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TopologyTrackerTest {
    private static final Instant T0 = Instant.parse("2026-11-29T10:00:00Z");

    static Topology topology(long epoch, String primary, Instant at) {
        List<Topology.Replica> replicas = new ArrayList<>();
        for (String id : List.of("node1", "node2", "node3")) {
            if (!id.equals(primary)) {
                replicas.add(new Topology.Replica(id, "127.0.0.1", 5432 + id.charAt(4), ReplicaState.STREAMING, 0L));
            }
        }
        return new Topology("c", epoch, new Topology.Primary(primary, "127.0.0.1", 5432 + primary.charAt(4), epoch),
                replicas, "node1", false, at);
    }

    private final TopologyTracker tracker = new TopologyTracker("c");
    private final List<Long> seen = new ArrayList<>();
    private final List<String> primaries = new ArrayList<>();

    TopologyTrackerTest() {
        tracker.addListener((before, now) -> seen.add(now.epoch()));
        tracker.addPrimaryListener((before, now) -> primaries.add(now.primary().id()));
    }

    @Test
    void acceptsHigherEpochsAndRejectsLowerOnes() {
        assertThat(tracker.offer(topology(1, "node1", T0), "test")).isTrue();
        assertThat(tracker.offer(topology(3, "node2", T0.plusSeconds(1)), "test")).isTrue();
        assertThat(tracker.offer(topology(2, "node3", T0.plusSeconds(2)), "test")).isFalse();
        assertThat(tracker.current()).get().extracting(Topology::epoch).isEqualTo(3L);
        assertThat(seen).containsExactly(1L, 3L);
        assertThat(primaries).containsExactly("node1", "node2");
        assertThat(tracker.rejectedCount()).isEqualTo(1);
    }

    @Test
    void sameEpochChangesAreAcceptedButNotAnotherPrimaryOrAnOlderCopy() {
        tracker.offer(topology(5, "node1", T0), "test");
        Topology leaderMoved = topology(5, "node1", T0.plusSeconds(1)).withLeader("node3", T0.plusSeconds(1));
        assertThat(tracker.offer(leaderMoved, "test")).isTrue();
        assertThat(tracker.offer(topology(5, "node2", T0.plusSeconds(2)), "test")).isFalse();
        assertThat(tracker.offer(topology(5, "node1", T0.minusSeconds(10)), "test")).isFalse();
        assertThat(tracker.current()).get().extracting(Topology::leader).isEqualTo("node3");
        assertThat(seen).containsExactly(5L, 5L);
        assertThat(primaries).containsExactly("node1");
    }

    @Test
    void aRepublishedIdenticalDocumentDoesNotNotify() {
        tracker.offer(topology(2, "node1", T0), "test");
        assertThat(tracker.offer(topology(2, "node1", T0.plusSeconds(5)), "test")).isTrue();
        assertThat(seen).containsExactly(2L);
    }

    @Test
    void malformedAndForeignDocumentsAreIgnoredAndTheLastGoodStays() {
        tracker.offer(topology(4, "node2", T0), "test");
        assertThat(tracker.offer("{not json".getBytes(StandardCharsets.UTF_8), "test")).isFalse();
        Topology foreign = new Topology("other", 9, new Topology.Primary("x", "h", 1, 1), List.of(), null, false, T0);
        assertThat(tracker.offer(TopologyCodec.encode(foreign), "test")).isFalse();
        assertThat(tracker.current()).get().extracting(Topology::epoch).isEqualTo(4L);
        assertThat(tracker.rejectedCount()).isEqualTo(2);
    }

    @Test
    void aListenerAddedLaterIsToldTheCurrentTopologyAndAFailingListenerDoesNotStopOthers() {
        tracker.offer(topology(1, "node1", T0), "test");
        List<Long> late = new ArrayList<>();
        tracker.addListener((before, now) -> {
            throw new IllegalStateException("listener bug");
        });
        tracker.addListener((before, now) -> late.add(now.epoch()));
        tracker.offer(topology(2, "node2", T0), "test");
        assertThat(late).containsExactly(1L, 2L);
    }
}
