package io.pgsentinel.shared.client;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
    Connection borrow(long epoch) throws SQLException {
        if (retired) {
            return null;
        }
        Connection physical = hikari().getConnection();
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
