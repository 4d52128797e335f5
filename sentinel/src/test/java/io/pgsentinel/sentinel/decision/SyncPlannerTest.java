package io.pgsentinel.sentinel.decision;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsentinel.shared.topology.Topology;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The synchronous set planner, run to a fixed point from many starting states: at every
 * intermediate step the published set contains the primary's list, the published count never
 * exceeds the primary's, and the end state is the desired one.
 */
class SyncPlannerTest {

    private record World(Topology.Synchronous published, SyncPlanner.OnPrimary onPrimary) {
    }

    /** Applies steps until none is left; checks the invariants after each. */
    private static World converge(World w, Set<String> streaming, int k, boolean relax) {
        for (int i = 0; i < 10; i++) {
            SyncPlanner.Step step = SyncPlanner.next(w.published(), w.onPrimary(), streaming, k, relax);
            if (step.isNone()) {
                return w;
            }
            w = new World(step.publish() != null ? step.publish() : w.published(),
                    step.apply() != null ? step.apply() : w.onPrimary());
            if (w.published() != null && w.published().active()) {
                assertThat(w.published().standbys()).as(step.reason()).containsAll(w.onPrimary().standbys());
                assertThat(w.published().count()).as(step.reason()).isLessThanOrEqualTo(Math.max(1, w.onPrimary().count()));
                assertThat(w.onPrimary().standbys()).as("an active set is enforced").isNotEmpty();
            }
        }
        throw new AssertionError("no fixed point from " + w);
    }

    private static World async() {
        return new World(null, new SyncPlanner.OnPrimary(0, List.of()));
    }

    @Test
    void fromAsynchronousTheListIsSetBeforeTheSetIsPublishedActive() {
        SyncPlanner.Step first = SyncPlanner.next(null, new SyncPlanner.OnPrimary(0, List.of()), Set.of("node2", "node3"), 1,
                false);
        assertThat(first.publish()).isNull();
        assertThat(first.apply().setting()).isEqualTo("ANY 1 (node2, node3)");
        World end = converge(async(), Set.of("node2", "node3"), 1, false);
        assertThat(end.published()).isEqualTo(new Topology.Synchronous(1, List.of("node2", "node3"), "active"));
        assertThat(end.onPrimary().setting()).isEqualTo("ANY 1 (node2, node3)");
    }

    @Test
    void aNewStandbyIsPublishedBeforeThePrimaryWaitsForIt() {
        World w = converge(async(), Set.of("node2"), 1, false);
        SyncPlanner.Step add = SyncPlanner.next(w.published(), w.onPrimary(), Set.of("node2", "node3"), 1, false);
        assertThat(add.apply()).isNull();
        assertThat(add.publish().standbys()).containsExactly("node2", "node3");
        World end = converge(w, Set.of("node2", "node3"), 1, false);
        assertThat(end.onPrimary().standbys()).containsExactly("node2", "node3");
    }

    @Test
    void aStandbyLeavesThePrimarysListBeforeItIsUnpublished() {
        World w = converge(async(), Set.of("node2", "node3", "node4"), 1, false);
        SyncPlanner.Step remove = SyncPlanner.next(w.published(), w.onPrimary(), Set.of("node2", "node3"), 1, false);
        assertThat(remove.publish()).isNull();
        assertThat(remove.apply().standbys()).containsExactly("node2", "node3");
        World end = converge(w, Set.of("node2", "node3"), 1, false);
        assertThat(end.published().standbys()).containsExactly("node2", "node3");
    }

    @Test
    void strictModeKeepsWaitingForPublishedStandbysWhenTooFewStream() {
        World w = converge(async(), Set.of("node2", "node3"), 2, false);
        World end = converge(w, Set.of("node2"), 2, false);
        assertThat(end.onPrimary().setting()).isEqualTo("ANY 2 (node2, node3)");
        assertThat(end.published().active()).isTrue();
    }

    @Test
    void withTheAsyncFallbackTooFewStandbysRelaxFirstThenClearTheList() {
        World w = converge(async(), Set.of("node2"), 1, true);
        SyncPlanner.Step relax = SyncPlanner.next(w.published(), w.onPrimary(), Set.of(), 1, true);
        assertThat(relax.publish().state()).isEqualTo("relaxed");
        assertThat(relax.apply()).isNull();
        World end = converge(w, Set.of(), 1, true);
        assertThat(end.onPrimary().standbys()).isEmpty();
        assertThat(end.published().state()).isEqualTo("relaxed");
        World back = converge(end, Set.of("node2", "node3"), 1, true);
        assertThat(back.published().active()).isTrue();
    }

    @Test
    void invariantsHoldAcrossRandomSequences() {
        java.util.Random random = new java.util.Random(42);
        List<String> all = List.of("node2", "node3", "node4", "node5");
        for (int run = 0; run < 200; run++) {
            World w = async();
            int k = 1 + random.nextInt(2);
            boolean relax = random.nextBoolean();
            for (int change = 0; change < 8; change++) {
                Set<String> streaming = new TreeSet<>();
                all.forEach(n -> {
                    if (random.nextBoolean()) {
                        streaming.add(n);
                    }
                });
                w = converge(w, streaming, k, relax);
            }
        }
    }

    @Test
    void parsesTheSettingItWrites() {
        assertThat(SyncPlanner.OnPrimary.parse("ANY 2 (node3, node2)"))
                .isEqualTo(new SyncPlanner.OnPrimary(2, List.of("node2", "node3")));
        assertThat(SyncPlanner.OnPrimary.parse("").standbys()).isEmpty();
        assertThat(SyncPlanner.OnPrimary.parse("FIRST 1 (a)").standbys()).isEmpty();
    }
}
