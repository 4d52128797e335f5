package io.pgsentinel.sentinel.it;

import io.pgsentinel.shared.topology.Topology;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;

/** What the cluster tests share: the cluster, the write sampler, and their cleanup. */
abstract class ClusterTest {
    SentinelCluster cluster;
    WriteSampler sampler;

    @AfterEach
    void stopCluster() {
        if (sampler != null) {
            sampler.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /** "node2=streaming,node3=down": the replicas' states, in id order. */
    static String states(Topology t) {
        return t.replicas().stream().map(r -> r.id() + "=" + r.state().json()).collect(Collectors.joining(","));
    }
}
