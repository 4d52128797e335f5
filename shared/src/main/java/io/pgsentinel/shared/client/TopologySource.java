package io.pgsentinel.shared.client;

import io.pgsentinel.shared.topology.Topology;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeoutException;

/**
 * Where an application learns the cluster's topology: from ZooKeeper
 * ({@link ZooKeeperTopologyWatcher}) or by polling sentinels over HTTP
 * ({@link HttpTopologyPoller}). Both apply the same rules: a malformed document is logged and
 * ignored, a document with a lower epoch than one already seen is rejected, and the last good
 * topology stays while the source is cut off.
 */
public interface TopologySource extends AutoCloseable {

    /** The latest good topology, or empty before the first one arrived. */
    Optional<Topology> current();

    /** Waits up to {@code timeout} for a first topology. */
    Topology awaitFirst(Duration timeout) throws TimeoutException, InterruptedException;

    /** Calls {@code listener} on every accepted change (and at once with the current one, if any). */
    void addListener(TopologyListener listener);

    /** Calls {@code listener} when the primary changes (and at once with the current one, if any). */
    void addPrimaryListener(TopologyListener listener);

    void removeListener(TopologyListener listener);

    /** How many documents were rejected so far (malformed, older epoch, other cluster...). */
    long rejectedCount();

    @Override
    void close();
}
