package io.pgsentinel.sentinel.decision;

import io.pgsentinel.sentinel.model.Lsn;
import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.sentinel.model.Role;
import io.pgsentinel.shared.topology.Topology;

/**
 * The reconcile decision of every sentinel: bring the local server in line with the published
 * topology and the fence nodes. Pure: no I/O, no clock. Rules, in order:
 * <ol>
 *   <li>nothing is touched before ZooKeeper has been read (rule 6);</li>
 *   <li>with no topology and an empty data directory, the node holding the bootstrap claim
 *       creates the cluster ({@code bootstrap.method: initdb}); the others wait to join it;</li>
 *   <li>a server told to be fenced, or that accepts writes while another node is the published
 *       primary, is fenced;</li>
 *   <li>the published primary's server is restarted in place when it is down (crash), but
 *       never while a fence holds, and only after the standing is confirmed;</li>
 *   <li>another node's server follows the primary: re-pointed while running, started as a
 *       replica when it was one, rewound (or cloned when rewind failed) when it was a primary
 *       or its WAL went past the new timeline's fork point; with {@code rejoin: manual} it
 *       waits and says so;</li>
 *   <li>a node whose data directory is empty joins: a clone of the primary, then a replica; a
 *       replica an operator asked to reinit is cloned afresh the same way, and so is one that
 *       cannot stream because the WAL it needs is gone from the primary.</li>
 * </ol>
 */
public final class LocalDecider {
    /** How long a re-pointed replica may take to stream before divergence is suspected. */
    public static final long STREAM_GRACE_MILLIS = 5000;

    private LocalDecider() {
    }

    public static LocalAction decide(LocalSnapshot s) {
        MemberReport r = s.local();
        boolean running = r != null && r.running();
        // a fence is a stop: a running server out of recovery accepts writes, whatever its report says
        boolean writable = running && r.role() == Role.PRIMARY;
        if (!s.zkReady()) {
            return LocalAction.of(LocalAction.Kind.WAIT, s.selfFenced()
                    ? "fenced on losing ZooKeeper: it stays fenced until ZooKeeper confirms this node is the primary"
                    : "waiting for ZooKeeper before touching the server");
        }
        Topology t = s.topology();
        if (t == null) {
            if (!running && !s.processAlive() && s.dataDirectoryEmpty()) {
                return bootstrap(s);
            }
            if (!running && !s.processAlive()) {
                return LocalAction.of(LocalAction.Kind.START_AS_IS, "no topology yet and the server is down: starting it"
                        + " as it is configured");
            }
            return LocalAction.of(LocalAction.Kind.NONE, "no topology yet");
        }
        String primary = t.primary().id();
        if (s.fencedByLeader() && writable) {
            return LocalAction.of(LocalAction.Kind.FENCE, "fence/" + s.id() + " exists: this server must not accept writes");
        }
        boolean hung = !running && s.processAlive();
        if (hung && (s.fencedByLeader() || !primary.equals(s.id()))) {
            // it may be a primary that resumes any moment: only a stop makes it certain
            return LocalAction.of(LocalAction.Kind.FENCE, "the server's process is alive but does not answer, and "
                    + (s.fencedByLeader() ? "fence/" + s.id() + " exists" : primary + " is the published primary")
                    + ": stopping it");
        }
        if (primary.equals(s.id())) {
            return asPrimary(s, running, writable);
        }
        if (writable) {
            if (s.local().timeline() > t.primary().timeline()) {
                // being promoted by the leader, published in a moment (or adopted by its successor);
                // a server promoted by anyone else is fenced by the leader through fence/<id>
                return LocalAction.of(LocalAction.Kind.WAIT, "this server was promoted to timeline "
                        + s.local().timeline() + ", newer than the published primary's (" + t.primary().timeline()
                        + "): waiting for the leader to publish it");
            }
            return LocalAction.of(LocalAction.Kind.FENCE, primary + " is the published primary (epoch " + t.epoch()
                    + ") and this server accepts writes: fencing it");
        }
        return asReplica(s, running, primary);
    }

