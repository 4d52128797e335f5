package io.pgsentinel.shared.client;

import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.shared.topology.TopologyCodec;
import io.pgsentinel.shared.zk.ClusterPaths;
import org.apache.curator.framework.CuratorFramework;

/** Writes topology documents the way a leader sentinel would, for client tests. */
final class TestPublisher {
    private final CuratorFramework client;
    private final ClusterPaths paths;

    TestPublisher(CuratorFramework client, ClusterPaths paths) {
        this.client = client;
        this.paths = paths;
    }

    void publish(Topology topology) throws Exception {
        writeRaw(TopologyCodec.encode(topology));
    }

    void writeRaw(byte[] bytes) throws Exception {
        if (client.checkExists().forPath(paths.topology()) == null) {
            client.create().creatingParentsIfNeeded().forPath(paths.topology(), bytes);
        } else {
            client.setData().forPath(paths.topology(), bytes);
        }
    }
}
