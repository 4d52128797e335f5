package io.pgsentinel.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.ZkEnsemble;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class ZkEnsembleIT {
    private static final Logger LOG = LoggerFactory.getLogger(ZkEnsembleIT.class);
    private ZkEnsemble ensemble;

    @BeforeEach
    void start() {
        long t0 = System.nanoTime();
        ensemble = InJvmZkEnsemble.start(3);
        LOG.info("3-server ZooKeeper ensemble serving writes in {} ms", (System.nanoTime() - t0) / 1_000_000);
    }

    @AfterEach
    void stop() {
        ensemble.close();
    }

    @Test
    void killingOneServerKeepsReadsAndWritesWorking() throws Exception {
        try (CuratorFramework client = ensemble.newClient(Duration.ofSeconds(4))) {
            client.create().forPath("/before", "1".getBytes(StandardCharsets.UTF_8));
            ensemble.kill(0);
            Await.until("a write with one server down", Duration.ofSeconds(20), () -> {
                client.create().orSetData().forPath("/after", "2".getBytes(StandardCharsets.UTF_8));
                return true;
            });
            assertThat(new String(client.getData().forPath("/before"), StandardCharsets.UTF_8)).isEqualTo("1");
            assertThat(new String(client.getData().forPath("/after"), StandardCharsets.UTF_8)).isEqualTo("2");
            ensemble.restart(0);
            ensemble.awaitWritable(Duration.ofSeconds(30));
        }
    }

    @Test
    void losingTheQuorumMakesWritesFailAndRestoringItMakesThemWorkAgain() throws Exception {
        CuratorFramework client = CuratorFrameworkFactory.builder().connectString(ensemble.connectString())
                .sessionTimeoutMs(20_000).connectionTimeoutMs(2000).retryPolicy(new RetryNTimes(1, 100)).build();
        client.start();
        try {
            assertThat(client.blockUntilConnected(20, TimeUnit.SECONDS)).isTrue();
            client.create().forPath("/quorum", new byte[0]);
            ensemble.loseQuorum();
            assertThatThrownBy(() -> client.setData().forPath("/quorum", "x".getBytes(StandardCharsets.UTF_8)))
                    .isInstanceOf(Exception.class);
            ensemble.restoreAll();
            Await.until("a write after the quorum is back", Duration.ofSeconds(30), () -> {
                client.setData().forPath("/quorum", "y".getBytes(StandardCharsets.UTF_8));
                return true;
            });
            assertThat(new String(client.getData().forPath("/quorum"), StandardCharsets.UTF_8)).isEqualTo("y");
        } finally {
            client.close();
        }
    }

    @Test
    void expiringAClientsSessionRemovesItsEphemeralNodesAndTheClientSeesLost() throws Exception {
        try (CuratorFramework client = ensemble.newClient(Duration.ofSeconds(4));
             CuratorFramework observer = ensemble.newClient(Duration.ofSeconds(4))) {
            BlockingQueue<ConnectionState> states = new LinkedBlockingQueue<>();
            client.getConnectionStateListenable().addListener((c, state) -> states.add(state));
            client.create().withMode(CreateMode.EPHEMERAL).forPath("/ephemeral");
            long before = client.getZookeeperClient().getZooKeeper().getSessionId();

            ensemble.expireSession(client);

            Await.until("the ephemeral node to go", Duration.ofSeconds(10),
                    () -> observer.checkExists().forPath("/ephemeral") == null);
            Await.until("the client to see LOST", Duration.ofSeconds(20), () -> states.contains(ConnectionState.LOST));
            Await.until("the client to reconnect with a new session", Duration.ofSeconds(20),
                    () -> client.getZookeeperClient().isConnected()
                            && client.getZookeeperClient().getZooKeeper().getSessionId() != before);
        }
    }
}
