package io.pgsentinel.shared.client;

import io.pgsentinel.shared.topology.Topology;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeoutException;

/** What every topology source has in common: a {@link TopologyTracker} behind the public API. */
abstract sealed class TrackedTopologySource implements TopologySource
        permits ZooKeeperTopologyWatcher, HttpTopologyPoller {
    final TopologyTracker tracker;

    TrackedTopologySource(String cluster) {
        this.tracker = new TopologyTracker(cluster);
    }

    @Override
    public Optional<Topology> current() {
        return tracker.current();
    }

    @Override
    public Topology awaitFirst(Duration timeout) throws TimeoutException, InterruptedException {
        return tracker.awaitFirst(timeout);
    }

    @Override
    public void addListener(TopologyListener listener) {
        tracker.addListener(listener);
    }

    @Override
    public void addPrimaryListener(TopologyListener listener) {
        tracker.addPrimaryListener(listener);
    }

    @Override
    public void removeListener(TopologyListener listener) {
        tracker.removeListener(listener);
    }

    @Override
    public long rejectedCount() {
        return tracker.rejectedCount();
    }
}
