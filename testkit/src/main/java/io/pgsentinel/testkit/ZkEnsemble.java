package io.pgsentinel.testkit;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryForever;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real ZooKeeper ensemble: N quorum servers in this JVM (Curator's {@link TestingCluster}),
 * on free loopback ports, with data in the {@link KitRun}. Faults: kill or restart one server,
 * lose the quorum, expire a client's session on the servers.
 */
public final class ZkEnsemble implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ZkEnsemble.class);
    /** ZooKeeper's default tick: the minimum session timeout is 2 ticks (4 s), as in production. */
    public static final int TICK_MILLIS = 2000;

    private final TestingCluster cluster;
    private final List<InstanceSpec> specs;
    private final Set<Integer> down = new HashSet<>();
    private final Set<Path> tmpFilesBefore;
    private boolean closed;

    private ZkEnsemble(TestingCluster cluster, List<InstanceSpec> specs, Set<Path> tmpFilesBefore) {
        this.cluster = cluster;
        this.specs = specs;
        this.tmpFilesBefore = tmpFilesBefore;
    }

    /** Starts {@code servers} servers and waits until the ensemble serves a write. */
    public static ZkEnsemble start(int servers) {
        return start(servers, TICK_MILLIS);
    }

    public static ZkEnsemble start(int servers, int tickMillis) {
        KitRun run = KitRun.get();
        Path dir = run.newDirectory("zk");
        List<InstanceSpec> specs = new ArrayList<>();
        for (int i = 1; i <= servers; i++) {
            File data = dir.resolve("server" + i).toFile();
            if (!data.mkdirs()) {
                throw new IllegalStateException("cannot create " + data);
            }
            specs.add(new InstanceSpec(data, Ports.free(), Ports.free(), Ports.free(), true, i, tickMillis, -1,
                    null, Ports.LOOPBACK));
        }
        Set<Path> before = zookeeperTmpFiles();
        TestingCluster cluster = new TestingCluster(specs);
        ZkEnsemble ensemble = new ZkEnsemble(cluster, specs, before);
        run.register(ensemble);
        try {
            cluster.start();
            ensemble.awaitWritable(Duration.ofSeconds(30));
            return ensemble;
        } catch (Exception e) {
            ensemble.close();
            throw new IllegalStateException("ZooKeeper ensemble did not start", e);
        }
    }

    /** host:port of every server, comma-separated. */
    public String connectString() {
        return specs.stream().map(InstanceSpec::getConnectString).collect(Collectors.joining(","));
    }

    /** host:port of server {@code index} (0-based) only: a client pinned to one server. */
    public String connectString(int index) {
        return specs.get(index).getConnectString();
    }

    public int size() {
        return specs.size();
    }

    public int clientPort(int index) {
        return specs.get(index).getPort();
    }

    /** Stops server {@code index} (0-based) abruptly. */
    public synchronized void kill(int index) {
        try {
            if (!cluster.killServer(specs.get(index))) {
                throw new IllegalStateException("server " + index + " was not running");
            }
            down.add(index);
        } catch (Exception e) {
            throw new IllegalStateException("cannot kill ZooKeeper server " + index, e);
        }
    }

    public synchronized void restart(int index) {
        try {
            if (!cluster.restartServer(specs.get(index))) {
                throw new IllegalStateException("server " + index + " could not be restarted");
            }
            down.remove(index);
        } catch (Exception e) {
            throw new IllegalStateException("cannot restart ZooKeeper server " + index, e);
        }
    }

    /** Kills a majority of the servers (all but the last one): no quorum, no writes. */
    public synchronized void loseQuorum() {
        for (int i = 0; i < specs.size() / 2 + 1; i++) {
            if (!down.contains(i)) {
                kill(i);
            }
        }
    }

    /** Restarts every killed server and waits until writes succeed again. */
    public synchronized void restoreAll() {
        for (int i : List.copyOf(down)) {
            restart(i);
        }
        awaitWritable(Duration.ofSeconds(60));
    }

    /** A started Curator client with the given session timeout, connected. */
    public CuratorFramework newClient(Duration sessionTimeout) {
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(connectString())
                .sessionTimeoutMs((int) sessionTimeout.toMillis())
                .connectionTimeoutMs(5000)
                .retryPolicy(new RetryForever(100))
                .build();
        client.start();
        try {
            if (!client.blockUntilConnected(30, TimeUnit.SECONDS)) {
                client.close();
                throw new IllegalStateException("client did not connect to " + connectString());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return client;
    }

    /**
     * Expires the session of {@code client} on the servers, as a long partition would: a second
     * connection with the same session id and password closes the session, its ephemeral nodes
     * go, and the client sees Expired when it next talks to the ensemble.
     */
    public void expireSession(CuratorFramework client) {
        try {
            ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
            expireSession(zk.getSessionId(), zk.getSessionPasswd());
        } catch (Exception e) {
            throw new IllegalStateException("cannot expire the session", e);
        }
    }

    public void expireSession(long sessionId, byte[] password) throws IOException, InterruptedException {
        CountDownLatch connected = new CountDownLatch(1);
        Watcher watcher = event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        };
        ZooKeeper twin = new ZooKeeper(connectString(), 10_000, watcher, sessionId, password);
        try {
            if (!connected.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("could not attach to session 0x" + Long.toHexString(sessionId));
            }
        } finally {
            twin.close();
        }
    }

    /** Waits until a create and delete succeed on the ensemble. */
    public void awaitWritable(Duration timeout) {
        Await.until("ZooKeeper ensemble " + connectString() + " to accept writes", timeout, Duration.ofMillis(100),
                () -> {
                    try (ZooKeeperProbe probe = new ZooKeeperProbe(connectString())) {
                        return probe.canWrite(Duration.ofSeconds(3));
                    }
                });
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            cluster.close();
        } catch (IOException e) {
            LOG.warn("kit: closing the ZooKeeper ensemble: {}", e.toString());
        }
        // TestingCluster leaves its configuration files in the temp directory
        for (Path leftover : zookeeperTmpFiles()) {
            if (!tmpFilesBefore.contains(leftover)) {
                try {
                    Files.deleteIfExists(leftover);
                } catch (IOException ignored) {
                    // another JVM's file, or already gone
                }
            }
        }
        KitRun.get().unregister(this);
    }

    private static Set<Path> zookeeperTmpFiles() {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        try (Stream<Path> files = Files.list(tmp)) {
            return files.filter(p -> p.getFileName().toString().startsWith("zookeeper.configuration"))
                    .collect(Collectors.toSet());
        } catch (IOException e) {
            return Set.of();
        }
    }
}
