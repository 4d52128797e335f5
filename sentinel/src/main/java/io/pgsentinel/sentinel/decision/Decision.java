package io.pgsentinel.sentinel.decision;

import io.pgsentinel.shared.topology.Topology;
import java.util.List;
import java.util.Locale;

/**
 * What the leader should do now, and why, in a sentence an operator can act on.
 *
 * @param action   the kind of decision
 * @param reason   why
 * @param publish  a topology to publish now (same epoch), or null
 * @param failover the failover to carry out, with {@link Action#FAILOVER}; else null
 * @param writable with {@link Action#SPLIT_BRAIN}: the servers that accept writes
 * @param fence    nodes to fence now (fence node written by the leader)
 * @param unfence  fences to lift: those nodes rejoined as streaming replicas
 */
public record Decision(Action action, String reason, Topology publish, FailoverPlan failover, List<String> writable,
                       List<String> fence, List<String> unfence) {

    public enum Action {
        /** All is well (perhaps a topology update to publish). */
        NONE,
        /** Something is wrong but not (yet) enough to act: the reason says what is awaited. */
        WAIT,
        /** Publish the first topology. */
        BOOTSTRAP,
        /** Fence the old primary and promote the candidate. */
        FAILOVER,
        /** More than one server accepts writes: publish nothing, fence the intruders. */
        SPLIT_BRAIN,
        /**
         * The published primary is fenced and another server is already writable (a failover
         * interrupted after the promotion): publish that server as the primary.
         */
        ADOPT,
        /** A planned switchover is running. */
        SWITCHOVER;

        public String json() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /**
     * @param oldPrimary          the node to fence
     * @param candidate           the node to promote
     * @param candidateLsn        the candidate's received position
     * @param candidateTimeline   the candidate's timeline
     * @param lastKnownPrimaryLsn the old primary's last known position, -1 if unknown
     * @param downForMillis       how long the first voter has seen the old primary down
     */
    public record FailoverPlan(String oldPrimary, String candidate, long candidateLsn, long candidateTimeline,
                               long lastKnownPrimaryLsn, long downForMillis) {
    }

    public Decision {
        writable = List.copyOf(writable);
        fence = List.copyOf(fence);
        unfence = List.copyOf(unfence);
    }

    static Decision none(String reason, Topology publish) {
        return new Decision(Action.NONE, reason, publish, null, List.of(), List.of(), List.of());
    }

    public static Decision waiting(String reason, Topology publish) {
        return new Decision(Action.WAIT, reason, publish, null, List.of(), List.of(), List.of());
    }

    /** The same decision, also lifting {@code ids}' fences. */
    Decision unfencing(List<String> ids) {
        return ids.isEmpty() ? this : new Decision(action, reason, publish, failover, writable, fence, ids);
    }

    /** A short form: "promote node3", "wait", "none"... */
    public String summary() {
        return switch (action) {
            case FAILOVER -> "promote " + failover.candidate();
            case SPLIT_BRAIN -> "split-brain " + String.join(",", writable);
            case ADOPT -> "adopt " + publish.primary().id();
            case SWITCHOVER -> "switchover to " + failover.candidate();
            default -> action.json();
        };
    }

    /**
     * Whether {@code other} is the same decision for the same reason, figures aside (a wait
     * whose elapsed time grows is the same wait): the leader logs only changes.
     */
    public boolean sameAs(Decision other) {
        return other != null && action == other.action && masked(reason).equals(masked(other.reason));
    }

    private static String masked(String text) {
        return text.replaceAll("[0-9A-F]+/[0-9A-F]+|[0-9]+(\\.[0-9]+)?", "#");
    }
}
