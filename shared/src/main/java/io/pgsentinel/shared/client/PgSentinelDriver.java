package io.pgsentinel.shared.client;

import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.shared.zk.ClusterPaths;
import java.net.URI;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.DriverPropertyInfo;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import org.slf4j.LoggerFactory;

/**
 * A JDBC driver for {@code jdbc:pgsentinel:} URLs ({@link DriverUrl}): any application that takes
 * a JDBC URL (Spring Boot, Hibernate, Flyway, Liquibase, HikariCP, DBeaver) follows failovers with
 * no code. Registered through {@code META-INF/services/java.sql.Driver}.
 *
 * <p>Each connection goes, through PgJDBC, to the server its role names in the latest topology;
 * the server is asked whether it is in recovery before the connection is handed out, so a stale
 * topology never yields a "primary" connection to a standby, nor a "replica" one to the primary.
 * One topology source per ZooKeeper ensemble (or sentinel list) and cluster in the JVM, shared by
 * every connection. A connection to the primary is revoked when another node becomes the primary:
 * its next call fails with SQLSTATE 08006 (a pool evicts it) instead of committing on the old
 * server, and a statement running then fails too. Likewise a {@code role=replica} connection
 * whose server is promoted: such a URL never reaches the primary.
 */
public final class PgSentinelDriver implements Driver {
    private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(PgSentinelDriver.class);
    private static final Map<String, Shared> SHARED = new ConcurrentHashMap<>();
    private static final int CHECK_TIMEOUT_SECONDS = 5;

