package io.pgsentinel.sentinel.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgsentinel.testkit.InJvmZkEnsemble;
import io.pgsentinel.sentinel.demo.Http;
import io.pgsentinel.sentinel.demo.LocalSentinel;
import io.pgsentinel.shared.json.DocumentException;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.shared.topology.TopologyCodec;
import io.pgsentinel.shared.zk.ClusterPaths;
import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.ChildJvm;
import io.pgsentinel.localcluster.Hosts;
import io.pgsentinel.localcluster.KitRun;
import io.pgsentinel.localcluster.PgCluster;
import io.pgsentinel.localcluster.PgNode;
import io.pgsentinel.localcluster.Ports;
import io.pgsentinel.testkit.TcpProxy;
import io.pgsentinel.localcluster.ZkEnsemble;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.apache.curator.framework.CuratorFramework;

/**
 * The whole product for real: a PostgreSQL primary and replicas (test kit), a 3-server
 * ZooKeeper ensemble, and one sentinel per node as its own process (so a test can kill -9 or
 * SIGSTOP it like a host). Each sentinel gets a generated YAML configuration.
 */
public final class SentinelCluster implements AutoCloseable {
    private static final AtomicInteger CLUSTERS = new AtomicInteger();
    public static final Duration WAIT = Duration.ofSeconds(60);

    private final PgCluster pg;
    private final ZkEnsemble zk;
    private final CuratorFramework client;
    private final ClusterPaths paths;
    private final Path configDir;
    private final Map<String, LocalSentinel> sentinels = new LinkedHashMap<>();
    private final UnaryOperator<String> configTweak;
    private final List<TcpProxy> proxies = new ArrayList<>();

    private SentinelCluster(PgCluster pg, ZkEnsemble zk, UnaryOperator<String> configTweak) {
        this.configTweak = configTweak;
        this.pg = pg;
        this.zk = zk;
        this.client = zk.newClient(Duration.ofSeconds(10));
        this.paths = new ClusterPaths("/pg-sentinel", "it" + CLUSTERS.incrementAndGet());
        this.configDir = KitRun.get().newDirectory("configs");
        for (PgNode n : pg.nodes()) {
            sentinels.put(n.name(), LocalSentinel.configure(configDir, paths.cluster(), n, pg.install().binDir(),
                    zk.connectString(), configTweak));
        }
    }

    /** Starts PostgreSQL (primary + {@code replicas}), ZooKeeper and one sentinel per node, and waits for all to serve. */
    public static SentinelCluster start(int replicas) {
        return start(replicas, UnaryOperator.identity());
    }

    /** As {@link #start(int)}, with each generated configuration passed through {@code tweak} first. */
    public static SentinelCluster start(int replicas, UnaryOperator<String> tweak) {
        return start(PgCluster.builder().replicas(replicas), tweak);
    }

    /** As {@link #start(int, UnaryOperator)}, with PostgreSQL set up by {@code servers} (settings, replicas). */
    public static SentinelCluster start(PgCluster.Builder servers, UnaryOperator<String> tweak) {
        PgCluster pg = servers.start();
        ZkEnsemble zk;
        try {
            zk = InJvmZkEnsemble.start(3);
        } catch (RuntimeException e) {
            pg.close();
            throw e;
        }
        return started(new SentinelCluster(pg, zk, tweak));
    }

    /**
     * The same on real hosts: a PostgreSQL server and its sentinel on each of {@code dbHosts} (the
     * first the primary; nodes are named after their hosts), a ZooKeeper server on each of
     * {@code zkHosts}, every process on its host's address, as an operator configures machines.
     */
    public static SentinelCluster onHosts(Hosts hosts, List<String> dbHosts, List<String> zkHosts,
                                          UnaryOperator<String> tweak) {
        PgCluster pg = PgCluster.builder().onHosts(hosts, dbHosts).start();
        ZkEnsemble zk;
        try {
            zk = ZkEnsemble.onHosts(hosts, zkHosts);
        } catch (RuntimeException e) {
            pg.close();
            throw e;
        }
        return started(new SentinelCluster(pg, zk, tweak));
    }

    private static SentinelCluster started(SentinelCluster c) {
        try {
            c.sentinels.values().forEach(LocalSentinel::start);
            c.sentinels.values().forEach(s -> s.awaitUp(WAIT));
            return c;
        } catch (RuntimeException | AssertionError e) {
            c.close();
            throw e;
        }
    }

