package io.pgsentinel.sentinel.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgsentinel.sentinel.SentinelApplication;
import io.pgsentinel.shared.json.DocumentException;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.shared.topology.TopologyCodec;
import io.pgsentinel.shared.zk.ClusterPaths;
import io.pgsentinel.testkit.Await;
import io.pgsentinel.testkit.ChildJvm;
import io.pgsentinel.testkit.KitRun;
import io.pgsentinel.testkit.PgCluster;
import io.pgsentinel.testkit.PgNode;
import io.pgsentinel.testkit.Ports;
import io.pgsentinel.testkit.ZkEnsemble;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
    private final Map<String, Sentinel> sentinels = new LinkedHashMap<>();
    private final UnaryOperator<String> configTweak;

    /** One sentinel: its node, its ports, its process. */
    public final class Sentinel {
        final String id;
        final int apiPort = Ports.free();
        final int adminPort = Ports.free();
        final Path config;
        ChildJvm process;

        Sentinel(String id, Path config) {
            this.id = id;
            this.config = config;
        }

        public String id() {
            return id;
        }

        public String url(String path) {
            return "http://127.0.0.1:" + apiPort + path;
        }

        public String adminUrl(String path) {
            return "http://127.0.0.1:" + adminPort + path;
        }

        public ChildJvm process() {
            return process;
        }

        public PgNode node() {
            return pg.node(id);
        }

        public void start() {
            process = ChildJvm.builder("sentinel-" + id, SentinelApplication.class.getName())
                    .args("server", config.toString()).start();
        }

        public boolean isUp() {
            return process != null && process.isAlive() && Http.get(url("/health")).status() > 0;
        }

        public void awaitUp() {
            Await.until("sentinel " + id + " to serve HTTP", WAIT, Duration.ofMillis(100), () -> {
                if (!process.isAlive()) {
                    throw new AssertionError("sentinel " + id + " exited:\n" + tail(process.logText()));
                }
                return Http.get(url("/health")).status() > 0;
            });
        }

        public String log() {
            return process == null ? "" : process.logText();
        }
    }

    private SentinelCluster(int replicas, UnaryOperator<String> configTweak) {
        this.configTweak = configTweak;
        this.pg = PgCluster.builder().replicas(replicas).start();
        this.zk = ZkEnsemble.start(3);
        this.client = zk.newClient(Duration.ofSeconds(10));
        this.paths = new ClusterPaths("/pg-sentinel", "it" + CLUSTERS.incrementAndGet());
        this.configDir = KitRun.get().newDirectory("configs");
        for (PgNode n : pg.nodes()) {
            Path config = configDir.resolve(n.name() + ".yml");
            Sentinel s = new Sentinel(n.name(), config);
            sentinels.put(n.name(), s);
        }
        sentinels.values().forEach(this::writeConfig);
    }

    /** Starts PostgreSQL (primary + {@code replicas}), ZooKeeper and one sentinel per node, and waits for all to serve. */
    public static SentinelCluster start(int replicas) {
        return start(replicas, UnaryOperator.identity());
    }

    /** As {@link #start(int)}, with each generated configuration passed through {@code tweak} first. */
    public static SentinelCluster start(int replicas, UnaryOperator<String> tweak) {
        SentinelCluster c = new SentinelCluster(replicas, tweak);
        try {
            c.sentinels.values().forEach(Sentinel::start);
            c.sentinels.values().forEach(Sentinel::awaitUp);
            return c;
        } catch (RuntimeException | AssertionError e) {
            c.close();
            throw e;
        }
    }

    private void writeConfig(Sentinel s) {
        PgNode n = pg.node(s.id);
        String yaml = """
                cluster: %s
                node:
                  id: %s
                  host: 127.0.0.1
                postgres:
                  port: %d
                  dataDirectory: %s
                  binDirectory: %s
                  sslMode: disable
                zookeeper:
                  connect: %s
                  root: /pg-sentinel
                  sessionTimeout: 4s
                failureDetection:
                  checkInterval: 500ms
                  checkTimeout: 1s
                  downAfter: 3s
                server:
                  applicationConnectors:
                    - type: http
                      bindHost: 127.0.0.1
                      port: %d
                  adminConnectors:
                    - type: http
                      bindHost: 127.0.0.1
                      port: %d
                  requestLog:
                    appenders: []
                logging:
                  level: INFO
                  loggers:
                    org.apache.zookeeper: WARN
                    org.apache.curator: WARN
                    org.eclipse.jetty: WARN
                    org.glassfish: WARN
                """.formatted(paths.cluster(), s.id, n.port(), n.dataDirectory(), pg.install().binDir(),
                zk.connectString(), s.apiPort, s.adminPort);
        try {
            Files.writeString(s.config, configTweak.apply(yaml), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Rewrites one sentinel's configuration (it takes effect at its next start). */
    public void rewriteConfig(String id, UnaryOperator<String> change) {
        Sentinel s = sentinels.get(id);
        try {
            Files.writeString(s.config, change.apply(Files.readString(s.config, StandardCharsets.UTF_8)),
                    StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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

    public Sentinel sentinel(String id) {
        return sentinels.get(id);
    }

    public List<Sentinel> sentinels() {
        return new ArrayList<>(sentinels.values());
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
    public Sentinel leader() {
        Topology t = topologyInZooKeeper();
        return t == null || t.leader() == null ? null : sentinels.get(t.leader());
    }

    /** {@code GET /cluster} of one live sentinel. */
    public JsonNode cluster(Sentinel via) {
        Http.Reply r = Http.get(via.url("/cluster"));
        if (r.status() != 200) {
            throw new AssertionError("/cluster answered " + r.status() + ": " + r.body());
        }
        return r.json();
    }

    /** Keeps each sentinel's log under target/sentinel-logs/ for reading after a failure. */
    private void keepLog(Sentinel s) {
        try {
            Path dir = Path.of("target", "sentinel-logs", paths.cluster());
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(s.id + ".log"), s.log(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            // only a debugging aid
        }
    }

    static String tail(String text) {
        List<String> lines = text.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }

    @Override
    public void close() {
        for (Sentinel s : sentinels.values()) {
            if (s.process != null) {
                if (s.process.isFrozen()) {
                    s.process.thaw();
                }
                s.process.close();
                keepLog(s);
            }
        }
        client.close();
        zk.close();
        pg.close();
    }
}
