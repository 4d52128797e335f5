package io.pgsentinel.sentinel.demo;

import io.pgsentinel.localcluster.Await;
import io.pgsentinel.sentinel.config.SentinelConfiguration;
import io.pgsentinel.localcluster.ChildJvm;
import io.pgsentinel.localcluster.Host;
import io.pgsentinel.localcluster.PgNode;
import io.pgsentinel.localcluster.Ports;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A sentinel run on this machine as its own process, next to a local PostgreSQL server of the
 * kit, with a generated configuration: for the demo and the integration tests.
 */
public final class LocalSentinel {
    /**
     * The daemon's main class, by name: the application registers the demo command, which starts
     * sentinels, so naming the class keeps the packages free of an import circle
     * ({@code LocalSentinelTest} checks the name).
     */
    static final String MAIN_CLASS = "io.pgsentinel.sentinel.SentinelApplication";
    private final String id;
    private final PgNode node;
    private final Path config;
    private final int apiPort;
    private final int adminPort;
    private ChildJvm process;
    /** The logs of its earlier processes (before a restart), oldest first. */
    private final StringBuilder earlierLogs = new StringBuilder();

    private LocalSentinel(String id, PgNode node, Path config) {
        this.id = id;
        this.node = node;
        this.config = config;
        // on a host of its own a sentinel has the host's ports, as on a real machine
        boolean own = node.runsOn() != Host.LOOPBACK;
        this.apiPort = own ? SentinelConfiguration.DEFAULT_API_PORT : Ports.free();
        this.adminPort = own ? SentinelConfiguration.DEFAULT_ADMIN_PORT : Ports.free();
    }

    /**
     * Writes the configuration of the sentinel of {@code node} into {@code dir}: the node's host
     * (its address, or loopback with free ports), the kit's PostgreSQL, {@code zkConnect}, default
     * timings; {@code tweak} may change the YAML.
     */
    public static LocalSentinel configure(Path dir, String cluster, PgNode node, Path binDirectory, String zkConnect,
                                          UnaryOperator<String> tweak) {
        LocalSentinel s = new LocalSentinel(node.name(), node, dir.resolve(node.name() + ".yml"));
        String yaml = """
                cluster: %s
                node:
                  id: %s
                  host: %s
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
                      bindHost: %s
                      port: %d
                  adminConnectors:
                    - type: http
                      bindHost: %s
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
                """.formatted(cluster, s.id, node.host(), node.port(), node.dataDirectory(), binDirectory, zkConnect,
                node.host(), s.apiPort, node.host(), s.adminPort);
        s.write(tweak.apply(yaml));
        return s;
    }

    private void write(String yaml) {
        try {
            Files.writeString(config, yaml, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Rewrites the configuration (it takes effect at the next start). */
    public void rewriteConfig(UnaryOperator<String> change) {
        try {
            write(change.apply(Files.readString(config, StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String id() {
        return id;
    }

    public PgNode node() {
        return node;
    }

    public Path config() {
        return config;
    }

    /** The URL of {@code path} on its API, as this JVM reaches it. */
    public String url(String path) {
        return "http://" + node.runsOn().reach(apiPort) + path;
    }

    public String adminUrl(String path) {
        return "http://" + node.runsOn().reach(adminPort) + path;
    }

    public ChildJvm process() {
        return process;
    }

    /** Starts the sentinel as a child JVM: {@code server <config>}. */
    public void start() {
        if (process != null) {
            earlierLogs.append(process.logText()).append("---- restarted ----\n");
        }
        process = ChildJvm.builder("sentinel-" + id, MAIN_CLASS).on(node.runsOn()).shareClasses()
                .args("server", config.toString()).start();
    }

    public boolean isUp() {
        return process != null && process.isAlive() && Http.get(url("/health")).status() > 0;
    }

    /** Waits until its HTTP API answers; fails with the end of its log if it exited. */
    public void awaitUp(Duration timeout) {
        Await.until("sentinel " + id + " to serve HTTP", timeout, Duration.ofMillis(100), () -> {
            if (!process.isAlive()) {
                throw new AssertionError("sentinel " + id + " exited:\n" + tail(process.logText(), 40));
            }
            return Http.get(url("/health")).status() > 0;
        });
    }

    /** The log of this sentinel, across restarts. */
    public String log() {
        return earlierLogs + (process == null ? "" : process.logText());
    }

    /** Stops the process (thawing it first if frozen). */
    public void close() {
        if (process != null) {
            if (process.isFrozen()) {
                process.thaw();
            }
            process.close();
        }
    }

    static String tail(String text, int lines) {
        List<String> all = text.lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }
}
