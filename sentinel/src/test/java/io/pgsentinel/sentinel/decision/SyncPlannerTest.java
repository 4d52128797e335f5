package io.pgsentinel.sentinel.decision;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsentinel.sentinel.model.Lsn;
import io.pgsentinel.shared.topology.Topology;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The synchronous set planner, with positions. A table of situations and the step each calls
 * for; then a model run from many starting states in which the primary acknowledges a commit
 * only once k of the standbys it enforces have flushed it, standbys come and go and lag, and at
 * every intermediate state: the published set contains the primary's list, the published count
 * never exceeds the primary's, and a failover by the decision's rule (the most advanced of any
 * n - k + 1 published members, holding the published floor) never loses an acknowledged commit.
 */
class SyncPlannerTest {
    private static final SyncPlanner.OnPrimary NONE = new SyncPlanner.OnPrimary(0, List.of());

    private static Topology.Synchronous active(int k, String floor, String... members) {
        return new Topology.Synchronous(k, List.of(members), "active", floor);
    }

    private static SyncPlanner.OnPrimary enforcing(int k, String... members) {
        return new SyncPlanner.OnPrimary(k, List.of(members));
    }

    /** A situation, and what the step must be. */
    record Row(String situation, Topology.Synchronous published, SyncPlanner.OnPrimary onPrimary, Set<String> streaming,
               Map<String, Long> flushed, long primaryFlush, long mark, int k, Topology.Synchronous publishes,
               SyncPlanner.OnPrimary applies, long marks, String reasonHolds) {
        @Override
        public String toString() {
            return situation;
        }
    }

