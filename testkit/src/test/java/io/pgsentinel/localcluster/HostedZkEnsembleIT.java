package io.pgsentinel.localcluster;

import io.pgsentinel.testkit.Stats;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Three ZooKeeper server processes, each on its own host, reached by the test through the observer. */
class HostedZkEnsembleIT {
    private static Hosts hosts;
    private static ZkEnsemble zk;

    @BeforeAll
    static void start() {
        assumeTrue(Hosts.available(), Hosts.unavailableReason());
        hosts = Hosts.create("zk1", "zk2", "zk3");
        long t0 = System.nanoTime();
        zk = ZkEnsemble.onHosts(hosts, List.of("zk1", "zk2", "zk3"));
        Stats.record("hosts.txt", "ZooKeeper on 3 hosts, to the first successful write: "
                + (System.nanoTime() - t0) / 1_000_000 + " ms");
    }

    @AfterAll
    static void stop() {
        if (zk != null) {
            zk.close();
        }
        if (hosts != null) {
            hosts.close();
        }
    }

    @Test
    void theConnectStringNamesTheHostAddressesAndTheTestWritesThroughTheObserver() throws Exception {
        assertThat(zk.size()).isEqualTo(3);
        assertThat(zk.connectString()).isEqualTo(hosts.address("zk1") + ":2181," + hosts.address("zk2") + ":2181,"
                + hosts.address("zk3") + ":2181");
        assertThat(zk.clientPort(0)).isEqualTo(2181);
        assertThat(zk.host(1)).isEqualTo(hosts.host("zk2"));
        assertThat(zk.testConnectString()).matches("127\\.0\\.0\\.1:\\d+,127\\.0\\.0\\.1:\\d+,127\\.0\\.0\\.1:\\d+");
        try (CuratorFramework client = zk.newClient(Duration.ofSeconds(4))) {
            client.create().orSetData().forPath("/hello", "1".getBytes(StandardCharsets.UTF_8));
            assertThat(new String(client.getData().forPath("/hello"), StandardCharsets.UTF_8)).isEqualTo("1");
        }
    }

    @Test
    void killingOneServerKeepsWritesWorking() throws Exception {
        HostedZkEnsemble hosted = (HostedZkEnsemble) zk;
        long pid = hosted.pid(0);
        try (CuratorFramework client = zk.newClient(Duration.ofSeconds(4))) {
            zk.kill(0);
            assertThat(Processes.isAlive(pid)).isFalse();
            Await.until("a write with one server down", Duration.ofSeconds(30), () -> {
                client.create().orSetData().forPath("/after-kill", "2".getBytes(StandardCharsets.UTF_8));
                return true;
            });
            zk.restart(0);
            assertThat(Netns.pids(hosts.namespace("zk1"))).contains(hosted.pid(0));
            zk.awaitWritable(Duration.ofSeconds(30));
        }
    }

    @Test
    void losingTheQuorumStopsWritesAndRestoringItBringsThemBack() throws Exception {
        CuratorFramework client = CuratorFrameworkFactory.builder().connectString(zk.testConnectString()).ensembleTracker(false)
                .sessionTimeoutMs(20_000).connectionTimeoutMs(2000).retryPolicy(new RetryNTimes(1, 100)).build();
        client.start();
        try {
            assertThat(client.blockUntilConnected(20, TimeUnit.SECONDS)).isTrue();
            client.create().orSetData().forPath("/quorum", new byte[0]);
            zk.loseQuorum();
            assertThatThrownBy(() -> client.setData().forPath("/quorum", "x".getBytes(StandardCharsets.UTF_8)))
                    .isInstanceOf(Exception.class);
            zk.restoreAll();
            Await.until("a write after the quorum is back", Duration.ofSeconds(30), () -> {
                client.setData().forPath("/quorum", "y".getBytes(StandardCharsets.UTF_8));
                return true;
            });
        } finally {
            client.close();
        }
    }

    @Test
    void anIsolatedServerLeavesAWritableMajorityAndASessionCanBeExpired() throws Exception {
        Fault fault = hosts.isolate("zk3");
        try (CuratorFramework client = zk.newClient(Duration.ofSeconds(4));
             CuratorFramework observer = zk.newClient(Duration.ofSeconds(4))) {
            zk.awaitWritable(Duration.ofSeconds(30));
            client.create().withMode(CreateMode.EPHEMERAL).forPath("/ephemeral");
            zk.expireSession(client);
            Await.until("the ephemeral node to go", Duration.ofSeconds(20),
                    () -> observer.checkExists().forPath("/ephemeral") == null);
        } finally {
            fault.heal();
        }
    }
}