    static {
        try {
            DriverManager.registerDriver(new PgSentinelDriver());
        } catch (SQLException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Driver postgres = new org.postgresql.Driver();

    @Override
    public boolean acceptsURL(String url) {
        return DriverUrl.accepts(url);
    }

    @Override
    public Connection connect(String url, Properties info) throws SQLException {
        if (!acceptsURL(url)) {
            return null; // DriverManager asks every driver
        }
        DriverUrl u = DriverUrl.parse(url, info);
        Shared shared = SHARED.computeIfAbsent(u.sourceKey(), k -> new Shared(open(u)));
        Topology t = shared.topology(u);
        if (u.role() != DriverUrl.Role.PRIMARY || u.primaryWait().isZero()) {
            return connect(shared, t, u);
        }
        // the published primary does not answer (a failover may be under way): wait for the next
        // topology, up to primaryWait, and connect to its primary the moment it is published,
        // rather than fail and leave the pool to retry after its own back-off
        long deadline = System.nanoTime() + u.primaryWait().toNanos();
        while (true) {
            try {
                return connect(shared, t, u);
            } catch (SQLException e) {
                long left = deadline - System.nanoTime();
                Topology next = left > 0 ? shared.awaitNewer(t.epoch(), left) : null;
                if (next == null) {
                    throw e;
                }
                t = next;
            }
        }
    }

    private Connection connect(Shared shared, Topology t, DriverUrl u) throws SQLException {
        List<Target> targets = targets(t, u);
        if (targets.isEmpty()) {
            throw new SQLTransientConnectionException("jdbc:pgsentinel: no server for role " + name(u.role())
                    + " in cluster " + u.cluster() + " (epoch " + t.epoch() + "): " + noReplicaReason(t, u), "08001");
        }
        // round-robin counted per role: a primary pool filling itself in the background must not
        // skew which replica a replica pool's next connection goes to
        int start = targets.size() == 1 ? 0 : Math.floorMod(shared.next(u.role()).getAndIncrement(), targets.size());
        SQLException last = null;
        for (int i = 0; i < targets.size(); i++) {
            Target target = targets.get((start + i) % targets.size());
            try {
                return connect(shared, target, t, u);
            } catch (SQLException e) {
                last = e;
            }
        }
        throw last;
    }

    /** A server a connection may go to, and whether it must be the primary. */
    private record Target(String id, String host, int port, boolean primary) {
    }

    private static List<Target> targets(Topology t, DriverUrl u) {
        List<Target> targets = new ArrayList<>();
        Topology.Primary p = t.primary();
        if (u.role() != DriverUrl.Role.REPLICA) {
            targets.add(new Target(p.id(), p.host(), p.port(), true));
        }
        if (u.role() != DriverUrl.Role.PRIMARY) {
            for (Topology.Replica r : RoutingDataSource.readable(t, u.maxLagBytes(), new ArrayList<>())) {
                targets.add(new Target(r.id(), r.host(), r.port(), false));
            }
        }
        return targets;
    }

    private static String noReplicaReason(Topology t, DriverUrl u) {
        List<String> reasons = new ArrayList<>();
        RoutingDataSource.readable(t, u.maxLagBytes(), reasons);
        return t.replicas().isEmpty() ? "the cluster has no replica" : String.join("; ", reasons);
    }

    private Connection connect(Shared shared, Target target, Topology t, DriverUrl u) throws SQLException {
        String pgUrl = "jdbc:postgresql://" + hostForUrl(target.host()) + ":" + target.port() + "/"
                + java.net.URLEncoder.encode(u.database(), java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
        Properties pg = (Properties) u.pgProperties().clone();
        pg.putIfAbsent("connectTimeout", "5");
        pg.putIfAbsent("loginTimeout", "5"); // a frozen server completes the TCP handshake, then never answers
        Connection physical = postgres.connect(pgUrl, pg);
        if (physical == null) {
            throw new SQLException("jdbc:pgsentinel: PgJDBC refused the URL it was given for " + target.id(), "08001");
        }
        boolean ok = false;
        try {
            boolean inRecovery;
            int networkTimeout = physical.getNetworkTimeout();
            // bounded on a dead link too (a query timeout needs the server to hear the cancel)
            physical.setNetworkTimeout(Runnable::run, CHECK_TIMEOUT_SECONDS * 1000);
            try (Statement s = physical.createStatement()) {
                s.setQueryTimeout(CHECK_TIMEOUT_SECONDS);
                try (ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
                    rs.next();
                    inRecovery = rs.getBoolean(1);
                }
            }
            physical.setNetworkTimeout(Runnable::run, networkTimeout);
            if (target.primary() == inRecovery) {
                throw new SQLTransientConnectionException("jdbc:pgsentinel: " + target.id() + " at " + target.host() + ":"
                        + target.port() + " is " + (inRecovery ? "in recovery, not the primary the topology (epoch "
                        + t.epoch() + ") says" : "not in recovery: not a replica any more") + "; try again", "08001");
            }
            Connection handed = shared.lease(physical, target, t.epoch(), u.role() == DriverUrl.Role.REPLICA);
            ok = true;
            return handed;
        } finally {
            if (!ok) {
                physical.close();
            }
        }
    }

    private static String hostForUrl(String host) {
        return host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    private static TopologySource open(DriverUrl u) {
        LOG.info("jdbc:pgsentinel: following the topology of {}", u.sourceDescription());
        if (u.overHttp()) {
            return HttpTopologyPoller.builder(u.cluster(), u.hosts().stream().map(URI::create).toList())
                    .interval(u.pollInterval()).start();
        }
        return ZooKeeperTopologyWatcher.connect(String.join(",", u.hosts()), new ClusterPaths(u.zkRoot(), u.cluster()),
                java.time.Duration.ofSeconds(10), u.zkUser(), u.zkPassword());
    }

    private static String name(DriverUrl.Role role) {
        return role.name().toLowerCase(java.util.Locale.ROOT);
    }

    /** One topology source and the primary connections handed out while it said who the primary is. */
    private static final class Shared {
        final TopologySource source;
        private final Map<DriverUrl.Role, AtomicInteger> next = new ConcurrentHashMap<>();

        AtomicInteger next(DriverUrl.Role role) {
            return next.computeIfAbsent(role, r -> new AtomicInteger());
        }
        final Map<LeasedConnection, String> primaryLeases = new ConcurrentHashMap<>();
        final Map<LeasedConnection, String> replicaLeases = new ConcurrentHashMap<>();

        /** The next topology with a higher epoch than {@code epoch}, waiting up to {@code nanos}; null if none came. */
        Topology awaitNewer(long epoch, long nanos) {
            long deadline = System.nanoTime() + nanos;
            synchronized (this) {
                while (true) {
                    Topology now = source.current().orElse(null);
                    if (now != null && now.epoch() > epoch) {
                        return now;
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return null;
                    }
                    try {
                        wait(Math.max(1, left / 1_000_000));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return null;
                    }
                }
            }
        }

        Shared(TopologySource source) {
            this.source = source;
            source.addListener((before, now) -> {
                synchronized (this) {
                    notifyAll(); // connects waiting for a newer topology
                }
            });
            source.addPrimaryListener((before, now) -> {
                String primary = now.primary().id();
                primaryLeases.forEach((lease, server) -> {
                    if (!server.equals(primary)) {
                        lease.revoke("the primary is now " + primary + " (epoch " + now.epoch() + "), not " + server);
                        primaryLeases.remove(lease);
                    }
                });
                // role=replica promises never the primary: a replica promoted under a connection loses it
                replicaLeases.forEach((lease, server) -> {
                    if (server.equals(primary)) {
                        lease.revoke(server + " is now the primary (epoch " + now.epoch() + "): not a replica any more");
                        replicaLeases.remove(lease);
                    }
                });
            });
        }

        Topology topology(DriverUrl u) throws SQLException {
            var current = source.current();
            if (current.isPresent()) {
                return current.get();
            }
            try {
                return source.awaitFirst(u.topologyTimeout());
            } catch (TimeoutException e) {
                throw new SQLTransientConnectionException("jdbc:pgsentinel: no topology from " + u.sourceDescription()
                        + " within " + u.topologyTimeout().toSeconds() + " s", "08001");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLTransientConnectionException("jdbc:pgsentinel: interrupted waiting for the topology", "08001");
            }
        }

        /**
         * The connection behind a revocable proxy: a primary one while its server is the published
         * primary, a role=replica one while its server is not.
         */
        Connection lease(Connection physical, Target target, long epoch, boolean replicaOnly)
                throws SQLTransientConnectionException {
            if (!target.primary() && !replicaOnly) {
                return physical; // role=any on a replica: whatever it becomes, it may serve
            }
            Map<LeasedConnection, String> leases = target.primary() ? primaryLeases : replicaLeases;
            LeasedConnection lease = new LeasedConnection(physical, new LeasedConnection.Owner() {
                @Override
                public void returned(LeasedConnection l) {
                    leases.remove(l);
                }

                @Override
                public String describe() {
                    return target.id() + "@" + target.host() + ":" + target.port() + (target.primary() ? "/primary" : "/replica");
                }
            }, epoch);
            leases.put(lease, target.id());
            // the listener scans the maps after the topology changed: a lease added after that scan checks here
            String now = source.current().map(x -> x.primary().id()).orElse(target.id());
            if (target.primary() != now.equals(target.id())) {
                leases.remove(lease);
                // not handed out: the caller closes it and, for a primary, connects to the new one
                throw new SQLTransientConnectionException("jdbc:pgsentinel: the primary changed to " + now
                        + " while connecting to " + target.id() + "; try again", "08001");
            }
            return lease.proxy();
        }
    }

    @Override
    public DriverPropertyInfo[] getPropertyInfo(String url, Properties info) {
        DriverPropertyInfo role = new DriverPropertyInfo("role", "primary");
        role.choices = new String[] {"primary", "replica", "any"};
        role.description = "which server: the primary, a streaming replica within maxLagBytes, or any of them";
        DriverPropertyInfo lag = new DriverPropertyInfo("maxLagBytes", Long.toString(16L << 20));
        lag.description = "a replica further behind the primary is not chosen";
        DriverPropertyInfo root = new DriverPropertyInfo("zkRoot", "/pg-sentinel");
        root.description = "the sentinels' ZooKeeper root";
        DriverPropertyInfo wait = new DriverPropertyInfo("topologyTimeout", "10");
        wait.description = "seconds to wait for a first topology";
        DriverPropertyInfo user = new DriverPropertyInfo("user", info == null ? null : info.getProperty("user"));
        user.description = "the database user (PgJDBC)";
        DriverPropertyInfo password = new DriverPropertyInfo("password", null);
        password.description = "the database password (PgJDBC)";
        return new DriverPropertyInfo[] {role, lag, root, wait, user, password};
    }

    @Override
    public int getMajorVersion() {
        return 0;
    }

    @Override
    public int getMinorVersion() {
        return 1;
    }

    @Override
    public boolean jdbcCompliant() {
        return false; // it hands out PgJDBC's connections, which are not certified compliant either
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException("java.util.logging is not used: pg-sentinel logs through SLF4J");
    }
}