    /** Configures and starts a sentinel for {@code node} (a node added to the cluster after it started). */
    public LocalSentinel addSentinel(PgNode node) {
        LocalSentinel s = LocalSentinel.configure(configDir, paths.cluster(), node, pg.install().binDir(),
                zk.connectString(), configTweak);
        sentinels.put(node.name(), s);
        s.start();
        s.awaitUp(WAIT);
        return s;
    }

    /** Rewrites one sentinel's configuration (it takes effect at its next start). */
    public void rewriteConfig(String id, UnaryOperator<String> change) {
        sentinels.get(id).rewriteConfig(change);
    }

    public PgCluster pg() {
        return pg;
    }

    public ZkEnsemble zk() {
        return zk;
    }

    public CuratorFramework zkClient() {
        return client;
    }

    public ClusterPaths paths() {
        return paths;
    }

    /** HAProxy {@code server} lines, one per node: its PostgreSQL, checked on its sentinel's API port (docs/haproxy.md). */
    public String haproxyServers() {
        StringBuilder servers = new StringBuilder();
        for (LocalSentinel s : sentinels()) {
            int api = Integer.parseInt(s.url("").replaceAll(".*:", ""));
            servers.append("    server ").append(s.id()).append(" 127.0.0.1:").append(s.node().port())
                    .append(" check port ").append(api).append('\n');
        }
        return servers.toString();
    }

    public LocalSentinel sentinel(String id) {
        return sentinels.get(id);
    }

    public List<LocalSentinel> sentinels() {
        return new ArrayList<>(sentinels.values());
    }

    /**
     * Restarts {@code id}'s sentinel reaching every ZooKeeper server through a proxy of its own,
     * so that a test can cut it off alone, blackhole or slow its link; returns the proxies
     * (closed with the cluster).
     */
    public List<TcpProxy> proxyZooKeeper(String id) {
        List<TcpProxy> mine = new ArrayList<>();
        for (int i = 0; i < zk.size(); i++) {
            mine.add(new TcpProxy("127.0.0.1", zk.clientPort(i)));
        }
        proxies.addAll(mine);
        String connect = mine.stream().map(TcpProxy::address).collect(java.util.stream.Collectors.joining(","));
        LocalSentinel s = sentinels.get(id);
        s.process().kill9();
        s.rewriteConfig(y -> y.replace(zk.connectString(), connect));
        s.start();
        s.awaitUp(WAIT);
        return mine;
    }

    /** The topology node as it is in ZooKeeper now, or null. */
    public Topology topologyInZooKeeper() {
        try {
            if (client.checkExists().forPath(paths.topology()) == null) {
                return null;
            }
            return TopologyCodec.decode(client.getData().forPath(paths.topology()));
        } catch (DocumentException e) {
            throw new AssertionError("malformed topology in ZooKeeper: " + e.getMessage(), e);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Waits until the topology in ZooKeeper satisfies {@code condition}, and returns it. */
    public Topology awaitTopology(String what, java.util.function.Predicate<Topology> condition) {
        return Await.value(what, WAIT, Duration.ofMillis(100), () -> {
            Topology t = topologyInZooKeeper();
            return t != null && condition.test(t) ? t : null;
        });
    }

    /** The sentinel that leads now, by the ZooKeeper topology's leader field. */
    public LocalSentinel leader() {
        Topology t = topologyInZooKeeper();
        return t == null || t.leader() == null ? null : sentinels.get(t.leader());
    }

    /** {@code GET /cluster} of one live sentinel. */
    public JsonNode cluster(LocalSentinel via) {
        Http.Reply r = Http.get(via.url("/cluster"));
        if (r.status() != 200) {
            throw new AssertionError("/cluster answered " + r.status() + ": " + r.body());
        }
        return r.json();
    }

    /** Keeps each sentinel's log under target/sentinel-logs/ for reading after a failure. */
    private void keepLog(LocalSentinel s) {
        try {
            Path dir = Path.of("target", "sentinel-logs", paths.cluster());
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(s.id() + ".log"), s.log(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            // only a debugging aid
        }
    }

    /** And each server's log (the kit's and the sentinel's pg_ctl write the same file). */
    private void keepServerLogs() {
        Path dir = Path.of("target", "sentinel-logs", paths.cluster());
        for (PgNode n : pg.nodes()) {
            try {
                Files.createDirectories(dir);
                Files.copy(n.logFile(), dir.resolve(n.name() + "-postgres.log"), StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                // only a debugging aid
            }
        }
    }

    @Override
    public void close() {
        proxies.forEach(TcpProxy::close);
        for (LocalSentinel s : sentinels.values()) {
            s.close();
            keepLog(s);
        }
        keepServerLogs();
        client.close();
        zk.close();
        pg.close();
    }
}
