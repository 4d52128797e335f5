package io.pgsentinel.sentinel.postgres;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * JDBC calls with two bounds: the driver's own (connect, login and socket timeouts, whole
 * seconds) and a monotonic deadline of our own, enforced from outside the call: when it
 * passes, the caller gets a timeout at once and the connection is aborted. A frozen server
 * (SIGSTOP) therefore costs a probe its deadline, never more.
 */
public final class Jdbc {
    private static final AtomicInteger THREADS = new AtomicInteger();
    private static final ExecutorService CALLS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "pg-sentinel-jdbc-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    private final String user;
    private final Optional<String> password;
    private final String database;
    private final String sslMode;
    private final String sslRootCert;

    public Jdbc(String user, Optional<String> password, String database, String sslMode, String sslRootCert) {
        this.user = user;
        this.password = password;
        this.database = database;
        this.sslMode = sslMode;
        this.sslRootCert = sslRootCert;
    }

    /** Work on an open connection. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    /** Thrown when our own deadline passed; the message names the server, never a password. */
    public static final class DeadlineException extends SQLException {
        DeadlineException(String message) {
            super(message, "57014");
        }
    }

    /** Connects to {@code host:port} and runs {@code work}, all within {@code timeout}. */
    public <T> T call(String host, int port, Duration timeout, Work<T> work) throws SQLException {
        AtomicReference<Connection> open = new AtomicReference<>();
        AtomicBoolean expired = new AtomicBoolean();
        Future<T> future = CALLS.submit(() -> {
            try (Connection c = connect(host, port, timeout)) {
                open.set(c);
                // the deadline may have passed while connecting: the caller has its answer, the work must
                // not start behind its back (a statement sent after the deadline would still run)
                if (expired.get()) {
                    abort(c);
                    throw new DeadlineException(host + ":" + port + " answered after the deadline");
                }
                return work.run(c);
            }
        });
        try {
            return future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            expired.set(true);
            future.cancel(true);
            Connection c = open.get();
            if (c != null) {
                abort(c);
            }
            throw new DeadlineException(host + ":" + port + " did not answer within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof SQLException sql) {
                throw sql;
            }
            throw new SQLException(host + ":" + port + ": " + cause, "08000", cause);
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted", "57014", e);
        }
    }

    /**
     * Breaks the connection at once: the server ends the session when it notices, and a statement
     * it still runs is not followed by another (the caller re-reads what the server enforces).
     */
    private static void abort(Connection c) {
        try {
            c.abort(Runnable::run);
        } catch (SQLException | RuntimeException ignored) {
            // the point was to break it
        }
    }

    private Connection connect(String host, int port, Duration timeout) throws SQLException {
        int seconds = (int) Math.max(1, (timeout.toMillis() + 999) / 1000);
        Properties props = new Properties();
        props.setProperty("user", user);
        password.ifPresent(p -> props.setProperty("password", p));
        props.setProperty("connectTimeout", Integer.toString(seconds));
        props.setProperty("loginTimeout", Integer.toString(seconds));
        props.setProperty("socketTimeout", Integer.toString(seconds + 1));
        props.setProperty("sslmode", sslMode);
        if (!sslRootCert.isEmpty()) {
            props.setProperty("sslrootcert", sslRootCert);
        }
        props.setProperty("ApplicationName", "pg-sentinel");
        props.setProperty("options", "-c statement_timeout=" + timeout.toMillis() + " -c lock_timeout=" + timeout.toMillis());
        // no prepared statement cache: probes are few and servers change under us
        props.setProperty("prepareThreshold", "0");
        return DriverManager.getConnection("jdbc:postgresql://" + host + ":" + port + "/" + database, props);
    }
}
