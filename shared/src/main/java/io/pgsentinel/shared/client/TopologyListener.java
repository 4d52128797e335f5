package io.pgsentinel.shared.client;

import io.pgsentinel.shared.topology.Topology;

/** Told of each accepted topology. Called on the source's own thread: return quickly. */
@FunctionalInterface
public interface TopologyListener {
    /**
     * @param previous the topology accepted before, or null for the first one
     * @param current  the topology just accepted
     */
    void changed(Topology previous, Topology current);
}