    /** No topology and an empty data directory: create the cluster if this node holds (or may take) the claim. */
    private static LocalAction bootstrap(LocalSnapshot s) {
        String claim = s.bootstrapClaim();
        if (claim == null) {
            return LocalAction.of(LocalAction.Kind.WAIT, "no topology yet and the data directory is empty: nothing to "
                    + "start (bootstrap.method: attach; a node joins a cluster that has a primary)");
        }
        if (claim.isEmpty() || claim.equals(s.id())) {
            return LocalAction.of(LocalAction.Kind.INITDB, "no topology yet and the data directory is empty: creating "
                    + "the cluster (bootstrap.method: initdb)" + (claim.isEmpty() ? ", if this node wins the claim" : ""));
        }
        return LocalAction.of(LocalAction.Kind.WAIT, claim + " is creating the cluster: this node joins it as a clone "
                + "once it is published");
    }

    private static LocalAction asPrimary(LocalSnapshot s, boolean running, boolean writable) {
        MemberReport r = s.local();
        if (s.fencedByLeader()) {
            return LocalAction.of(LocalAction.Kind.WAIT, "fenced by the leader: the server stays "
                    + (running ? "read-only" : "stopped"));
        }
        if (writable) {
            return LocalAction.of(LocalAction.Kind.NONE, "the published primary, running");
        }
        if (running) {
            return LocalAction.of(LocalAction.Kind.WAIT, "published as the primary but the server is in recovery");
        }
        if (s.processAlive()) {
            return LocalAction.of(LocalAction.Kind.WAIT, "the server's process is alive but it does not answer");
        }
        if (s.dataDirectoryEmpty()) {
            return LocalAction.of(LocalAction.Kind.WAIT, "the published primary's data directory is empty: not starting "
                    + "it, and never creating a new cluster over the published one");
        }
        if (s.standbySignal()) {
            return LocalAction.of(LocalAction.Kind.WAIT, "published as the primary but the data directory is configured "
                    + "as a standby: not starting it as a primary");
        }
        return LocalAction.of(LocalAction.Kind.START_PRIMARY, s.selfFenced()
                ? "ZooKeeper is back and this node is still the published primary: restarting it once confirmed"
                : "the published primary's server is down: restarting it in place");
    }

