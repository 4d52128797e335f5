package io.pgsentinel.shared.client;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HikariCP pool of one member in one role (writes to the primary, or reads from a
 * replica), created on first use, and the connections it has lent. Retiring it refuses new
 * borrowing at once, evicts idle connections and, for a write pool, revokes every lent
 * connection so that nothing more is written to a server that is no longer the primary.
 */
final class MemberPool implements LeasedConnection.Owner {
    private static final Logger LOG = LoggerFactory.getLogger(MemberPool.class);

    enum Role { WRITE, READ }

    /** Identity of a pool: the member's id, address and the role it serves. */
    record Key(String id, String host, int port, Role role) {
        @Override
        public String toString() {
            return id + "@" + host + ":" + port + "/" + role.name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final Key key;
    private final Supplier<HikariConfig> configFactory;
    private final Set<LeasedConnection> leases = ConcurrentHashMap.newKeySet();
    private volatile HikariDataSource pool;
    private volatile boolean retired;
    private final CompletableFuture<Void> retiredSignal = new CompletableFuture<>();

    MemberPool(Key key, Supplier<HikariConfig> configFactory) {
        this.key = key;
        this.configFactory = configFactory;
    }

    Key key() {
        return key;
    }

    boolean isRetired() {
        return retired;
    }

    int leased() {
        return leases.size();
    }

    /**
     * Lends a connection, wrapped so it can be revoked. Returns null when the pool was retired
     * meanwhile (the caller routes again with the newer topology).
     */
    Connection borrow(long epoch, Executor async) throws SQLException {
        if (retired) {
            return null;
        }
        HikariDataSource h = hikari();
        var bean = h.getHikariPoolMXBean();
        Connection physical;
        if (bean != null && bean.getIdleConnections() > 0) {
            physical = h.getConnection(); // an idle connection: at once
        } else {
            physical = awaitUnlessRetired(h, async);
            if (physical == null) {
                return null;
            }
        }
        LeasedConnection lease = new LeasedConnection(physical, this, epoch);
        leases.add(lease);
        // retire() sets the flag before it scans the leases: a lease added after that scan sees the flag
        if (retired) {
            lease.revoke("the pool of " + key + " was retired while this connection was lent");
            leases.remove(lease);
            physical.close();
            return null;
        }
        return lease.proxy();
    }

    /**
     * Waits for a new connection from the pool, but no longer than until the pool is retired: a
     * borrower waiting on a dead primary's pool (HikariCP keeps trying until its connection
     * timeout) is let go the moment a new primary is published, and routes again. Null then.
     */
    private Connection awaitUnlessRetired(HikariDataSource h, Executor async) throws SQLException {
        CompletableFuture<Connection> borrowed = CompletableFuture.supplyAsync(() -> {
            try {
                return h.getConnection();
            } catch (SQLException e) {
                throw new CompletionException(e);
            }
        }, async);
        try {
            CompletableFuture.anyOf(borrowed, retiredSignal).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            borrowed.thenAccept(MemberPool::closeQuietly);
            throw new SQLException("interrupted while waiting for a connection to " + key, "08001", e);
        } catch (ExecutionException e) {
            // the borrow failed: reported below
        }
        if (!borrowed.isDone()) {
            borrowed.thenAccept(MemberPool::closeQuietly); // retired meanwhile: whatever comes is not lent
            return null;
        }
        try {
            return borrowed.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof SQLException sql) {
                throw sql;
            }
            throw e;
        }
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException | RuntimeException e) {
            // gone already
        }
    }

    @Override
    public void returned(LeasedConnection lease) {
        leases.remove(lease);
    }

    @Override
    public String describe() {
        return key.toString();
    }

    private HikariDataSource hikari() {
        HikariDataSource p = pool;
        if (p == null) {
            synchronized (this) {
                p = pool;
                if (p == null) {
                    p = new HikariDataSource(configFactory.get());
                    pool = p;
                }
            }
        }
        return p;
    }

    /**
     * Stops lending; closes idle connections; revokes lent ones when {@code revoke} (a demoted
     * primary); closes the pool in the background once lent connections come back.
     */
    void retire(boolean revoke, String why, Executor background) {
        retired = true;
        retiredSignal.complete(null);
        if (revoke) {
            for (LeasedConnection lease : leases) {
                lease.revoke(why);
            }
        }
        HikariDataSource p;
        synchronized (this) {
            p = pool;
        }
        if (p != null) {
            p.getHikariPoolMXBean().softEvictConnections();
            background.execute(() -> {
                // HikariCP waits for lent connections (aborting them after its own grace time)
                p.close();
                LOG.debug("pool {} closed", key);
            });
        }
    }

    /** The number of idle and active connections of the underlying pool, for tests and metrics. */
    int totalConnections() {
        HikariDataSource p = pool;
        return p == null || p.isClosed() ? 0 : p.getHikariPoolMXBean().getTotalConnections();
    }
}
