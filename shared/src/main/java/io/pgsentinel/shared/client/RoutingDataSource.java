package io.pgsentinel.shared.client;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import com.zaxxer.hikari.HikariConfig;
import io.pgsentinel.shared.topology.ReplicaState;
import io.pgsentinel.shared.topology.Topology;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.slf4j.LoggerFactory;

/**
 * A {@link DataSource} that follows the published topology: {@link #getConnection()} and
 * {@link #writeConnection()} lend a connection to the primary; {@link #readConnection()} one to
 * a streaming replica within the lag bound (round-robin), falling back to the primary or
 * failing, as configured. One HikariCP pool per member and role, created on first use and
 * retired when the topology changes. When the primary changes, connections lent by the old
 * primary's pool are revoked: any further call on them fails (SQLSTATE 08006) instead of
 * writing to a demoted server. Credentials come from the application, never from ZooKeeper.
 *
 * <pre>{@code
 * RoutingDataSource db = RoutingDataSource.builder(topology)
 *         .user("app").password(() -> secrets.get("db"))
 *         .database("orders").maxReplicaLagBytes(16 << 20)
 *         .build();
 * try (Connection c = db.getConnection()) { ... }          // primary
 * try (Connection c = db.readConnection()) { ... }         // a replica
 * }</pre>
 */
public final class RoutingDataSource implements DataSource, AutoCloseable {
    private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(RoutingDataSource.class);

    /** What {@link #readConnection()} does when no replica is eligible. */
    public enum WhenNoReplica {
        /** Read from the primary (counted as a fallback). */
        USE_PRIMARY,
        /** Throw an {@link SQLException} that says why no replica qualifies. */
        FAIL
    }

    /** The routing decided from one topology: computed on each change, read on each borrow. */
    private record Routes(Topology topology, MemberPool.Key primary, List<MemberPool.Key> readable, String noReplicaReason) {
    }

