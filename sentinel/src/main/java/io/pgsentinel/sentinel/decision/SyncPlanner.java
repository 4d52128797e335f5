package io.pgsentinel.sentinel.decision;

import io.pgsentinel.sentinel.model.Lsn;
import io.pgsentinel.shared.topology.Topology;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Keeps the primary's {@code synchronous_standby_names = 'ANY k (...)'} and the published
 * synchronous set in step, one change per cycle, in the order that keeps the guarantee: the
 * published set always contains the primary's list. A standby is published before the primary
 * waits for it, and the primary stops waiting for a standby before it is unpublished; leaving
 * the relaxed state, the primary's list is set first and "active" published after; and the
 * published count never exceeds the primary's. Pure.
 */
public final class SyncPlanner {
    private SyncPlanner() {
    }

    /** The primary's current setting: its quorum and standbys (0 and empty when asynchronous). */
    public record OnPrimary(int count, List<String> standbys) {
        public OnPrimary {
            standbys = List.copyOf(standbys);
        }

        /** The setting's text, '' for none. */
        public String setting() {
            return standbys.isEmpty() ? "" : "ANY " + count + " (" + String.join(", ", standbys) + ")";
        }

        /** Parses {@code ANY k (a, b)} (the form this planner writes); empty for '' or another form. */
        public static OnPrimary parse(String value) {
            String v = value == null ? "" : value.strip();
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)ANY\\s+(\\d+)\\s*\\((.*)\\)").matcher(v);
            if (!m.matches()) {
                return new OnPrimary(0, List.of());
            }
            List<String> names = java.util.Arrays.stream(m.group(2).split(","))
                    .map(x -> x.strip().replace("\"", "")).filter(x -> !x.isEmpty()).sorted().toList();
            return new OnPrimary(Integer.parseInt(m.group(1)), names);
        }
    }

    /**
     * One change: publish a new synchronous set, or apply a setting on the primary, or nothing;
     * {@code mark} >= 0: remember this primary position as where the current (smaller) list applies from.
     */
    public record Step(Topology.Synchronous publish, OnPrimary apply, String reason, long mark) {
        Step(Topology.Synchronous publish, OnPrimary apply, String reason) {
            this(publish, apply, reason, -1);
        }

        public boolean isNone() {
            return publish == null && apply == null;
        }
    }

    /**
     * @param published    the published set, or null (asynchronous so far: treated as relaxed)
     * @param onPrimary    what the primary enforces now (its setting, agreed by its walsenders), or
     *                     null when that is not known
     * @param streaming    promotable replicas streaming from the primary now
     * @param flushed      each standby's flushed position as the primary sees it
     * @param primaryFlush the primary's flushed position now
     * @param shrinkMark   the primary's position when its current, smaller list took effect, -1 when not recorded
     * @param count        replication.synchronousCount (k)
     * @param relaxAllowed replication.synchronousFallback is async
     */
    public static Step next(Topology.Synchronous published, OnPrimary onPrimary, Set<String> streaming,
                            Map<String, Long> flushed, long primaryFlush, long shrinkMark, int count,
                            boolean relaxAllowed) {
        if (onPrimary == null) {
            return new Step(null, null, "the primary's setting is not yet agreed by its walsenders: waiting");
        }
        Set<String> pub = published == null ? Set.of() : new TreeSet<>(published.standbys());
        boolean active = published != null && published.active();
        Set<String> desired = new TreeSet<>(streaming);
        if (desired.size() < count) {
            if (relaxAllowed) {
                if (active) {
                    return new Step(new Topology.Synchronous(count, List.copyOf(pub), "relaxed"), null,
                            "only " + desired.size() + " standby can acknowledge, fewer than " + count
                                    + ": relaxing to asynchronous (synchronousFallback: async)");
                }
                if (!onPrimary.standbys().isEmpty()) {
                    return new Step(null, new OnPrimary(0, List.of()), "relaxed: the primary acknowledges alone");
                }
                return new Step(null, null, "relaxed until " + count + " standbys stream");
            }
            // strict: keep waiting for the members already published; commits block meanwhile
            desired.addAll(pub);
            if (desired.isEmpty()) {
                return new Step(null, null, "no standby streams yet: nothing to wait for");
            }
        }
        int k = Math.min(count, Math.max(1, desired.size()));
        OnPrimary target = new OnPrimary(k, List.copyOf(desired));
        if (!active) {
            if (!onPrimary.equals(target)) {
                return new Step(null, target, "setting the primary's synchronous standbys before publishing them");
            }
            // active only with positions that prove it: what the primary acknowledged before (alone)
            // must be on k of them, or a candidate must hold it
            boolean proven = holding(desired, flushed, primaryFlush) >= k;
            return new Step(new Topology.Synchronous(k, List.copyOf(desired), "active",
                    proven ? null : Lsn.format(primaryFlush)), null, "the primary waits for " + k + " of " + desired
                    + ": synchronous set active" + (proven ? "" : ", a candidate must hold " + Lsn.format(primaryFlush)
                    + " until " + k + " of them do"));
        }
        String floor = published.minPosition();
        if (!pub.containsAll(desired)) {
            Set<String> grown = new TreeSet<>(pub);
            grown.addAll(desired);
            return new Step(new Topology.Synchronous(Math.min(published.count(), k), List.copyOf(grown), "active", floor),
                    null, "publishing " + desired + " before the primary waits for them");
        }
        // the published count never exceeds the primary's: any k of the primary's list must meet
        // any (published - count + 1) of the published set
        if (k < published.count()) {
            return new Step(new Topology.Synchronous(k, List.copyOf(pub), "active", floor), null,
                    "lowering the published quorum to " + k + " before the primary's");
        }
        if (!onPrimary.equals(target)) {
            return new Step(null, target, "the primary now waits for " + k + " of " + desired);
        }
        if (!pub.equals(desired) || published.count() != k) {
            // commits acknowledged under the larger list may be on the members about to leave only:
            // they leave once k members of the smaller list hold everything up to where it applies from
            if (shrinkMark < 0) {
                return new Step(null, null, "the primary waits for " + k + " of " + desired + " from "
                        + Lsn.format(primaryFlush) + " on", primaryFlush);
            }
            if (holding(desired, flushed, shrinkMark) < k) {
                return new Step(null, null, "waiting for " + k + " of " + desired + " to hold " + Lsn.format(shrinkMark)
                        + " before unpublishing " + difference(pub, desired));
            }
            return new Step(new Topology.Synchronous(k, List.copyOf(desired), "active", floor), null,
                    "unpublishing " + difference(pub, desired) + ": " + k + " of " + desired + " hold "
                            + Lsn.format(shrinkMark));
        }
        if (floor != null && holding(desired, flushed, Lsn.parse(floor)) >= k) {
            return new Step(new Topology.Synchronous(k, List.copyOf(desired), "active"), null,
                    k + " of " + desired + " hold " + floor + ": no candidate needs more than the set gives");
        }
        return new Step(null, null, "synchronous set in step");
    }

    /** How many of {@code members} have flushed at least {@code position}. */
    static int holding(Set<String> members, Map<String, Long> flushed, long position) {
        return (int) members.stream().filter(m -> flushed.getOrDefault(m, -1L) >= position).count();
    }

    private static List<String> difference(Set<String> a, Set<String> b) {
        return a.stream().filter(x -> !b.contains(x)).sorted().toList();
    }
}
