package io.pgsentinel.sentinel.decision;

import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.shared.topology.Topology;

/**
 * What a sentinel knows about its own server and its standing, for {@link LocalDecider}.
 *
 * @param id                 this node's id
 * @param zkReady            connected to ZooKeeper with a complete copy of the cluster's nodes
 * @param local              the latest probe of the server
 * @param processAlive       a postmaster process exists (it may be frozen and not answer)
 * @param topology           the published topology, or null
 * @param fencedByLeader     {@code fence/<id>} exists
 * @param selfFenced         this sentinel fenced its server on losing ZooKeeper and has not yet
 *                           confirmed its standing
 * @param standbySignal      the data directory holds standby.signal
 * @param rejoinManual       {@code rejoin: manual}
 * @param forkLsn            where the published primary's timeline forked off, -1 when unknown
 * @param repointedTo        the node this server was last re-pointed to, "" when none
 * @param notStreamingMillis how long since the re-point without streaming
 * @param rewindFailed       the last rewind failed (next: a fresh clone)
 * @param primaryReachable   this sentinel's last probe reached the published primary's server
 * @param dataDirectoryEmpty the data directory is certainly absent or empty: a new node
 * @param reinitRequested    an operator asked for a fresh clone of this node ({@code reinit/<id>})
 * @param bootstrapClaim     with {@code bootstrap.method: initdb}, the node that claimed the creation of
 *                           the cluster ("" while none has); null with {@code attach}
 * @param walGone            a running replica that has not streamed from the reachable primary for
 *                           {@link LocalDecider#STREAM_GRACE_MILLIS}, and the WAL it needs is gone
 *                           from the primary (its slot there is lost, or the segment was removed)
 *                           with no restore_command to fetch it: only a fresh clone brings it back
 * @param replicateFrom      the replica this one cascades from while the topology shows it streaming
 *                           (tag {@code replicatefrom}), "" to follow the primary
 */
public record LocalSnapshot(String id, boolean zkReady, MemberReport local, boolean processAlive, Topology topology,
                            boolean fencedByLeader, boolean selfFenced, boolean standbySignal, boolean rejoinManual,
                            long forkLsn, String repointedTo, long notStreamingMillis, boolean rewindFailed,
                            boolean primaryReachable, boolean dataDirectoryEmpty,
                            boolean reinitRequested, String bootstrapClaim, boolean walGone, String replicateFrom) {

    public LocalSnapshot {
        replicateFrom = replicateFrom == null ? "" : replicateFrom;
    }

    /** Without the WAL check (it is made only for a replica that does not stream). */
    public LocalSnapshot(String id, boolean zkReady, MemberReport local, boolean processAlive, Topology topology,
                         boolean fencedByLeader, boolean selfFenced, boolean standbySignal, boolean rejoinManual,
                         long forkLsn, String repointedTo, long notStreamingMillis, boolean rewindFailed,
                         boolean primaryReachable, boolean dataDirectoryEmpty, boolean reinitRequested,
                         String bootstrapClaim) {
        this(id, zkReady, local, processAlive, topology, fencedByLeader, selfFenced, standbySignal, rejoinManual, forkLsn,
                repointedTo, notStreamingMillis, rewindFailed, primaryReachable, dataDirectoryEmpty, reinitRequested,
                bootstrapClaim, false, "");
    }

    /** The same snapshot for another node id (tests and tools). */
    public LocalSnapshot withId(String otherId) {
        return copy(otherId, dataDirectoryEmpty, reinitRequested, bootstrapClaim, walGone, replicateFrom);
    }

    /** The same snapshot with an empty (or absent) data directory. */
    public LocalSnapshot withEmptyDataDirectory() {
        return copy(id, true, reinitRequested, bootstrapClaim, walGone, replicateFrom);
    }

    /** The same snapshot with a reinit requested. */
    public LocalSnapshot withReinitRequested() {
        return copy(id, dataDirectoryEmpty, true, bootstrapClaim, walGone, replicateFrom);
    }

    /** The same snapshot with {@code bootstrap.method: initdb} and this claim ("" for none yet). */
    public LocalSnapshot withBootstrapClaim(String claim) {
        return copy(id, dataDirectoryEmpty, reinitRequested, claim, walGone, replicateFrom);
    }

    /** The same snapshot with the WAL it needs gone from the primary. */
    public LocalSnapshot withWalGone() {
        return copy(id, dataDirectoryEmpty, reinitRequested, bootstrapClaim, true, replicateFrom);
    }

    /** The same snapshot tagged {@code replicatefrom: node}. */
    public LocalSnapshot withReplicateFrom(String node) {
        return copy(id, dataDirectoryEmpty, reinitRequested, bootstrapClaim, walGone, node);
    }

    /** This snapshot with the fields the {@code with...} methods set replaced, every other one kept. */
    private LocalSnapshot copy(String newId, boolean newEmpty, boolean newReinit, String newClaim, boolean newWalGone,
                               String newReplicateFrom) {
        return new LocalSnapshot(newId, zkReady, local, processAlive, topology, fencedByLeader, selfFenced, standbySignal,
                rejoinManual, forkLsn, repointedTo, notStreamingMillis, rewindFailed, primaryReachable, newEmpty,
                newReinit, newClaim, newWalGone, newReplicateFrom);
    }
}