    static Stream<Row> table() {
        Map<String, Long> behind = Map.of("a", 50L, "b", 50L);
        return Stream.of(
                new Row("from asynchronous the list is set first", null, NONE, Set.of("a", "b"), behind, 100, -1, 1,
                        null, enforcing(1, "a", "b"), -1, "before publishing"),
                new Row("the list enforced, standbys behind: active with a floor", null, enforcing(1, "a", "b"),
                        Set.of("a", "b"), behind, 100, -1, 1, active(1, "0/64", "a", "b"), null, -1,
                        "a candidate must hold 0/64"),
                new Row("the list enforced, a standby caught up: active without a floor", null, enforcing(1, "a", "b"),
                        Set.of("a", "b"), Map.of("a", 100L, "b", 50L), 100, -1, 1, active(1, null, "a", "b"), null, -1,
                        "synchronous set active"),
                new Row("the floor is lifted once k members hold it", active(1, "0/64", "a", "b"), enforcing(1, "a", "b"),
                        Set.of("a", "b"), Map.of("a", 50L, "b", 100L), 120, -1, 1, active(1, null, "a", "b"), null, -1,
                        "hold 0/64"),
                new Row("the floor stays while none holds it", active(1, "0/64", "a", "b"), enforcing(1, "a", "b"),
                        Set.of("a", "b"), behind, 120, -1, 1, null, null, -1, "in step"),
                new Row("a member gone: the primary stops waiting for it first", active(1, null, "a", "b", "c"),
                        enforcing(1, "a", "b", "c"), Set.of("a", "b"), behind, 100, -1, 1, null, enforcing(1, "a", "b"),
                        -1, "now waits for 1 of [a, b]"),
                new Row("the smaller list enforced: where it applies from is recorded", active(1, null, "a", "b", "c"),
                        enforcing(1, "a", "b"), Set.of("a", "b"), behind, 100, -1, 1, null, null, 100, "from 0/64 on"),
                new Row("commits acknowledged under the larger list are not on k of the smaller: c stays published",
                        active(1, null, "a", "b", "c"), enforcing(1, "a", "b"), Set.of("a", "b"), behind, 120, 100, 1,
                        null, null, -1, "waiting for 1 of [a, b] to hold 0/64 before unpublishing [c]"),
                new Row("they are: c is unpublished", active(1, null, "a", "b", "c"), enforcing(1, "a", "b"),
                        Set.of("a", "b"), Map.of("a", 100L, "b", 50L), 120, 100, 1, active(1, null, "a", "b"), null, -1,
                        "unpublishing [c]"),
                new Row("what the primary enforces is not known: nothing", active(1, null, "a", "b"), null,
                        Set.of("a"), behind, 100, -1, 1, null, null, -1, "not yet agreed by its walsenders"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void decides(Row row) {
        SyncPlanner.Step step = SyncPlanner.next(row.published(), row.onPrimary(), row.streaming(), row.flushed(),
                row.primaryFlush(), row.mark(), row.k(), false);
        assertThat(step.publish()).as(step.reason()).isEqualTo(row.publishes());
        assertThat(step.apply()).as(step.reason()).isEqualTo(row.applies());
        assertThat(step.mark()).as(step.reason()).isEqualTo(row.marks());
        assertThat(step.reason()).contains(row.reasonHolds());
    }

    /** A primary, its standbys and the planner, run step by step; commits acknowledged as PostgreSQL does. */
    private static final class Model {
        Topology.Synchronous published;
        SyncPlanner.OnPrimary onPrimary = NONE;
        final Map<String, Long> flushed = new TreeMap<>();
        long primaryFlush = 1;
        long lastAcked;
        long mark = -1;
        List<String> markedList = List.of();

        /** The primary writes a commit; it is acknowledged once k of the enforced standbys flushed it. */
        void commit(Set<String> streaming, Random random) {
            primaryFlush++;
            for (String s : streaming) {
                if (random.nextInt(3) > 0) {
                    flushed.put(s, primaryFlush); // some standbys keep up, some lag
                }
            }
            if (onPrimary.standbys().isEmpty()) {
                lastAcked = primaryFlush; // alone: only allowed when relaxed
                return;
            }
            long have = onPrimary.standbys().stream().filter(s -> flushed.getOrDefault(s, 0L) >= primaryFlush).count();
            if (have >= onPrimary.count()) {
                lastAcked = primaryFlush;
            }
        }

        void step(Set<String> streaming, int k, boolean relax) {
            long shrinkMark = onPrimary.standbys().equals(markedList) ? mark : -1;
            Map<String, Long> seen = new HashMap<>();
            streaming.forEach(s -> seen.put(s, flushed.getOrDefault(s, 0L)));
            SyncPlanner.Step step = SyncPlanner.next(published, onPrimary, streaming, seen, primaryFlush, shrinkMark, k,
                    relax);
            if (step.mark() >= 0) {
                markedList = onPrimary.standbys();
                mark = step.mark();
            }
            if (step.apply() != null) {
                onPrimary = step.apply();
                markedList = List.of(); // a mark holds for the list it was taken under only
                mark = -1;
            }
            if (step.publish() != null) {
                published = step.publish();
            }
            check(step.reason());
        }

        /** The invariants, and no loss by any failover the decision could make now. */
        void check(String reason) {
            if (published == null || !published.active()) {
                return;
            }
            assertThat(published.standbys()).as(reason).containsAll(onPrimary.standbys());
            assertThat(published.count()).as(reason).isLessThanOrEqualTo(Math.max(1, onPrimary.count()));
            List<String> members = published.standbys();
            int need = Math.max(1, members.size() - published.count() + 1);
            long floor = published.minPosition() == null ? -1 : Lsn.parse(published.minPosition());
            for (List<String> heard : subsets(members, need)) {
                long best = heard.stream().mapToLong(m -> flushed.getOrDefault(m, 0L)).max().orElse(0);
                if (best >= floor) {
                    assertThat(best).as("promoting the best of " + heard + " loses commits (" + reason + "); published "
                            + published + ", enforced " + onPrimary.setting() + ", flushed " + flushed)
                            .isGreaterThanOrEqualTo(lastAcked);
                }
            }
        }
    }

    private static List<List<String>> subsets(List<String> of, int size) {
        List<List<String>> out = new ArrayList<>();
        collect(of, size, 0, new ArrayList<>(), out);
        return out;
    }

    private static void collect(List<String> of, int size, int from, List<String> current, List<List<String>> out) {
        if (current.size() == size) {
            out.add(List.copyOf(current));
            return;
        }
        for (int i = from; i < of.size(); i++) {
            current.add(of.get(i));
            collect(of, size, i + 1, current, out);
            current.remove(current.size() - 1);
        }
    }

    @Test
    void noFailoverByTheDecisionsRuleLosesACommitWhileStandbysComeAndGoAndLag() {
        Random random = new Random(42);
        List<String> all = List.of("a", "b", "c", "d");
        for (int run = 0; run < 300; run++) {
            Model m = new Model();
            int k = 1 + random.nextInt(2);
            for (int change = 0; change < 12; change++) {
                Set<String> streaming = new TreeSet<>();
                all.forEach(n -> {
                    if (random.nextInt(4) > 0) {
                        streaming.add(n);
                    }
                });
                for (int i = 0; i < 8; i++) {
                    m.commit(streaming, random);
                    m.step(streaming, k, false);
                }
            }
        }
    }

    @Test
    void withTheAsyncFallbackTooFewStandbysRelaxFirstThenClearTheList() {
        Model m = new Model();
        for (int i = 0; i < 6; i++) {
            m.step(Set.of("a"), 1, true);
        }
        assertThat(m.published.active()).isTrue();
        m.step(Set.of(), 1, true);
        assertThat(m.published.state()).isEqualTo("relaxed");
        assertThat(m.onPrimary.standbys()).as("relaxed is published before the primary stops waiting").contains("a");
        m.step(Set.of(), 1, true);
        assertThat(m.onPrimary.standbys()).isEmpty();
    }

    @Test
    void parsesTheSettingItWrites() {
        assertThat(SyncPlanner.OnPrimary.parse("ANY 2 (node3, node2)"))
                .isEqualTo(new SyncPlanner.OnPrimary(2, List.of("node2", "node3")));
        assertThat(SyncPlanner.OnPrimary.parse("").standbys()).isEmpty();
        assertThat(SyncPlanner.OnPrimary.parse("FIRST 1 (a)").standbys()).isEmpty();
    }
}
