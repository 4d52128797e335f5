package io.pgsentinel.sentinel.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsentinel.localcluster.PgCluster;
import io.pgsentinel.localcluster.PgNode;
import io.pgsentinel.shared.topology.Topology;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code bootstrap.method: initdb} on real processes: three sentinels with three empty data
 * directories make one cluster (one initdb, never two), the others join as clones, and the
 * cluster fails over like any other.
 */
class BootstrapIT extends ClusterTest {

    @Test
    void threeEmptyDataDirectoriesBecomeOneClusterThatFailsOver() throws Exception {
        cluster = SentinelCluster.start(PgCluster.builder().replicas(2).empty(), y -> y + "bootstrap:\n  method: initdb\n"
                + "  parameters:\n    unix_socket_directories: \"''\"\n    shared_buffers: 16MB\n"
                + "replication:\n  user: replicator\n");
        Topology t = cluster.awaitTopology("a cluster made from nothing, every replica streaming", x -> x.epoch() == 1
                && x.replicas().size() == 2 && x.replicas().stream().allMatch(r -> r.state().json().equals("streaming")));
        String creator = t.primary().id();
        PgNode primary = cluster.pg().node(creator);
        List<PgNode> others = cluster.pg().nodes().stream().filter(n -> !n.name().equals(creator)).toList();

        // one initdb: the same system identifier everywhere, data checksums on, the settings applied
        String system = primary.query("SELECT system_identifier FROM pg_control_system()");
        for (PgNode n : others) {
            assertThat(n.query("SELECT system_identifier FROM pg_control_system()")).isEqualTo(system);
            assertThat(cluster.sentinel(n.name()).log()).contains("joining the cluster as a clone of " + creator)
                    .doesNotContain("created the cluster");
        }
        assertThat(cluster.sentinel(creator).log()).contains("created the cluster (initdb --data-checksums)");
        assertThat(primary.query("SHOW data_checksums")).isEqualTo("on");
        assertThat(primary.query("SHOW shared_buffers")).isEqualTo("16MB");
        assertThat(primary.query("SELECT rolreplication FROM pg_roles WHERE rolname = 'replicator'")).isEqualTo("t");
        assertThat(primary.query("SELECT count(*) FROM pg_stat_replication WHERE usename = 'replicator'")).isEqualTo("2");
        assertThat(new String(cluster.zkClient().getData().forPath(cluster.paths().base() + "/initialize"),
                StandardCharsets.UTF_8)).contains(creator);
        assertThat(Files.exists(primary.dataDirectory().resolveSibling(creator + ".pg-sentinel-failed-initdb"))).isFalse();

        sampler = new WriteSampler(cluster);
        primary.execute("CREATE TABLE made (id int)");
        primary.execute("INSERT INTO made SELECT generate_series(1, 100)");
        for (PgNode n : others) {
            n.awaitReplayed(primary.currentFlushLsn(), SentinelCluster.WAIT);
        }
        cluster.sentinel(creator).process().kill9();
        primary.kill9();
        Topology after = cluster.awaitTopology("a failover", x -> x.epoch() == 2);
        assertThat(after.primary().id()).isNotEqualTo(creator);
        assertThat(cluster.pg().node(after.primary().id()).query("SELECT count(*) FROM made")).isEqualTo("100");
        sampler.assertNeverTwoWritable();
    }
}
