package io.pgsentinel.sentinel.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.Command;
import io.pgsentinel.localcluster.KitRun;
import io.pgsentinel.localcluster.OsUser;
import io.pgsentinel.localcluster.PgInstall;
import io.pgsentinel.localcluster.Ports;
import io.pgsentinel.localcluster.Processes;
import io.pgsentinel.localcluster.ZkEnsemble;
import io.pgsentinel.sentinel.demo.Http;
import io.pgsentinel.sentinel.it.HaproxyProcess;
import io.pgsentinel.sentinel.it.SentinelCluster;
import io.pgsentinel.shared.client.RoutingDataSource;
import io.pgsentinel.shared.client.ZooKeeperTopologyWatcher;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.testkit.InJvmZkEnsemble;
import io.pgsentinel.testkit.Stats;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Client-visible downtime of a host loss, side by side, in one run on one machine: the primary's
 * host is killed (its failover manager and its PostgreSQL, SIGKILL) while an application writes,
 * and each path measures the time from the kill to its first write acknowledged after it (the old
 * primary is dead by then, so by the new primary).
 * <ul>
 *   <li>pg-sentinel, default settings, through (a) the routing DataSource, (b) HikariCP with the
 *       jdbc:pgsentinel URL, (c) HAProxy with docs/haproxy.md's configuration, all three writing
 *       during the same failover;</li>
 *   <li>Patroni (Debian's package) with ZooKeeper, Patroni's default settings (its example
 *       configuration: ttl 30, loop_wait 10, retry_timeout 10), through HAProxy with the
 *       configuration of Patroni's documentation ({@code inter 3s fall 3 rise 2}).</li>
 * </ul>
 * {@code -Ddowntime.rounds=N} (default 3) for ours, {@code -Ddowntime.patroniRounds=N} (default 2).
 * Appended to target/benchmarks/downtime.txt (docs/benchmarks.md).
 */
@Tag("benchmark")
class DowntimeBenchmarkIT {
    private static final int ROUNDS = Integer.getInteger("downtime.rounds", 3);
    private static final int PATRONI_ROUNDS = Integer.getInteger("downtime.patroniRounds", 2);
    private static final Path PATRONI = Path.of("/usr/bin/patroni");
    private static final Duration LONG_WAIT = Duration.ofSeconds(120);

    @Test
    void hostLossDowntimeOfPgSentinelAndPatroni() throws Exception {
        Assumptions.assumeTrue(HaproxyProcess.installed(), "haproxy is not installed");
        Map<String, List<Double>> results = new LinkedHashMap<>();
        for (int round = 1; round <= ROUNDS; round++) {
            pgSentinelRound().forEach((path, s) -> results.computeIfAbsent(path, k -> new ArrayList<>()).add(s));
        }
        if (Files.isExecutable(PATRONI)) {
            for (int round = 1; round <= PATRONI_ROUNDS; round++) {
                results.computeIfAbsent("Patroni 3.0.2 (defaults) + HAProxy (Patroni's example configuration)",
                        k -> new ArrayList<>()).add(patroniRound());
            }
        } else {
            System.out.println("Patroni is not installed (apt-get install patroni python3-kazoo): its figures are left out");
        }
        StringBuilder line = new StringBuilder(LocalDate.now() + " host loss, kill to first acknowledged write:");
        results.forEach((path, seconds) -> {
            Stats s = new Stats(seconds);
            line.append(String.format("%n  %s: median %.2f s, min %.2f s, max %.2f s, %d rounds %s", path, s.median(),
                    s.min(), s.max(), s.count(), seconds));
        });
        Stats.record("downtime.txt", line.toString());
    }

    // ---- pg-sentinel ----

    private Map<String, Double> pgSentinelRound() throws Exception {
        try (SentinelCluster cluster = SentinelCluster.start(2)) {
            Topology before = cluster.awaitTopology("a healthy cluster", t -> t.replicas().stream()
                    .allMatch(r -> r.state().json().equals("streaming")));
            cluster.pg().primary().execute("CREATE TABLE downtime (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())");
            int port = Ports.free();
            String config = HaproxyProcess.documented(Map.of("postgres_write", port), cluster.haproxyServers());
            try (CuratorFramework zk = cluster.zk().newClient(Duration.ofSeconds(10));
                 ZooKeeperTopologyWatcher watcher = ZooKeeperTopologyWatcher.start(zk, cluster.paths());
                 RoutingDataSource routing = RoutingDataSource.builder(watcher).user("postgres")
                         .poolCustomizer(h -> h.setConnectionTimeout(1000)).build();
                 HikariDataSource url = hikari("jdbc:pgsentinel://" + cluster.zk().testConnectString() + "/"
                         + cluster.paths().cluster() + "/postgres?zkRoot=" + cluster.paths().root() + "&user=postgres");
                 HaproxyProcess haproxy = new HaproxyProcess(config)) {
                Map<String, FirstAck> writers = new LinkedHashMap<>();
                writers.put("pg-sentinel (a) routing DataSource", new FirstAck(pooled(routing)));
                writers.put("pg-sentinel (b) JDBC URL in HikariCP", new FirstAck(pooled(url)));
                writers.put("pg-sentinel (c) HAProxy (docs/haproxy.md)", new FirstAck(direct("jdbc:postgresql://127.0.0.1:"
                        + port + "/postgres?user=postgres")));
                try {
                    Await.until("every path writing", LONG_WAIT, () -> writers.values().stream().allMatch(FirstAck::writing));
                    String primary = before.primary().id();
                    long killed = System.nanoTime();
                    writers.values().forEach(w -> w.killedAt(killed));
                    cluster.sentinel(primary).process().kill9();
                    cluster.pg().node(primary).kill9();
                    long dead = System.nanoTime();
                    writers.values().forEach(w -> w.deadAt(dead));
                    Map<String, Double> seconds = new LinkedHashMap<>();
                    Await.until("the new topology at the client", LONG_WAIT, Duration.ofMillis(5),
                            () -> watcher.current().map(t -> t.epoch() > before.epoch()).orElse(false));
                    seconds.put("pg-sentinel failover: kill to the new topology seen by a client (ZooKeeper watch)",
                            Math.round((System.nanoTime() - killed) / 1e7) / 100.0);
                    for (Map.Entry<String, FirstAck> w : writers.entrySet()) {
                        seconds.put(w.getKey(), w.getValue().awaitSeconds(LONG_WAIT));
                    }
                    System.out.println("pg-sentinel round: " + seconds);
                    return seconds;
                } finally {
                    writers.values().forEach(FirstAck::stop);
                }
            }
        }
    }

    private static HikariDataSource hikari(String url) {
        HikariConfig c = new HikariConfig();
        c.setJdbcUrl(url);
        c.setConnectionTimeout(1000);
        c.setMaximumPoolSize(2);
        return new HikariDataSource(c);
    }

    /** A writer's connections: a pool's (closed after each write), or one it keeps until it fails. */
    interface Connections {
        Connection get() throws SQLException;

        void release(Connection c, boolean failed);
    }

    private static Connections pooled(DataSource ds) {
        return new Connections() {
            @Override
            public Connection get() throws SQLException {
                return ds.getConnection();
            }

            @Override
            public void release(Connection c, boolean failed) {
                close(c);
            }
        };
    }

    private static Connections direct(String url) {
        return new Connections() {
            private Connection kept;

            @Override
            public Connection get() throws SQLException {
                if (kept == null) {
                    kept = DriverManager.getConnection(url + "&connectTimeout=1&socketTimeout=2&loginTimeout=2");
                }
                return kept;
            }

            @Override
            public void release(Connection c, boolean failed) {
                if (failed) {
                    close(c);
                    kept = null;
                }
            }
        };
    }

    private static void close(Connection c) {
        try {
            c.close();
        } catch (SQLException | RuntimeException e) {
            // broken already
        }
    }

    /** An application thread inserting in a loop; records its first write acknowledged after the primary died. */
    static final class FirstAck {
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final AtomicLong acks = new AtomicLong();
        private final AtomicLong killedAt = new AtomicLong(-1);
        private final AtomicLong deadAt = new AtomicLong(-1);
        private final AtomicLong firstAfter = new AtomicLong(-1);
        private final Thread thread;

        FirstAck(Connections connections) {
            thread = new Thread(() -> {
                while (running.get()) {
                    Connection c = null;
                    try {
                        c = connections.get();
                        try (Statement s = c.createStatement()) {
                            s.setQueryTimeout(2);
                            s.executeUpdate("INSERT INTO downtime DEFAULT VALUES");
                        }
                        long now = System.nanoTime();
                        acks.incrementAndGet();
                        long dead = deadAt.get();
                        if (dead >= 0 && now > dead) {
                            firstAfter.compareAndSet(-1, now);
                        }
                        connections.release(c, false);
                    } catch (SQLException | RuntimeException e) {
                        if (c != null) {
                            connections.release(c, true);
                        }
                        sleepQuietly(); // a failed connect may return at once: do not spin
                    }
                }
            }, "downtime-writer");
            thread.setDaemon(true);
            thread.start();
        }

        boolean writing() {
            return acks.get() > 10;
        }

        void killedAt(long nanos) {
            killedAt.set(nanos);
        }

        void deadAt(long nanos) {
            deadAt.set(nanos);
        }

        /** Kill to the first write acknowledged after the old primary was dead, in seconds. */
        double awaitSeconds(Duration timeout) {
            Await.until("a write acknowledged after the kill", timeout, Duration.ofMillis(20), () -> firstAfter.get() >= 0);
            return Math.round((firstAfter.get() - killedAt.get()) / 1e7) / 100.0;
        }

        void stop() {
            running.set(false);
        }

        private static void sleepQuietly() {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ---- Patroni ----

    /**
     * A Patroni cluster of three nodes on this machine (loopback ports), in a ZooKeeper ensemble
     * of its own, bootstrapped from nothing by Patroni; HAProxy as Patroni's documentation shows.
     */
    private double patroniRound() throws Exception {
        try (ZkEnsemble zk = InJvmZkEnsemble.start(3); PatroniCluster patroni = new PatroniCluster(zk.testConnectString())) {
            String leader = patroni.awaitHealthy(LONG_WAIT);
            patroni.sql("CREATE TABLE downtime (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())");
            StringBuilder servers = new StringBuilder();
            for (PatroniNode n : patroni.nodes) {
                servers.append("    server postgresql_127.0.0.1_").append(n.pgPort).append(" 127.0.0.1:").append(n.pgPort)
                        .append(" maxconn 100 check port ").append(n.restPort).append('\n');
            }
            int port = Ports.free();
            // Patroni's example haproxy.cfg (docs and /usr/share/doc/patroni/examples), on a free port
            String config = """
                    global
                        maxconn 100
                    defaults
                        mode tcp
                        retries 2
                        timeout client 30m
                        timeout connect 4s
                        timeout server 30m
                        timeout check 5s
                    listen batman
                        bind 127.0.0.1:%d
                        option httpchk
                        http-check expect status 200
                        default-server inter 3s fall 3 rise 2 on-marked-down shutdown-sessions
                    %s""".formatted(port, servers);
            try (HaproxyProcess haproxy = new HaproxyProcess(config)) {
                FirstAck writer = new FirstAck(direct("jdbc:postgresql://127.0.0.1:" + port
                        + "/postgres?user=postgres&password=" + PatroniCluster.SUPERUSER_PASSWORD));
                try {
                    Await.until("writes through HAProxy to Patroni's leader", LONG_WAIT, writer::writing);
                    long killed = System.nanoTime();
                    writer.killedAt(killed);
                    patroni.killHost(leader);
                    writer.deadAt(System.nanoTime());
                    double seconds = writer.awaitSeconds(LONG_WAIT);
                    System.out.println("Patroni round: " + seconds + " s (leader was " + leader + ")");
                    return seconds;
                } finally {
                    writer.stop();
                }
            }
        }
    }

    private record PatroniNode(String name, int pgPort, int restPort, Path dataDir, Path config, Path log) {
    }

    private static final class PatroniCluster implements AutoCloseable {
        static final String SUPERUSER_PASSWORD = "bench-superuser";
        final List<PatroniNode> nodes = new ArrayList<>();
        final Map<String, Process> processes = new LinkedHashMap<>();

        PatroniCluster(String zkConnect) throws Exception {
            Path dir = KitRun.get().newDirectory("patroni");
            Path bin = PgInstall.find().binDir();
            StringBuilder hosts = new StringBuilder();
            for (String h : zkConnect.split(",")) {
                hosts.append(hosts.length() == 0 ? "" : ", ").append('\'').append(h).append('\'');
            }
            for (int i = 0; i < 3; i++) {
                String name = "patroni" + i;
                Path home = Files.createDirectories(dir.resolve(name));
                PatroniNode n = new PatroniNode(name, Ports.free(), Ports.free(), home.resolve("data"),
                        home.resolve("patroni.yml"), home.resolve("patroni.log"));
                // Patroni's example configuration (postgres0.yml), on ZooKeeper, on free ports; its defaults kept
                Files.writeString(n.config(), """
                        scope: bench
                        name: %s
                        restapi:
                          listen: 127.0.0.1:%d
                          connect_address: 127.0.0.1:%d
                        zookeeper:
                          hosts: [%s]
                        bootstrap:
                          dcs:
                            ttl: 30
                            loop_wait: 10
                            retry_timeout: 10
                            maximum_lag_on_failover: 1048576
                            postgresql:
                              use_pg_rewind: true
                          initdb:
                          - encoding: UTF8
                          - data-checksums
                          pg_hba:
                          - host replication replicator 127.0.0.1/32 md5
                          - host all all 127.0.0.1/32 md5
                        postgresql:
                          listen: 127.0.0.1:%d
                          connect_address: 127.0.0.1:%d
                          data_dir: %s
                          bin_dir: %s
                          pgpass: %s
                          authentication:
                            replication:
                              username: replicator
                              password: bench-replication
                            superuser:
                              username: postgres
                              password: %s
                            rewind:
                              username: rewind_user
                              password: bench-rewind
                          parameters:
                            unix_socket_directories: '%s'
                        tags:
                          nofailover: false
                          noloadbalance: false
                          clonefrom: false
                          nosync: false
                        """.formatted(name, n.restPort(), n.restPort(), hosts, n.pgPort(), n.pgPort(), n.dataDir(), bin,
                        home.resolve("pgpass"), SUPERUSER_PASSWORD, home));
                nodes.add(n);
            }
            OsUser.chownToServerUser(dir);
            for (PatroniNode n : nodes) {
                processes.put(n.name(), new ProcessBuilder(Command.as(OsUser.serverUser(),
                        List.of(PATRONI.toString(), n.config().toString()))).redirectErrorStream(true)
                        .redirectOutput(n.log().toFile()).start());
            }
        }

        /** Waits for a leader and two streaming replicas (Patroni's GET /cluster); returns the leader's name. */
        String awaitHealthy(Duration timeout) {
            return Await.value("Patroni's leader and two streaming replicas", timeout, Duration.ofMillis(500), () -> {
                for (PatroniNode n : nodes) {
                    Http.Reply r = Http.get("http://127.0.0.1:" + n.restPort() + "/cluster");
                    if (r.status() != 200) {
                        continue;
                    }
                    String leader = null;
                    int streaming = 0;
                    for (var m : r.json().path("members")) {
                        if (m.path("role").asText().equals("leader") && m.path("state").asText().equals("running")) {
                            leader = m.path("name").asText();
                        } else if (m.path("state").asText().equals("streaming")
                                || m.path("state").asText().equals("running") && m.path("lag").isNumber()) {
                            streaming++;
                        }
                    }
                    return leader != null && streaming == 2 ? leader : null;
                }
                return null;
            });
        }

        void sql(String statement) throws SQLException {
            for (PatroniNode n : nodes) {
                try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + n.pgPort()
                        + "/postgres?user=postgres&password=" + SUPERUSER_PASSWORD + "&connectTimeout=2");
                     Statement s = c.createStatement();
                     java.sql.ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
                    rs.next();
                    if (!rs.getBoolean(1)) {
                        try (Statement w = c.createStatement()) {
                            w.execute(statement);
                        }
                        return;
                    }
                } catch (SQLException e) {
                    // not reachable: another one is the leader
                }
            }
            throw new SQLException("no Patroni member accepts writes");
        }

        /** The host is lost: Patroni and its PostgreSQL (detached from Patroni, so killed by its pid file), SIGKILL. */
        void killHost(String name) {
            PatroniNode n = nodes.stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
            long postmaster = postmasterPid(n);
            Processes.killTree(processes.get(name).pid(), Duration.ofSeconds(30));
            if (postmaster > 0) {
                Processes.killServer(postmaster, n.dataDir(), Duration.ofSeconds(30));
            }
        }

        private static long postmasterPid(PatroniNode n) {
            try {
                return Long.parseLong(Files.readAllLines(n.dataDir().resolve("postmaster.pid"), StandardCharsets.UTF_8)
                        .get(0).strip());
            } catch (Exception e) {
                return -1;
            }
        }

        @Override
        public void close() {
            for (PatroniNode n : nodes) {
                long postmaster = postmasterPid(n);
                Process p = processes.get(n.name());
                if (p != null && p.isAlive()) {
                    Processes.killTree(p.pid(), Duration.ofSeconds(30));
                }
                if (postmaster > 0 && Processes.isAlive(postmaster)) {
                    Processes.killServer(postmaster, n.dataDir(), Duration.ofSeconds(30));
                }
            }
        }
    }
}