    private static LocalAction asReplica(LocalSnapshot s, boolean running, String primary) {
        MemberReport r = s.local();
        long primaryTimeline = s.topology().primary().timeline();
        if (s.reinitRequested() && (running || !s.processAlive())) {
            if (!s.primaryReachable()) {
                return LocalAction.of(LocalAction.Kind.WAIT, "reinit requested; waiting until the primary " + primary
                        + " is reachable to clone it (nothing moved meanwhile)");
            }
            return LocalAction.toward(LocalAction.Kind.CLONE, primary, "reinit requested: re-cloning " + primary
                    + " (the old data directory is kept once)");
        }
        Upstream up = upstream(s);
        if (running) {
            boolean follows = r.isStreaming() && up.port() == r.upstreamPort() && up.host().equals(r.upstreamHost());
            if (follows) {
                return LocalAction.of(LocalAction.Kind.NONE, "streaming from " + up.id()
                        + (up.cascade() ? " (replicatefrom; the primary is " + primary + ")" : ""));
            }
            boolean configured = (up.host() + ":" + up.port()).equals(r.configuredUpstream());
            if (!configured && !up.id().equals(s.repointedTo())) {
                return LocalAction.toward(LocalAction.Kind.REPOINT, up.id(), up.cascade()
                        ? "re-pointing to " + up.id() + " (replicatefrom), a streaming replica"
                        : "re-pointing to the published primary " + primary + (s.replicateFrom().isEmpty() ? ""
                        : " (" + s.replicateFrom() + ", its replicatefrom, does not stream)"));
            }
            // diverged: it does not stream from a reachable primary, and its WAL went past the fork point
            if (s.primaryReachable() && s.notStreamingMillis() > STREAM_GRACE_MILLIS && s.forkLsn() >= 0
                    && r.position() > s.forkLsn() && r.timeline() < primaryTimeline) {
                return rejoin(s, primary, "it does not stream and its WAL (" + Lsn.format(r.position())
                        + ") went past the fork point " + Lsn.format(s.forkLsn()) + " of timeline " + primaryTimeline);
            }
            if (s.primaryReachable() && s.walGone()) {
                String why = "it does not stream: the WAL it needs from " + Lsn.format(r.position())
                        + " is gone from " + primary + " (its slot there lost it, or it was removed)";
                if (s.rejoinManual()) {
                    return LocalAction.of(LocalAction.Kind.WAIT, why + "; rejoin is manual: it stays out until an "
                            + "operator re-clones it (pg-sentinel reinit " + s.id() + ")");
                }
                return LocalAction.toward(LocalAction.Kind.CLONE, primary, why + ": cloning " + primary + " afresh");
            }
            return LocalAction.of(LocalAction.Kind.WAIT, "configured to follow " + up.id() + ", not streaming (yet)");
        }
        if (s.processAlive()) {
            return LocalAction.of(LocalAction.Kind.WAIT, "the server's process is alive but it does not answer");
        }
        if (s.dataDirectoryEmpty()) {
            // a new node (or one whose directory was emptied): nothing to rewind or lose, even with rejoin manual
            if (!s.primaryReachable()) {
                return LocalAction.of(LocalAction.Kind.WAIT, "the data directory is empty; waiting until the primary "
                        + primary + " is reachable to clone it");
            }
            return LocalAction.toward(LocalAction.Kind.CLONE, primary, "the data directory is empty: joining the cluster "
                    + "as a clone of " + primary);
        }
        if (s.fencedByLeader() || !s.standbySignal()) {
            return rejoin(s, primary, "this server was a primary (or is fenced) and " + primary + " is the published primary");
        }
        if (!s.primaryReachable()) {
            // a standby stays in recovery whatever its upstream: started as it is, it reports its
            // position, so that it can be promoted if the primary is gone for good (in synchronous
            // mode it may be the only one known to hold every acknowledged commit); it is
            // re-pointed (and its slot made) once a primary answers
            return LocalAction.of(LocalAction.Kind.START_AS_IS, "the server is down and the primary " + primary
                    + " is not reachable: starting it as the standby it is, to be re-pointed once a primary answers");
        }
        return LocalAction.toward(LocalAction.Kind.START_REPLICA, up.id(), "the server is down: starting it as a replica of "
                + up.id() + (up.cascade() ? " (replicatefrom)" : ""));
    }

    /** Where a replica streams from: its server's address, and whether it cascades from a replica. */
    record Upstream(String id, String host, int port, boolean cascade) {
    }

    /**
     * The replica named by {@code replicatefrom} while the topology shows it streaming or lagging (and not
     * from this node: no loop), else the primary; so a cascade falls back to the primary while its
     * upstream is down or rejoining, and returns once it streams again.
     */
    static Upstream upstream(LocalSnapshot s) {
        Topology t = s.topology();
        String via = s.replicateFrom();
        if (!via.isEmpty() && !via.equals(t.primary().id()) && !via.equals(s.id())) {
            var replica = t.replica(via).orElse(null);
            // lagging too: a cascade that flipped to the primary whenever its upstream crossed the lag bound would churn
            if (replica != null && (replica.state() == io.pgsentinel.shared.topology.ReplicaState.STREAMING
                    || replica.state() == io.pgsentinel.shared.topology.ReplicaState.LAGGING)
                    && !s.id().equals(replica.upstream())) {
                return new Upstream(via, replica.host(), replica.port(), true);
            }
        }
        Topology.Primary p = t.primary();
        return new Upstream(p.id(), p.host(), p.port(), false);
    }

    private static LocalAction rejoin(LocalSnapshot s, String primary, String why) {
        if (!s.primaryReachable()) {
            return LocalAction.of(LocalAction.Kind.WAIT, why + "; waiting until the primary " + primary
                    + " is reachable to rejoin it");
        }
        if (s.rejoinManual()) {
            return LocalAction.of(LocalAction.Kind.WAIT, why + "; rejoin is manual: it stays out until an operator "
                    + "rewinds or re-clones it");
        }
        if (s.rewindFailed()) {
            return LocalAction.toward(LocalAction.Kind.CLONE, primary, why + "; pg_rewind failed: cloning " + primary
                    + " afresh");
        }
        return LocalAction.toward(LocalAction.Kind.REWIND, primary, why + ": rewinding it to follow " + primary);
    }
}