    private final TopologySource source;
    private final String database;
    private final String user;
    private final Supplier<String> password;
    private final long maxReplicaLagBytes;
    private final WhenNoReplica whenNoReplica;
    private final Properties connectionProperties;
    private final Consumer<HikariConfig> poolCustomizer;
    private final Duration awaitTopology;
    private final Map<MemberPool.Key, MemberPool> pools = new ConcurrentHashMap<>();
    private final AtomicInteger roundRobin = new AtomicInteger();
    private final ExecutorService background = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "pg-sentinel-pool");
        t.setDaemon(true);
        return t;
    });
    private final TopologyListener listener = (before, now) -> reroute(now);
    private final Counter routedWrites;
    private final Counter routedReads;
    private final Counter readFallbacks;
    private final Counter readFailures;
    private final Counter revokedPools;
    private volatile Routes routes;
    private volatile boolean closed;

    private RoutingDataSource(Builder b) {
        this.source = b.source;
        this.database = b.database;
        this.user = b.user;
        this.password = b.password;
        this.maxReplicaLagBytes = b.maxReplicaLagBytes;
        this.whenNoReplica = b.whenNoReplica;
        this.connectionProperties = (Properties) b.connectionProperties.clone();
        this.poolCustomizer = b.poolCustomizer;
        this.awaitTopology = b.awaitTopology;
        MetricRegistry metrics = b.metrics;
        String prefix = b.metricPrefix;
        routedWrites = metrics.counter(MetricRegistry.name(prefix, "routed", "primary"));
        routedReads = metrics.counter(MetricRegistry.name(prefix, "routed", "replica"));
        readFallbacks = metrics.counter(MetricRegistry.name(prefix, "fallback", "primary"));
        readFailures = metrics.counter(MetricRegistry.name(prefix, "fallback", "failed"));
        revokedPools = metrics.counter(MetricRegistry.name(prefix, "pools", "revoked"));
        metrics.gauge(MetricRegistry.name(prefix, "pools", "open"), () -> (Gauge<Integer>) pools::size);
        source.addListener(listener);
    }

    public static Builder builder(TopologySource topology) {
        return new Builder(topology);
    }

    /** A connection to the primary. */
    @Override
    public Connection getConnection() throws SQLException {
        return writeConnection();
    }

    /** A connection to the primary, revoked if the primary changes while it is lent. */
    public Connection writeConnection() throws SQLException {
        for (int attempt = 0; attempt < 5; attempt++) {
            Routes r = routes();
            Connection c = pool(r.primary(), r.topology()).borrow(r.topology().epoch(), background);
            if (c != null) {
                routedWrites.inc();
                return c;
            }
        }
        throw new SQLTransientConnectionException("the primary changed repeatedly while borrowing; try again", "08001");
    }

    /**
     * A connection to a streaming replica within the lag bound, round-robin; when none is
     * eligible, the primary or an error, as configured.
     */
    public Connection readConnection() throws SQLException {
        for (int attempt = 0; attempt < 5; attempt++) {
            Routes r = routes();
            if (r.readable().isEmpty()) {
                if (whenNoReplica == WhenNoReplica.FAIL) {
                    readFailures.inc();
                    throw new SQLTransientConnectionException("no replica can serve reads: " + r.noReplicaReason(), "08001");
                }
                Connection c = pool(r.primary(), r.topology()).borrow(r.topology().epoch(), background);
                if (c != null) {
                    readFallbacks.inc();
                    LOG.debug("read routed to the primary: {}", r.noReplicaReason());
                    return c;
                }
                continue;
            }
            MemberPool.Key key = r.readable().get(Math.floorMod(roundRobin.getAndIncrement(), r.readable().size()));
            Connection c = pool(key, r.topology()).borrow(r.topology().epoch(), background);
            if (c != null) {
                routedReads.inc();
                return c;
            }
        }
        throw new SQLTransientConnectionException("the topology changed repeatedly while borrowing; try again", "08001");
    }

    /** The topology the routing follows now, if any. */
    public java.util.Optional<Topology> topology() {
        Routes r = routes;
        return r == null ? java.util.Optional.empty() : java.util.Optional.of(r.topology());
    }

    private Routes routes() throws SQLException {
        if (closed) {
            throw new SQLException("the routing data source is closed", "08003");
        }
        Routes r = routes;
        if (r != null) {
            return r;
        }
        try {
            source.awaitFirst(awaitTopology);
        } catch (TimeoutException e) {
            throw new SQLTransientConnectionException("no topology yet: " + e.getMessage(), "08001", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while waiting for the first topology", "08001", e);
        }
        r = routes;
        if (r == null) {
            throw new SQLTransientConnectionException("no topology yet", "08001");
        }
        return r;
    }

    private MemberPool pool(MemberPool.Key key, Topology topology) {
        return pools.computeIfAbsent(key, k -> new MemberPool(k, () -> hikariConfig(k, topology.cluster())));
    }

    /**
     * The replicas reads may go to: streaming (or lagging by the sentinels' bound: the
     * application's own bound {@code maxLagBytes} decides), not tagged noloadbalance; why each
     * other one is not goes into {@code reasons}.
     */
    static List<Topology.Replica> readable(Topology now, long maxLagBytes, List<String> reasons) {
        List<Topology.Replica> readable = new ArrayList<>();
        for (Topology.Replica r : now.replicas()) {
            if (r.state() != ReplicaState.STREAMING && r.state() != ReplicaState.LAGGING) {
                reasons.add(r.id() + " is " + r.state().json());
            } else if (r.noLoadBalance()) {
                reasons.add(r.id() + " is tagged noloadbalance");
            } else if (r.lagBytes() != null && r.lagBytes() > maxLagBytes) {
                reasons.add(r.id() + " lags " + r.lagBytes() + " bytes, over the bound of " + maxLagBytes);
            } else {
                readable.add(r);
            }
        }
        return readable;
    }

    private synchronized void reroute(Topology now) {
        if (closed) {
            return;
        }
        Topology.Primary p = now.primary();
        MemberPool.Key primary = new MemberPool.Key(p.id(), p.host(), p.port(), MemberPool.Role.WRITE);
        List<String> reasons = new ArrayList<>();
        List<MemberPool.Key> readable = readable(now, maxReplicaLagBytes, reasons).stream()
                .map(r -> new MemberPool.Key(r.id(), r.host(), r.port(), MemberPool.Role.READ)).toList();
        String reason = now.replicas().isEmpty() ? "the cluster has no replica" : String.join("; ", reasons);
        routes = new Routes(now, primary, List.copyOf(readable), reason);

        Map<MemberPool.Key, Boolean> stillValid = new HashMap<>();
        stillValid.put(primary, true);
        for (Topology.Replica r : now.replicas()) {
            if (r.state() != ReplicaState.DOWN) {
                stillValid.put(new MemberPool.Key(r.id(), r.host(), r.port(), MemberPool.Role.READ), true);
            }
        }
        for (MemberPool pool : List.copyOf(pools.values())) {
            if (!stillValid.containsKey(pool.key())) {
                boolean demotedPrimary = pool.key().role() == MemberPool.Role.WRITE;
                String why = demotedPrimary
                        ? pool.key().id() + " is no longer the primary (epoch " + now.epoch() + " names " + p.id() + ")"
                        : pool.key().id() + " is no longer a live replica";
                LOG.info("retiring the pool of {}: {}", pool.key(), why);
                pools.remove(pool.key(), pool);
                pool.retire(demotedPrimary, why, background);
                if (demotedPrimary) {
                    revokedPools.inc();
                }
            }
        }
    }

    private HikariConfig hikariConfig(MemberPool.Key key, String cluster) {
        HikariConfig config = new HikariConfig();
        config.setPoolName("pg-sentinel-" + cluster + "-" + key.id() + "-" + key.role().name().toLowerCase(java.util.Locale.ROOT));
        config.setJdbcUrl("jdbc:postgresql://" + key.host() + ":" + key.port() + "/" + database);
        config.setUsername(user);
        if (password != null) {
            config.setPassword(password.get());
        }
        config.setMinimumIdle(0);
        config.setMaximumPoolSize(10);
        config.setConnectionTimeout(5000);
        config.setValidationTimeout(2000);
        // a server that is down must not fail the application's start
        config.setInitializationFailTimeout(-1);
        Properties props = new Properties();
        props.setProperty("connectTimeout", "5");
        props.setProperty("loginTimeout", "5");
        props.setProperty("tcpKeepAlive", "true");
        if (key.role() == MemberPool.Role.WRITE) {
            // belt and braces: the driver refuses a new connection to a server that is not writable
            props.setProperty("targetServerType", "primary");
        }
        props.putAll(connectionProperties);
        config.setDataSourceProperties(props);
        poolCustomizer.accept(config);
        return config;
    }

    /** Retires every pool and stops following the topology. The topology source stays open. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        source.removeListener(listener);
        for (MemberPool pool : pools.values()) {
            pool.retire(false, "the routing data source is closed", background);
        }
        pools.clear();
        background.shutdown();
    }

    /** Open pools, for tests and diagnostics: member and role to the number of connections. */
    public Map<String, Integer> openPools() {
        Map<String, Integer> result = new HashMap<>();
        pools.forEach((k, p) -> result.put(k.toString(), p.totalConnections()));
        return result;
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new SQLFeatureNotSupportedException("credentials are set once on the builder of the routing data source");
    }

    @Override
    public PrintWriter getLogWriter() {
        return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
        // logging goes through SLF4J
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
        throw new SQLFeatureNotSupportedException("set connectTimeout through the builder's connection properties");
    }

    @Override
    public int getLoginTimeout() {
        return 5;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException("logging goes through SLF4J");
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        throw new SQLException("not a wrapper for " + iface.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(this);
    }

    /** Settings of a {@link RoutingDataSource}. */
    public static final class Builder {
        private final TopologySource source;
        private String database = "postgres";
        private String user = "postgres";
        private Supplier<String> password;
        private long maxReplicaLagBytes = 16L << 20;
        private WhenNoReplica whenNoReplica = WhenNoReplica.USE_PRIMARY;
        private final Properties connectionProperties = new Properties();
        private Consumer<HikariConfig> poolCustomizer = c -> { };
        private MetricRegistry metrics = new MetricRegistry();
        private String metricPrefix = "pgsentinel.client";
        private Duration awaitTopology = Duration.ofSeconds(5);

        private Builder(TopologySource source) {
            this.source = Objects.requireNonNull(source, "topology source");
        }

        public Builder database(String value) {
            this.database = requireText("database", value);
            return this;
        }

        public Builder user(String value) {
            this.user = requireText("user", value);
            return this;
        }

        /** The password, asked for each time a pool is created (so it can rotate). */
        public Builder password(Supplier<String> value) {
            this.password = Objects.requireNonNull(value, "password supplier");
            return this;
        }

        /** Replicas lagging more than this many bytes get no reads (default 16 MiB). */
        public Builder maxReplicaLagBytes(long value) {
            if (value < 0) {
                throw new IllegalArgumentException("maxReplicaLagBytes must not be negative, got " + value);
            }
            this.maxReplicaLagBytes = value;
            return this;
        }

        public Builder whenNoReplica(WhenNoReplica value) {
            this.whenNoReplica = Objects.requireNonNull(value);
            return this;
        }

        /** A PgJDBC connection property for every pool (sslmode, socketTimeout, ApplicationName...). */
        public Builder connectionProperty(String name, String value) {
            connectionProperties.setProperty(requireText("property name", name), Objects.requireNonNull(value));
            return this;
        }

        /** Adjusts each pool's HikariCP settings (size, timeouts) before it starts. */
        public Builder poolCustomizer(Consumer<HikariConfig> value) {
            this.poolCustomizer = Objects.requireNonNull(value);
            return this;
        }

        public Builder metrics(MetricRegistry registry, String prefix) {
            this.metrics = Objects.requireNonNull(registry);
            this.metricPrefix = requireText("metric prefix", prefix);
            return this;
        }

        /** How long a borrow waits for the first topology (default 5 s). */
        public Builder awaitTopology(Duration value) {
            if (value.isNegative()) {
                throw new IllegalArgumentException("awaitTopology must not be negative, got " + value);
            }
            this.awaitTopology = value;
            return this;
        }

        public RoutingDataSource build() {
            return new RoutingDataSource(this);
        }

        private static String requireText(String what, String value) {
            if (value == null || value.isBlank()) {
                throw new IllegalArgumentException(what + " must not be empty");
            }
            return value;
        }
    }
}
