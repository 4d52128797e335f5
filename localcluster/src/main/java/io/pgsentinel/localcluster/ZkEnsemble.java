package io.pgsentinel.localcluster;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryForever;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;

/**
 * A real ZooKeeper ensemble with its faults: kill or restart one server, lose the quorum,
 * expire a client's session on the servers. Two kinds:
 * <ul>
 *   <li>{@link #start(int)}: N quorum servers in this JVM (Curator's TestingCluster) on free
 *       loopback ports;</li>
 *   <li>{@link #onHosts}: each server its own process (QuorumPeerMain) on a host of
 *       {@link Hosts}, at port 2181 of the host's address, so network faults cut it for real.</li>
 * </ul>
 * {@link #connectString()} is what the processes of the test cluster use (their configuration);
 * {@link #testConnectString()}, {@link #newClient} and the other helpers are how the test JVM
 * connects (the same string on loopback; forwarders through the observer on hosts).
 */
public abstract class ZkEnsemble implements AutoCloseable {
    /** ZooKeeper's default tick: the minimum session timeout is 2 ticks (4 s), as in production. */
    public static final int TICK_MILLIS = 2000;

    /** Servers (0-based) killed and not restarted. */
    protected final Set<Integer> down = new HashSet<>();

    protected ZkEnsemble() {
    }

    /**
     * Starts one ZooKeeper server process on each of {@code hostNames} (server {@code i + 1} on
     * the i-th) and waits until the ensemble serves a write.
     */
    public static ZkEnsemble onHosts(Hosts hosts, List<String> hostNames) {
        return HostedZkEnsemble.create(hosts, hostNames, TICK_MILLIS);
    }

    /** host:port of every server, comma-separated, as the processes of the test cluster reach them. */
    public String connectString() {
        return IntStream.range(0, size()).mapToObj(this::connectString).collect(Collectors.joining(","));
    }

    /** host:port of server {@code index} (0-based) only: a client pinned to one server. */
    public abstract String connectString(int index);

    /** The connect string the test JVM uses: equal to {@link #connectString()} on loopback. */
    public String testConnectString() {
        return IntStream.range(0, size()).mapToObj(i -> reach(i).toString()).collect(Collectors.joining(","));
    }

    /** Where the test JVM reaches server {@code index}'s client port. */
    public abstract Endpoint reach(int index);

    public abstract int size();

    /** The client port of server {@code index} on its host (free loopback ports, or 2181 on hosts). */
    public abstract int clientPort(int index);

    /** Where server {@code index} runs: {@link Host#LOOPBACK}, or its host (to cut it off). */
    public abstract Host host(int index);

    /** Stops server {@code index} (0-based) abruptly (in-JVM: closed; on a host: kill -9). */
    public abstract void kill(int index);

    /** Starts server {@code index} again, with its data. */
    public abstract void restart(int index);

    /** Kills a majority of the servers (all but the last one): no quorum, no writes. */
    public synchronized void loseQuorum() {
        for (int i = 0; i < size() / 2 + 1; i++) {
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

    /** A started Curator client of the test JVM with the given session timeout, connected. */
    public CuratorFramework newClient(Duration sessionTimeout) {
        String connect = testConnectString();
        // no ensemble tracker: on hosts the servers' own addresses (from /zookeeper/config) are not
        // where the test JVM reaches them
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(connect)
                .ensembleTracker(false)
                .sessionTimeoutMs((int) sessionTimeout.toMillis())
                .connectionTimeoutMs(5000)
                .retryPolicy(new RetryForever(100))
                .build();
        client.start();
        try {
            if (!client.blockUntilConnected(30, TimeUnit.SECONDS)) {
                client.close();
                throw new IllegalStateException("client did not connect to " + connect);
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

    /**
     * Attaches to the session through one server at a time, each given a few seconds, and only
     * one that serves writes: a server cut off by a fault (reached through a forwarder that
     * accepts and then hears nothing) would hold a client given every server for most of its
     * session timeout before it tried another.
     */
    public void expireSession(long sessionId, byte[] password) throws IOException, InterruptedException {
        List<Integer> servers = new ArrayList<>(IntStream.range(0, size()).boxed().filter(i -> !down.contains(i)).toList());
        Collections.shuffle(servers);
        for (int round = 0; round < 3; round++) {
            for (int index : servers) {
                // only through a server that is part of a working quorum now: an isolated server may
                // still accept the twin for a moment (a leader that has not yet noticed its loss), and
                // the twin's close would then never commit
                try (ZooKeeperProbe probe = new ZooKeeperProbe(reach(index).toString())) {
                    if (!probe.canWrite(Duration.ofSeconds(3))) {
                        continue;
                    }
                }
                if (attachAndClose(reach(index).toString(), sessionId, password)) {
                    return;
                }
            }
        }
        throw new IllegalStateException("could not attach to session 0x" + Long.toHexString(sessionId) + " through any of "
                + testConnectString());
    }

    private static boolean attachAndClose(String server, long sessionId, byte[] password)
            throws IOException, InterruptedException {
        CountDownLatch connected = new CountDownLatch(1);
        Watcher watcher = event -> {
            // Expired: an earlier twin attached just after its wait and closed the session: done too
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected
                    || event.getState() == Watcher.Event.KeeperState.Expired) {
                connected.countDown();
            }
        };
        ZooKeeper twin = new ZooKeeper(server, 10_000, watcher, sessionId, password);
        try {
            return connected.await(4, TimeUnit.SECONDS);
        } finally {
            twin.close(); // once attached, closing the twin closes the session
        }
    }

    /** Waits until a create and delete succeed on the ensemble. */
    public void awaitWritable(Duration timeout) {
        String connect = testConnectString();
        Await.until("ZooKeeper ensemble " + connectString() + " to accept writes", timeout, Duration.ofMillis(100),
                () -> {
                    try (ZooKeeperProbe probe = new ZooKeeperProbe(connect)) {
                        return probe.canWrite(Duration.ofSeconds(3));
                    }
                });
    }

    /** Stops every server and removes what it wrote. */
    @Override
    public abstract void close();
}
