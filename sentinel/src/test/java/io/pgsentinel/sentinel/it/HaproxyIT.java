package io.pgsentinel.sentinel.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.Ports;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A real HAProxy (Debian's package, installed by .ci/run) with the configuration of
 * docs/haproxy.md (read from the file) in front of a test cluster: the write port follows the primary through a
 * failover, the read port reaches replicas only, the synchronous port ({@code GET /sync}) the
 * synchronous standby only.
 */
class HaproxyIT {

    private record Landing(int port, boolean inRecovery) {
    }

    private static Landing through(int proxyPort) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + proxyPort
                + "/postgres?user=postgres&connectTimeout=2&socketTimeout=2");
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT inet_server_port(), pg_is_in_recovery()")) {
            rs.next();
            return new Landing(rs.getInt(1), rs.getBoolean(2));
        }
    }

    @Test
    void theWritePortFollowsTheFailoverAndTheReadPortReachesReplicasOnly() throws Exception {
        assertThat(HaproxyProcess.installed()).as("HAProxy is installed (.ci/run installs Debian's haproxy)").isTrue();
        // synchronous quorum mode with node3 tagged nosync: node2 alone is a synchronous standby
        try (SentinelCluster cluster = SentinelCluster.start(2, y -> (y.contains("  id: node3\n")
                ? y.replaceFirst("node:\n", "node:\n  tags:\n    nosync: true\n") : y)
                + "replication:\n  synchronous: quorum\n")) {
            cluster.awaitTopology("healthy", t -> t.replicas().stream().allMatch(r -> r.state().json().equals("streaming"))
                    && t.synchronous() != null && t.synchronous().standbys().equals(java.util.List.of("node2")));
            int write = Ports.free();
            int read = Ports.free();
            int sync = Ports.free();
            String config = HaproxyProcess.documented(
                    Map.of("postgres_write", write, "postgres_read", read, "postgres_sync", sync), cluster.haproxyServers());
            try (HaproxyProcess proxy = new HaproxyProcess(config)) {
                int primaryPort = cluster.pg().primary().port();
                Landing w = Await.value("the write port to reach the primary", SentinelCluster.WAIT, () -> through(write));
                assertThat(w).isEqualTo(new Landing(primaryPort, false));
                // HAProxy starts with every server up until its checks say otherwise: let them settle
                Await.until("the read port to leave the primary out", SentinelCluster.WAIT, () -> {
                    for (int i = 0; i < 6; i++) {
                        if (!through(read).inRecovery()) {
                            return false;
                        }
                    }
                    return true;
                });
                Set<Integer> readPorts = new HashSet<>();
                for (int i = 0; i < 20; i++) {
                    Landing r = through(read);
                    assertThat(r.inRecovery()).as("a read landed on a replica").isTrue();
                    readPorts.add(r.port());
                }
                assertThat(readPorts).hasSize(2).doesNotContain(primaryPort);
                int node2Port = cluster.pg().node("node2").port();
                Await.until("the synchronous port to reach node2 only", SentinelCluster.WAIT, () -> {
                    for (int i = 0; i < 6; i++) {
                        if (through(sync).port() != node2Port) {
                            return false;
                        }
                    }
                    return true;
                });
                for (int i = 0; i < 10; i++) {
                    assertThat(through(sync)).as("a synchronous read").isEqualTo(new Landing(node2Port, true));
                }

                cluster.sentinel("node1").process().kill9();
                cluster.pg().primary().kill9();
                Landing after = Await.value("the write port to reach the new primary", SentinelCluster.WAIT, () -> {
                    Landing l = through(write);
                    return !l.inRecovery() && l.port() != primaryPort ? l : null;
                });
                String newPrimary = cluster.topologyInZooKeeper().primary().id();
                assertThat(newPrimary).as("the synchronous standby is promoted").isEqualTo("node2");
                assertThat(after.port()).isEqualTo(cluster.pg().node(newPrimary).port());
                Await.until("reads to reach the remaining replica only", SentinelCluster.WAIT, () -> {
                    Landing r = through(read);
                    return r.inRecovery() && r.port() != after.port();
                });
            }
        }
    }
}
